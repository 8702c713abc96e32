"""Per-home settings a user can change: base model folder, device, adapter. A JSON file, atomically written."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from memory.errors import MemoloopError
from memory.files import write_atomic
from memory.home import Home

DEVICES = ("auto", "cpu", "cuda")
ENGINES = ("auto", "llama.cpp", "transformers")
TRAINERS = ("here", "worker")  # where retrains run: this machine, or one running retrain.worker --watch


@dataclass
class Settings:
    base_model: str | None = None  # a local Gemma folder; None = the default 270M from PyPI
    device: str = "auto"
    quantize: str | None = None  # "nf4" for 4-bit loading on request
    adapter: str | None = None  # an adapter folder; None = the registry's active one or the starter
    max_new_tokens: int = 160
    engine: str = "auto"  # auto = llama.cpp on the CPU when it loads, else transformers (agent.llama)
    trainer: str = "here"  # "worker": retrains wait for a training machine (python -m retrain.worker --watch)

    @classmethod
    def load(cls, home: Home) -> "Settings":
        path = home.root / "settings.json"
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MemoloopError(f"settings file '{path}' is unreadable ({exc}); fix it or delete it for the defaults") from None
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, home: Home) -> None:
        self.check()
        write_atomic(home.root / "settings.json", json.dumps(asdict(self), indent=2))

    def check(self) -> None:
        """Each value valid, or one clear error naming it."""
        if self.device not in DEVICES:
            raise MemoloopError(f"device '{self.device}' is not valid; use one of: {', '.join(DEVICES)}")
        if self.trainer not in TRAINERS:
            raise MemoloopError(f"trainer '{self.trainer}' is not valid; use here (this machine) or worker (another "
                                "machine running python -m retrain.worker --watch)")
        if self.engine not in ENGINES:
            raise MemoloopError(f"engine '{self.engine}' is not valid; use one of: {', '.join(ENGINES)}")
        if self.base_model and not (Path(self.base_model) / "config.json").is_file():
            raise MemoloopError(f"'{self.base_model}' is not a model folder (no config.json); "
                                "point to a local Gemma folder, or leave it empty for the default")
