"""Relevance on a cat-care journal: precision/recall of the relevant set and no-record accuracy.

tests/data/cat_journal.json holds 149 dated notes (3 cats + household, two years) and 66
labelled questions, 16 of them with no record (never logged, another cat's topic, near-topic
traps). Each question goes through `memory.recall.recall` with k=5, as the CLI asks, and the
domain pack's vocabulary, as the CLI passes it. Scores:
- recall: share of the must-have notes among the relevant hits (of at most k);
- precision: share of the relevant hits that are must-have or acceptable notes;
- no-record accuracy: "no record" on the no-record questions; answered: not on the others.
It calibrates `RELEVANT` and `W_VECTOR`/`W_KEYWORD` in memory/recall.py: the sweep re-ranks the
same candidates for other thresholds and weights. The baseline is plain MiniLM cosine over a
threshold (picked on this very journal, so it is an optimistic baseline).

    .venv/bin/python -m bench.recall_cat             # tables and verdict (~1 min)
    .venv/bin/python -m bench.recall_cat --misses    # also every wrongly answered question
"""
from __future__ import annotations

import argparse
import copy
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.common import table, temp_memory, write_jsonl

JOURNAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "cat_journal.json"
K = 5
FLOORS = {"precision": 0.76, "recall": 0.80, "no_record": 0.85, "answered": 0.85}  # the verdict's bar
THRESHOLDS = [x / 100 for x in range(33, 58, 3)]
WEIGHTS = [0.55, 0.65, 0.75]


@dataclass
class Score:
    precision: float
    recall: float
    no_record: float  # no-record questions answered "no record"
    answered: float  # record questions not answered "no record"
    first: float  # latest/earliest questions with the right note first

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def row(self, label) -> list:
        return [label, self.precision, self.recall, self.f1, self.no_record, self.answered, self.first]


HEADER = ["method", "precision", "recall", "F1", "no-record acc", "answered acc", "first ok"]


def pack_vocabulary() -> dict:
    from agent.pack import load_pack

    return load_pack().vocabulary


def pack_specific() -> tuple[str, ...]:
    from agent.pack import load_pack

    return load_pack().specific


def load_journal(path: Path = JOURNAL) -> dict:
    return json.loads(path.read_text())


def build(mem, journal: dict) -> dict[int, int]:
    """Import the journal; label id -> observation id."""
    from sqlalchemy import text

    from memory.transfer import import_file

    records = [{"type": "subject", **s} for s in journal["subjects"]]
    records += [{k: v for k, v in n.items() if k != "id"} for n in journal["notes"]]
    with tempfile.TemporaryDirectory() as tmp:
        import_file(mem, write_jsonl(Path(tmp) / "journal.jsonl", records))
    with mem.engine.connect() as c:
        ids = [r[0] for r in c.execute(text("SELECT id FROM observation ORDER BY id"))]
    return {n["id"]: oid for n, oid in zip(journal["notes"], ids)}


def candidates(mem, journal, vocabulary, specific=()) -> list:
    """Every question's full candidate list (all hits, scores kept), to re-rank in the sweep."""
    from memory.recall import recall

    now = datetime.fromisoformat(journal["now"])
    return [recall(mem, q["question"], subject=q.get("subject"), k=1000, now=now, threshold=-1.0,
                   vocabulary=vocabulary, specific=specific) for q in journal["questions"]]


def answers(found: list, threshold: float, weights=None) -> list[list[int]]:
    """The relevant hit ids per question, as recall would return them with these settings."""
    from memory.recall import fuse, rank

    out = []
    for r in found:
        hits = copy.deepcopy(r.hits)
        if weights:
            for h in hits:
                h.score = fuse(h.vector, h.keyword, household=r.scope is not None and h.subject_id is None,
                               weights=weights)
        out.append([h.id for h in rank(hits, r.time, threshold, K, r.question) if h.relevant])
    return out


