"""The vector index keeps one Chroma collection per subject and rebuilds from SQL."""
import numpy as np

from memory import journal
from memory.index import COLLECTION, metadata
from memory.recall import recall
from memory.store import Memory


def test_one_collection_per_subject(mem, cats):
    names = sorted(c.name for c in mem.index.client.list_collections() if c.name.startswith(COLLECTION))
    assert names == [f"{COLLECTION}-0", f"{COLLECTION}-1", f"{COLLECTION}-2"]  # household, Mochi, Luna
    luna_only = mem.index.query(mem.index.embed(["sneezing"])[0], 10, [2])
    assert set(luna_only) == {cats["Luna sneezing a lot, watery eyes"], cats["Luna got her FVRCP booster at the clinic"],
                              cats["Luna peed outside the litter box on the bathmat"]}


def test_a_single_collection_from_an_older_version_is_split_on_open(mem, cats, home_dir):
    # put everything back into one collection, as memoloop 0.1 kept it
    index = mem.index
    rows = {}
    for subject_id, collection in index.collections.items():
        got = collection.get(include=["embeddings", "metadatas"])
        rows.update({i: (e, m) for i, e, m in zip(got["ids"], got["embeddings"], got["metadatas"])})
    texts = {str(oid): note for note, oid in cats.items()}
    index.reset()
    old = index.client.create_collection(COLLECTION, embedding_function=index.embedder,
                                         configuration={"hnsw": {"space": "cosine"}})
    old.add(ids=list(rows), embeddings=[np.asarray(r[0]) for r in rows.values()],
            metadatas=[r[1] for r in rows.values()], documents=[texts[i] for i in rows])

    reopened = Memory.open(home_dir)
    assert reopened.index.count() == len(cats) and reopened.pending() == 0
    assert COLLECTION not in [c.name for c in reopened.index.client.list_collections()]
    found = recall(reopened, "Has Luna been sneezing?")
    assert found.relevant[0].text == "Luna sneezing a lot, watery eyes"


def test_reindex_rebuilds_every_subject(mem, cats):
    assert mem.reindex() == len(cats) and mem.index.count() == len(cats)
    assert set(mem.index.collections) == {0, 1, 2}


def test_metadata_puts_household_notes_under_subject_zero():
    assert metadata(None, 1700000000.5, "note") == {"subject_id": 0, "ts": 1700000000, "kind": "note"}


def test_a_question_is_embedded_as_encode_would(mem):
    # embed() takes a shortcut for one or two texts; it must give the sentence-transformers vectors
    texts = ["Has Mochi vomited since the food change?", "the move"]
    few = mem.index.embed(texts)
    many = mem.index.embed(texts + ["a third text puts it through encode"])[:2]
    assert few.shape == (2, 384)
    assert np.allclose(few, many, atol=1e-5)
    assert np.allclose(np.linalg.norm(few, axis=1), 1.0, atol=1e-5)


def test_a_delete_reaches_a_collection_made_after_this_index_opened(home_dir):
    early = Memory.open(home_dir)
    assert early.index.count() == 0  # opened before Mochi's collection exists
    late = Memory.open(home_dir)
    journal.add_subject(late, "Mochi")
    note = journal.log(late, "Mochi sneezed twice", subject="Mochi", at="2025-05-01")
    assert late.index.count() == 1
    journal.delete(early, note.id)  # the app deletes while the CLI had logged it
    assert early.index.count() == 0 and Memory.open(home_dir).index.count() == 0


def test_closing_a_memory_gives_back_its_files(tmp_path):
    """The scheduler opens the home on every tick: a Memory must not keep SQLite or Chroma files open."""
    import gc
    import os

    def open_files() -> int:
        gc.collect()  # what earlier tests left for the collector is not this test's business
        return len(os.listdir("/proc/self/fd"))

    def one_tick(home):
        with Memory.open(home) as m:
            journal.add_subject(m, "Mochi")
            journal.log(m, "Mochi ate all her breakfast", subject="Mochi", at="2025-06-01")
            assert recall(m, "Did Mochi eat breakfast?").hits

    one_tick(tmp_path / "warm-up")  # the embedding model and Chroma's own modules load once per process
    before = open_files()
    for n in range(3):
        one_tick(tmp_path / f"home-{n}")
    assert open_files() <= before  # without close(): +12 per tick
