"""Answer latency: our `ask` (recall + prompt + streamed generation) vs raw `model.generate`.

    .venv/bin/python -m bench.answer [--examples 5]

On the default model (Gemma 3 270M + the starter adapter), 10 questions over a small cat journal.
For each: time to first token, tokens/s and end-to-end latency of ask; the time spent deciding
(recall, facts, red flags, prompt) before the model starts; and raw `model.generate` on the very
same prompts in the same process. Targets: our tokens/s >= 0.9x raw; deciding < 10% of latency.
--examples N prints N answers (question, notes, answer) for the README, in question order.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from bench.common import percentile, table

NOTES = [
    ("Mochi", "2024-02-13", "vet_visit", "Dr. Tanaka diagnosed a herpesvirus flare and prescribed L-lysine"),
    ("Mochi", "2025-01-15", "symptom", "Sneezing came back after the move, clear discharge from the nose"),
    ("Mochi", "2025-07-01", "weight", "Mochi weighs 4.2 kg"),
    ("Mochi", "2025-09-12", "vaccine", "FVRCP booster at the Elm Street clinic"),
    ("Luna", "2025-03-01", "symptom", "Luna vomited a hairball after breakfast"),
    ("Luna", "2025-06-20", "litter", "Luna peed on the bathmat twice"),
    ("Luna", "2025-08-02", "dental", "Dr. Okafor noted red gums, suggested daily brushing"),
    (None, "2025-01-10", "note", "We moved to the new flat on Elm Street"),
]
QUESTIONS = [
    ("Mochi is sneezing again, has this happened before?", None),
    ("How much does Mochi weigh?", None),
    ("When was Mochi's last vaccine?", None),
    ("Has Luna thrown up hairballs?", None),
    ("Has Luna peed outside the litter box?", None),
    ("What did the vet say about Luna's gums?", None),
    ("Has Mochi ever had diarrhoea?", None),
    ("Can I give Mochi my dog's flea treatment?", None),
    ("How often should I brush Luna's teeth?", None),
    ("Mochi hasn't eaten since yesterday, what should I do?", None),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=0, help="print this many answers for the README")
    args = parser.parse_args()
    from agent.answer import Companion
    from agent.convert import prepare_default_model
    from memory import journal
    from memory.interactions import get_interaction
    from memory.store import Memory

    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="memoloop-answer-") as tmp:
        mem = Memory.open(Path(tmp) / "home")
        for pet in ("Mochi", "Luna"):
            journal.add_subject(mem, pet)
        for pet, day, kind, text in NOTES:
            journal.log(mem, text, subject=pet, at=day, kind=kind)
        from agent.settings import Settings

        base = prepare_default_model(repo / ".cache" / "models", progress=lambda m: None)
        comp = Companion(mem, settings=Settings(base_model=str(base)), progress=lambda m: None)
        comp.ask("warm up: is Mochi sneezing?")
        ours, raw, examples = [], [], []
        for question, subject in QUESTIONS:
            started = time.perf_counter()
            turn = comp.ask_stream(question, subject)
            decided = time.perf_counter()
            first = None
            for kind, _text in turn.parts():
                if kind == "body" and first is None:
                    first = time.perf_counter()
            total = time.perf_counter() - started
            answer = turn.answer
            stored = get_interaction(mem, answer.interaction_id)
            ours.append({"decide": decided - started, "ttft": first - started, "total": total,
                         "tokens": stored.completion_tokens, "gen_s": total - (decided - started)})
            enc = comp.model.tokenizer(turn.draft.prompt, return_tensors="pt")
            t0 = time.perf_counter()
            with torch.inference_mode():
                out = comp.model.model.generate(**enc, max_new_tokens=comp.settings.max_new_tokens, do_sample=False,
                                                eos_token_id=[1, 106, 105], pad_token_id=0)
            raw.append({"tokens": out.shape[1] - enc.input_ids.shape[1], "gen_s": time.perf_counter() - t0})
            examples.append((question, turn.draft.notes, answer.answer))
        ours_tps = sum(o["tokens"] for o in ours) / sum(o["gen_s"] for o in ours)
        raw_tps = sum(r["tokens"] for r in raw) / sum(r["gen_s"] for r in raw)
        decide_share = sum(o["decide"] for o in ours) / sum(o["total"] for o in ours)
        print(table(["", "p50", "p95"], [
            ["ask: deciding (recall, facts, flags, prompt) s", percentile([o["decide"] for o in ours], 50),
             percentile([o["decide"] for o in ours], 95)],
            ["ask: time to first token s", percentile([o["ttft"] for o in ours], 50),
             percentile([o["ttft"] for o in ours], 95)],
            ["ask: end to end s", percentile([o["total"] for o in ours], 50), percentile([o["total"] for o in ours], 95)],
        ]))
        print(f"\ntokens/s: ask {ours_tps:.1f} vs raw generate {raw_tps:.1f} = {ours_tps / raw_tps:.2f}x (target >= 0.9x)")
        print(f"deciding share of latency: {decide_share:.1%} (target < 10%)")
        for question, notes, answer in examples[: args.examples]:
            print(f"\nQ: {question}\nnotes: {[f'{n.day} {n.text}' for n in notes] or 'none'}\nA: {answer}")


if __name__ == "__main__":
    main()
