"""Train a LoRA (or QLoRA) adapter for the local Gemma on Alpaca records: the one training path.

`train(dataset, config, base, start_from)` -> Candidate (a fresh adapter, or `start_from` trained
further); retrain.measure measures it; `Candidate.save` writes the weights and the manifest.
The retrain worker, the starter script, the benches and this command all go through it.

Run it (progress on stderr, the adapter's manifest on stdout):
    python -m retrain.trainer --records data.json --out /tmp/adapter --steps 100
    python -m retrain.trainer --records dataset.json --eval heldout.json --out DIR --epochs 2 --mode qlora
`--records` is a JSON list of {"instruction","input","output"} or {"train": [...], "eval": [...]}.

The loss is on the answer only, and the answer ends with <end_of_turn> (the token generation stops
on). Logits are computed only at answer positions: the 262k-vocab projection dominates CPU time.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import random
import resource
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from agent.convert import prepare_default_model, read_base_id
from agent.model import load_base
from agent.prompt import END, END_OF_TURN_ID, render_prompt, render_target
from memory import crash
from memory.errors import MemoloopError
from memory.files import publish_dir, temp_dir_for
from memory.offline import offline_environment
from retrain import manifest as manifests
from retrain.config import MODES, TrainConfig
from retrain.manifest import Manifest

Progress = Callable[[int, int, float, float], None]  # step, total, loss, eta seconds


@dataclass(frozen=True)
class Example:
    ids: list[int]
    n_prompt: int  # the first n_prompt ids are the prompt; the rest is the answer

    @property
    def labels(self) -> list[int]:
        return [-100] * self.n_prompt + self.ids[self.n_prompt:]


def encode_record(tokenizer, record: dict, max_len: int | None = None) -> Example | None:
    """Prompt (with <bos>) + answer ids, the same split inference sees; None if longer than max_len."""
    try:
        prompt = render_prompt(record["instruction"], record.get("input") or "")
        target = render_target(record["output"])
    except (KeyError, TypeError, AttributeError):
        raise MemoloopError(f"record {str(record)[:80]!r} is not an Alpaca record; "
                            "it needs string fields instruction, output and optionally input") from None
    prompt_ids = tokenizer(prompt).input_ids
    answer_ids = tokenizer(target, add_special_tokens=False).input_ids
    if not answer_ids or answer_ids[-1] != END_OF_TURN_ID:
        raise MemoloopError(f"the answer does not end with {END} as token {END_OF_TURN_ID}: "
                            f"{target[-40:]!r}; is this a Gemma tokenizer?")
    ids = prompt_ids + answer_ids
    return None if max_len and len(ids) > max_len else Example(ids, len(prompt_ids))


def encode_all(tokenizer, records: list[dict], max_len: int | None) -> tuple[list[Example], int]:
    """The examples that fit, and how many records were too long."""
    encoded = [encode_record(tokenizer, r, max_len) for r in records]
    kept = [e for e in encoded if e is not None]
    return kept, len(encoded) - len(kept)


def answer_loss(model, example: Example) -> tuple[torch.Tensor, int]:
    """Summed cross-entropy over the answer tokens, projecting only those rows onto the vocab."""
    device = next(model.parameters()).device
    ids = torch.tensor([example.ids], device=device)
    rows = torch.arange(example.n_prompt - 1, len(example.ids) - 1, device=device)
    logits = model(input_ids=ids, logits_to_keep=rows, use_cache=False).logits[0]
    loss = F.cross_entropy(logits.float(), ids[0, example.n_prompt:], reduction="sum")
    return loss, len(rows)


def eval_loss(model, tokenizer, records: list[dict], max_len: int | None = None) -> float | None:
    """Mean answer-token loss over the records (base, adapter or candidate alike); None if none fit."""
    examples, _ = encode_all(tokenizer, records, max_len)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for example in examples:
            loss, n = answer_loss(model, example)
            total, count = total + loss.item(), count + n
    model.train(was_training)
    return total / count if count else None


def load_for_training(base_path: Path, cfg: TrainConfig):
    """(model, tokenizer): eager attention, right padding; bf16/fp32 base, or NF4 for QLoRA."""
    from peft import prepare_model_for_kbit_training

    quantize = "nf4" if cfg.mode == "qlora" else None
    model, tokenizer, device, _ = load_base(base_path, cfg.device, quantize, attn_implementation="eager")
    tokenizer.padding_side = "right"
    if quantize:
        # checkpointing saves GPU memory; on the CPU it only costs time
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=device == "cuda")
        _keep_nf4_differentiable(model)
    return model, tokenizer


def _keep_nf4_differentiable(model) -> None:
    """Stop bitsandbytes repacking NF4 weights for CPU inference during an eval pass.

    The packed layout runs through gemv_4bit, which has no backward: training after any eval
    (base loss, per-epoch loss) would silently drop the gradient through every frozen layer.
    """
    import bitsandbytes as bnb

    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False


def add_lora(model, cfg: TrainConfig):
    """Wrap the base with fresh LoRA weights (fp32 even on a bf16 base), seeded for repeatability."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(cfg.seed)
    lora = LoraConfig(r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, bias="none",
                      target_modules=list(cfg.target_modules), task_type="CAUSAL_LM")
    return get_peft_model(model, lora, autocast_adapter_dtype=True)


