"""Measuring an adapter the one way the gate, the starter and the benches all use: held-out answer
loss, loss on the fixed starter probe (forgetting), and greedy behaviour on held-out questions."""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from agent.guard import unsupported_dates
from agent.model import LoadedModel, Usage, generate
from agent.prompt import render_prompt
from retrain.dataset import Dataset, Record
from retrain.gate import Behaviour, fact_share
from retrain.trainer import Base, Candidate, eval_loss


@dataclass
class Evaluation:
    loss: float | None  # mean answer-token loss on the held-out records
    probe_loss: float | None  # the same on the starter probe
    behaviour: Behaviour | None  # None when no answers were asked for


def behaviour_of(model, tokenizer, records: list[Record], max_new_tokens: int) -> Behaviour:
    """Greedy answers to held-out questions: do they stop, and carry the expected key facts?

    "Stops by itself" means within the budget the app gives an answer (`Settings.max_new_tokens`):
    a stricter cap rejected a candidate whose answers ended at 110-155 tokens of the 160 users get.
    """
    if not records:
        return Behaviour(stopped=0.0, facts=0.0)
    device = str(next(model.parameters()).device)
    loaded = LoadedModel(model, tokenizer, "", None, device, next(model.parameters()).dtype)
    stopped = facts = grounded = 0.0
    model.eval()
    for r in records:
        usage = Usage()
        text = "".join(generate(loaded, render_prompt(r.instruction, r.input), max_new_tokens, usage))
        stopped += usage.stopped
        facts += fact_share(r.output, text)
        grounded += not unsupported_dates(text, r.input)
    n = len(records)
    return Behaviour(stopped=stopped / n, facts=facts / n, grounded=grounded / n, answers=n)


def measure(base: Base, adapter: Candidate | Path | None, data: Dataset, answers: int = 0,
            answer_tokens: int = 160) -> Evaluation:
    """The base alone (None), a saved adapter (its folder) or a candidate still in memory, on
    `data.eval` and `data.probe`; `answers` held-out questions are answered greedily too."""
    held, probe = [r.alpaca() for r in data.eval], [r.alpaca() for r in data.probe]
    using = nullcontext(adapter.model) if isinstance(adapter, Candidate) else base.adapter(adapter)
    with using as model:
        model.eval()
        return Evaluation(
            loss=eval_loss(model, base.tokenizer, held, base.cfg.max_len) if held else None,
            probe_loss=eval_loss(model, base.tokenizer, probe, base.cfg.max_len) if probe else None,
            behaviour=behaviour_of(model, base.tokenizer, data.eval[:answers], answer_tokens) if answers else None)
