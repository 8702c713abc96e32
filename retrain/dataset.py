"""The user's approved answers as Alpaca records, split and mixed the same way every run.

instruction = the question, input = the dated history block the model saw, output = the answer
rated up, or the user's corrected answer (a correction always wins). Rated down without a
correction: left out (kept in SQL for preference training later). A rated-up model answer that
states a date its notes do not have (older answers showed a "Check:" line; new ones are checked by agent.guard before they are shown) is left out too, and
counted: training on it would teach the model to invent dates. A correction is the user's own
words and always trains.
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from agent.guard import unsupported_dates
from memory.files import publish_dir, temp_dir_for
from memory.models import Feedback, Interaction, TrainingRecord
from memory.store import Memory
from retrain.gate import agreement

EVAL_PERCENT = 10  # by record hash: a record is in eval forever, whatever else arrives
# ... and while the user's records are few, more of them (the next by hash), so the gate decides on
# EVAL_MIN answers, not on one or two: 25 corrections held out 2 and the gate judged on noise. A
# promoted adapter then learns those too (Dataset.everything, retrain.worker).
EVAL_MIN = 8
# A retrain continues the active adapter when it was trained on the same base: the format is kept,
# and a starter replay as large as the user's own records guards against forgetting it. From the
# bare base (the first adapter on another base model) the format must be learned again, so the
# replay is large. The user's records are seen USER_WEIGHT times so a few corrections count.
REPLAY_FROM_BASE = 600  # a seeded sample of the starter set's training part (2,945 records)
REPLAY_MIN = 24  # continuing: at least this many starter records, however few the user's
USER_WEIGHT = 2
PROBE_SIZE = 24  # fixed starter records the gate checks for regressions
# The shipped starter adapter trained on all starter records but a tenth held out by record hash:
# the probe comes from that tenth and replay from the rest, so no adapter is judged on records it
# (or the starter it is compared with) learned by heart.
HELD_OUT_EVERY = 10
STARTER = Path(__file__).resolve().parent.parent / "agent" / "packs" / "cat_care" / "starter.json"


@dataclass(frozen=True)
class Record:
    instruction: str
    input: str
    output: str
    source: str = ""
    interaction_id: int | None = None

    @property
    def key(self) -> str:
        """What the record is about (question + context): two answers to it are duplicates."""
        return hashlib.sha256(f"{self.instruction}\x1f{self.input}".encode()).hexdigest()

    def alpaca(self) -> dict:
        return {"instruction": self.instruction, "input": self.input, "output": self.output}

    @classmethod
    def of(cls, row: dict, source: str = "") -> "Record":
        """From an Alpaca record (a dict with instruction, input, output)."""
        return cls(row["instruction"], row.get("input") or "", row["output"], row.get("source", source))


@dataclass
class Dataset:
    train: list[Record]  # user records in the train split + the starter replay slice
    eval: list[Record]  # user records in the held-out split: never trained on
    probe: list[Record]  # fixed starter records: the gate's regression check
    invented: list[Record] = field(default_factory=list)  # rated-up answers left out: dates not in their notes

    @property
    def digest(self) -> str:
        blob = json.dumps([[r.alpaca() for r in part] for part in (self.train, self.eval)], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def user(self) -> list[Record]:
        """The user's own records, each once (training repeats them), starter replay left out."""
        unique = {r.key: r for r in self.train + self.eval if r.source != "starter"}
        return list(unique.values())

    @property
    def user_records(self) -> int:
        return len(self.user)

    def everything(self) -> "Dataset":
        """The held-out answers trained too (weighted like the others), once the gate has judged."""
        return Dataset(train=self.train + self.eval * USER_WEIGHT, eval=[], probe=self.probe,
                       invented=self.invented)

    def manifest(self) -> dict:
        return {"digest": self.digest, "train": len(self.train), "eval": len(self.eval),
                "probe": len(self.probe), "user_records": self.user_records,
                "replay": sum(1 for r in self.train if r.source == "starter"),
                "against_notes": len(agreement(self.user).against), "invented_dates": len(self.invented),
                "eval_percent": EVAL_PERCENT}


