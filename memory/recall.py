"""Recall: which of the user's notes answer a question.

Hybrid: MiniLM vector similarity (Chroma) fused with FTS5 keyword evidence (porter stemming),
scoped to the subject asked about plus household notes, filtered by the question's time words,
ordered newest-first when it asks for "the latest". A note is read with its neighbours (the notes
written just before and after it, the same day): a reply like "Yes, last year!" is found through
the question it answers. Every hit carries an absolute relevance score in [0, 1]; below
`RELEVANT` a hit is kept for ranking but does not count as a record.
"""
from __future__ import annotations

import re
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import bindparam, text

from memory import keywords, timewords
from memory.dates import from_sql, iso, now as utcnow
from memory.db import postgres
from memory.errors import MemoloopError
from memory.index import HOUSEHOLD_ID
from memory.models import LIVE
from memory.names import mask_names, names_in, short_form, used_short_form
from memory.keywords import Concept, concepts  # noqa: F401  (concepts: public, tests use it)
from memory.store import Memory

MAX_QUESTION_CHARS = 1000
RELEVANT = 0.42  # calibrated on the cat journal in tests/data (bench/recall_cat.py)
W_VECTOR, W_KEYWORD = 0.65, 0.35
CANDIDATES = 50
ANCHOR_CANDIDATES = 10  # "the move" needs only its best note
OVERSAMPLE = 4  # unfiltered nearest notes fetched per candidate wanted, before scope and time filters
FEW = 500  # a scope or window with at most this many notes is searched exactly, note by note
WIDE = 50  # the second, wider unfiltered query
NEIGHBOUR = 0.3  # weight of each neighbour's embedding in a note's context vector
NEIGHBOUR_HOURS = 6  # notes further apart than this are not read together
NEIGHBOUR_KEYWORD = 0.5  # a note gets this share of a neighbour's keyword coverage
HOUSEHOLD_FACTOR = 0.85  # a question about one pet prefers that pet's notes to the household's
MENTIONS = 20  # notes about other pets that name the pet asked about, taken as candidates
MENTION_FACTOR = 0.7  # ... and what they weigh: less than the household's (LoCoMo: speakers name each other)
RESCUE = 0.12  # a hit with the question's most telling word may score this far under the threshold
HISTORY_RESCUE = 0.28  # ... this far when it asks about the whole history ("how many?", "the first time")
COUNT = re.compile(r"\bhow (?:many|often)\b|\bnumber of\b", re.I)
EPISODE_DAYS = 14  # "what helped last time?" reads on: the notes about that pet in the days after the match
EPISODE_NOTES = 2
WH = re.compile(r"\s*(?:what|which|who|whom|how much|how many)\b", re.I)
# A question about the outcome of a past episode: the answer is in the notes after the one that matches.
OUTCOME = re.compile(r"\bwhat\b[^?.,]{0,30}\b(?:happen\w*|help\w*|work\w*|give|gave|prescrib\w*|do)\b", re.I)


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
    vector: float = 0.0  # the two pieces of evidence `score` fuses, kept for benches and tuning
    keyword: float = 0.0
    key: bool = True  # it (or a neighbour) has the question's most telling word
    specific: bool = True  # it has every specific term the question names ("FeLV", "X-ray")

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


@dataclass
class Query:
    """The question, read once: what every candidate source (keywords, vectors, neighbours) uses."""
    question: str  # as asked
    text: str  # what is searched: the question without its time words and pets' names
    scope: list[int] | None  # subject ids (HOUSEHOLD_ID for household notes); None: every note
    time: timewords.TimeFilter
    subjects: dict[int, str]  # every subject id -> name
    vocabulary: dict[str, list[str]] | None = None
    named: list[Concept] = field(default_factory=list)  # specific terms a note must contain to count
    called: list[str] = field(default_factory=list)  # what the question calls the pets ("clem")
    _vector: object = None  # the embedding of `text`, or a Future of it: computed while SQL runs

    @property
    def vector(self) -> np.ndarray:
        if isinstance(self._vector, Future):
            self._vector = self._vector.result()
        return self._vector


