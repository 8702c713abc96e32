"""The adapter manifest, `meta.json` beside the weights: one dataclass, one reader, one writer.

Every adapter carries one: the starter that ships, each retrain's candidate, and an adapter
trained by hand (`python -m retrain.trainer`). The registry checks it before an adapter can be
registered: the weights must still hash to `weights_sha256`.

Format 1 (adapters before the manifest) had two shapes, the trainer's and the worker's; `read`
takes both and `upgrade` rewrites one once (the registry does it for every adapter it knows).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

from memory.errors import MemoloopError, MissingResource
from memory.files import write_atomic

FORMAT = 2
NAME = "meta.json"
WEIGHTS = "adapter_model.safetensors"


@dataclass
class Manifest:
    version: str  # "starter", "v3", or the folder's name for an adapter trained by hand
    base_model: str  # the id of the base it was trained on (agent.convert.read_base_id)
    dataset_digest: str  # sha256 of the records it trained and was measured on
    config: dict  # retrain.config.TrainConfig, as JSON
    losses: dict  # held-out answer-token loss: "base", "start" (before training), "adapter"
    behaviour: dict = field(default_factory=dict)  # greedy answers measured (retrain.measure)
    probe_loss: float | None = None  # loss on the fixed starter probe (the forgetting check)
    weights_sha256: str = ""
    created_at: str = ""
    run: int | None = None  # the retrain run that made it
    started_from: str | None = None  # the adapter version training continued from; None: the bare base
    training: dict = field(default_factory=dict)  # steps, seconds, train loss, best epoch, peak memory
    notes: dict = field(default_factory=dict)  # anything else (the starter's split and comparisons)
    format: int = FORMAT

    def to_json(self) -> dict:
        return asdict(self)


def weights_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    with open(Path(folder) / WEIGHTS, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write(folder: Path, manifest: Manifest) -> None:
    """Into a folder holding the weights (the hash is taken here, from the file written)."""
    manifest.weights_sha256 = weights_sha256(folder)
    manifest.created_at = manifest.created_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_atomic(Path(folder) / NAME, json.dumps(manifest.to_json(), indent=2) + "\n")


def read(folder: Path) -> Manifest:
    """The manifest of an adapter folder, whichever format it was written in."""
    path = Path(folder) / NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        raise MemoloopError(f"adapter manifest '{path}' is missing or unreadable ({exc})") from None
    if data.get("format") == FORMAT:
        known = {f.name for f in fields(Manifest)}
        return Manifest(**{k: v for k, v in data.items() if k in known})
    return _from_format_1(data, Path(folder))


def _from_format_1(data: dict, folder: Path) -> Manifest:
    """The trainer's shape ({"eval_loss": {"base", "adapter"}}) or the worker's ({"candidate"})."""
    loss = data.get("eval_loss") or {}
    training = {k: data[k] for k in ("steps", "samples_seen", "examples", "skipped_too_long", "epochs_seen",
                                      "train_loss", "train_seconds", "sec_per_step", "wall_time_s",
                                      "peak_rss_mb", "adapter_dtype", "versions", "records", "seed",
                                      "best_epoch", "epoch_losses") if k in data}
    notes = {k: data[k] for k in ("dataset_file", "dataset_file_sha256", "split") if k in data}
    behaviour = data.get("behaviour") or {}
    if "adapter" in behaviour:  # the starter's counts per model judged: the adapter's are its own
        notes["behaviour_compared"] = behaviour
        behaviour = behaviour["adapter"]
    return Manifest(version=str(data.get("version") or folder.name), base_model=data.get("base_model") or "",
                    dataset_digest=data.get("dataset_sha256") or "", config=data.get("config") or {},
                    losses={"base": loss.get("base"), "adapter": loss.get("adapter", loss.get("candidate"))},
                    behaviour=behaviour, probe_loss=data.get("probe_loss"),
                    weights_sha256=data.get("weights_sha256") or "", created_at=data.get("created_at") or "",
                    run=data.get("run"), training=training, notes=notes)


def upgrade(folder: Path) -> bool:
    """Rewrite a format-1 manifest as format 2, once; True if it was rewritten."""
    path = Path(folder) / NAME
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("format") == FORMAT:
            return False
    except (OSError, ValueError, AttributeError):
        return False  # no manifest, or an unreadable one: left as it is, `read` names the problem
    if not (Path(folder) / WEIGHTS).is_file():
        return False
    write(folder, read(folder))
    return True


def check_weights(folder: Path) -> None:
    """The weights are the ones the manifest was written for (a copy cut short, or swapped, is refused)."""
    manifest = read(folder)
    if manifest.weights_sha256 and manifest.weights_sha256 != weights_sha256(folder):
        raise MissingResource(f"adapter '{folder}' has weights that do not match its manifest "
                            f"(sha256 {manifest.weights_sha256[:12]}...); it cannot be used")
