"""Recall@5/@10 on LoCoMo per question category: plain vector, BM25, 1:1 RRF and our recall.

Each conversation becomes a data home: one observation per turn (subject = the speaker,
`happened_at` = the session date plus the turn's position in seconds), imported through
`memory.transfer.import_file`. Questions of categories 1-4 are asked; category 5 (adversarial)
and the items in locomo_audit_errors.json are skipped. recall@k is the share of a question's
evidence turns found in the first k, averaged over questions.

    .venv/bin/python -m bench.recall_locomo              # all 10 conversations (~5 min)
    .venv/bin/python -m bench.recall_locomo --limit 2    # the first two, for a quick look
    .venv/bin/python -m bench.recall_locomo --server     # on PostgreSQL and a Chroma server
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from bench.common import SHARED, table, temp_memory, write_jsonl

DATA = SHARED / "data" / "locomo"
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
TARGET = 0.75  # our recall@10 over categories 1-4
METHODS = ("vector", "bm25", "rrf", "ours")


@dataclass
class Question:
    qid: str
    text: str
    category: int
    evidence: set[str]


@dataclass
class Conversation:
    speakers: tuple[str, str]
    turns: list[dict]  # {"dia_id", "speaker", "text", "at"}
    questions: list[Question]

    @property
    def now(self) -> datetime:
        return max(t["at"] for t in self.turns) + timedelta(days=1)


def session_time(value: str) -> datetime:
    """'1:56 pm on 8 May, 2023' -> an aware datetime (the data gives no zone: UTC)."""
    return datetime.strptime(value.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=timezone.utc)


def turn_text(turn: dict) -> str:
    """What was said, by whom, and what a shared photo showed."""
    said = f"{turn['speaker']}: {turn['text']}"
    caption = turn.get("blip_caption")
    return f"{said} [shared {caption}]" if caption else said


def load(limit: int | None = None) -> list[Conversation]:
    items = json.loads((DATA / "locomo10.json").read_text())[:limit]
    audited = {e["question_id"] for e in json.loads((DATA / "locomo_audit_errors.json").read_text())}
    out = []
    for n, item in enumerate(items):
        conv = item["conversation"]
        turns = []
        for key, session in conv.items():
            if not (key.startswith("session_") and isinstance(session, list)):
                continue
            start = session_time(conv[f"{key}_date_time"])
            turns += [{"dia_id": t["dia_id"], "speaker": t["speaker"], "text": turn_text(t),
                       "at": start + timedelta(seconds=i)} for i, t in enumerate(session)]
        questions = []
        for j, qa in enumerate(item["qa"]):
            evidence = {e for raw in qa.get("evidence", []) for e in re.split(r"[;,\s]+", raw) if e}
            qid = f"locomo_{n}_qa{j}"
            if qa["category"] in CATEGORIES and evidence and qid not in audited:
                questions.append(Question(qid, qa["question"], qa["category"], evidence))
        out.append(Conversation((conv["speaker_a"], conv["speaker_b"]), turns, questions))
    return out


def build(mem, conv: Conversation, folder: Path) -> dict[int, str]:
    """Import the conversation as a journal; observation id -> dia_id."""
    from memory.transfer import import_file

    records = [{"type": "subject", "name": s, "species": "person"} for s in conv.speakers]
    records += [{"subject": t["speaker"], "at": t["at"].isoformat(), "text": t["text"]} for t in conv.turns]
    import_file(mem, write_jsonl(folder / "journal.jsonl", records))
    with mem.engine.connect() as c:
        from sqlalchemy import text

        ids = [r[0] for r in c.execute(text("SELECT id FROM observation ORDER BY id"))]
    return dict(zip(ids, (t["dia_id"] for t in conv.turns)))


class Baselines:
    """Plain MiniLM cosine over the turn texts, FTS5 BM25 alone, and their 1:1 RRF."""

    def __init__(self, mem, ids: list[int], texts: list[str]):
        self.mem, self.ids = mem, np.asarray(ids)
        self.vectors = mem.index.embed(texts)
        self.asked: dict[str, np.ndarray] = {}  # RRF asks the vector search again

    def vector(self, question: str, n: int) -> list[int]:
        if question not in self.asked:
            self.asked[question] = self.mem.index.embed([question])[0]
        sims = self.vectors @ self.asked[question]
        return [int(i) for i in self.ids[np.argsort(-sims)[:n]]]

    def bm25(self, question: str, n: int) -> list[int]:
        from sqlalchemy import text

        from memory.db import postgres

        words = re.findall(r"[a-z0-9]+", question.lower())
        if not words:
            return []
        if postgres(self.mem.engine):  # PostgreSQL's own ranking of its full-text search
            q = " | ".join(dict.fromkeys(words))
            sql = text("SELECT o.id FROM observation o, to_tsquery('english', :q) q WHERE o.search @@ q "
                       "ORDER BY ts_rank(o.search, q) DESC, o.id LIMIT :n")
        else:
            q = " OR ".join(f'"{w}"' for w in dict.fromkeys(words))
            sql = text("SELECT rowid FROM observation_fts WHERE observation_fts MATCH :q "
                       "ORDER BY bm25(observation_fts) LIMIT :n")
        with self.mem.engine.connect() as c:
            return [r[0] for r in c.execute(sql, {"q": q, "n": n})]

    def rrf(self, question: str, n: int, depth: int = 50, k: int = 60) -> list[int]:
        score: dict[int, float] = defaultdict(float)
        for ranking in (self.vector(question, depth), self.bm25(question, depth)):
            for rank, oid in enumerate(ranking):
                score[oid] += 1 / (k + rank + 1)
        return sorted(score, key=score.get, reverse=True)[:n]


def ours(mem, question: str, n: int, now: datetime) -> list[int]:
    from memory.recall import recall

    return [h.id for h in recall(mem, question, k=n, now=now).hits]


def evaluate(conversations: list[Conversation], verbose: bool = False, servers=None) -> dict:
    """{method: {category: [(recall@5, recall@10) per question]}} and seconds per method; `servers`:
    (a PostgreSQL server's URL, a Chroma server's URL), each conversation in a database of its own."""
    from memory.engines import Engines, create_database

    scores = {m: defaultdict(list) for m in METHODS}
    seconds = defaultdict(float)
    for n, conv in enumerate(conversations):
        engines = None if servers is None else \
            Engines(database_url=create_database(servers[0], f"locomo{n}_{os.getpid()}"), chroma_url=servers[1])
        with temp_memory(engines) as mem, tempfile.TemporaryDirectory() as tmp:
            dia = build(mem, conv, Path(tmp))
            base = Baselines(mem, list(dia), [t["text"] for t in conv.turns])
            rankers = {"vector": base.vector, "bm25": base.bm25, "rrf": base.rrf,
                       "ours": lambda q, k: ours(mem, q, k, conv.now)}
            for q in conv.questions:
                for method, rank in rankers.items():
                    t0 = time.perf_counter()
                    found = [dia[i] for i in rank(q.text, 10)]
                    seconds[method] += time.perf_counter() - t0
                    got = [len(q.evidence & set(found[:k])) / len(q.evidence) for k in (5, 10)]
                    scores[method][q.category].append(got)
                    if verbose and method == "ours" and got[1] < 1:
                        print(f"  miss {q.qid} [{q.category}] {q.text} want {sorted(q.evidence)} got {found}")
        print(f"conversation {n}: {len(conv.turns)} turns, {len(conv.questions)} questions", flush=True)
    return {"scores": scores, "seconds": seconds}


def report(result: dict) -> tuple[str, bool]:
    scores = result["scores"]
    header = ["category", "n"] + [f"{m}@{k}" for k in (5, 10) for m in METHODS]
    rows, ahead = [], True
    groups = [(f"{c} {name}", [c]) for c, name in CATEGORIES.items()] + [("overall 1-4", list(CATEGORIES))]
    for label, cats in groups:
        per = {m: [s for c in cats for s in scores[m][c]] for m in METHODS}
        mean = {m: np.mean(per[m], axis=0) if per[m] else (float("nan"),) * 2 for m in METHODS}
        rows.append([label, len(per["ours"])] + [float(mean[m][i]) for i in (0, 1) for m in METHODS])
        if label != "overall 1-4":
            ahead &= all(mean["ours"][1] > mean[m][1] for m in METHODS[:-1])
    overall = rows[-1][2 + len(METHODS) + METHODS.index("ours")]
    ms = {m: 1000 * result["seconds"][m] / max(1, len(rows[-1]) and rows[-1][1]) for m in METHODS}
    lines = [table(header, rows), "ms per question: " + ", ".join(f"{m} {v:.1f}" for m, v in ms.items())]
    met = overall >= TARGET and ahead
    verdict = (f"verdict: ours recall@10 {overall:.3f} vs target {TARGET} "
               f"({'met' if overall >= TARGET else 'NOT met'}); ahead of every baseline in every "
               f"category at @10: {'yes' if ahead else 'no'}")
    return "\n".join(lines + [verdict]), met


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, help="only the first N conversations")
    p.add_argument("--misses", action="store_true", help="print the questions our recall@10 misses")
    p.add_argument("--server", action="store_true",
                   help="on server mode's engines: a PostgreSQL cluster (initdb + pg_ctl) and a Chroma server "
                        "(chroma run), both started here on loopback, instead of SQLite and Chroma in each home")
    args = p.parse_args(argv)
    with contextlib.ExitStack() as stack:
        servers = None
        if args.server:
            from memory.engines import chroma_server, postgres_server

            folders = [Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mlb-", dir="/tmp")))
                       for _ in range(2)]  # short: the PostgreSQL socket's path has at most 107 bytes
            servers = (stack.enter_context(postgres_server(folders[0])),
                       stack.enter_context(chroma_server(folders[1] / "chroma")))
        text, _ = report(evaluate(load(args.limit), verbose=args.misses, servers=servers))
    print(("engines: PostgreSQL and a Chroma server\n" if args.server else "") + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
