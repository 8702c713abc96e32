"""`Memory`: the database and the vector index of one data home, kept in step."""
from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import bindparam, text
from sqlmodel import Session, select

from memory import db
from memory.home import Home
from memory.index import IndexDamaged, ObservationIndex, metadata
from memory.models import Observation


class Memory:
    """Opens the home's database (migrating it) and, lazily, its vector index."""

    def __init__(self, home: Home, progress=None):
        """`progress(total)` -> `tick(n)`: shown whenever notes are embedded into the index (an import,
        or catching up after a crash, which can take minutes for thousands of notes)."""
        self.home = home
        self.engine = db.connect(home.database_url)
        self.progress = progress
        self._index: ObservationIndex | None = None

    @classmethod
    def open(cls, path=None, progress=None) -> "Memory":
        return cls(Home.open(path), progress)

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
            self._index = ObservationIndex(self.home.chroma_dir)
            self.sync_index()
        return self._index

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
        self._refill_lost_index(index)
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

    def _refill_lost_index(self, index) -> None:
        with self.session() as s:
            live_indexed = s.exec(select(Observation.id).where(Observation.indexed).limit(1)).first()
            if live_indexed is not None and index.count() == 0:
                # The index folder was lost or replaced: everything has to go back in.
                s.execute(text("UPDATE observation SET indexed = 0"))
                s.commit()

    def _write_and_mark(self, rows: list[Observation], embeddings) -> int:
        self.write_index(rows, embeddings)
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE observation SET indexed = 1 WHERE id IN :ids")
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
            self._index = self._index or ObservationIndex(self.home.chroma_dir)
            self._index.reset()
        except IndexDamaged:
            shutil.rmtree(self.home.chroma_dir, ignore_errors=True)
            self.home.chroma_dir.mkdir(mode=0o700)
            self._index = ObservationIndex(self.home.chroma_dir)
        with self.session() as s:
            s.execute(text("UPDATE observation SET indexed = 0"))
            s.commit()
        return self.sync_index()
