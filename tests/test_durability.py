"""Crashes and concurrent writers never lose a note: SQL first, the index is repaired."""
import subprocess
import sys
import textwrap

from memory.recall import recall
from memory.store import Memory


def run_python(code: str, home) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), str(home)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_crash_between_the_sql_write_and_the_index_write_is_repaired_on_next_open(mem, cats, home_dir):
    crash = run_python("""
        import os, sys
        from memory import journal
        from memory.index import ObservationIndex
        from memory.store import Memory
        ObservationIndex.upsert = lambda *a, **k: os._exit(9)   # the process dies mid-write
        journal.log(Memory.open(sys.argv[1]), "Mochi had a seizure for a minute", subject="Mochi",
                    at="2025-09-30", kind="symptom")
    """, home_dir)
    crash.communicate(timeout=300)
    assert crash.returncode == 9

    reopened = Memory.open(home_dir)
    assert reopened.pending() == 1  # stored in SQL, not yet in the index
    found = recall(reopened, "Has Mochi had a seizure?")
    assert [h.text for h in found.relevant] == ["Mochi had a seizure for a minute"]
    assert reopened.pending() == 0 and reopened.index.count() == len(cats) + 1


def test_a_lost_index_folder_is_rebuilt_from_sql(mem, cats, home_dir):
    import shutil

    mem.close()  # the folder is lost while memoloop is not running; a new process opens the home
    shutil.rmtree(home_dir / "chroma")
    fresh = Memory.open(home_dir)
    assert fresh.index.count() == len(cats)
    assert not recall(fresh, "Is Luna sneezing?").no_record
