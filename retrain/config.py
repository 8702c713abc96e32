"""The knobs of one training run, with defaults measured on Gemma 3 270M on a 2-core CPU."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from memory.errors import MemoloopError

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
MODES = ("lora", "qlora")
STARTS = ("active", "base")


@dataclass
class TrainConfig:
    mode: str = "lora"  # "lora": bf16 base + fp32 LoRA; "qlora": NF4 base (bitsandbytes)
    r: int = 16
    alpha: int = 32
    # No LoRA dropout: on the CPU its random masks took a third of every step (1.28 -> 0.88 s an
    # example, measured); a retrain passes over each record two or three times.
    dropout: float = 0.0
    target_modules: tuple[str, ...] = PROJECTIONS
    learning_rate: float = 2e-4
    warmup_steps: int = 5
    epochs: float = 1.5
    max_steps: int | None = None  # optimizer steps; overrides epochs when set
    grad_accum: int = 8  # micro-batch 1 x 8: no padding, the fastest on CPU
    max_len: int = 384  # tokens of prompt + answer; longer records are skipped, not cut
    max_grad_norm: float = 1.0
    seed: int = 0
    device: str = "auto"
    start: str = "active"  # "active": train the active adapter further when its base matches; "base": fresh
    replay_ratio: float = 1.0  # continuing: starter records replayed per user training record
    # Continuing an adapter that already knows the format, gently: on 25 corrections of an
    # independent journal (bench/feedback_loop.py --journal fresh5) 2e-4 cut the held-out loss 46%
    # but one greedy answer in six fell into a loop of invented lines; 1e-4 (replay x2) 42%, at the
    # edge; 5e-5 31% with answers as grounded as the starter's.
    continue_learning_rate: float = 5e-5

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise MemoloopError(f"training mode '{self.mode}' is not one of {', '.join(MODES)}")
        if (self.max_steps is not None and self.max_steps < 1) or self.epochs <= 0:
            raise MemoloopError(f"steps {self.max_steps} / epochs {self.epochs}: both must be positive")
        if self.start not in STARTS:
            raise MemoloopError(f"start '{self.start}' is not one of {', '.join(STARTS)}")
        self.target_modules = tuple(self.target_modules)

    def to_json(self) -> dict:
        data = asdict(self)
        data["target_modules"] = list(self.target_modules)
        return data
