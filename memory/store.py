"""`Memory`: the database and the vector index of one data home, kept in step."""
from __future__ import annotations

import copy
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from sqlalchemy import bindparam, text
from sqlmodel import Session, select

from memory import db, households
from memory.engines import Engines
from memory.home import Home
from memory.errors import MemoloopError
from memory.index import IndexDamaged, IndexUnavailable, ObservationIndex, metadata
from memory.models import Observation


class Memory:
    """Opens the home's database (migrating it) and, lazily, its vector index."""

    def __init__(self, home: Home, progress=None, engines: Engines | None = None, household: str | None = None,
                 author: str = ""):
        """`progress(total)` -> `tick(n)`: shown whenever notes are embedded into the index (an import,
        or catching up after a crash, which can take minutes for thousands of notes). `engines`:
        the home's (memory.engines) unless given. `household`: in server mode, the household whose
        records this is (memory.households; None: the first one). `author`: the login of the person
        whose notes, questions and ratings these are ("" on the embedded journal and the CLI)."""
        self.engines = Engines.of(home.root) if engines is None else engines
        self.household = household
        schema = None
        if household is not None:
            if not self.engines.database_url:
                raise MemoloopError(households.SERVER_ONLY)
            schema = households.schema_at(self.engines.database_url, household)
        self.home = home.of(schema) if schema else home
        self.engine = db.connect(self.database_url, schema=schema)
        self.author = author
        self.progress = progress
        self._index: ObservationIndex | None = None

    def written_by(self, author: str) -> "Memory":
        """This memory (the same connections and index) for what `author` writes: a view the app
        makes for each signed-in person; it is never closed, the memory it came from is."""
        try:
            self.index  # opened once, in the memory both share
        except IndexUnavailable:
            pass  # a Chroma server that does not answer: a search says so
        view = copy.copy(self)
        view.author = author
        return view

    @property
    def database_url(self) -> str:
        """The PostgreSQL server's database, or the SQLite file in the home."""
        return self.engines.database_url or self.home.database_url

    @classmethod
    def open(cls, path=None, progress=None, engines: Engines | None = None, household: str | None = None,
             author: str = "") -> "Memory":
        return cls(Home.open(path), progress, engines, household, author)

    def close(self) -> None:
        """Release the database connections and the vector index's files; a long-lived process
        (the scheduler, the tests) opens many homes or many times and must not leak them."""
        if self._index is not None:
            self._index.close()
            self._index = None
        self.engine.dispose()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def index(self) -> ObservationIndex:
        """The vector index, caught up with SQL (a crash may have left rows out of it)."""
        if self._index is None:
            index = self._open_index()
            self._same_index(index)
            self._index = index
            self.sync_index()
        return self._index

    def move_index(self, engines: Engines) -> None:
        """From now on, keep the search index in `engines` (a Chroma server, or the home's folder):
        it must answer, it is filled from the database before anything else changes, and then it is
        saved as the home's ($MEMOLOOP_CHROMA_URL still wins)."""
        before = self.engines, self._index
        self.engines, self._index = engines, None
        try:
            self.index  # opened, made this database's and filled
        except BaseException:
            if self._index is not None:
                self._index.close()
            self.engines, self._index = before
            raise
        replace(Engines.saved(self.home.root), chroma_url=engines.chroma_url).save(self.home.root)
        if before[1] is not None:
            before[1].close()

    def _open_index(self) -> ObservationIndex:
        """The home's Chroma folder, or this database's own database on the Chroma server."""
        server = self.engines.chroma
        if server is None:
            return ObservationIndex(self.home.chroma_dir)
        with self.engine.connect() as conn:
            uid = conn.execute(text("SELECT database_uid FROM vector_index")).scalar_one()
        return ObservationIndex(self.home.chroma_dir, server, database=f"memoloop-{uid}")

    def session(self) -> Session:
        return db.session(self.engine)

    def pending(self) -> int:
        """Rows whose change has not reached the vector index yet (e.g. after a crash)."""
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM observation WHERE NOT indexed")).scalar_one()

    def sync_index(self, batch: int = 512) -> int:
        """Bring the index up to SQL: add live rows, drop deleted or superseded ones.

        While one batch is embedded, the one before is written to Chroma and marked in SQL by a
        second thread (both release the GIL): a bulk import costs little more than the embedding.
        """
        index = self.index
        progress = self._tick()
        done, after, writing = 0, 0, None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="memoloop-sync") as writer:
            while True:
                with self.session() as s:
                    rows = s.exec(select(Observation).where(~Observation.indexed, Observation.id > after)
                                  .order_by(Observation.id).limit(batch)).all()
                if rows:
                    after = rows[-1].id
                    live = [r for r in rows if r.live]
                    vectors = index.embed([r.text for r in live]) if live else None
                if writing is not None:
                    written = writing.result()
                    done += written
                    if progress is not None:
                        progress(written)
                if not rows:
                    return done
                writing = writer.submit(self._write_and_mark, rows, vectors)

    def _tick(self):
        """The progress callback for what is pending now, if there is enough to be worth showing."""
        pending = self.pending() if self.progress is not None else 0
        return self.progress(pending) if pending > 1 else None

    def _same_index(self, index: ObservationIndex) -> None:
        """SQL's `indexed` flags hold for one index: the one that carries the uid SQL keeps. Any
        other (a new Chroma server, a lost, replaced or restored folder, the folder this home used
        before it moved to a server) is emptied and refilled."""
        with self.engine.connect() as conn:
            ours = conn.execute(text("SELECT index_uid FROM vector_index")).scalar()
            anything_indexed = conn.execute(text("SELECT 1 FROM observation WHERE indexed LIMIT 1")).first()
        theirs = index.uid()
        if ours is not None and theirs == ours:
            return
        # A home made before uids, with its own folder, is trusted unless that folder is empty.
        trusted = ours is None and theirs is None and not (anything_indexed and index.count() == 0)
        self._adopt(index, empty=not trusted)

    def _adopt(self, index: ObservationIndex, empty: bool) -> None:
        """Make `index` the one SQL's flags describe, emptied first unless it is trusted (SQL's flags
        are cleared first, so a crash in between leaves notes to index, never notes believed indexed)."""
        if empty:
            with self.engine.begin() as conn:
                conn.execute(text("UPDATE observation SET indexed = false"))
            index.reset()
        uid = uuid.uuid4().hex
        index.set_uid(uid)
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE vector_index SET index_uid = :uid"), {"uid": uid})

    def _write_and_mark(self, rows: list[Observation], embeddings) -> int:
        self.write_index(rows, embeddings)
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE observation SET indexed = true WHERE id IN :ids")
                         .bindparams(bindparam("ids", expanding=True)), {"ids": [r.id for r in rows]})
        return len(rows)

    def write_index(self, rows: list[Observation], embeddings=None) -> None:
        """Put the live rows in the index (with `embeddings` of them, if computed) and drop the others."""
        live = [r for r in rows if r.live]
        self.index.delete([r.id for r in rows if not r.live])
        self.index.upsert(
            [r.id for r in live],
            [r.text for r in live],
            [metadata(r.subject_id, r.happened_at.timestamp(), r.kind) for r in live],
            embeddings=embeddings,
        )

    def reindex(self) -> int:
        """Rebuild the vector index from SQL, the source of truth; a damaged index folder is replaced."""
        try:
            index = self._index or self._open_index()
        except IndexDamaged:  # only a folder is damaged: a server that fails does not answer
            shutil.rmtree(self.home.chroma_dir, ignore_errors=True)
            self.home.chroma_dir.mkdir(mode=0o700)
            index = self._open_index()
        self._adopt(index, empty=True)
        self._index = index
        return self.sync_index()
