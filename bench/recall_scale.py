"""Recall latency at 1k, 10k and 100k notes next to raw Chroma, and bulk import next to raw encode.

One data home grows by bulk imports (memory.transfer.import_file of a JSONL) of synthetic
cat-journal notes: 1k, then +9k, then +90k. The same vectors are copied into one plain Chroma
collection, as a memory without memoloop would keep them. At each size the same questions are
asked, each timed through `memory.recall.recall` (with the pack vocabulary, as the CLI does) and
through a raw Chroma query of the plain collection (`query_texts`, so Chroma embeds the question
too), interleaved so both see the same machine load. Imports of up to 20k notes are timed next
to `encode` of the same texts.

    .venv/bin/python -m bench.recall_scale                    # 1k, 10k, 100k (~15-25 min)
    .venv/bin/python -m bench.recall_scale --sizes 1000 10000 # quicker
    .venv/bin/python -m bench.recall_scale --server --sizes 10000 100000 --rounds 3
                        # embedded (SQLite, Chroma folder) next to server mode (PostgreSQL, a
                        # Chroma server), 1, 4 and 8 askers at once
"""
from __future__ import annotations

import argparse
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import percentile, table, temp_memory, write_jsonl

CATS = ("Mochi", "Luna", "Oscar")
EVENTS = (
    "{c} vomited {what} {when}", "{c} threw up a hairball {where}", "{c} sneezed {n} times, {eye}",
    "{c} weighs {kg} kg", "{c} ate {amount} of her {food}", "{c} skipped {meal}",
    "{c} peed outside the litter box {where}", "{c} strained in the litter box, {stool}",
    "{c} got the {vaccine} booster at the clinic", "Vet: {c} has {diagnosis}, start {drug}",
    "Gave {c} {drug} {dose}", "{c} hid under the bed {when}, {mood}", "{c} scratched the {thing}",
    "{c} was limping on the {leg} leg", "Trimmed {c}'s nails, {mood}", "{c} drank a lot of water {when}",
    "Switched the litter to {litter}", "New {thing} for the living room", "Cat sitter came {when}",
)
FILL = {
    "what": ["kibble", "yellow foam", "grass", "her dinner", "bile", "undigested food"],
    "when": ["this morning", "after breakfast", "at night", "before dinner", "twice today", "after the vet"],
    "where": ["on the rug", "by the stairs", "on the bathmat", "in the hallway", "on the bed"],
    "n": ["two", "three", "a few", "many"], "eye": ["clear discharge", "watery eyes", "no discharge"],
    "kg": ["3.6", "3.9", "4.2", "4.4", "5.1", "5.8"], "amount": ["half", "all", "a quarter", "most"],
    "food": ["wet food", "renal diet", "kibble", "tuna", "chicken"], "meal": ["breakfast", "dinner"],
    "stool": ["small clumps", "no stool", "hard stool", "big clumps"],
    "vaccine": ["FVRCP", "rabies", "FeLV"], "diagnosis": ["cystitis", "hyperthyroidism", "a cold", "gingivitis"],
    "drug": ["methimazole", "L-lysine", "gabapentin", "lactulose", "meloxicam"],
    "dose": ["2.5 mg", "once a day", "twice a day", "in her food"],
    "mood": ["very anxious", "calm afterwards", "hissing", "purring"],
    "thing": ["sofa", "cat tree", "door frame", "rug", "window perch"], "leg": ["left front", "right back"],
    "litter": ["clumping clay", "tofu litter", "pellets", "silica crystals"],
}
QUESTIONS = (
    "Has Mochi vomited before?", "When did Luna last see the vet?", "How much does Oscar weigh?",
    "Was anyone sneezing in March 2025?", "What medication is Oscar on?", "Has Luna peed outside the box?",
    "Did Mochi eat her breakfast yesterday?", "When was the last rabies booster?",
    "Has Oscar been limping?", "What litter do we use?", "Is Luna anxious after the move?",
    "Did Mochi have diarrhea?",
)
START = datetime(2015, 1, 1, 12, tzinfo=timezone.utc)
TARGET_LATENCY, TARGET_IMPORT = 2.0, 0.85


