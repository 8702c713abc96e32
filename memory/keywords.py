"""Keyword evidence for recall: the question's concepts, full-text candidates and IDF-weighted coverage.

Words are matched with stemming ("sneezing" finds "sneezed"): by FTS5 with the porter stemmer on
SQLite, by a tsvector column with English stemming on PostgreSQL; a vocabulary (from the domain
pack) groups the words people use for one thing ("threw up" = vomit).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import bindparam, text

from memory.db import postgres
from memory.index import HOUSEHOLD_ID
from memory.models import LIVE

# Function words, and the fillers questions are made of ("tell", "taking", "happened"): a word
# that is in no note weighs the most, so a filler left in would sink every note's coverage.
STOPWORDS = frozenset("""
a about above after again all also am an and any anyone anything are as at be been before being
below between both but by can could did do does doing done during each else ever few for from get
gets getting got had has have having he her here hers herself him himself his how i if in into is
it its itself just like many me more most much my myself no nor not now of off on once only or
other our ours out over own same she should so some something than that the their them then there
these they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours yourself happen happened happening happens tell know
take takes taking took use uses using used going goes went come came make made thing things kind
sort way really still lately recently currently usually often ever since anymore say says said
problem problems issue issues trouble wrong see seen saw give gives giving gave given meant need needs
needed want wants wanted try tried trying help helps helped show shows showed shown stuff
times actually taken
""".split())
# A note whose kind is all it shares with a concept gets partial credit: "stressed" asks about
# behaviour, but not every behaviour note (a cat playing fetch) is about stress.
KIND = 0.5
BROAD, MIN_BROAD = 0.02, 1000  # a word in more notes than this is too common to search by


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about: any of `words` in a note, or a note of `kind`."""

    words: tuple[str, ...]
    kind: str | None = None
    prefix: bool = False  # vocabulary words are stems: "vaccin" matches "vaccination"
    frame: bool = False  # a topic that frames the question ("what did the vet give...") rather than names it

    @property
    def fts(self) -> str:
        """An FTS5 query: any of the words (each a phrase)."""
        star = "*" if self.prefix else ""
        return " OR ".join('"' + w.replace('"', "") + '"' + star for w in self.words)

    @property
    def tsquery(self) -> str:
        """The same as a PostgreSQL tsquery: "threw up" -> (threw <-> up); only letters and digits
        reach the query, so no word can be read as its syntax."""
        star = ":*" if self.prefix else ""
        phrases = [" <-> ".join(tokens) + star for tokens in (_tokens(w) for w in self.words) if tokens]
        return "(" + " | ".join(phrases) + ")" if phrases else ""

    def query(self, conn) -> str:
        return self.tsquery if postgres(conn) else self.fts


def _tokens(text_: str) -> list[str]:
    return re.findall(r"[^\W_]+", text_.lower())


def _any(conn, queries: list[str]) -> str:
    return (" | " if postgres(conn) else " OR ").join(q for q in queries if q)


def terms(question: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", question.lower())
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and len(w) > 1))


def concepts(question: str, vocabulary: dict[str, list[str]] | None) -> list[Concept]:
    """The question's concepts: vocabulary groups it mentions (e.g. 'threw up' -> vomit), then words.

    A group's key that is also a kind (vaccine, vet_visit...) gives notes of that kind KIND credit.
    """
    rest, found, vocabulary = question.lower(), [], vocabulary or {}
    for key, words in vocabulary.items():
        words = tuple(w.strip().lower() for w in words if w.strip())
        if not words or key.startswith("_"):
            continue
        pattern = r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\w*"
        if re.search(pattern, rest):
            found.append(Concept(words, key, prefix=True, frame=key in vocabulary.get("_frames", ())))
            rest = re.sub(pattern, " ", rest)
    return found + [Concept((w,)) for w in terms(rest)]


