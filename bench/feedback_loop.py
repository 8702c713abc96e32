"""The feedback loop measured end to end on the real 270M model and the starter adapter.

    .venv/bin/python -m bench.feedback_loop            # ~40 min on 2 cores (two retrains)
    .venv/bin/python -m bench.feedback_loop --skip-poisoned
    .venv/bin/python -m bench.feedback_loop --journal fresh3   # an independent journal, 25 corrections

A scripted cat-care history (bench/feedback_script.py): ask 30 questions, correct 20 answers with
the right facts (rate the other 10 up), retrain through the real run path (subprocess, gate),
then ask held-out paraphrases of the 20 corrected questions. Reports held-out loss base ->
starter -> new adapter on the paraphrases, and how many answers carry the corrected key facts
before and after. Then the same with a poisoned dataset (corrections swapped between questions),
which the gate must reject. Targets: new adapter cuts held-out loss >= 20% vs the starter and is
promoted; the poisoned candidate is rejected.

`--journal NAME`: the same on a journal written independently of the project (bench/data/NAME_journals.json)
with 25 corrections its author wrote from the notes (bench/data/corrections_NAME.json, by a helper that
never saw this code): the honest corrections must be promoted, the same corrections rotated between
questions rejected.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.common import table
from bench.feedback_script import ITEMS, PETS

N_CORRECTED = 20


def setup_home(root: Path):
    from memory import journal
    from memory.store import Memory
    from retrain import registry

    mem = Memory.open(root)
    for pet in PETS:
        journal.add_subject(mem, pet)
    for pet, day, kind, note, *_ in ITEMS:
        journal.log(mem, note, subject=pet, at=day, kind=kind)
    registry.ensure_starter(mem)
    return mem


def companion(mem, max_new_tokens: int, adapter: str | None = None):
    """The companion as the app runs it; `adapter` is a folder (else the active adapter)."""
    from agent.answer import Companion
    from agent.settings import Settings

    base = str(Path(__file__).resolve().parent.parent / ".cache" / "models" / "gemma-3-270m")
    settings = Settings(base_model=base, max_new_tokens=max_new_tokens, adapter=adapter)
    return Companion(mem, settings=settings, progress=lambda m: None)


def teach(mem, comp, poisoned: bool) -> None:
    """Ask the 30 questions; correct the first 20 (swapped between questions when poisoned)."""
    from memory.interactions import add_feedback

    ids = [comp.ask(question, subject=pet).interaction_id for pet, _, _, _, question, _, _ in ITEMS]
    for i, iid in enumerate(ids):
        if i < N_CORRECTED:
            source = ITEMS[(i + 7) % N_CORRECTED] if poisoned else ITEMS[i]
            add_feedback(mem, iid, rating=-1, correction=source[5])
        else:
            add_feedback(mem, iid, rating=1)


def paraphrases(mem, comp) -> tuple[list[dict], float]:
    """Ask the held-out paraphrases: (their records with the right answers, share of key facts carried)."""
    from memory.interactions import get_interaction
    from retrain.gate import fact_share

    records, share = [], 0.0
    for pet, _, _, _, _, right, paraphrase in ITEMS[:N_CORRECTED]:
        answer = comp.ask(paraphrase, subject=pet)
        block = get_interaction(mem, answer.interaction_id).history_block
        records.append({"instruction": paraphrase, "input": block, "output": right})
        share += fact_share(right, answer.body)
    return records, share / N_CORRECTED


def held_out_losses(base: Path, adapters: dict, records: list[dict]) -> dict:
    from retrain import trainer
    from retrain.config import TrainConfig
    from retrain.dataset import Dataset, Record
    from retrain.measure import measure

    loaded, data = trainer.load(base, TrainConfig()), Dataset([], [Record.of(r) for r in records], [])
    return {name: measure(loaded, adapter, data).loss for name, adapter in adapters.items()}


def against_notes(run) -> str:
    """The gate's data check, as the run recorded it."""
    check = (run.metrics or {}).get("against_notes") or {}
    return f"{len(check.get('questions', []))} of {check.get('records', 0)} answers cite dates not in their notes"


def retrain(mem):
    from retrain import runs

    run = runs.spawn(mem, runs.create(mem, "manual"))
    return runs.wait(mem, run.id, poll_s=5)


def journal_home(root: Path, name: str):
    """A home with an independent journal's pets and notes, and the author's 25 corrections."""
    import json

    from memory import journal
    from memory.store import Memory
    from retrain import registry

    data = Path(__file__).resolve().parent / "data"
    corrections = json.loads((data / f"corrections_{name}.json").read_text())
    book = next(j for j in json.loads((data / corrections["source_file"]).read_text())["journals"]
                if j["name"] == corrections["journal"])
    mem = Memory.open(root)
    for pet in book["pets"]:
        journal.add_subject(mem, pet["name"], sex=pet.get("sex"), neutered=pet.get("neutered"),
                            birth_date=pet.get("birth_date"))
    for note in book["notes"]:
        journal.log(mem, note["text"], subject=note["subject"], at=note["at"], kind=note["kind"])
    registry.ensure_starter(mem)
    return mem, corrections["items"]


