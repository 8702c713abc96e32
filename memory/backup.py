"""A backup: everything a user would lose with the data home, in one file they can keep.

`export_backup` writes the database as typed JSON lines: pets, every version of every note
(replaced and deleted ones with their links), interactions, feedback, imported training records,
retrain runs, the adapter registry and the schedule, between a header (format version) and an
end line (so a cut-off file is never read as complete). A `.zip` adds the files the database
points at: adapter weights, retrain logs, dataset snapshots and settings.json, each with its
SHA-256 in the header. What can be rebuilt is left out: the vector index, the converted base
model, and the scheduler's job store (a pickle; it is rebuilt from the schedule policy, so no
backup is ever unpickled).

`restore` reads a backup (or a version-1 export) back. Rows are matched by uid, so importing the
same backup twice, or into the home it came from, changes nothing the second time. Notes,
interactions, feedback and training records merge into any home; the learning state (runs,
adapters, schedule, settings) is restored only into a home that has never retrained, and
adapters only from a .zip. Every record is checked before anything is written; files are put in
place before the one SQL transaction commits, and are replaced if that transaction never did.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import types
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Union, get_args, get_origin

from sqlalchemy import insert, update
from sqlmodel import select

from memory import crash
from memory.dates import now
from memory.errors import MemoloopError
from memory.files import read_lines, read_text
from memory.journal import check_metrics, check_tags, is_control
from memory.models import (Adapter, CareItem, Feedback, Interaction, Observation, Photo, RetrainRun,
                           SchedulePolicy, Subject, TrainingRecord)
from memory.store import Memory

FORMAT = "memoloop"
VERSION = 2
RECORDS = "memoloop.jsonl"
FILE_DIRS = ("adapters", "logs", "datasets", "photos")
FILE_NAMES = ("settings.json",)
# (record type, model, columns left out): the order a restore needs (links point backwards).
TABLES = [
    ("subject", Subject, {"id"}),
    ("observation", Observation, {"indexed", "subject_id"}),
    ("photo", Photo, set()),  # its file travels in a .zip under photos/
    ("care_item", CareItem, {"id", "subject_id"}),  # reminders are not kept: the scheduler finds them again
    ("interaction", Interaction, {"subject_id"}),
    ("feedback", Feedback, set()),
    ("training_record", TrainingRecord, {"id"}),
    ("retrain_run", RetrainRun, set()),
    ("adapter", Adapter, {"id"}),
    ("schedule", SchedulePolicy, {"id"}),
]
MODELS = {name: (model, drop) for name, model, drop in TABLES}


@dataclass
class RestoreReport:
    subjects: int = 0
    observations: int = 0
    photos: int = 0
    care_items: int = 0
    interactions: int = 0
    feedback: int = 0
    training_records: int = 0
    retrain_runs: int = 0
    adapters: int = 0
    files: int = 0
    duplicates: int = 0
    kept: list[str] = field(default_factory=list)  # what this home kept of its own

    def to_json(self) -> dict:
        return dict(self.__dict__)


# --- export -------------------------------------------------------------------------------

def export_backup(mem: Memory, out: Path | None = None) -> str:
    """Write the backup to `out` (.jsonl or .zip, atomically) or return it as JSONL text."""
    if out is None:
        return _jsonl(_records(mem, files=[]))
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".jsonl", ".zip"):
        raise MemoloopError(f"--out '{out}' must end in .zip (everything, with adapter weights) or .jsonl (records only)")
    for stale in out.parent.glob(f".{out.name}.*.partial"):  # left by an export that was killed
        stale.unlink(missing_ok=True)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        if suffix == ".jsonl":
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(_jsonl(_records(mem, files=[])))
                _sync(handle)
        else:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as bundle:
                files = []
                for arcname, path in _home_files(mem):
                    bundle.write(path, arcname)
                    files.append({"path": arcname, "sha256": _sha256(path), "bytes": path.stat().st_size})
                bundle.writestr(RECORDS, _jsonl(_records(mem, files=files)))
            with open(tmp, "rb+") as handle:
                _sync(handle)
        os.chmod(tmp, 0o600)
        crash.point("export-written")
        os.replace(tmp, out)
    except OSError as exc:
        raise MemoloopError(f"cannot write '{out}': {exc.strerror or exc}; nothing was written") from None
    finally:
        tmp.unlink(missing_ok=True)
    return str(out)


def backup_zip(mem: Memory) -> bytes:
    """The .zip backup as bytes (the History page's download)."""
    with tempfile.TemporaryDirectory(dir=mem.home.own, prefix=".export-") as tmp:
        return Path(export_backup(mem, Path(tmp) / "backup.zip")).read_bytes()


def _sync(handle) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in records)


