"""Train the starter adapter that ships with memoloop (agent/starter_adapter/).

Run it (240 steps of 8-15 CPU-seconds each: 35-60 min on 2 cores; progress on stderr, a summary
on stdout):
    nohup .venv/bin/python -m retrain.starter --compare OLD_ADAPTER > /tmp/starter.log 2>&1 &
    .venv/bin/python -m retrain.starter --steps 20 --out /tmp/starter-try   # a quick look

It trains on agent/packs/cat_care/starter.json (agent/packs/cat_care/make_starter.py) minus a
held-out tenth (chosen by record hash, so the split is stable when records are added), then
answers held-out records with the new adapter, the untuned base and optionally another adapter,
and counts: key facts (the reference's dates, numbers and names) copied, sentences the answer
guard would cut, repetitions, stopping by itself, "no record" said beside notes.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

from agent import guard
from agent.convert import prepare_default_model
from agent.model import LoadedModel, Usage, generate, load_model
from agent.prompt import render_prompt
from memory.errors import MemoloopError
from memory.files import publish_dir, temp_dir_for
from memory.offline import offline_environment
from retrain import manifest as manifests
from retrain import trainer
from retrain.config import TrainConfig
from retrain.dataset import HELD_OUT_EVERY, Dataset, Record, starter_held_out
from retrain.measure import measure
from retrain.trainer import print_progress

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "agent" / "packs" / "cat_care" / "starter.json"
OUT = REPO / "agent" / "starter_adapter"
MODELS = REPO / ".cache" / "models"  # git-ignored: model weights never go into the tree
WORK = REPO / ".cache" / "starter-run"
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
NO_RECORD = re.compile(r"\bno record", re.IGNORECASE)


def split(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """(train, held_out): a record is held out when its hash is 0 modulo HELD_OUT_EVERY."""
    held = [starter_held_out(r) for r in records]
    return [r for r, h in zip(records, held) if not h], [r for r, h in zip(records, held) if h]


def key_facts(reference: str) -> set[str]:
    """What a faithful answer must carry over from its notes: the reference's dates, numbers and
    names (vets, drugs, places)."""
    return set(DATE.findall(reference)) | guard.numbers(reference) | {n.lower() for n in guard.names(reference)}


def judge(record: dict, answer: str, stopped: bool) -> dict:
    """One answer's behaviour, against its input and reference output."""
    verdicts = guard.check(answer, record["input"], no_numbers="\nMeasured:\n" in record["input"])
    said = set(DATE.findall(answer)) | guard.numbers(answer) | set(guard.WORD.findall(answer.lower()))
    return {"stopped": stopped,
            "invented_date": bool(guard.unsupported_dates(answer, record["input"])),
            "failing_sentences": sum(not v.ok for v in verdicts),
            "repeats": any(p.startswith("repeats") for v in verdicts for p in v.problems),
            "key_facts": len(key_facts(record["output"])),
            "key_facts_copied": len(key_facts(record["output"]) & said),
            "has_notes": bool(guard.read_block(record["input"]).notes),
            "said_no_record": bool(NO_RECORD.search(answer))}