def vector_answers(mem, journal, threshold) -> list[list[int]]:
    """Plain MiniLM: the k nearest notes by cosine over the threshold; no scoping, no time words."""
    out = []
    for q in journal["questions"]:
        sims = mem.index.query(mem.index.embed([q["question"]])[0], K)
        out.append([i for i, s in sims.items() if s >= threshold])
    return out


def score(journal, ids: dict[int, int], got_all: list[list[int]]) -> Score:
    hits = good = 0
    recalls, no_rec, answered, first = [], [], [], []
    for q, got in zip(journal["questions"], got_all):
        must = {ids[i] for i in q["relevant"]}
        if not must:
            no_rec.append(not got)
            continue
        answered.append(bool(got))
        hits += len(got)
        good += len((must | {ids[i] for i in q["also_ok"]}) & set(got))
        recalls.append(len(must & set(got)) / min(len(must), K))
        if "first" in q:
            first.append(bool(got) and got[0] == ids[q["first"]])
    mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")  # noqa: E731
    return Score(good / hits if hits else 0.0, mean(recalls), mean(no_rec), mean(answered), mean(first))


def misses(journal, ids, got_all) -> list[str]:
    back = {v: k for k, v in ids.items()}
    out = []
    for q, got in zip(journal["questions"], got_all):
        labels, want = [back[i] for i in got], set(q["relevant"])
        wrong = [i for i in labels if i not in want | set(q["also_ok"])]
        if wrong or len(set(labels) & want) < min(len(want), K):
            out.append(f"  [{q['type']}] {q['question']} -> {labels}; wrong {wrong}, "
                       f"missing {sorted(want - set(labels))}")
    return out


def sweep(journal, ids, found) -> str:
    """F1 / no-record accuracy / answered accuracy for each threshold and vector weight."""
    rows = []
    for t in THRESHOLDS:
        row = [f"{t:.2f}"]
        for w in WEIGHTS:
            s = score(journal, ids, answers(found, t, (w, 1 - w)))
            row.append(f"{s.f1:.2f} / {s.no_record:.2f} / {s.answered:.2f}")
        rows.append(row)
    return table(["threshold"] + [f"W_VECTOR {w:.2f}: F1 / no-rec / answered" for w in WEIGHTS], rows)


def main(argv=None) -> int:
    from memory.recall import RELEVANT, W_VECTOR

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--misses", action="store_true", help="print each question answered wrongly")
    args = p.parse_args(argv)
    journal = load_journal()
    with temp_memory() as mem:
        ids = build(mem, journal)
        tried = [(score(journal, ids, vector_answers(mem, journal, t)), t) for t in [x / 100 for x in range(20, 71, 5)]]
        base, base_t = max(tried, key=lambda st: st[0].f1 + st[0].no_record + st[0].answered)
        found = candidates(mem, journal, pack_vocabulary(), pack_specific())
        bare = candidates(mem, journal, None)
    ours = score(journal, ids, answers(found, RELEVANT))
    rows = [base.row(f"plain vector, cos >= {base_t:.2f} (best here)"),
            score(journal, ids, answers(bare, RELEVANT)).row("ours, no vocabulary"),
            ours.row("ours, pack vocabulary (the CLI)")]
    print(f"{len(journal['questions'])} questions, k={K}, RELEVANT={RELEVANT}, W_VECTOR={W_VECTOR}\n")
    print(table(HEADER, rows))
    print("\nsweep (pack vocabulary):")
    print(sweep(journal, ids, found))
    if args.misses:
        print("\n".join(misses(journal, ids, answers(found, RELEVANT))))
    met = all(getattr(ours, name) >= floor for name, floor in FLOORS.items())
    print(f"verdict: ours precision {ours.precision:.2f}, recall {ours.recall:.2f}, no-record accuracy "
          f"{ours.no_record:.2f}, answered {ours.answered:.2f} vs floors {FLOORS}: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