def _records(mem: Memory, files: list[dict]) -> list[dict]:
    out = [{"type": FORMAT, "version": VERSION, "exported_at": now().isoformat(), "files": files}]
    with mem.session() as s:
        names = {x.id: x.name for x in s.exec(select(Subject))}
        for kind, model, drop in TABLES:
            for row in s.exec(select(model).order_by(model.id)):
                record = {"type": kind, **{k: _out(v) for k, v in row.model_dump().items() if k not in drop}}
                if "subject_id" in drop:
                    record["subject"] = names.get(row.subject_id)
                if kind == "retrain_run":
                    record["log_path"] = _relative(mem, row.log_path)
                if kind == "adapter":
                    record["path"] = f"adapters/{row.version}"
                out.append(record)
    out.append({"type": "end", "records": len(out) - 1})
    return out


def _out(value):
    return value.isoformat() if isinstance(value, (datetime, date)) else value


def _relative(mem: Memory, path: str) -> str:
    try:
        return Path(path).relative_to(mem.home.own).as_posix() if path else path
    except ValueError:
        return path


def _home_files(mem: Memory):
    """(name in the bundle, file) for every file a backup carries; adapters by version."""
    with mem.session() as s:
        adapters = list(s.exec(select(Adapter).order_by(Adapter.id)))
    for a in adapters:
        folder = Path(a.path)
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                yield f"adapters/{a.version}/{path.relative_to(folder).as_posix()}", path
    for name in FILE_DIRS[1:]:
        folder = mem.home.own / name
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(mem.home.own).as_posix(), path
    for name in FILE_NAMES:
        if (mem.home.own / name).is_file():
            yield name, mem.home.own / name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- reading ------------------------------------------------------------------------------

def is_backup(path: Path) -> bool:
    """A .zip; JSON lines that start with the format header; or a version-1 export (its first note
    line is typed and carries an id). Anything else is a file of notes for memory/transfer.py.
    Reads only up to the first line that is not a pet."""
    path = Path(path)
    if path.suffix.lower() == ".zip":
        return True
    if path.suffix.lower() != ".jsonl":
        return False
    try:
        with open(path, encoding="utf-8-sig") as handle:
            for line in handle:
                if not line.strip():
                    continue
                record = json.loads(line)
                if not isinstance(record, dict) or record.get("type") != "subject":
                    return isinstance(record, dict) and (record.get("type") == FORMAT or (
                        record.get("type") == "observation" and "id" in record))
    except (OSError, ValueError):
        return False  # the notes importer names the fault
    return False


def _open(path: Path) -> tuple[list[tuple[int, dict]], zipfile.ZipFile | None]:
    if path.suffix.lower() != ".zip":
        return read_lines(path, read_text(path)), None
    try:
        bundle = zipfile.ZipFile(path)
        content = bundle.read(RECORDS).decode("utf-8")
    except FileNotFoundError:
        raise MemoloopError(f"cannot read '{path}': no such file") from None
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, OSError) as exc:
        raise MemoloopError(f"'{path}' is not a complete memoloop backup ({exc}); export it again") from None
    return read_lines(path, content), bundle