def notes(n: int, seed: int) -> list[dict]:
    """`n` synthetic notes, each at its own time between 2015 and 2025."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        template = rng.choice(EVENTS)
        cat = rng.choice(CATS)
        fields = {k: rng.choice(v) for k, v in FILL.items()}
        text = template.format(c=cat, **fields)
        at = START + timedelta(minutes=rng.randrange(10 * 365 * 24 * 60))
        subject = cat if "{c}" in template else None
        out.append({"subject": subject, "at": at.isoformat(), "text": f"{text} (#{rng.randrange(10**6)})"})
    return out


def grow(mem, records: list[dict], folder: Path) -> float:
    """Import `records` as one JSONL; seconds taken."""
    from memory.transfer import import_file

    path = write_jsonl(folder / "batch.jsonl", records)
    t0 = time.perf_counter()
    import_file(mem, path)
    return time.perf_counter() - t0


def raw_encode(mem, texts: list[str]) -> float:
    t0 = time.perf_counter()
    mem.index.embedder.encode(texts)
    return time.perf_counter() - t0


def copy_to_plain(mem, plain, page: int = 5000) -> None:
    """Add the notes the plain collection lacks, with their stored vectors."""
    have = set(plain.get(include=[])["ids"])
    for collection in mem.index.collections.values():
        for offset in range(0, collection.count(), page):
            res = collection.get(limit=page, offset=offset, include=["embeddings", "documents"])
            new = [n for n, i in enumerate(res["ids"]) if i not in have]
            if new:
                plain.add(ids=[res["ids"][n] for n in new], embeddings=[res["embeddings"][n] for n in new],
                          documents=[res["documents"][n] for n in new])


def latencies(mem, plain, now: datetime, rounds: int, vocabulary) -> tuple[list[float], list[float]]:
    """(ours, raw Chroma) milliseconds per question, interleaved."""
    from memory.recall import recall

    ours, raw = [], []
    for _ in range(rounds):
        for q in QUESTIONS:
            t0 = time.perf_counter()
            plain.query(query_texts=[q], n_results=5, include=["distances"])
            t1 = time.perf_counter()
            recall(mem, q, k=5, now=now, vocabulary=vocabulary)
            t2 = time.perf_counter()
            raw.append((t1 - t0) * 1000)
            ours.append((t2 - t1) * 1000)
    return ours, raw


def concurrent(mem, askers: int, rounds: int, now: datetime, vocabulary) -> list[float]:
    """Milliseconds of each question when `askers` threads share the journal, as the app's sessions
    do, each asking the 12 questions `rounds` times."""
    from memory.recall import recall

    def ask(n: int) -> list[float]:
        took = []
        for q in (QUESTIONS[n % len(QUESTIONS):] + QUESTIONS[:n % len(QUESTIONS)]) * rounds:
            t0 = time.perf_counter()
            recall(mem, q, k=5, now=now, vocabulary=vocabulary)
            took.append((time.perf_counter() - t0) * 1000)
        return took
    with ThreadPoolExecutor(askers) as pool:
        return [ms for took in pool.map(ask, range(askers)) for ms in took]


def server_side_by_side(sizes: list[int], rounds: int, askers: list[int]) -> None:
    """Embedded engines (SQLite and a Chroma folder) vs server mode (a PostgreSQL cluster and a Chroma
    server, `chroma run`, both on this machine), each in its own home holding the same notes: bulk
    import, then recall with 1, 4 and 8 askers at once, the two modes taking turns at each step so
    both see the same machine."""
    from agent.pack import load_pack
    from memory import journal
    from memory.engines import Engines, chroma_server, create_database, postgres_server
    from memory.store import Memory

    vocabulary, now = load_pack().vocabulary, START + timedelta(days=3660)
    rows, imports = [], []
    with tempfile.TemporaryDirectory(prefix="memoloop-bench-") as tmp, \
            tempfile.TemporaryDirectory(prefix="mlb-", dir="/tmp") as pg:  # short: the socket's path
        tmp = Path(tmp)
        with chroma_server(tmp / "chroma") as url, postgres_server(Path(pg)) as server:
            database = create_database(server, "scale")
            homes = {"embedded": Memory.open(tmp / "embedded", engines=Engines()),
                     "server": Memory.open(tmp / "server", engines=Engines(chroma_url=url, database_url=database))}
            for mem in homes.values():
                for cat in CATS:
                    journal.add_subject(mem, cat)
            have = 0
            for size in sizes:
                batch = notes(size - have, seed=size)
                for mode, mem in homes.items():
                    imports.append([mode, f"+{len(batch)}", len(batch) / grow(mem, batch, tmp)])
                have = size
                for mem in homes.values():
                    concurrent(mem, 1, 1, START, vocabulary)  # warm up
                for n in askers:
                    took = {mode: concurrent(mem, n, rounds, now, vocabulary) for mode, mem in homes.items()}
                    e, s = took["embedded"], took["server"]
                    rows.append([size, n, percentile(e, 50), percentile(e, 95), percentile(s, 50),
                                 percentile(s, 95), percentile(s, 95) / percentile(e, 95)])
                print(f"{size}: done", flush=True)
            for mem in homes.values():
                mem.close()
    print(table(["notes", "askers", "embedded p50 ms", "embedded p95 ms", "server p50 ms", "server p95 ms",
                 "p95 server/embedded"], rows))
    print(table(["index", "import", "notes/s"], imports))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000], help="journal sizes")
    p.add_argument("--rounds", type=int, default=10, help="times each of the 12 questions is asked per size")
    p.add_argument("--server", action="store_true",
                   help="the embedded engines next to server mode's (PostgreSQL, a Chroma server) instead, "
                        "with 1, 4 and 8 askers at once")
    args = p.parse_args(argv)
    if args.server:
        server_side_by_side(sorted(args.sizes), args.rounds, [1, 4, 8])
        return 0
    from agent.pack import load_pack
    from memory import journal

    vocabulary = load_pack().vocabulary
    sizes = sorted(args.sizes)
    rows, imports, p95 = [], [], {}
    with temp_memory() as mem, tempfile.TemporaryDirectory() as tmp:
        for cat in CATS:
            journal.add_subject(mem, cat)
        plain = mem.index.client.create_collection(
            "plain", embedding_function=mem.index.embedder, configuration={"hnsw": {"space": "cosine"}})
        have = 0
        for size in sizes:
            batch = notes(size - have, seed=size)
            seconds = grow(mem, batch, Path(tmp))
            encode = raw_encode(mem, [r["text"] for r in batch]) if len(batch) <= 20000 else None
            imports.append([f"+{len(batch)}", len(batch) / seconds,
                            len(batch) / encode if encode else "-", encode / seconds if encode else "-"])
            have = size
            copy_to_plain(mem, plain)
            latencies(mem, plain, START, 1, vocabulary)  # warm up
            ours, raw = latencies(mem, plain, START + timedelta(days=3660), args.rounds, vocabulary)
            p95[size] = (percentile(ours, 95), percentile(raw, 95))
            rows.append([size, percentile(ours, 50), p95[size][0], percentile(raw, 50), p95[size][1],
                         p95[size][0] / p95[size][1]])
            print(f"{size}: done", flush=True)
    print(table(["notes", "ours p50 ms", "ours p95 ms", "chroma p50 ms", "chroma p95 ms", "p95 ratio"], rows))
    print(table(["import", "import notes/s", "encode notes/s", "import/encode"], imports))
    print(verdict(sizes, p95, imports))
    return 0


def verdict(sizes, p95, imports) -> str:
    big, small = sizes[-1], sizes[0]
    ratio = p95[big][0] / p95[big][1]
    growth = p95[big][0] / p95[small][0]
    throughput = [r[3] for r in imports if r[3] != "-"]
    parts = [f"p95 at {big}: {ratio:.2f}x raw Chroma (target <= {TARGET_LATENCY}x: "
             f"{'met' if ratio <= TARGET_LATENCY else 'NOT met'})",
             f"p95 growth {small}->{big}: {growth:.2f}x for {big / small:.0f}x the notes "
             f"({'sub-linear' if growth < big / small else 'NOT sub-linear'})"]
    if throughput:
        t = min(throughput)
        parts.append(f"import at {t:.2f}x raw encode (target >= {TARGET_IMPORT}: "
                     f"{'met' if t >= TARGET_IMPORT else 'NOT met'})")
    return "verdict: " + "; ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
