"""The registry: exactly one active adapter, promote, manual activate, rollback."""
import json

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from memory.errors import MemoloopError
from memory.models import Adapter
from retrain import registry


def adapter_folder(root, version):
    """Registry logic needs only complete-looking folders; loading is tested with real models elsewhere."""
    folder = root / version
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"r": 16}))
    (folder / "adapter_model.safetensors").write_bytes(b"\0" * 16)
    (folder / "meta.json").write_text(json.dumps({"version": version}))
    return folder


def statuses(mem):
    return {a.version: a.status for a in registry.adapters(mem)}


def test_activate_and_rollback(mem, tmp_path):
    for v in ("v1", "v2"):
        registry.register(mem, v, adapter_folder(tmp_path, v), run_id=None, base_model="b", metrics={})
    registry.activate(mem, "v1")
    registry.activate(mem, "v2")
    assert {k: v for k, v in statuses(mem).items() if k != "starter"} == {"v1": "retired", "v2": "active"}
    assert registry.rollback(mem).version == "v1"
    assert registry.active(mem).version == "v1"
    assert registry.rollback(mem).version == "v2"  # rolling back twice returns to where we were


def test_there_is_never_more_than_one_active(mem, tmp_path):
    registry.register(mem, "v1", adapter_folder(tmp_path, "v1"), run_id=None, base_model="b", metrics={},
                      status="active")
    with pytest.raises(IntegrityError):
        registry.register(mem, "v2", adapter_folder(tmp_path, "v2"), run_id=None, base_model="b",
                          metrics={}, status="active")
    with mem.session() as s:
        assert len(s.exec(select(Adapter).where(Adapter.status == "active")).all()) == 1


def test_bad_versions_and_missing_files(mem, tmp_path):
    with pytest.raises(MemoloopError, match="adapter 'v9' does not exist; known versions"):
        registry.activate(mem, "v9")
    folder = adapter_folder(tmp_path, "v1")
    registry.register(mem, "v1", folder, run_id=None, base_model="b", metrics={})
    (folder / "adapter_model.safetensors").unlink()
    with pytest.raises(MemoloopError, match="no loadable files"):
        registry.activate(mem, "v1")
    with pytest.raises(MemoloopError, match="no earlier adapter"):
        registry.rollback(mem)


def test_rejected_keeps_its_reason(mem, tmp_path):
    registry.register(mem, "v1", adapter_folder(tmp_path, "v1"), run_id=None, base_model="b", metrics={})
    registry.reject(mem, "v1", "held-out loss did not improve")
    row = [a for a in registry.adapters(mem) if a.version == "v1"][0]
    assert row.status == "rejected" and row.metrics["rejected_because"] == "held-out loss did not improve"
