"""kill -9 at the worst moments: importing, indexing, reindexing, training, saving an adapter,
promoting, exporting and restoring. After each: SQLite is intact, repeating the command leaves every
row exactly once, the vector index agrees with SQL after the next open, exactly one adapter is
active and it loads, and no half-written file is taken for a finished one.

Real processes, real SIGKILL: from outside at a moment the test watches for, or from inside at a
named point (memory/crash.py) where timing alone could not land reliably.
"""
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.adapters import adapter_files_ok
from agent.settings import Settings
from memory import journal
from memory.backup import export_backup
from memory.crash import ENV_VAR
from memory.errors import MemoloopError
from memory.store import Memory
from retrain import registry, runs
from tests.test_backup import lived_in, tables  # noqa: F401  (a fixture, and the table-by-table comparison)
from tests.test_retrain import FAST, correct_twelve

# The figure is 10,000 rows (run by hand: MEMOLOOP_FAULT_ROWS=10000, README); CI keeps the
# same path at a size that embeds in ~10 s on 2 cores.
ROWS = int(os.environ.get("MEMOLOOP_FAULT_ROWS", "600"))


def memoloop(*args, home, crash=None) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop(ENV_VAR, None)
    if crash:
        env[ENV_VAR] = crash
    exe = Path(sys.executable).with_name("memoloop")
    return subprocess.Popen([str(exe), *args, "--home", str(home)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)


def sql(home, query):
    con = sqlite3.connect(f"file:{home / 'memoloop.db'}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def intact(home) -> bool:
    return sql(home, "PRAGMA integrity_check") == [("ok",)]


def kill_when(proc, home, ready, timeout=300):
    """SIGKILL the process group as soon as `ready()` holds (checked every 50 ms)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"finished before the kill: {proc.communicate()}"
        assert time.monotonic() < deadline, "the moment to kill never came"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def indexed(home) -> int:
    try:
        return sql(home, "SELECT count(*) FROM observation WHERE indexed")[0][0]
    except sqlite3.OperationalError:  # the database is still being created
        return 0


def test_kill_during_import_and_during_reindex(tmp_path):
    home = tmp_path / "home"
    notes = tmp_path / "notes.jsonl"
    notes.write_text("".join(json.dumps({"at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                                         "text": f"note {i}: Mochi napped on the {i % 7}th shelf"}) + "\n"
                             for i in range(ROWS)))
    first = memoloop("import", str(notes), "--json", home=home)
    kill_when(first, home, lambda: 0 < indexed(home) < ROWS)  # stored in SQL, halfway into the index
    assert intact(home) and sql(home, "SELECT count(*) FROM observation") == [(ROWS,)]

    catching_up = memoloop("recall", "Where did Mochi nap?", home=home)  # the next command repairs the index
    _, err = catching_up.communicate(timeout=600)
    assert catching_up.returncode == 0 and "indexing notes for search" in err, err[-500:]  # and shows it
    assert indexed(home) == ROWS
    again = memoloop("import", str(notes), "--json", home=home)  # the user runs the import again
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    assert json.loads(out) == {"observations": 0, "duplicates": ROWS}
    texts = sql(home, "SELECT text, count(*) FROM observation GROUP BY text")
    assert len(texts) == ROWS and {n for _, n in texts} == {1}  # every row exactly once
    with Memory.open(home) as mem:
        assert mem.pending() == 0 and mem.index.count() == ROWS

    reindex = memoloop("reindex", home=home)
    kill_when(reindex, home, lambda: 0 < indexed(home) < ROWS)
    assert intact(home)
    with Memory.open(home) as mem:  # the next open finishes what the killed reindex started
        assert mem.index.count() == ROWS and mem.pending() == 0


@pytest.fixture
def learner(mem, tiny_gemma_dir):
    Settings(base_model=str(tiny_gemma_dir)).save(mem.home)
    correct_twelve(mem)
    return mem


def one_active(mem) -> str:
    rows = sql(mem.home.root, "SELECT version, path FROM adapter WHERE status = 'active'")
    assert len(rows) == 1, rows
    assert adapter_files_ok(Path(rows[0][1])), rows
    return rows[0][0]


def test_kill_while_training_saving_and_promoting(learner, monkeypatch):
    mem = learner
    before = registry.active(mem).version  # the starter
    for crash in ("training", "adapter-saved", "promote"):
        monkeypatch.setenv(ENV_VAR, crash)  # the trainer subprocess inherits it
        run = runs.spawn(mem, runs.create(mem, "manual", FAST))
        if crash == "training":
            deadline = time.monotonic() + 240
            while runs.get(mem, run.id).progress.get("phase") != "train":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            with pytest.raises(MemoloopError, match=f"retrain run {run.id} is already running"):
                runs.create(mem, "manual")  # one retrain at a time
            os.killpg(run.pid, signal.SIGKILL)
        ended = runs.wait(mem, run.id, poll_s=0.3)
        assert ended.status == "failed" and "stopped without finishing" in ended.error, (crash, ended)
        assert intact(mem.home.root), crash
        assert one_active(mem) == before, crash  # nothing half-promoted
        published = [p.name for p in mem.home.adapters_dir.iterdir() if not p.name.startswith(".")]
        if crash == "adapter-saved":
            assert published == []  # the weights were written to a temp folder, never published
        for a in registry.adapters(mem):  # every registered adapter is a complete folder
            assert adapter_files_ok(Path(a.path)), (crash, a)
    assert runs.create(mem, "manual").status == "queued"  # the retrain lock is free again


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_kill_during_export_keeps_the_last_good_backup(lived_in, home_dir, tmp_path):  # noqa: F811
    lived_in.close()
    out = tmp_path / "backup.zip"
    ok = memoloop("export", "--out", str(out), home=home_dir)
    assert ok.wait(timeout=300) == 0
    good = sha(out)
    journal.log(Memory.open(home_dir), "Mochi had a seizure for a minute", subject="Mochi", at="2025-10-01")
    killed = memoloop("export", "--out", str(out), home=home_dir, crash="export-written")
    assert killed.wait(timeout=300) == -signal.SIGKILL
    assert sha(out) == good  # the old backup is whole; the new one never took its name
    assert [p.name for p in tmp_path.glob(".backup.zip.*.partial")]  # the half-done one is set apart...
    again = memoloop("export", "--out", str(out), home=home_dir)
    assert again.wait(timeout=300) == 0 and sha(out) != good
    assert list(tmp_path.glob(".backup.zip.*.partial")) == []  # ...and cleared by the next export


def test_kill_during_restore_then_restore_again(lived_in, home_dir, tmp_path):  # noqa: F811
    bundle = export_backup(lived_in, tmp_path / "backup.zip")
    other = tmp_path / "other"
    killed = memoloop("import", bundle, home=other, crash="restore-written")
    assert killed.wait(timeout=300) == -signal.SIGKILL
    assert intact(other) and sql(other, "SELECT count(*) FROM observation") == [(0,)]  # nothing half-imported
    again = memoloop("import", bundle, home=other)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert tables(other) == tables(home_dir)