def read_question(mem: Memory, question: str, subject: str | None, now: datetime,
                  vocabulary=None, specific: tuple = ()) -> Query:
    subjects = _subjects(mem)
    known = _short_forms(mem, subjects, question)
    tf = timewords.parse(question, now)
    text_ = re.sub(r"\s+", " ", mask_names(tf.rest, list(subjects.values()), " ", nicknames=True,
                                           known=known)).strip() or tf.rest
    named = [Concept(alts, prefix=True) for alts in map(_alternatives, specific)
             if any(re.search(rf"\b{re.escape(t)}", question, re.I) for t in alts)]
    called = [m.group(1) for name in subjects.values()
              if (m := names_in(question, name, subjects.values(), known.get(name, ())))]
    embedding = mem.index.embed_soon([text_] + ([tf.anchor[1]] if tf.anchor else []))
    query = Query(question, text_, _scope(mem, question, subject, subjects, known), tf, subjects, vocabulary,
                  named, called, _first(embedding))
    if tf.anchor:
        anchor = Query(tf.anchor[1], tf.anchor[1], _scope(mem, tf.anchor[1], subject, subjects, known),
                       timewords.TimeFilter(), subjects, vocabulary, _vector=_second(embedding))
        _resolve_anchor(mem, query, anchor)
    return query


def recall(mem: Memory, question: str, *, subject: str | None = None, k: int = 5,
           now: datetime | None = None, threshold: float = RELEVANT,
           vocabulary: dict[str, list[str]] | None = None, specific: tuple = ()) -> Recall:
    """The `k` best notes for `question`, relevant ones first, each with a score: read the question
    once, gather candidates from every source, fuse and rank."""
    question = clean_question(question)
    if k < 1:
        raise MemoloopError(f"-k {k} is not valid; ask for at least 1 note")
    query = read_question(mem, question, subject, now or utcnow(), vocabulary, specific)
    tf, n = query.time, max(k, CANDIDATES)
    ranked = rank(_search(mem, query, n), tf, threshold, n, question)
    if (tf.start, tf.end) != tf.unanchored and WH.match(question) and not any(h.relevant for h in ranked):
        # "what did the vet give him for the abscess after the fight?": the anchor only describes the
        # thing asked about, and was itself recalled (which fight?). Nothing in its window is no
        # reason to say "no record"; the question is asked again without it. A yes/no question
        # ("was she sneezing after the move?") keeps its window: there, nothing is the answer.
        tf.start, tf.end = tf.unanchored
        ranked = rank(_search(mem, query, n), tf, threshold, n, question)
    scope_names = None if query.scope is None else [query.subjects[i] for i in query.scope if i != HOUSEHOLD_ID]
    if OUTCOME.search(question) and timewords.HISTORY.search(question):
        ranked = _read_on(mem, ranked, query.subjects)
    return Recall(question, ranked[:k], scope_names, tf)


def _first(embedding: Future) -> Future:
    return _then(embedding, lambda vectors: vectors[0])


def _second(embedding: Future) -> Future:
    return _then(embedding, lambda vectors: vectors[1])


def _then(future: Future, pick) -> Future:
    out = Future()
    future.add_done_callback(lambda f: out.set_exception(f.exception()) if f.exception() else out.set_result(pick(f.result())))
    return out


def fuse(vector: float, keyword: float, *, household: bool = False, mention: bool = False, weights=None) -> float:
    """The absolute relevance score: cosine of the note in context plus keyword coverage.

    `household`: a household note answering a question about a pet (it weighs HOUSEHOLD_FACTOR);
    `mention`: another pet's note that names the pet asked about (MENTION_FACTOR).
    """
    w_vector, w_keyword = weights or (W_VECTOR, W_KEYWORD)
    score = w_vector * max(vector, 0.0) + w_keyword * keyword
    return score * (HOUSEHOLD_FACTOR if household else MENTION_FACTOR if mention else 1.0)