def _check_format(path: Path, rows: list[tuple[int, dict]]) -> int:
    """The format version; a newer one, or a version-2 file cut short, is refused."""
    if not rows or rows[0][1].get("type") != FORMAT:
        return 1  # the first exports had no header
    version = rows[0][1].get("version")
    if not isinstance(version, int) or version < 1:
        raise MemoloopError(f"{path} line {rows[0][0]}: version {version!r} is not a backup format version")
    if version > VERSION:
        raise MemoloopError(f"'{path}' is a format-{version} backup from a newer memoloop; this one reads "
                            f"formats 1 to {VERSION}: update memoloop, then import it")
    end = rows[-1][1]
    if end.get("type") != "end" or end.get("records") != len(rows) - 2:
        raise MemoloopError(f"'{path}' is incomplete (it stops before its end line); export it again")
    return version


def _parse(path: Path, number: int, kind: str, record: dict, version: int) -> dict:
    """The record's columns, typed and checked; a bad value names its line and field."""
    model, drop = MODELS[kind]
    types_ = _field_types(model)
    values = {}
    for name, value in record.items():
        if name == "type" or name in drop:
            continue
        if name == "subject" and "subject_id" in drop:
            values["subject"] = _check(path, number, name, value, str, True)
            continue
        if name not in types_:
            raise MemoloopError(f"{path} line {number}: '{name}' is not a field of a {kind} record; "
                                f"valid: {', '.join(sorted(set(types_) - drop))}; nothing was imported")
        ann, optional = types_[name]
        values[name] = _check(path, number, name, value, ann, optional)
    if kind == "observation" and "metrics" in values:
        values["metrics"] = _wrap(path, number, check_metrics, values["metrics"])
    if kind == "observation" and "tags" in values:
        values["tags"] = _wrap(path, number, check_tags, values["tags"])
    if kind == "care_item":
        from memory import care

        for name, check in (("every_days", care.check_every), ("dose", care.check_dose), ("times", care.check_times)):
            if name in values:
                values[name] = _wrap(path, number, check, values[name])
    required = [n for n, (_, optional) in types_.items() if not optional and n not in drop
                and model.model_fields[n].is_required()]
    missing = [n for n in required if n not in values]
    if missing:
        raise MemoloopError(f"{path} line {number}: a {kind} record needs '{missing[0]}'; nothing was imported")
    if version == 1 and "uid" in types_:  # version 1 had no uids: one from the record, the same each time
        values["uid"] = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:32]
    return values


def _wrap(path, number, check, value):
    try:
        return check(value)
    except MemoloopError as exc:
        raise MemoloopError(f"{path} line {number}: {exc}; nothing was imported") from None


def _field_types(model) -> dict[str, tuple[type, bool]]:
    out = {}
    for name, info in model.model_fields.items():
        ann, optional = info.annotation, False
        if get_origin(ann) in (Union, types.UnionType):
            args = [a for a in get_args(ann) if a is not type(None)]
            optional, ann = True, args[0]
        out[name] = (get_origin(ann) or ann, optional)
    return out


def _check(path, number, name, value, ann, optional):
    where = f"{path} line {number}: {name}"
    if value is None:
        if optional:
            return None
        raise MemoloopError(f"{where} is null; give a value; nothing was imported")
    if ann in (datetime, date):
        if not isinstance(value, str):
            raise MemoloopError(f"{where} {value!r} is not a date; use ISO 8601 text; nothing was imported")
        try:
            parsed = (datetime if ann is datetime else date).fromisoformat(value)
        except ValueError:
            raise MemoloopError(f"{where} '{value}' is not an ISO 8601 date; nothing was imported") from None
        if ann is datetime and parsed.tzinfo is None:
            raise MemoloopError(f"{where} '{value}' has no UTC offset; nothing was imported")
        return parsed
    valid = {bool: lambda v: isinstance(v, bool), int: lambda v: isinstance(v, int) and not isinstance(v, bool),
             str: lambda v: isinstance(v, str), dict: lambda v: isinstance(v, dict),
             list: lambda v: isinstance(v, list)}[ann]
    if not valid(value):
        raise MemoloopError(f"{where} {value!r} is not {_a(ann)}; nothing was imported")
    if ann is str and any(is_control(c) for c in value):
        raise MemoloopError(f"{where} holds a control character; nothing was imported")
    return value


