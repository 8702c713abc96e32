"""The adapter registry: versions in `adapters/<version>/` + their manifest, exactly one active.

The `adapter` table is the truth about which adapter is active; a unique partial index makes
two active rows impossible, and promote/rollback are one SQL transaction each, so a crash at
any point leaves exactly one active adapter. A folder is complete before its row exists.
"""
from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from agent.adapters import STARTER_ADAPTER, adapter_files_ok
from memory import crash
from memory.dates import now
from memory.errors import MemoloopError, MissingResource
from memory.models import Adapter
from memory.store import Memory
from retrain import manifest as manifests

STARTER_VERSION = "starter"


def ensure_starter(mem: Memory) -> None:
    """A fresh home starts with the shipped starter adapter registered and active."""
    with mem.session() as s:
        if s.exec(select(Adapter).limit(1)).first() is not None or not adapter_files_ok(STARTER_ADAPTER):
            return
        try:
            manifest = manifests.read(STARTER_ADAPTER)
        except MemoloopError:
            manifest = None
        s.add(Adapter(version=STARTER_VERSION, path=str(STARTER_ADAPTER), status="active",
                      base_model=manifest.base_model if manifest else "", activated_at=now(),
                      metrics={"eval_loss": manifest.losses, "behaviour": manifest.behaviour} if manifest else {}))
        s.commit()


def upgrade_manifests(mem: Memory) -> int:
    """Rewrite every registered adapter's format-1 manifest as format 2 (once; a migration)."""
    with mem.session() as s:
        folders = [Path(a.path) for a in s.exec(select(Adapter))]
    return sum(manifests.upgrade(folder) for folder in folders if adapter_files_ok(folder))


def adapters(mem: Memory) -> list[Adapter]:
    ensure_starter(mem)
    upgrade_manifests(mem)
    with mem.session() as s:
        return list(s.exec(select(Adapter).order_by(Adapter.id)))


def active(mem: Memory) -> Adapter | None:
    ensure_starter(mem)
    with mem.session() as s:
        return s.exec(select(Adapter).where(Adapter.status == "active")).first()


def next_version(mem: Memory) -> str:
    with mem.session() as s:
        n = len(s.exec(select(Adapter.id).where(Adapter.version != STARTER_VERSION)).all())
    return f"v{n + 1}"


def register(mem: Memory, version: str, path: Path, *, run_id: int | None, base_model: str,
             metrics: dict, status: str = "candidate") -> Adapter:
    if not adapter_files_ok(path):
        raise MemoloopError(f"adapter folder '{path}' is incomplete; it cannot be registered")
    manifests.check_weights(path)
    with mem.session() as s:
        row = Adapter(version=version, path=str(path), run_id=run_id, base_model=base_model,
                      status=status, metrics=metrics)
        s.add(row)
        s.commit()
        return row


def activate(mem: Memory, version: str) -> Adapter:
    """Make `version` the one active adapter (a manual override of the gate is allowed)."""
    with mem.session() as s:  # checked before the starter is registered: a refused command writes nothing
        known = [a.version for a in s.exec(select(Adapter).order_by(Adapter.id))] or (
            [STARTER_VERSION] if adapter_files_ok(STARTER_ADAPTER) else [])
        if version not in known:
            raise MemoloopError(f"adapter '{version}' does not exist; known versions: {', '.join(known) or 'none'}")
    ensure_starter(mem)
    with mem.session() as s:
        target = s.exec(select(Adapter).where(Adapter.version == version)).one()
        if not adapter_files_ok(Path(target.path)):
            raise MissingResource(f"adapter '{version}' has no loadable files at '{target.path}'; "
                                "pick another version")
        for current in s.exec(select(Adapter).where(Adapter.status == "active")):
            if current.id != target.id:
                current.status = "retired"
                s.add(current)
        s.flush()  # the retirement must reach the unique index before the activation
        target.status, target.activated_at = "active", now()
        s.add(target)
        s.flush()
        crash.point("promote")
        s.commit()
        return target


def rollback(mem: Memory) -> Adapter:
    """Back to the adapter that was active before the current one."""
    with mem.session() as s:
        if len(s.exec(select(Adapter.id).limit(2)).all()) < 2:  # refused before the starter is registered
            raise MemoloopError("there is no earlier adapter to roll back to")
    current = active(mem)
    with mem.session() as s:
        earlier = s.exec(select(Adapter).where(Adapter.status == "retired", Adapter.activated_at.is_not(None))
                         .order_by(Adapter.activated_at.desc())).all()
    earlier = [a for a in earlier if current is None or a.id != current.id]
    if not earlier:
        raise MemoloopError("there is no earlier adapter to roll back to")
    return activate(mem, earlier[0].version)


def reject(mem: Memory, version: str, reason: str) -> None:
    with mem.session() as s:
        row = s.exec(select(Adapter).where(Adapter.version == version)).one()
        row.status = "rejected"
        row.metrics = {**row.metrics, "rejected_because": reason}
        s.add(row)
        s.commit()