def rank(hits: list[Hit], tf: timewords.TimeFilter, threshold: float, k: int, question: str = "") -> list[Hit]:
    """Mark the relevant hits, put them first (newest first for "the latest"), keep `k`.

    A hit counts when it names the specific things asked about ("FeLV", not any vaccine) and
    scores over the threshold, or within RESCUE under it if it has one of the question's telling
    concepts (keywords.key_concepts): a note that mentions the thing in passing scores low on the
    whole but has the word. A question that counts ("how many ...?") or asks for the first time
    needs every such note, however terse: HISTORY_RESCUE under it.
    """
    whole_history = COUNT.search(question) or tf.order == "earliest"
    rescue = HISTORY_RESCUE if whole_history else RESCUE
    for h in hits:
        h.relevant = h.specific and (h.score >= threshold or (h.key and h.score >= threshold - rescue))
    # hits over the threshold keep their place ahead of those that count by their telling word alone
    hits.sort(key=lambda h: (h.relevant, h.relevant and h.score >= threshold, _order_key(h, tf)), reverse=True)
    return hits[:k]


def _order_key(hit: Hit, tf: timewords.TimeFilter):
    if tf.order == "latest" and hit.relevant:
        return hit.at.timestamp()
    if tf.order == "earliest" and hit.relevant:
        return -hit.at.timestamp()
    return hit.score


def _subjects(mem: Memory) -> dict[int, str]:
    """Subject id -> name."""
    with mem.engine.connect() as conn:
        return dict(conn.execute(text("SELECT id, name FROM subject")).all())


def _scope(mem, question, subject, subjects, known=None) -> list[int] | None:
    """The subject given, else the subjects named in the question; household notes always count."""
    if subject:
        from memory.journal import find_subject

        with mem.session() as s:
            return [find_subject(s, subject).id, HOUSEHOLD_ID]
    named = [sid for sid, name in subjects.items()
             if _called(question, name, subjects.values(), (known or {}).get(name, ()))]
    return named + [HOUSEHOLD_ID] if named else None


def _called(question: str, name: str, names, known=()) -> bool:
    """The question names the pet, by name or by a short form of it no other pet shares ("clem"
    for Clementine; at least four letters, and not a word like "bell" for Bella unless used so;
    three letters when the notes call the pet so, `known`)."""
    return names_in(question, name, names, known) is not None


def _short_forms(mem, subjects: dict[int, str], question: str) -> dict[str, tuple[str, ...]]:
    """Pet name -> the three-letter short form the owner's notes call it by ("giz" for Gizmo), for
    the short forms the question uses (one count per such word, only then)."""
    names, words = list(subjects.values()), set(re.findall(r"[a-z]+", question.lower()))
    asked = {sid: form for sid, name in subjects.items()
             if (form := short_form(name, names)) and (form in words or form + "s" in words)}
    if not asked:
        return {}
    known = {}
    with mem.engine.connect() as conn:
        for sid, form in asked.items():
            counts = keywords.notes_per_subject(conn, form)
            if used_short_form(counts.get(sid, 0), [n for s, n in counts.items() if s not in (sid, None)]):
                known[subjects[sid]] = (form,)
    return known


def _resolve_anchor(mem, query: Query, anchor: Query) -> None:
    """'before the move': the day of the move (the best note about it) bounds the window.

    The whole day counts on both sides: notes written the same day may come before or after it.
    """
    tf = query.time
    best = rank(_search(mem, anchor, ANCHOR_CANDIDATES), anchor.time, RELEVANT, 1)
    if not best or not best[0].relevant:
        return
    relation = tf.anchor[0]
    start, end = timewords.day_bounds(best[0].at)
    if relation == "before":
        tf.end = end
    else:
        tf.start = start


