"""Measuring adapters the same way for the gate: held-out loss, probe loss, greedy behaviour."""
from __future__ import annotations

import copy
import gc
import math
from dataclasses import dataclass, field
from pathlib import Path

from agent.guard import unsupported_dates
from agent.convert import read_base_id
from agent.model import LoadedModel, Usage, generate
from agent.prompt import render_prompt
from retrain.config import TrainConfig
from retrain.dataset import Dataset, Record
from retrain.gate import Behaviour, GatePolicy, fact_share
from retrain.trainer import (add_lora, encode_all, eval_loss, fit, load_for_training, records_sha256,
                             round_adapter_to_bf16, save_adapter)


@dataclass
class Evaluation:
    loss: float
    probe_loss: float
    behaviour: Behaviour
    base_loss: float | None = None
    best_epoch: int | None = None
    epoch_losses: list[float] = field(default_factory=list)
    steps: int = 0


def alpaca(records: list[Record]) -> list[dict]:
    return [r.alpaca() for r in records]


def behaviour_of(model, tokenizer, records: list[Record], n: int, max_new_tokens: int) -> Behaviour:
    """Greedy answers to held-out questions: do they stop, and carry the expected key facts?

    "Stops by itself" means within the budget the app gives an answer (`Settings.max_new_tokens`):
    a stricter cap rejected a candidate whose answers ended at 110-155 tokens of the 160 users get.
    """
    sample = records[:n]
    if not sample:
        return Behaviour(stopped=0.0, facts=0.0)
    device = str(next(model.parameters()).device)
    loaded = LoadedModel(model, tokenizer, "", None, device, next(model.parameters()).dtype)
    stopped = facts = grounded = 0.0
    model.eval()
    for r in sample:
        usage = Usage()
        text = "".join(generate(loaded, render_prompt(r.instruction, r.input), max_new_tokens, usage))
        stopped += usage.stopped
        facts += fact_share(r.output, text)
        grounded += not unsupported_dates(text, r.input)
    n = len(sample)
    return Behaviour(stopped=stopped / n, facts=facts / n, grounded=grounded / n)


def evaluate_adapter(base: Path, adapter: Path | None, data: Dataset, cfg: TrainConfig,
                     policy: GatePolicy, answer_tokens: int, report) -> Evaluation:
    """The base's held-out loss, and the reference (active) adapter's losses and behaviour."""
    from peft import PeftModel

    report({"phase": "measuring the active adapter"})
    model, tokenizer = load_for_training(base, cfg)
    base_loss = eval_loss(model, tokenizer, alpaca(data.eval), cfg.max_len)
    if adapter is not None:
        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
    result = Evaluation(loss=eval_loss(model, tokenizer, alpaca(data.eval), cfg.max_len),
                        probe_loss=eval_loss(model, tokenizer, alpaca(data.probe), cfg.max_len),
                        behaviour=behaviour_of(model, tokenizer, data.eval, policy.behaviour_questions,
                                               answer_tokens),
                        base_loss=base_loss)
    del model
    gc.collect()
    return result


def evaluate_candidate(base: Path, data: Dataset, cfg: TrainConfig, policy: GatePolicy, answer_tokens: int,
                       out: Path, run_id: int, report) -> Evaluation:
    """Train a fresh LoRA from the base, keep its best epoch by held-out loss, save it to `out`."""
    from peft import get_peft_model_state_dict, set_peft_model_state_dict

    report({"phase": "loading the base model"})
    model, tokenizer = load_for_training(base, cfg)
    model = add_lora(model, cfg)
    train, held = alpaca(data.train), alpaca(data.eval)
    examples, _ = encode_all(tokenizer, train, cfg.max_len)
    per_epoch = max(1, math.ceil(len(examples) / cfg.grad_accum))
    epoch_losses: list[float] = []
    best: dict = {"loss": math.inf}

    def progress(step: int, total: int, loss: float, eta: float) -> None:
        report({"phase": "train", "step": step, "total": total, "loss": round(loss, 4), "eta_s": round(eta)})
        if step % per_epoch == 0 or step == total:
            held_loss = eval_loss(model, tokenizer, held, cfg.max_len)
            epoch_losses.append(held_loss)
            if held_loss < best["loss"]:
                best.update(loss=held_loss, epoch=len(epoch_losses),
                            state=copy.deepcopy(get_peft_model_state_dict(model)))

    stats = fit(model, tokenizer, train, cfg, progress)
    if best.get("epoch") != len(epoch_losses):
        set_peft_model_state_dict(model, best["state"])
    round_adapter_to_bf16(model)
    report({"phase": "measuring the candidate", "step": stats["steps"], "total": stats["steps"]})
    result = Evaluation(loss=eval_loss(model, tokenizer, held, cfg.max_len),
                        probe_loss=eval_loss(model, tokenizer, alpaca(data.probe), cfg.max_len),
                        behaviour=behaviour_of(model, tokenizer, data.eval, policy.behaviour_questions,
                                               answer_tokens),
                        best_epoch=best.get("epoch"), epoch_losses=epoch_losses, steps=stats["steps"])
    meta = {"kind": "memoloop-lora-adapter", "version": out.name, "run": run_id, "base_model": read_base_id(base),
            "dataset_sha256": records_sha256(train, held), "config": cfg.to_json(), **stats,
            "eval_loss": {"candidate": result.loss}, "probe_loss": result.probe_loss,
            "behaviour": result.behaviour.__dict__, "best_epoch": result.best_epoch,
            "epoch_losses": epoch_losses}
    save_adapter(model, out, meta)
    del model
    gc.collect()
    return result