def fit(model, tokenizer, records: list[dict], cfg: TrainConfig, progress: Progress | None = None) -> dict:
    """Optimise the trainable (LoRA) weights; returns step count, losses and timings."""
    examples, skipped = encode_all(tokenizer, records, cfg.max_len)
    if not examples:
        raise MemoloopError(f"none of the {len(records)} records fits in max_len={cfg.max_len} tokens")
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * len(examples) / cfg.grad_accum))
    order = sample_order(len(examples), total * cfg.grad_accum, cfg.seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
    warmup = min(cfg.warmup_steps, total - 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / (warmup + 1) if s < warmup else (total - s) / (total - warmup))
    model.train()
    losses, started = [], time.perf_counter()
    for step in range(total):
        group = [examples[i] for i in order[step * cfg.grad_accum:(step + 1) * cfg.grad_accum]]
        n_tokens = sum(len(e.ids) - e.n_prompt for e in group)
        step_loss = 0.0
        for example in group:  # micro-batch 1: no padding, each answer token weighs the same
            loss, _ = answer_loss(model, example)
            (loss / n_tokens).backward()
            step_loss += loss.item()
        torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(step_loss / n_tokens)
        elapsed = time.perf_counter() - started
        if progress:
            progress(step + 1, total, losses[-1], elapsed / (step + 1) * (total - step - 1))
    model.eval()
    seconds = time.perf_counter() - started
    return {"steps": total, "samples_seen": total * cfg.grad_accum, "examples": len(examples),
            "skipped_too_long": skipped, "epochs_seen": round(total * cfg.grad_accum / len(examples), 3),
            "train_loss": {"first": losses[0], "last": losses[-1],
                           "last10_mean": sum(losses[-10:]) / len(losses[-10:])},
            "train_seconds": round(seconds, 1), "sec_per_step": round(seconds / total, 3)}


def sample_order(n: int, count: int, seed: int) -> list[int]:
    """`count` indices: whole shuffled epochs back to back, reproducible from the seed."""
    rng, order = random.Random(seed), []
    while len(order) < count:
        epoch = list(range(n))
        rng.shuffle(epoch)
        order += epoch
    return order[:count]


def round_adapter_to_bf16(model) -> None:
    """Keep only what a bf16 save keeps, so losses measured now match the adapter reloaded later."""
    for p in model.parameters():
        if p.requires_grad:
            p.data = p.data.to(torch.bfloat16).to(p.dtype)


def save_adapter(model, out: Path, manifest: Manifest) -> None:
    """adapter_model.safetensors (bf16) + adapter_config.json + the manifest, published atomically."""
    tmp = temp_dir_for(Path(out))
    trainable = [p for p in model.parameters() if p.requires_grad]
    dtypes = [p.dtype for p in trainable]
    for config in model.peft_config.values():  # an id, not this machine's absolute path
        config.base_model_name_or_path = manifest.base_model
    try:
        for p in trainable:
            p.data = p.data.to(torch.bfloat16)
        model.save_pretrained(str(tmp))
        manifests.write(tmp, manifest)
        crash.point("adapter-saved")
        publish_dir(tmp, Path(out))
    finally:
        for p, dtype in zip(trainable, dtypes):
            p.data = p.data.to(dtype)
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Base:
    """A base model loaded once per process: every adapter of a run is measured and trained on it."""
    model: object
    tokenizer: object
    path: Path
    id: str
    cfg: TrainConfig

    @contextmanager
    def adapter(self, folder: Path | None):
        """The base with a saved adapter applied (frozen), or alone; the adapter is removed after."""
        if folder is None:
            yield self.model
            return
        from peft import PeftModel

        model = PeftModel.from_pretrained(self.model, str(folder), is_trainable=False)
        try:
            yield model
        finally:
            self.model = model.unload()


def load(base_path: Path, cfg: TrainConfig) -> Base:
    model, tokenizer = load_for_training(base_path, cfg)
    return Base(model, tokenizer, Path(base_path), read_base_id(base_path), cfg)


@dataclass
class Candidate:
    """A freshly trained adapter, still on its base: measure it, save it, then release the base."""
    base: Base
    model: object  # the PeftModel
    manifest: Manifest

    def save(self, out: Path) -> Path:
        save_adapter(self.model, Path(out), self.manifest)
        return Path(out)

    def release(self) -> None:
        self.base.model = self.model.unload()


def train(data, cfg: TrainConfig, base: Base, start_from: Path | None = None,
          progress: Progress | None = None) -> Candidate:
    """LoRA-fit `data.train` (a retrain.dataset.Dataset) on the base: a fresh adapter, or the one in
    `start_from` trained further. With held-out records (`data.eval`), the epoch with the lowest
    held-out loss is kept. The one training path: the starter, the worker, the benches and the CLI."""
    from peft import PeftConfig, PeftModel, get_peft_model_state_dict, set_peft_model_state_dict

    cfg, started = base.cfg if cfg is None else cfg, time.perf_counter()
    records, held = [r.alpaca() for r in data.train], [r.alpaca() for r in data.eval]
    if start_from is not None:  # its rank and modules as saved; this run's dropout
        lora = PeftConfig.from_pretrained(str(start_from))
        lora.lora_dropout = cfg.dropout
        model = PeftModel.from_pretrained(base.model, str(start_from), is_trainable=True, config=lora)
    else:
        model = add_lora(base.model, cfg)
    examples, _ = encode_all(base.tokenizer, records, cfg.max_len)
    per_epoch = max(1, math.ceil(len(examples) / cfg.grad_accum))
    epoch_losses: list[float] = []
    best: dict = {"loss": math.inf}

    def each_step(step: int, total: int, loss: float, eta: float) -> None:
        if progress:
            progress(step, total, loss, eta)
        if held and (step % per_epoch == 0 or step == total):
            held_loss = eval_loss(model, base.tokenizer, held, cfg.max_len)
            epoch_losses.append(held_loss)
            if held_loss < best["loss"]:
                best.update(loss=held_loss, epoch=len(epoch_losses),
                            state=copy.deepcopy(get_peft_model_state_dict(model)))

    try:
        stats = fit(model, base.tokenizer, records, cfg, each_step)
    except BaseException:
        base.model = model.unload()
        raise
    if best.get("epoch") not in (None, len(epoch_losses)):
        set_peft_model_state_dict(model, best["state"])
    round_adapter_to_bf16(model)
    training = {**stats, "best_epoch": best.get("epoch"), "epoch_losses": epoch_losses,
                "wall_time_s": round(time.perf_counter() - started, 1),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "adapter_dtype": "bfloat16", "records": {"train": len(records), "eval": len(held)},
                "versions": {name: version(name) for name in ("torch", "transformers", "peft")}}
    manifest = Manifest(version="", base_model=base.id,
                        dataset_digest=data.digest, config=cfg.to_json(), losses={}, training=training,
                        started_from=manifests.read(start_from).version if start_from is not None else None)
    return Candidate(base, model, manifest)


def print_progress(step: int, total: int, loss: float, eta: float) -> None:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"step {step}/{total} loss {loss:.4f} eta {eta / 60:.1f} min peak_rss {rss} MB",
          file=sys.stderr, flush=True)