def from_feedback(mem: Memory) -> list[Record]:
    """One record per rated interaction: its latest correction, else its latest rating if up."""
    with mem.session() as s:
        interactions = {i.id: i for i in s.exec(select(Interaction))}
        verdicts: dict[int, list[Feedback]] = {}
        for fb in s.exec(select(Feedback).order_by(Feedback.created_at, Feedback.id)):
            verdicts.setdefault(fb.interaction_id, []).append(fb)
    records = []
    for iid, feedback in verdicts.items():
        it = interactions[iid]
        corrections = [f.correction for f in feedback if f.correction]
        ratings = [f.rating for f in feedback if f.rating]
        if corrections:
            output, source = corrections[-1], "correction"
        elif ratings and ratings[-1] > 0:
            output, source = it.model_answer or it.answer, "approved"
        else:
            continue
        records.append(Record(it.question, it.history_block, output.strip(), source, iid))
    return records


def from_imports(mem: Memory) -> list[Record]:
    with mem.session() as s:
        rows = s.exec(select(TrainingRecord).order_by(TrainingRecord.id)).all()
    return [Record(r.instruction, r.input, r.output, r.source or "import") for r in rows]


def approved(mem: Memory) -> list[Record]:
    """All approved records, de-duplicated on question + context (the newest answer wins)."""
    latest: dict[str, Record] = {}
    for record in from_imports(mem) + from_feedback(mem):
        latest[record.key] = record
    return list(latest.values())


def in_eval(record: Record) -> bool:
    return int(record.key[:8], 16) % 100 < EVAL_PERCENT


def starter_held_out(record: dict) -> bool:
    """True for the starter records the shipped starter adapter never trained on."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % HELD_OUT_EVERY == 0


def load_starter(path: Path = STARTER) -> list[Record]:
    rows = json.loads(Path(path).read_text(encoding="utf-8"))
    return [Record(r["instruction"], r.get("input", ""), r["output"], "starter") for r in rows]


def invents_dates(record: Record) -> bool:
    """A rated-up model answer with a date that is not in the notes it was given."""
    return record.source == "approved" and bool(unsupported_dates(record.output, record.input))


def build(mem: Memory, starter: list[Record] | None = None, seed: int = 0, continuing: bool = True,
          replay_ratio: float = 1.0) -> Dataset:
    """What the next retrain trains and evaluates on: deterministic for the same data.
    `continuing`: training goes on from the active adapter (else from the bare base), with
    `replay_ratio` starter records per user record."""
    records = approved(mem)
    invented = [r for r in records if invents_dates(r)]
    records = [r for r in records if r not in invented]
    held = [r for r in records if in_eval(r)]
    wanted = min(EVAL_MIN, len(records) // 3)
    if len(held) < wanted:
        held += sorted((r for r in records if not in_eval(r)), key=lambda r: r.key)[:wanted - len(held)]
    if records and not held:  # one or two records: still something to judge the candidate on
        held = [records[-1]]
    out = {r.key for r in held}
    train = [r for r in records if r.key not in out]
    starter = load_starter() if starter is None else starter
    unseen = [r for r in starter if starter_held_out(r.alpaca())]
    probe = sorted(unseen, key=lambda r: r.key)[:PROBE_SIZE]
    pool = sorted((r for r in starter if not starter_held_out(r.alpaca())), key=lambda r: r.key)
    size = max(REPLAY_MIN, round(replay_ratio * len(train))) if continuing else REPLAY_FROM_BASE
    replay = random.Random(seed).sample(pool, min(len(pool), size)) if train else []
    return Dataset(train=train * USER_WEIGHT + replay, eval=held, probe=probe, invented=invented)


def write_snapshot(dataset: Dataset, folder: Path) -> Path:
    """train.json / eval.json / probe.json (Alpaca lists) + manifest.json, written atomically."""
    tmp = temp_dir_for(folder)
    try:
        for name in ("train", "eval", "probe"):
            rows = [r.alpaca() | {"source": r.source} for r in getattr(dataset, name)]
            (tmp / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(dataset.manifest(), indent=2), encoding="utf-8")
        publish_dir(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