def sql_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def filters(scope, start, end) -> tuple[str, dict]:
    """SQL conditions (on `o`) for live notes in scope and in the time window."""
    where, params = [LIVE], {}
    if scope is not None:
        # "+": with a time window, the happened_at index is the one to walk, not subject_id's
        plus = "+" if start or end else ""
        where.append(f"({plus}o.subject_id IN :scope OR {plus}o.subject_id IS NULL)")
        params["scope"] = [i for i in scope if i != HOUSEHOLD_ID] or [-1]
    if start:
        where.append("o.happened_at >= :start")
        params["start"] = sql_time(start)
    if end:
        where.append("o.happened_at < :end")
        params["end"] = sql_time(end)
    return " AND ".join(where), params


def execute(conn, sql: str, params: dict) -> list:
    """Rows of `sql`, with the list parameters (scope, ids) expanded."""
    stmt = text(sql)
    for name in ("scope", "ids"):
        if f":{name}" in sql:
            stmt = stmt.bindparams(bindparam(name, expanding=True))
    return conn.execute(stmt, {k: v for k, v in params.items() if f":{k}" in sql}).all()


@dataclass
class WeighedConcepts:
    """The question's concepts, each with its document frequency in the journal and IDF weight."""

    concepts: list[Concept]
    df: list[int]
    weights: list[float]
    total: int


def weigh(conn, concepts_: list[Concept]) -> WeighedConcepts:
    # max(id) stands for the number of notes: FTS counts deleted ones too, and it costs no scan.
    total = conn.execute(text("SELECT max(id) FROM observation")).scalar_one() or 1
    count = ("SELECT count(*) FROM observation WHERE search @@ to_tsquery('english', :q)" if postgres(conn) else
             "SELECT count(*) FROM observation_fts WHERE observation_fts MATCH :q")
    df = [conn.execute(text(count), {"q": c.query(conn)}).scalar_one() if c.query(conn) else 0 for c in concepts_]
    weights = [math.log(1 + (total - d + 0.5) / (d + 0.5)) for d in df]
    return WeighedConcepts(concepts_, df, weights, total)


def candidates(conn, asked: WeighedConcepts, scope, start, end, n) -> list[int]:
    """Notes that share a telling word with the question, best BM25 first.

    Words in more than BROAD of the notes are not searched: BM25 over tens of thousands of
    matches is slow and such words tell little (the vector search finds those notes).
    """
    broad = max(BROAD * asked.total, MIN_BROAD)
    telling = [c for c, d in zip(asked.concepts, asked.df) if 0 < d <= broad]
    if not telling:
        return []
    where, params = filters(scope, start, end)
    params.update(n=n, q=_any(conn, [c.query(conn) for c in telling]))
    return [r[0] for r in execute(conn, _ranked(conn, where), params)]


def _ranked(conn, where: str) -> str:
    """Notes matching :q and `where`, best first (BM25 in FTS5; ts_rank, normalised by the note's
    length, on PostgreSQL), at most :n."""
    if postgres(conn):
        return (f"SELECT o.id FROM observation o, to_tsquery('english', :q) q WHERE o.search @@ q AND {where} "
                f"ORDER BY ts_rank(o.search, q, 1) DESC, o.id LIMIT :n")
    return (f"SELECT o.id FROM observation_fts JOIN observation o ON o.id = observation_fts.rowid "
            f"WHERE observation_fts MATCH :q AND {where} ORDER BY bm25(observation_fts) LIMIT :n")


def mentions(conn, asked: WeighedConcepts, names: list[str], scope, start, end, n) -> list[int]:
    """Notes about other pets that name one of `names` and share a telling word with the question:
    "biscuit + juno eating side by side again. pip threw up hairball x2" answers a question about Pip."""
    telling = [c for c, d in zip(asked.concepts, asked.df) if d > 0]
    names = [n for n in names if re.fullmatch(r"[\w' -]+", n)]
    if not telling or not names:
        return []
    where, params = filters(None, start, end)
    named = Concept(tuple(names)).query(conn)
    if not named:
        return []
    params.update(n=n, scope=[i for i in scope if i] or [-1],
                  q=f"({named}) {'&' if postgres(conn) else 'AND'} ({_any(conn, [c.query(conn) for c in telling])})")
    where += " AND o.subject_id IS NOT NULL AND o.subject_id NOT IN :scope"
    return [r[0] for r in execute(conn, _ranked(conn, where), params)]