def read_training_file(path: Path) -> tuple[list[dict], list[dict]]:
    """(train, eval) from a JSON list or a {"train": [...], "eval": [...]} document."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise MemoloopError(f"records file '{path}' is not readable JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("train"), list):
        return data["train"], list(data.get("eval") or [])
    if isinstance(data, list):
        return data, []
    raise MemoloopError(f"records file '{path}' must hold a JSON list of Alpaca records "
                        'or {"train": [...], "eval": [...]}')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrain.trainer", description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=Path, required=True,
                        help='JSON list of Alpaca records, or {"train": [...], "eval": [...]}')
    parser.add_argument("--out", type=Path, required=True, help="adapter folder to write (replaced atomically)")
    parser.add_argument("--eval", type=Path, help="JSON list of held-out records for the eval losses")
    parser.add_argument("--base", type=Path, help="local Gemma folder (default: the converted default model)")
    parser.add_argument("--home", type=Path, help="data home for the default model (default: $MEMOLOOP_HOME)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="optimizer steps of grad-accum samples (overrides --epochs)")
    length.add_argument("--epochs", type=float, help=f"passes over the records (default {TrainConfig.epochs})")
    parser.add_argument("--mode", choices=MODES, default="lora", help="lora (bf16/fp32 base) or qlora (NF4)")
    parser.add_argument("--lr", type=float, default=TrainConfig.learning_rate, help="peak learning rate")
    parser.add_argument("--rank", type=int, default=TrainConfig.r, help="LoRA rank r (alpha = 2r)")
    parser.add_argument("--max-len", type=int, default=TrainConfig.max_len, help="skip longer records (tokens)")
    parser.add_argument("--seed", type=int, default=TrainConfig.seed, help="seed for LoRA init and order")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    args = parser.parse_args(argv)
    offline_environment()
    try:
        train_records, eval_records = read_training_file(args.records)
        if args.eval:
            eval_records = read_training_file(args.eval)[0]
        cfg = TrainConfig(mode=args.mode, r=args.rank, alpha=2 * args.rank, learning_rate=args.lr,
                          epochs=args.epochs or TrainConfig.epochs, max_steps=args.steps,
                          max_len=args.max_len, seed=args.seed, device=args.device)
        from retrain.dataset import Dataset, Record
        from retrain.measure import measure

        base = load(args.base or _default_base(args.home), cfg)
        data = Dataset([Record.of(r) for r in train_records], [Record.of(r) for r in eval_records], [])
        base_loss = measure(base, None, data).loss if eval_records else None
        candidate = train(data, cfg, base, progress=print_progress)
        candidate.manifest.version = args.out.name
        candidate.manifest.losses = {"base": base_loss,
                                     "adapter": measure(base, candidate, data).loss if eval_records else None}
        candidate.save(args.out)
    except MemoloopError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(candidate.manifest.to_json(), indent=2))
    return 0


def _default_base(home: Path | None) -> Path:
    from memory.home import Home

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    return prepare_default_model(Home.open(home).models_dir, progress=say)


if __name__ == "__main__":
    sys.exit(main())
