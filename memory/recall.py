"""Recall: which of the user's notes answer a question.

Hybrid: MiniLM vector similarity (Chroma) fused with FTS5 keyword evidence (porter stemming),
scoped to the subject asked about plus household notes, filtered by the question's time words,
ordered newest-first when it asks for "the latest". Every hit carries an absolute relevance
score in [0, 1]; below `RELEVANT` a hit is kept for ranking but does not count as a record.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import bindparam, text
from sqlmodel import select

from memory import timewords
from memory.dates import iso, now as utcnow
from memory.errors import MemoloopError
from memory.index import HOUSEHOLD
from memory.models import Observation, Subject
from memory.store import Memory

MAX_QUESTION_CHARS = 1000
RELEVANT = 0.42  # calibrated on the cat journal in tests/data (bench/recall_cat.py)
W_VECTOR, W_KEYWORD = 0.6, 0.4
CANDIDATES = 50

STOPWORDS = frozenset("""
a about above after again all am an and any anything are as at be been before being below between
both but by can could did do does doing done during each else ever few for from had has have having
he her here hers herself him himself his how i if in into is it its itself just like many me more
most much my myself no nor not now of off on once only or other our ours out over own same she
should so some something than that the their them then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
yours yourself again also been happened happen happening get got getting any anyone tell know
""".split())


@dataclass
class Hit:
    id: int
    subject: str
    subject_id: int | None
    at: datetime
    kind: str
    text: str
    score: float
    relevant: bool = False

    def to_json(self) -> dict:
        return {"id": self.id, "subject": self.subject, "at": iso(self.at), "kind": self.kind,
                "text": self.text, "score": round(self.score, 4)}


@dataclass
class Recall:
    question: str
    hits: list[Hit]
    scope: list[str] | None = None  # subject names, None = everything
    time: timewords.TimeFilter = field(default_factory=timewords.TimeFilter)

    @property
    def relevant(self) -> list[Hit]:
        return [h for h in self.hits if h.relevant]

    @property
    def no_record(self) -> bool:
        return not self.relevant


def clean_question(question: str | None) -> str:
    q = (question or "").strip()
    if not q:
        raise MemoloopError("the question is empty; ask something, e.g. 'Has Mochi sneezed before?'")
    if len(q) > MAX_QUESTION_CHARS:
        raise MemoloopError(f"the question is {len(q)} characters; the limit is {MAX_QUESTION_CHARS}")
    return q


def recall(mem: Memory, question: str, *, subject: str | None = None, k: int = 5,
           now: datetime | None = None, threshold: float = RELEVANT,
           vocabulary: dict[str, list[str]] | None = None) -> Recall:
    """The `k` best notes for `question`, relevant ones first, each with a score."""
    question = clean_question(question)
    if k < 1:
        raise MemoloopError(f"-k {k} is not valid; ask for at least 1 note")
    now = now or utcnow()
    subjects = _subjects(mem)
    scope = _scope(mem, question, subject, subjects)
    tf = timewords.parse(question, now)
    if tf.anchor:
        _resolve_anchor(mem, tf, subject, now, vocabulary)
    names = [s.name for s in subjects.values()]
    query = _strip_names(tf.rest, names) or tf.rest
    hits = _search(mem, query, scope, tf, subjects, max(k, CANDIDATES), vocabulary)
    for h in hits:
        h.relevant = h.score >= threshold
    hits.sort(key=lambda h: (h.relevant, _order_key(h, tf)), reverse=True)
    scope_names = None if scope is None else [subjects[i].name for i in scope if i != HOUSEHOLD]
    return Recall(question, hits[:k], scope_names, tf)


def _order_key(hit: Hit, tf: timewords.TimeFilter):
    if tf.order == "latest" and hit.relevant:
        return hit.at.timestamp()
    if tf.order == "earliest" and hit.relevant:
        return -hit.at.timestamp()
    return hit.score


def _subjects(mem: Memory) -> dict[int, Subject]:
    with mem.session() as s:
        return {x.id: x for x in s.exec(select(Subject))}


def _scope(mem, question, subject, subjects) -> list[int] | None:
    """The subject given, else the subjects named in the question; household notes always count."""
    if subject:
        from memory.journal import find_subject

        with mem.session() as s:
            return [find_subject(s, subject).id, HOUSEHOLD]
    named = [sid for sid, s in subjects.items()
             if re.search(rf"\b{re.escape(s.name)}\b", question, flags=re.I)]
    return named + [HOUSEHOLD] if named else None


def _strip_names(question: str, names: list[str]) -> str:
    for name in names:
        question = re.sub(rf"\b{re.escape(name)}(?:'s)?\b", " ", question, flags=re.I)
    return re.sub(r"\s+", " ", question).strip()


def _resolve_anchor(mem, tf, subject, now, vocabulary) -> None:
    """'before the move': the move's date (the best note about it) bounds the window."""
    relation, phrase = tf.anchor
    found = recall(mem, phrase, subject=subject, k=1, now=now, vocabulary=vocabulary)
    if not found.relevant:
        return
    when = found.relevant[0].at
    if relation == "before":
        tf.end = when
    else:
        tf.start = when