def journal_case(args, root: Path, poisoned: bool) -> None:
    """Ask the 25 questions, correct them (rotated when poisoned), retrain, report."""
    from memory.interactions import add_feedback

    mem, items = journal_home(root, args.journal)
    comp = companion(mem, args.max_new_tokens)
    ids = [comp.ask(item["q"]).interaction_id for item in items]
    for i, iid in enumerate(ids):
        add_feedback(mem, iid, rating=-1, correction=items[(i + 7) % len(items) if poisoned else i]["correction"])
    run = retrain(mem)
    minutes = (run.finished_at - run.started_at).total_seconds() / 60
    label = "rotated (poisoned)" if poisoned else "honest"
    print(f"{args.journal} {label}: {run.status} in {minutes:.1f} min, promoted={run.promoted}: "
          f"{run.reason or run.error}; {against_notes(run)} (target: {'rejected' if poisoned else 'promoted'})",
          flush=True)
    if run.eval_loss:
        print(table(["", "base", "active (starter)", "candidate"],
                    [["held-out loss", run.eval_loss.get("base"), run.eval_loss["active"], run.eval_loss["candidate"]],
                     ["starter probe loss", "", run.metrics["probe_loss"]["active"],
                      run.metrics["probe_loss"]["candidate"]],
                     ["records train / held out", "", "", f"{run.train_records} / {run.eval_records}"]]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--journal", help="an independent journal with written corrections: fresh3 or fresh5")
    parser.add_argument("--max-new-tokens", type=int, default=96, help="answer length cap while asking")
    parser.add_argument("--skip-poisoned", action="store_true", help="only the honest loop")
    parser.add_argument("--only-poisoned", action="store_true", help="only the poisoned dataset")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="memoloop-loop-") as tmp:
        if args.journal:
            cases = [False] if args.skip_poisoned else [True] if args.only_poisoned else [False, True]
            for poisoned_case in cases:
                journal_case(args, Path(tmp) / f"{args.journal}-{poisoned_case}", poisoned_case)
            return
        if not args.only_poisoned:
            honest(args, Path(tmp) / "honest")
        if not args.skip_poisoned:
            poisoned(args, Path(tmp) / "poisoned")


def honest(args, root: Path) -> None:
    """Correct 20 answers rightly, retrain, and measure the paraphrases before and after."""
    from agent.adapters import STARTER_ADAPTER
    from retrain import registry

    mem = setup_home(root)
    comp = companion(mem, args.max_new_tokens)
    base = Path(comp.settings.base_model)
    teach(mem, comp, poisoned=False)
    records, facts_before = paraphrases(mem, comp)
    run = retrain(mem)
    minutes = (run.finished_at - run.started_at).total_seconds() / 60
    print(f"retrain run {run.id}: {run.status} in {minutes:.1f} min, promoted={run.promoted}: "
          f"{run.reason or run.error}; {against_notes(run)}")
    candidate = next(a for a in registry.adapters(mem) if a.version == run.adapter_version)
    facts_after = paraphrases(mem, companion(mem, args.max_new_tokens, str(candidate.path)))[1]
    losses = held_out_losses(base, {"base": None, "starter": STARTER_ADAPTER, "new": Path(candidate.path)},
                             records)
    cut = 1 - losses["new"] / losses["starter"]
    print(table(["held-out paraphrases (20)", "base", "starter", f"new adapter ({run.status})"],
                [["answer-token loss", losses["base"], losses["starter"], losses["new"]],
                 ["key facts carried", "", facts_before, facts_after]]))
    print(f"\nloss cut vs starter: {cut:.0%} (target >= 20%), promoted: {run.promoted}")


def poisoned(args, root: Path) -> None:
    """The same with the corrections swapped between questions: the gate must reject it."""
    bad = setup_home(root)
    teach(bad, companion(bad, args.max_new_tokens), poisoned=True)
    run = retrain(bad)
    print(f"poisoned dataset (corrections swapped between questions): {run.status}, "
          f"promoted={run.promoted}: {run.reason or run.error}; {against_notes(run)} (target: rejected)", flush=True)
    if run.status in ("succeeded", "rejected"):
        print(f"its held-out loss {run.eval_loss['active']:.3f} -> {run.eval_loss['candidate']:.3f}, "
              f"probe {run.metrics['probe_loss']['active']:.3f} -> {run.metrics['probe_loss']['candidate']:.3f}")


if __name__ == "__main__":
    main()