def _a(ann) -> str:
    return {bool: "true or false", int: "a whole number", str: "text", dict: "a JSON object",
            list: "a JSON list"}[ann]


# --- restore ------------------------------------------------------------------------------

def restore(mem: Memory, path: Path) -> RestoreReport:
    path = Path(path)
    for stale in mem.home.own.glob(".restore-*"):  # left by a restore killed over an hour ago
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    rows, bundle = _open(path)
    try:
        version = _check_format(path, rows)
        body = rows[1:-1] if version >= 2 else rows
        staged = _read_all(path, body, version)
        with mem.session() as s:
            report = RestoreReport()
            learning = _home_never_retrained(s)
            _write(s, mem, staged, learning, bundle is not None, report)  # staged in the transaction
            if bundle is not None:  # checked whole, then moved into place; a home that retrained keeps its own
                listed = [f for f in rows[0][1].get("files") or []  # adapters, logs and datasets
                          if learning or str(f.get("path", "") if isinstance(f, dict) else "").startswith("photos/")]
                report.files = _place_files(mem, path, bundle, listed)
            crash.point("restore-written")
            s.commit()
    finally:
        if bundle is not None:
            bundle.close()
    mem.sync_index()
    return report


def _read_all(path: Path, body, version: int) -> dict[str, list[tuple[int, dict]]]:
    staged: dict[str, list[tuple[int, dict]]] = {kind: [] for kind, _, _ in TABLES}
    for number, record in body:
        kind = record.get("type")
        if kind not in MODELS:
            raise MemoloopError(f"{path} line {number}: type {kind!r} is not one of "
                                f"{', '.join(MODELS)}; nothing was imported")
        if version == 1 and kind == "observation" and "at" in record:
            record = {("happened_at" if k == "at" else k): v for k, v in record.items()}
        staged[kind].append((number, _parse(path, number, kind, record, version)))
    if version == 1:  # version 1 kept only `supersedes_id`; a correction deleted or undone shows the original
        by_id = {v.get("id"): v for _, v in staged["observation"]}
        for _, values in staged["observation"]:
            old = by_id.get(values.get("supersedes_id"))
            if old is not None and values.get("deleted_at") is None:
                old["superseded_by_id"] = values["id"]
    _check_links(path, staged)
    return staged


def _check_links(path: Path, staged) -> None:
    """Every id a record points at is in the backup (or, for a pet, is a name)."""
    def ids(kind):
        return {v.get("id") for _, v in staged[kind]}
    links = [("observation", "supersedes_id", "observation"), ("observation", "superseded_by_id", "observation"),
             ("feedback", "interaction_id", "interaction"), ("adapter", "run_id", "retrain_run"),
             ("photo", "observation_id", "observation")]
    for kind, column, target in links:
        known = ids(target)
        for number, values in staged[kind]:
            if values.get(column) is not None and values[column] not in known:
                raise MemoloopError(f"{path} line {number}: {column} {values[column]} is not a {target} in this "
                                    "file; nothing was imported")


def _home_never_retrained(s) -> bool:
    has_runs = s.exec(select(RetrainRun.id).limit(1)).first() is not None
    own = s.exec(select(Adapter.id).where(Adapter.version != "starter").limit(1)).first() is not None
    return not has_runs and not own