def terms(question: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", question.lower())
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and len(w) > 1))


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about: any of `words` in a note, or a note of `kind`."""

    words: tuple[str, ...]
    kind: str | None = None
    prefix: bool = False  # vocabulary words are stems: "vaccin" matches "vaccination"

    @property
    def fts(self) -> str:
        star = "*" if self.prefix else ""
        return " OR ".join('"' + w.replace('"', "") + '"' + star for w in self.words)


def concepts(question: str, vocabulary: dict[str, list[str]] | None) -> list[Concept]:
    """The question's concepts: vocabulary groups it mentions (e.g. 'threw up' -> vomit), then words.

    A group's key that is also a kind (vaccine, vet_visit...) lets notes of that kind match.
    """
    rest, found = question.lower(), []
    for key, words in (vocabulary or {}).items():
        words = tuple(w.strip().lower() for w in words if w.strip())
        if not words:
            continue
        pattern = r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\w*"
        if re.search(pattern, rest):
            found.append(Concept(words, key, prefix=True))
            rest = re.sub(pattern, " ", rest)
    return found + [Concept((w,)) for w in terms(rest)]


def _search(mem, query, scope, tf, subjects, n, vocabulary) -> list[Hit]:
    vector = mem.index.embed([query])[0]
    sims = mem.index.query(vector, n, scope, _ts(tf.start), _ts(tf.end))
    asked = concepts(query, vocabulary)
    with mem.engine.connect() as conn:
        keyword_ids = _keyword_candidates(conn, asked, scope, tf, n)
        missing = [i for i in keyword_ids if i not in sims]
        sims.update(mem.index.similarities(vector, missing))
        rows = _observations(mem, list(sims))
        coverage = _coverage(conn, asked, rows)
    hits = []
    for oid, cos in sims.items():
        row = rows.get(oid)
        if row is None or not row.live:
            continue  # the index lags SQL by at most one repair; SQL decides
        score = W_VECTOR * max(cos, 0.0) + W_KEYWORD * coverage.get(oid, 0.0)
        name = subjects[row.subject_id].name if row.subject_id in subjects else "household"
        hits.append(Hit(oid, name, row.subject_id, row.happened_at, row.kind, row.text, score))
    return hits


def _ts(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def _sql_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _keyword_candidates(conn, asked: list[Concept], scope, tf, n) -> list[int]:
    """Notes that share a word with the question, or whose kind it asks about (best BM25 first)."""
    if not asked:
        return []
    where = ["o.deleted_at IS NULL AND o.superseded_by_id IS NULL"]
    params: dict = {"n": n}
    if scope is not None:
        where.append("(o.subject_id IN :scope OR o.subject_id IS NULL)")
        params["scope"] = [i for i in scope if i != HOUSEHOLD] or [-1]
    if tf.start:
        where.append("o.happened_at >= :start")
        params["start"] = _sql_time(tf.start)
    if tf.end:
        where.append("o.happened_at < :end")
        params["end"] = _sql_time(tf.end)
    filters = " AND ".join(where)
    queries = [f"SELECT o.id FROM observation_fts JOIN observation o ON o.id = observation_fts.rowid "
               f"WHERE observation_fts MATCH :q AND {filters} ORDER BY bm25(observation_fts) LIMIT :n"]
    params["q"] = " OR ".join(c.fts for c in asked)
    kinds = [c.kind for c in asked if c.kind]
    if kinds:
        queries.append(f"SELECT o.id FROM observation o WHERE o.kind IN :kinds AND {filters} "
                       f"ORDER BY o.happened_at DESC LIMIT :n")
        params["kinds"] = kinds
    ids: list[int] = []
    for sql in queries:
        stmt = text(sql)
        for name in ("scope", "kinds"):
            if name in params and f":{name}" in sql:
                stmt = stmt.bindparams(bindparam(name, expanding=True))
        ids += [r[0] for r in conn.execute(stmt, {k: v for k, v in params.items() if f":{k}" in sql})]
    return list(dict.fromkeys(ids))


def _coverage(conn, asked: list[Concept], rows: dict[int, Observation]) -> dict[int, float]:
    """IDF-weighted share of the question's concepts a note contains (words stemmed by FTS5)."""
    ids = list(rows)
    if not asked or not ids:
        return {}
    total = conn.execute(text("SELECT count(*) FROM observation")).scalar_one() or 1
    weights, matched = [], []
    in_ids = text("SELECT rowid FROM observation_fts WHERE observation_fts MATCH :q AND rowid IN :ids")
    in_ids = in_ids.bindparams(bindparam("ids", expanding=True))
    for c in asked:
        df = conn.execute(text("SELECT count(*) FROM observation_fts WHERE observation_fts MATCH :q"),
                          {"q": c.fts}).scalar_one()
        weights.append(math.log(1 + (total - df + 0.5) / (df + 0.5)))
        hit = {r[0] for r in conn.execute(in_ids, {"q": c.fts, "ids": ids})}
        matched.append(hit | {i for i, row in rows.items() if c.kind and row.kind == c.kind})
    norm = sum(weights) or 1.0
    return {i: sum(w for w, m in zip(weights, matched) if i in m) / norm for i in ids}


def _observations(mem, ids) -> dict[int, Observation]:
    with mem.session() as s:
        return {o.id: o for o in s.exec(select(Observation).where(Observation.id.in_(ids)))} if ids else {}
