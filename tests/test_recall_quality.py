"""Recall quality on the labelled cat journal stays above floors set a little below bench/recall_cat.py.

Measured 2026-11-30 (RELEVANT 0.42, W_VECTOR 0.65, k=5): with the pack vocabulary precision 0.85,
recall 0.80, no-record accuracy 0.94, answered 0.94; without a vocabulary 0.91 / 0.67 / 1.00 / 0.88.
Re-measured 2026-12-04 after the question's telling concept (issue #11): with the pack vocabulary
0.782 / 0.853 / 0.938 / 0.980; after the topics, frames, episodes and mentions of 2026-12-04 (the
same issue) 0.775 / 0.879 / 0.938 / 1.000, and without one 0.854 / 0.692 / 0.938 / 0.920. Recall was bought with precision on purpose (a lost note is a wrong
answer; an extra one is shown in its own words with its date), so the precision floor is 0.76.
"""
from datetime import datetime

import pytest

from bench.recall_cat import build, load_journal, pack_vocabulary, pack_specific, score
from memory.recall import recall
from memory.store import Memory


@pytest.fixture(scope="module")
def journal_home(tmp_path_factory):
    journal = load_journal()
    mem = Memory.open(tmp_path_factory.mktemp("cat-journal") / "home")
    return journal, mem, build(mem, journal)


def ask_all(journal, mem, vocabulary, specific=()):
    now = datetime.fromisoformat(journal["now"])
    return [[h.id for h in recall(mem, q["question"], subject=q.get("subject"), k=5, now=now,
                                  vocabulary=vocabulary, specific=specific).relevant]
            for q in journal["questions"]]


@pytest.mark.parametrize("vocabulary, floors", [
    ("pack", {"precision": 0.76, "recall": 0.80, "no_record": 0.87, "answered": 0.88, "first": 0.6}),
    (None, {"precision": 0.84, "recall": 0.60, "no_record": 0.93, "answered": 0.82, "first": 0.6}),
])
def test_cat_journal_quality_floors(journal_home, vocabulary, floors):
    journal, mem, ids = journal_home
    measured = score(journal, ids, ask_all(journal, mem, pack_vocabulary() if vocabulary else None,
                                           pack_specific() if vocabulary else ()))
    low = {name: round(getattr(measured, name), 3) for name, floor in floors.items()
           if getattr(measured, name) < floor}
    assert not low, f"below the floor: {low} (floors {floors}); run bench/recall_cat.py --misses"