def _place_files(mem: Memory, path: Path, bundle: zipfile.ZipFile, listed: list) -> int:
    """Unpack and verify every listed file into a staging folder, then move each into place."""
    staging = mem.home.own / f".restore-{uuid.uuid4().hex[:8]}"
    try:
        for item in listed:
            name = item.get("path", "") if isinstance(item, dict) else ""
            parts = Path(name).parts
            if (not parts or Path(name).is_absolute() or ".." in parts
                    or not (parts[0] in FILE_DIRS[1:] or (parts[0] == "adapters" and len(parts) > 2)
                            or name in FILE_NAMES)):
                raise MemoloopError(f"'{path}' lists the file '{name}', which a backup cannot hold; nothing was imported")
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with bundle.open(name) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except (KeyError, zipfile.BadZipFile, OSError) as exc:
                raise MemoloopError(f"'{path}': cannot unpack '{name}' ({exc}); nothing was imported") from None
            if _sha256(target) != item.get("sha256"):
                raise MemoloopError(f"'{path}': '{name}' is damaged (its SHA-256 does not match); nothing was imported")
        for top in sorted(staging.iterdir()) if staging.exists() else []:
            entries = sorted(top.iterdir()) if top.is_dir() else [top]
            for entry in entries:
                dest = mem.home.own / entry.relative_to(staging)
                if dest.is_dir():
                    shutil.rmtree(dest)  # nothing points at it: the home never retrained
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(entry, dest)
        return len(listed)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write(s, mem: Memory, staged, learning: bool, has_files: bool, report: RestoreReport) -> None:
    subjects = {x.name.lower(): x for x in s.exec(select(Subject))}
    for number, values in staged["subject"]:
        if values["name"].lower() in subjects:
            continue
        row = Subject(**values)
        s.add(row)
        s.flush()
        subjects[row.name.lower()] = row
        report.subjects += 1

    def subject_id(number, values):
        name = values.pop("subject", None)
        if name is None:
            return None
        if name.lower() not in subjects:
            raise MemoloopError(f"subject '{name}' (line {number}) is not in the backup nor in this home; "
                                "nothing was imported")
        return subjects[name.lower()].id

    notes = _by_uid(s, Observation, staged["observation"], report)
    new_notes = [(n, v) for n, v in staged["observation"] if v["uid"] not in notes]
    rows = []
    for number, values in new_notes:
        values = dict(values)
        values["subject_id"] = subject_id(number, values)
        rows.append({**{k: v for k, v in values.items() if k not in ("id", "supersedes_id", "superseded_by_id")},
                     "indexed": False})
    for (number, values), new_id in zip(new_notes, _insert(s, Observation, rows)):
        notes[values["uid"]] = new_id
    note_ids = {v["id"]: notes[v["uid"]] for _, v in staged["observation"] if "id" in v}
    for _, values in new_notes:
        links = {k: note_ids.get(values.get(k)) for k in ("supersedes_id", "superseded_by_id")}
        if any(links.values()):
            s.execute(update(Observation).where(Observation.id == notes[values["uid"]]).values(**links))
    report.observations = len(new_notes)

    pictures = _by_uid(s, Photo, staged["photo"], report)
    if staged["photo"] and not has_files:
        report.kept.append("no photos: a .jsonl backup has no photo files (export to a .zip)")
    for _, values in staged["photo"] if has_files else []:
        if values["uid"] not in pictures:
            s.add(Photo(**{**{k: v for k, v in values.items() if k != "id"},
                           "observation_id": note_ids[values["observation_id"]]}))
            report.photos += 1

    items = _by_uid(s, CareItem, staged["care_item"], report)
    defaults = {(i.subject_id, i.default_id): i for i in s.exec(select(CareItem).where(CareItem.default_id.is_not(None)))}
    for number, values in staged["care_item"]:
        if values["uid"] in items:
            continue
        values = {k: v for k, v in values.items() if k != "id"}
        values["subject_id"] = subject_id(number, values)
        same = defaults.get((values["subject_id"], values.get("default_id")))
        if same is not None:  # this home gave the pet the pack's default already: the backup's settings win
            for column, value in values.items():
                if column not in ("uid", "created_at"):
                    setattr(same, column, value)
            s.add(same)
        else:
            s.add(CareItem(**values))
        report.care_items += 1

    interactions = _by_uid(s, Interaction, staged["interaction"], report)
    for number, values in staged["interaction"]:
        if values["uid"] in interactions:
            continue
        values = dict(values)
        values["subject_id"] = subject_id(number, values)
        for column in ("retrieved", "citations"):
            values[column] = [{**c, "id": note_ids.get(c.get("id"))} if isinstance(c, dict) else c
                              for c in values.get(column, [])]
        row = Interaction(**{k: v for k, v in values.items() if k != "id"})
        s.add(row)
        s.flush()
        interactions[row.uid] = row.id
        report.interactions += 1
    interaction_ids = {v["id"]: interactions[v["uid"]] for _, v in staged["interaction"] if "id" in v}

    known = _by_uid(s, Feedback, staged["feedback"], report)
    for _, values in staged["feedback"]:
        if values["uid"] not in known:
            s.add(Feedback(**{**{k: v for k, v in values.items() if k != "id"},
                              "interaction_id": interaction_ids[values["interaction_id"]]}))
            report.feedback += 1

    digests = set(s.exec(select(TrainingRecord.digest)))
    for _, values in staged["training_record"]:
        if values["digest"] in digests:
            report.duplicates += 1
            continue
        digests.add(values["digest"])
        s.add(TrainingRecord(**values))
        report.training_records += 1

    if not learning:
        if staged["retrain_run"] or staged["adapter"] or staged["schedule"]:
            report.kept.append("this home's retrain runs, adapters, schedule and settings (it has retrained "
                               "before); the backup's were not imported")
        return
    run_ids = {}
    for _, values in staged["retrain_run"]:
        values = dict(values)
        if values.get("log_path") and not Path(values["log_path"]).is_absolute():
            values["log_path"] = str(mem.home.own / values["log_path"])
        row = RetrainRun(**{k: v for k, v in values.items() if k != "id"})
        s.add(row)
        s.flush()
        run_ids[values["id"]] = row.id
        report.retrain_runs += 1
    if staged["adapter"] and not has_files:
        report.kept.append("this home's adapters: a .jsonl backup has no adapter weights (export to a .zip)")
    elif staged["adapter"]:
        for existing in s.exec(select(Adapter)):  # only the shipped starter: the backup's registry replaces it
            s.delete(existing)
        s.flush()
        for _, values in staged["adapter"]:
            values = {**values, "path": str(mem.home.adapters_dir / values["version"]),
                      "run_id": run_ids.get(values.get("run_id"))}
            s.add(Adapter(**values))
            report.adapters += 1
    for _, values in staged["schedule"][-1:]:
        current = s.get(SchedulePolicy, 1)
        if current is not None:
            s.delete(current)
            s.flush()
        s.add(SchedulePolicy(id=1, **values))


def _by_uid(s, model, staged, report) -> dict[str, int]:
    """uid -> id of the rows this home already has; each counts as a duplicate."""
    uids = [v["uid"] for _, v in staged if v.get("uid")]
    found = {}
    for start in range(0, len(uids), 500):
        chunk = uids[start:start + 500]
        found.update({uid: id_ for uid, id_ in s.exec(select(model.uid, model.id).where(model.uid.in_(chunk)))})
    missing = [v for _, v in staged if not v.get("uid")]
    for values in missing:
        values["uid"] = uuid.uuid4().hex
    report.duplicates += len(found)
    return found


def _insert(s, model, rows: list[dict]) -> list[int]:
    """Many rows in one INSERT; their new ids, in order (this transaction holds the write lock,
    so the newest len(rows) ids are these)."""
    if not rows:
        return []
    s.execute(insert(model), rows)
    newest = s.exec(select(model.id).order_by(model.id.desc()).limit(len(rows))).all()
    return list(reversed(newest))