def behaviour(loaded: LoadedModel, records: list[dict], max_new_tokens: int = 160) -> dict:
    """Counts over greedy answers to the records, plus the generation speed."""
    verdicts, tokens, started = [], 0, time.perf_counter()
    for record in records:
        usage = Usage()
        answer = "".join(generate(loaded, render_prompt(record["instruction"], record["input"]),
                                  max_new_tokens, usage))
        verdicts.append(judge(record, answer, usage.stopped))
        tokens += usage.completion_tokens
    others = [v for v in verdicts if v["has_notes"]]
    return {"answers": len(verdicts),
            "stopped_by_itself": sum(v["stopped"] for v in verdicts),
            "key_facts_copied": f"{sum(v['key_facts_copied'] for v in verdicts)}/{sum(v['key_facts'] for v in verdicts)}",
            "answers_with_every_key_fact": sum(v["key_facts_copied"] == v["key_facts"] for v in verdicts),
            "invented_a_date": sum(v["invented_date"] for v in verdicts),
            "answers_with_a_sentence_failing_the_guard": sum(bool(v["failing_sentences"]) for v in verdicts),
            "sentences_failing_the_guard": sum(v["failing_sentences"] for v in verdicts),
            "answers_repeating_themselves": sum(v["repeats"] for v in verdicts),
            "said_no_record_with_notes": f"{sum(v['said_no_record'] for v in others)}/{len(others)}",
            "tokens_per_s": round(tokens / (time.perf_counter() - started), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrain.starter", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="starter records (JSON list of Alpaca records)")
    parser.add_argument("--out", type=Path, default=OUT, help="adapter folder to write (replaced atomically)")
    parser.add_argument("--base", type=Path, help="local Gemma folder (default: converted into .cache/models)")
    parser.add_argument("--steps", type=int, default=240, help="optimizer steps of 8 samples (8-10 CPU-seconds each)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the LoRA init and sample order")
    parser.add_argument("--max-len", type=int, default=512, help="skip longer records (tokens); 512 keeps all")
    parser.add_argument("--eval", type=int, default=96, help="held-out records the answer loss is measured on")
    parser.add_argument("--judge", type=int, default=48, help="held-out records answered to check behaviour")
    parser.add_argument("--base-answers", type=int, default=48,
                        help="of those, how many the untuned base answers too, for comparison")
    parser.add_argument("--compare", type=Path, help="another adapter folder (the previous starter) to judge "
                                                      "on the same records")
    args = parser.parse_args(argv)
    offline_environment()
    try:
        summary = run(args)
    except MemoloopError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


def run(args: argparse.Namespace) -> dict:
    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        data_bytes = args.data.read_bytes()
        records = json.loads(data_bytes)
    except (OSError, ValueError) as exc:
        raise MemoloopError(f"starter data '{args.data}' is not readable JSON ({exc})") from None
    base = args.base or prepare_default_model(MODELS, progress=say)
    train_records, held_out = split(records)
    say(f"{len(train_records)} training records, {len(held_out)} held out")
    cfg = TrainConfig(max_steps=args.steps, max_len=args.max_len, seed=args.seed)
    data = Dataset([Record.of(r, "starter") for r in train_records],
                   [Record.of(r, "starter") for r in held_out[:args.eval]], [])
    loaded_base = trainer.load(base, cfg)
    base_loss = measure(loaded_base, None, data).loss
    candidate = trainer.train(data, cfg, loaded_base, progress=print_progress)
    adapter_loss = measure(loaded_base, candidate, data).loss
    say(f"held-out answer loss {base_loss:.3f} -> {adapter_loss:.3f}; checking behaviour")
    work = candidate.save(WORK / "adapter")
    del loaded_base, candidate
    loaded = load_model(base, work, device=cfg.device)
    judged = held_out[:args.judge]
    tuned = behaviour(loaded, judged)
    with loaded.model.disable_adapter():
        untuned = behaviour(loaded, judged[:args.base_answers])
    compared = {}
    if args.compare:
        say(f"judging {args.compare} on the same records")
        compared = {str(args.compare): behaviour(load_model(base, args.compare, device=cfg.device), judged)}
    manifest = manifests.read(work)
    manifest.version = "starter"
    manifest.losses = {"base": base_loss, "adapter": adapter_loss}
    manifest.behaviour = tuned
    manifest.notes = {
        "dataset_file": str(args.data.relative_to(REPO) if args.data.is_relative_to(REPO) else args.data),
        "dataset_file_sha256": hashlib.sha256(data_bytes).hexdigest(),
        "split": {"held_out": f"sha256(record) % {HELD_OUT_EVERY} == 0",
                  "train": len(train_records), "held_out_records": len(held_out),
                  "loss_measured_on": min(args.eval, len(held_out)), "answers_judged": min(args.judge, len(held_out))},
        "behaviour_compared": {"base": untuned, **compared},
    }
    _publish(work, args.out, manifest)
    say(f"starter adapter written to {args.out}")
    return {"out": str(args.out), "eval_loss": manifest.losses, "behaviour": {"adapter": tuned, "base": untuned},
            "sec_per_step": manifest.training["sec_per_step"], "wall_time_s": manifest.training["wall_time_s"]}


def _publish(work: Path, out: Path, manifest: manifests.Manifest) -> None:
    """Copy the adapter files (not the run's scratch) into `out`, atomically."""
    tmp = temp_dir_for(out)
    try:
        for name in ("adapter_model.safetensors", "adapter_config.json"):
            shutil.copy2(work / name, tmp / name)
        manifests.write(tmp, manifest)
        publish_dir(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