def notes_per_subject(conn, word: str) -> dict[int | None, int]:
    """How many live notes of each subject (None: the household's) have `word` in them."""
    q = Concept((word,)).query(conn)
    if not q:
        return {}
    sql = (f"SELECT o.subject_id, count(*) FROM observation o WHERE o.search @@ to_tsquery('english', :q) "
           f"AND {LIVE} GROUP BY o.subject_id" if postgres(conn) else
           f"SELECT o.subject_id, count(*) FROM observation_fts JOIN observation o ON o.id = observation_fts.rowid "
           f"WHERE observation_fts MATCH :q AND {LIVE} GROUP BY o.subject_id")
    return dict(conn.execute(text(sql), {"q": q}).all())


def coverage(asked: WeighedConcepts, notes: dict[int, tuple[str, str]], found: dict[int, set[int]]) -> dict[int, float]:
    """IDF-weighted share of the question's concepts each note (id -> (kind, text)) contains;
    `found`: the concepts each note's words match (`matching`)."""
    if not asked.concepts or not notes:
        return {}
    got = dict.fromkeys(notes, 0.0)
    for n, (c, w) in enumerate(zip(asked.concepts, asked.weights)):
        for i, (k, _) in notes.items():
            credit = 1.0 if n in found[i] else KIND if c.kind and k == c.kind else 0.0
            got[i] += w * credit
    norm = sum(asked.weights) or 1.0
    return {i: v / norm for i, v in got.items()}


def matching(conn, concepts_: list[Concept], notes: dict[int, tuple[str, str]]) -> dict[int, set[int]]:
    """Which concepts (by position) each note's own words contain, kind credit aside.

    The notes are matched in a temporary FTS5 table of just these notes, with the journal's
    tokenizer: matching against the whole journal would walk every note with a common word. On
    PostgreSQL the notes' own tsvectors are read by id.
    """
    found: dict[int, set[int]] = {i: set() for i in notes}
    if not concepts_ or not notes:
        return found
    if postgres(conn):
        for n, c in enumerate(concepts_):
            if c.tsquery:
                for r in execute(conn, "SELECT id FROM observation WHERE id IN :ids "
                                       "AND search @@ to_tsquery('english', :q)", {"ids": list(notes), "q": c.tsquery}):
                    found[r[0]].add(n)
        return found
    conn.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS temp.recall_fts "
                      "USING fts5(text, tokenize='porter unicode61')"))
    conn.execute(text("DELETE FROM temp.recall_fts"))
    conn.execute(text("INSERT INTO temp.recall_fts(rowid, text) VALUES (:id, :text)"),
                 [{"id": i, "text": t} for i, (_, t) in notes.items()])
    for n, c in enumerate(concepts_):
        for r in conn.execute(text("SELECT rowid FROM temp.recall_fts WHERE recall_fts MATCH :q"), {"q": c.fts}):
            found[r[0]].add(n)
    return found


def key_concepts(asked: WeighedConcepts, question: str = "") -> set[int]:
    """The question's telling concepts that the journal has at all (df > 0): a name the question
    capitalises ("Felimazole"), else every topic from the vocabulary it names ("hiding ... after we
    moved" -> behaviour and moving), else its rarest plain word ("diagnoses"). A topic that only
    frames the question ("what did the vet give her...") tells only when nothing else does."""
    names = {w.lower() for w in re.findall(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w-]+", question.strip())} - {"i"}
    known = [(n, c, w) for n, (c, w, d) in enumerate(zip(asked.concepts, asked.weights, asked.df)) if d > 0]
    named = [(w, n) for n, c, w in known if c.kind is None and names & set(c.words)]
    if named:
        return {max(named)[1]}
    topics = {n for n, c, _ in known if c.kind is not None and not c.frame}
    if topics:  # "hiding under the bed, and was it after we moved?": both topics tell
        return topics
    plain = [(w, n) for n, c, w in known if c.kind is None]
    if plain:
        return {max(plain)[1]}
    return {n for n, _, _ in known}  # frames alone
