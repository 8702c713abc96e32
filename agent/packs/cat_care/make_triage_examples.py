"""Make the labelled questions red flags are also matched by meaning: triage_examples.json + .npy.

Run:  .venv/bin/python -m agent.packs.cat_care.make_triage_examples

Rules catch the words owners use; owners also write "hes wee-ing nothing, just little drops of
blood" or "when i pinch her skin it stays up". So a question no rule catches gets the flag of the
labelled question it is most like (MiniLM cosine at least `agent.pack.SIMILAR`), if that one is an
emergency: an owner's calm look-alike ("how do i stop him eating string") is labelled too and wins
when it is nearer. The labelled questions are the bench's triage sets the rules were tuned on,
written by helpers without the rules (bench/data/triage_*.json); a new set is reported on before
it is added here. Each
emergency carries the flag its words raise under the rules, else that of the nearest emergency
that has one. Deterministic for one MiniLM model.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from agent.pack import PACKS_DIR, load_pack
from agent.triage import present_part
from memory.offline import offline_environment

DATA = Path(__file__).resolve().parents[3] / "bench" / "data"
SETS = ("triage_dev.json", "triage_questions.json", "triage_heldout2.json", "triage_fresh.json",
        "triage_fresh2.json", "triage_fresh3.json", "triage_fresh4.json")
OUT = PACKS_DIR / "cat_care" / "triage_examples.json"


def main() -> None:
    offline_environment()
    from memory.embedder import Embedder

    pack = load_pack()
    rows = []
    for name in SETS:
        data = json.loads((DATA / name).read_text())
        for q in data["questions"] if isinstance(data, dict) else data:
            text = present_part(q["q"]) or q["q"]
            flag = pack.matching_rule(text) if q["emergency"] else None
            rows.append({"text": text, "emergency": bool(q["emergency"]), "flag": flag.id if flag else None})
    vectors = Embedder.load().encode([r["text"] for r in rows])
    flagged = [i for i, r in enumerate(rows) if r["flag"]]
    for i, r in enumerate(rows):
        if r["emergency"] and not r["flag"]:  # no rule's words: the flag of the most similar emergency
            r["flag"] = rows[max(flagged, key=lambda j: float(vectors[i] @ vectors[j]))]["flag"]
    OUT.write_text(json.dumps({"_about": "Owners' questions labelled emergency (with its red flag) or "
                                         "calm (flag null); written by make_triage_examples.py.",
                               "examples": [{"text": r["text"], "flag": r["flag"]} for r in rows]},
                              indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    np.save(OUT.with_suffix(".npy"), vectors)
    print(f"{len(rows)} questions, {len(flagged)} flagged by the rules, "
          f"{sum(r['emergency'] for r in rows) - len(flagged)} by the nearest emergency -> {OUT}")


if __name__ == "__main__":
    main()
