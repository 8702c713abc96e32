"""The registry: exactly one active adapter, promote, manual activate, rollback."""
import json

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from memory.errors import MemoloopError
from memory.models import Adapter
from retrain import manifest as manifests
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


def test_an_old_manifest_is_read_and_rewritten_once(mem, tmp_path):
    """Format 1 had two shapes: the trainer's {"eval_loss": {"base", "adapter"}} and the worker's
    {"eval_loss": {"candidate"}, "probe_loss", "behaviour"}; both become one manifest."""
    trainer_shape = adapter_folder(tmp_path, "v1")
    (trainer_shape / "meta.json").write_text(json.dumps({
        "kind": "memoloop-lora-adapter", "base_model": "b", "dataset_sha256": "d1", "config": {"r": 16},
        "steps": 5, "eval_loss": {"base": 2.0, "adapter": 1.5}, "created_at": "2026-01-01T00:00:00+00:00"}))
    worker_shape = adapter_folder(tmp_path, "v2")
    (worker_shape / "meta.json").write_text(json.dumps({
        "kind": "memoloop-lora-adapter", "version": "v2", "run": 7, "base_model": "b", "dataset_sha256": "d2",
        "config": {"r": 16}, "eval_loss": {"candidate": 1.2}, "probe_loss": 0.14,
        "behaviour": {"stopped": 1.0, "facts": 0.5, "grounded": 1.0}, "best_epoch": 2}))
    for v, folder in (("v1", trainer_shape), ("v2", worker_shape)):
        registry.register(mem, v, folder, run_id=None, base_model="b", metrics={})
    registry.adapters(mem)  # the registry upgrades what it knows
    one, two = manifests.read(trainer_shape), manifests.read(worker_shape)
    assert json.loads((trainer_shape / "meta.json").read_text())["format"] == manifests.FORMAT
    assert (one.version, one.losses, one.training["steps"], one.dataset_digest) == ("v1", {"base": 2.0, "adapter": 1.5}, 5, "d1")
    assert (two.version, two.run, two.losses["adapter"], two.probe_loss, two.behaviour["facts"]) == ("v2", 7, 1.2, 0.14, 0.5)
    assert one.weights_sha256 == manifests.weights_sha256(trainer_shape)
    rewritten = (trainer_shape / "meta.json").read_text()
    assert not manifests.upgrade(trainer_shape) and (trainer_shape / "meta.json").read_text() == rewritten


def test_weights_that_do_not_match_their_manifest_are_not_registered(mem, tmp_path):
    folder = adapter_folder(tmp_path, "v1")
    manifests.upgrade(folder)  # the manifest now holds the weights' sha256
    (folder / "adapter_model.safetensors").write_bytes(b"\1" * 16)  # swapped after the manifest was written
    with pytest.raises(MemoloopError, match="weights that do not match its manifest"):
        registry.register(mem, "v1", folder, run_id=None, base_model="b", metrics={})
    assert "v1" not in statuses(mem)
