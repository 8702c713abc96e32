"""`memoloop doctor`: which engines hold a home's notes, their versions, and whether they answer."""
from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass

from sqlalchemy import text

from memory import households
from memory.db import postgres
from memory.engines import redacted
from memory.errors import MemoloopError
from memory.models import LIVE
from memory.store import Memory


@dataclass
class EngineCheck:
    role: str  # "database" or "search index"
    engine: str
    version: str  # "" when it does not answer to say
    where: str
    answers: bool
    detail: str  # what it holds, or why it does not answer

    def to_json(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        state = "answers" if self.answers else "does NOT answer"
        return f"{self.role}: {' '.join(filter(None, [self.engine, self.version]))} at {self.where}: {state}; {self.detail}"


def check(mem: Memory) -> list[EngineCheck]:
    return [_database(mem), _index(mem)]


def _database(mem: Memory) -> EngineCheck:
    on_postgres = postgres(mem.engine)
    engine, where = ("PostgreSQL", redacted(mem.database_url)) if on_postgres else ("SQLite", str(mem.home.db_path))
    version = "" if on_postgres else sqlite3.sqlite_version
    try:
        with mem.engine.connect() as conn:
            if on_postgres:
                version = conn.execute(text("SHOW server_version")).scalar_one().split()[0]
            notes = conn.execute(text(f"SELECT count(*) FROM observation o WHERE {LIVE}")).scalar_one()
        detail = f"{notes} notes"
        kept = households.names(mem.engine)
        if kept:
            detail += (f" in household '{mem.household or kept[0]}'; {len(kept)} households, "
                       f"{len(households.people(mem.engine))} people can sign in")
        return EngineCheck("database", engine, version, where, True, detail)
    except Exception as exc:  # a report: every failure is said, none raised
        return EngineCheck("database", engine, version, where, False, str(exc).splitlines()[0][:200])


def unreachable(url: str, error: MemoloopError) -> list[EngineCheck]:
    """The report when the database does not answer at all (nothing else can be opened)."""
    return [EngineCheck("database", "PostgreSQL", "", redacted(url), False, str(error))]


def _index(mem: Memory) -> EngineCheck:
    import chromadb

    server = mem.engines.chroma
    engine, where = ("Chroma (embedded)", str(mem.home.chroma_dir)) if server is None else ("Chroma server", str(server))
    try:
        index = mem.index  # opening it catches it up with the database
        version = chromadb.__version__ if server is None else index.client.get_version()
        if index.database:
            where += f" (database {index.database})"
        return EngineCheck("search index", engine, version, where, True,
                           f"{index.count()} notes indexed, {mem.pending()} waiting")
    except MemoloopError as exc:  # damaged folder, server down: the error says what to do
        return EngineCheck("search index", engine, chromadb.__version__ if server is None else "", where, False,
                           str(exc))
