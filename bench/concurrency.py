"""Many writers on one home: the app's write path, two CLI writers and an importer, each in its own
process, while the real scheduler runs in a fifth. Every note must land exactly once, none may be
lost, and no "database is locked" may reach a user.

    python -m bench.concurrency            # 4 writers x 500 notes (the issue's figure)
    python -m bench.concurrency --n 50     # what tests/test_concurrency.py runs

Baseline, in the same process: the same 4 x N notes written by one writer after the other.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench.common import table

REPO = Path(__file__).resolve().parents[1]

WRITERS = {
    # the Journal page's function, as the app calls it on "Log it"
    "app": """
        from ui import entries
        for i in range(N):
            entries.log_entry(mem, f"app note {i}: Mochi napped in the sun", pet="Mochi", kinds=["note"])
    """,
    # the memoloop command, in-process (a new process per note would measure Python's start-up)
    "cli-1": """
        from ui.cli import main
        for i in range(N):
            assert main(["log", f"cli-1 note {i}: Mochi drank water", "--subject", "Mochi", "--home", HOME]) == 0
    """,
    "cli-2": """
        from ui.cli import main
        for i in range(N):
            assert main(["log", f"cli-2 note {i}: Luna played with the feather", "--subject", "Luna",
                         "--home", HOME]) == 0
    """,
    # imports of 25 notes at a time
    "import": """
        import json, tempfile
        from ui.cli import main
        for start in range(0, N, 25):
            with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
                for i in range(start, min(start + 25, N)):
                    f.write(json.dumps({"subject": "Luna", "at": "2025-05-01", "text": f"import note {i}: Luna ate"}) + "\\n")
            assert main(["import", f.name, "--home", HOME]) == 0
    """,
}

SCHEDULER = """
    import time
    from retrain import schedule
    schedule.set_policy(mem, cron="* * * * *", min_new_records=100000)  # fires every minute, then skips
    scheduler = schedule.start(mem)
    time.sleep(float(sys.argv[3]))
    scheduler.shutdown(wait=True)
"""

PRELUDE = """
    import sys
    from memory.offline import offline_environment
    offline_environment()
    from memory.store import Memory
    HOME, N = sys.argv[1], int(sys.argv[2])
    mem = Memory.open(HOME)
"""


def spawn(code: str, home: Path, n: int, extra: str = "") -> subprocess.Popen:
    script = textwrap.dedent(PRELUDE) + textwrap.dedent(code)
    return subprocess.Popen([sys.executable, "-c", script, str(home), str(n), extra], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def prepare(home: Path) -> None:
    from memory import journal
    from memory.store import Memory

    with Memory.open(home) as mem:
        journal.add_subject(mem, "Mochi")
        journal.add_subject(mem, "Luna")


def count(home: Path, n: int) -> dict:
    """Lost and duplicated notes, per writer, from SQL; and whether the index agrees."""
    from memory.store import Memory

    with Memory.open(home) as mem:
        import sqlite3

        con = sqlite3.connect(home / "memoloop.db")
        texts = dict(con.execute("SELECT text, count(*) FROM observation GROUP BY text").fetchall())
        con.close()
        expected = [f"{w} note {i}" for w in WRITERS for i in range(n)]
        stored = {t.split(":")[0]: c for t, c in texts.items()}
        lost = sum(1 for e in expected if e not in stored)
        duplicated = sum(c - 1 for c in stored.values() if c > 1)
        return {"lost": lost, "duplicated": duplicated, "stored": sum(texts.values()),
                "indexed": mem.index.count(), "pending": mem.pending()}


def concurrent(n: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="memoloop-concurrency-") as tmp:
        home = Path(tmp) / "home"
        prepare(home)
        started = time.perf_counter()
        scheduler = spawn(SCHEDULER, home, n, extra="600")
        procs = {name: spawn(code, home, n) for name, code in WRITERS.items()}
        errors = {}
        for name, proc in procs.items():
            _, err = proc.communicate(timeout=3600)
            if proc.returncode != 0 or "locked" in err:
                errors[name] = err[-1500:]
        seconds = time.perf_counter() - started
        scheduler.terminate()
        _, scheduler_err = scheduler.communicate(timeout=120)
        if "locked" in scheduler_err or "Traceback" in scheduler_err:
            errors["scheduler"] = scheduler_err[-1500:]
        return {**count(home, n), "errors": errors, "seconds": seconds}


def sequential(n: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="memoloop-sequential-") as tmp:
        home = Path(tmp) / "home"
        prepare(home)
        started = time.perf_counter()
        errors = {}
        for name, code in WRITERS.items():
            proc = spawn(code, home, n)
            _, err = proc.communicate(timeout=3600)
            if proc.returncode != 0:
                errors[name] = err[-1500:]
        return {**count(home, n), "errors": errors, "seconds": time.perf_counter() - started}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="notes per writer (default 500)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    rows = []
    for label, run in (("one writer after another (baseline)", sequential), ("4 writers + scheduler at once", concurrent)):
        r = run(args.n)
        rows.append([label, 4 * args.n, r["stored"], r["lost"], r["duplicated"], r["indexed"], len(r["errors"]),
                     r["seconds"], 4 * args.n / r["seconds"]])
        for name, err in r["errors"].items():
            print(f"{label}: {name} failed:\n{err}", file=sys.stderr)
    print(table(["run", "written", "stored", "lost", "duplicated", "indexed", "failed writers", "seconds",
                 "notes/s"], rows))
    print(json.dumps({"n": args.n}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