def _alternatives(term: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """A specific term, or a group of words for one thing ("thyroid", "T4", "hyperthyroid")."""
    return (term,) if isinstance(term, str) else tuple(term)


def _search(mem, query: Query, n: int) -> list[Hit]:
    """The candidates of every source (keyword, vector; each read with its neighbours), scored.
    The keyword search runs while the question's embedding is still being computed."""
    scope, tf, subjects, named = query.scope, query.time, query.subjects, query.named
    with mem.engine.connect() as conn:
        asked = keywords.weigh(conn, concepts(query.text, query.vocabulary))
        by_keyword = keywords.candidates(conn, asked, scope, tf.start, tf.end, n)
        if scope is not None:  # another pet's notes that name this one count too, as household ones do
            names = [subjects[i] for i in scope if i in subjects]
            by_keyword += keywords.mentions(conn, asked, names + [w for w in query.called if w not in names],
                                            scope, tf.start, tf.end, MENTIONS)
        vector = query.vector
        ids = _unique(_vector_candidates(mem, conn, query, n) + by_keyword)
        near = _neighbours(conn, ids)
        rows = _rows(conn, _unique(ids + _flat(near.values())))
        notes = {i: (r.kind, r.text) for i, r in rows.items()}
        found = keywords.matching(conn, asked.concepts + list(named), notes)
        coverage = keywords.coverage(asked, notes, found)
    key = keywords.key_concepts(asked, query.text)
    needed = set(range(len(asked.concepts), len(asked.concepts) + len(named)))
    stored = mem.index.vectors(_by_subject((i, r.subject_id) for i, r in rows.items()))
    hits = []
    for oid in ids:
        if oid not in rows or oid not in stored:
            continue  # deleted, or not indexed yet: SQL decides, the next repair catches up
        row, around = rows[oid], [j for j in near.get(oid, []) if j in stored]
        cos = _cosine_in_context(vector, stored[oid], [stored[j] for j in around])
        kw = max([coverage.get(oid, 0.0)] + [NEIGHBOUR_KEYWORD * coverage.get(j, 0.0) for j in around])
        elsewhere = scope is not None and row.subject_id not in scope
        score = fuse(cos, kw, household=elsewhere and row.subject_id is None,
                     mention=elsewhere and row.subject_id is not None)
        name = subjects.get(row.subject_id, "household")
        words = found.get(oid, set()).union(*(found.get(j, set()) for j in around))
        hits.append(Hit(oid, name, row.subject_id, row.happened_at, row.kind, row.text, score, vector=cos,
                        keyword=kw, key=not key or bool(key & words) or bool(needed and needed <= words),
                        specific=needed <= found.get(oid, set())))
    return hits


def _read_on(mem, hits: list[Hit], subjects) -> list[Hit]:
    """The episode of the best relevant hit: the next EPISODE_NOTES notes about the same pet within
    EPISODE_DAYS ("a hot lump on his tail" -> two days later "the vet lanced the abscess") count
    too, right after it."""
    relevant = [h for h in hits if h.relevant and h.subject_id is not None]
    if not relevant:
        return hits
    best = max(relevant, key=lambda h: h.score)
    sql = text(f"""SELECT o.id FROM observation o WHERE {LIVE} AND o.subject_id = :sid
                   AND o.happened_at > :at AND o.happened_at <= :until
                   ORDER BY o.happened_at, o.id LIMIT {EPISODE_NOTES}""")
    params = {"sid": best.subject_id, "at": keywords.sql_time(best.at),
              "until": keywords.sql_time(best.at + timedelta(days=EPISODE_DAYS))}
    with mem.engine.connect() as conn:
        after = [r[0] for r in conn.execute(sql, params)]
        rows = _rows(conn, after)
    known = {h.id: h for h in hits}
    follow = [known.get(i) or Hit(i, subjects.get(rows[i].subject_id, "household"), rows[i].subject_id,
                                  rows[i].happened_at, rows[i].kind, rows[i].text, best.score)
              for i in after if i in rows]
    for h in follow:
        h.relevant = True
    rest = [h for h in hits if h not in follow]
    at = rest.index(best) + 1
    return rest[:at] + follow + rest[at:]


def _vector_candidates(mem, conn, query: Query, n: int) -> list[int]:
    """The `n` nearest notes in scope and in the time window, nearest first.

    The scope picks the subjects' collections. Chroma's metadata filter is slow (200 ms at 100k
    notes), so a window with few notes (FEW) is searched note by note, and a wider one by
    filtering in SQL the nearest OVERSAMPLE x n, then WIDE x n, notes; Chroma's own filter is
    the last resort.
    """
    vector, scope, tf = query.vector, query.scope, query.time
    if tf.start is None and tf.end is None:
        return list(mem.index.query(vector, n, scope))
    where, params = keywords.filters(scope, tf.start, tf.end)
    params["cap"] = FEW + 1
    allowed = keywords.execute(conn, f"SELECT o.id, o.subject_id FROM observation o WHERE {where} LIMIT :cap", params)
    if len(allowed) <= FEW:
        stored = mem.index.vectors(_by_subject(allowed))
        return sorted(stored, key=lambda i: -float(stored[i] @ vector))[:n]
    for factor in (OVERSAMPLE, WIDE):
        nearest = list(mem.index.query(vector, factor * n, scope))
        found = _keep_in_scope(conn, nearest, scope, tf)
        if len(found) >= n or len(nearest) < factor * n:
            return found[:n]
    return list(mem.index.query(vector, n, scope, _ts(tf.start), _ts(tf.end)))


def _keep_in_scope(conn, ids: list[int], scope, tf) -> list[int]:
    kept = set(_in_scope(conn, ids, scope, tf))
    return [i for i in ids if i in kept]


def _by_subject(pairs) -> dict[int, list[int]]:
    """(note id, subject id) pairs -> ids by subject (0 = household), the way the index keeps them."""
    groups: dict[int, list[int]] = {}
    for oid, subject_id in pairs:
        groups.setdefault(subject_id or HOUSEHOLD_ID, []).append(oid)
    return groups


def _unique(ids: list[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def _flat(groups) -> list[int]:
    return [i for group in groups for i in group]


def _cosine_in_context(query: np.ndarray, own: np.ndarray, around: list[np.ndarray]) -> float:
    """Cosine between the question and the note's embedding plus NEIGHBOUR x its neighbours'."""
    v = own + NEIGHBOUR * sum(around, np.zeros_like(own))
    return float(v @ query / (np.linalg.norm(v) or 1.0))


def _ts(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def _neighbours(conn, ids: list[int]) -> dict[int, list[int]]:
    """Each note's live neighbours: the notes just before and after it, within NEIGHBOUR_HOURS."""
    if not ids:
        return {}
    live = LIVE
    if postgres(conn):
        before, after = (f"c.happened_at {sign} interval '{NEIGHBOUR_HOURS} hours'" for sign in "-+")
    else:
        before, after = (f"datetime(c.happened_at, '{sign}{NEIGHBOUR_HOURS} hours')" for sign in "-+")
    sql = text(f"""
        SELECT c.id,
          (SELECT o.id FROM observation o WHERE {live}
             AND o.happened_at BETWEEN {before} AND c.happened_at
             AND (o.happened_at < c.happened_at OR (o.happened_at = c.happened_at AND o.id < c.id))
           ORDER BY o.happened_at DESC, o.id DESC LIMIT 1),
          (SELECT o.id FROM observation o WHERE {live}
             AND o.happened_at BETWEEN c.happened_at AND {after}
             AND (o.happened_at > c.happened_at OR (o.happened_at = c.happened_at AND o.id > c.id))
           ORDER BY o.happened_at, o.id LIMIT 1)
        FROM observation c WHERE c.id IN :ids""").bindparams(bindparam("ids", expanding=True))
    return {r[0]: [j for j in r[1:] if j is not None] for r in conn.execute(sql, {"ids": ids})}


def _in_scope(conn, ids: list[int], scope, tf) -> list[int]:
    """The ids among `ids` that are live, in scope and in the time window."""
    if not ids:
        return []
    where, params = keywords.filters(scope, tf.start, tf.end)
    params["ids"] = ids
    return [r[0] for r in keywords.execute(conn, f"SELECT o.id FROM observation o WHERE o.id IN :ids AND {where}",
                                        params)]


def _rows(conn, ids: list[int]) -> dict:
    """id -> (subject_id, happened_at, kind, text) of the live notes among `ids`."""
    if not ids:
        return {}
    sql = text(f"SELECT o.id, o.subject_id, o.happened_at, o.kind, o.text FROM observation o "
               f"WHERE o.id IN :ids AND {LIVE}").bindparams(bindparam("ids", expanding=True))
    return {r.id: _Row(r.subject_id, from_sql(r.happened_at), r.kind, r.text)
            for r in conn.execute(sql, {"ids": ids})}


@dataclass
class _Row:
    subject_id: int | None
    happened_at: datetime
    kind: str
    text: str
