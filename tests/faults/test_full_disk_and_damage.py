"""A full disk and damaged files: a clear line, nothing half-written, SQL untouched, and a repair."""
import resource
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from agent.answer import Companion
from agent.settings import Settings
from memory import journal
from memory.store import Memory
from retrain import registry, schedule
from tests.test_bad_input import content
from tests.conftest import REPO
from tests.test_backup import tiny_adapter
from ui.cli import main


def memoloop(*args, home, fsize=None):
    """The command with the file size limit a full disk would impose (writes beyond it fail: EFBIG)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    exe = Path(sys.executable).with_name("memoloop")
    return subprocess.run([str(exe), *args, "--home", str(home)], capture_output=True, text=True, timeout=300,
                          preexec_fn=limit if fsize else None)


def one_clear_line(result, *words, code=2):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(w in lines[0] for w in words), lines[0]


def test_export_and_import_on_a_full_disk(mem, cats, home_dir, tmp_path):
    registry.ensure_starter(mem)  # 7 MB of adapter weights to back up
    before = content(home_dir)
    out = tmp_path / "backup.zip"
    one_clear_line(memoloop("export", "--out", str(out), home=home_dir, fsize=1 << 20),
                   f"cannot write '{out}'", "File too large", "nothing was written")
    assert not out.exists() and not list(tmp_path.glob(".backup.zip*"))

    notes = tmp_path / "notes.jsonl"
    notes.write_text("".join(f'{{"at": "2024-01-01", "text": "note {i} {"x" * 300}"}}\n' for i in range(3000)))
    size = (home_dir / "memoloop.db").stat().st_size
    one_clear_line(memoloop("import", str(notes), home=home_dir, fsize=size + 4096),
                   "the disk is full", "nothing was stored", code=1)  # a failure, not bad input
    assert content(home_dir) == before
    con = sqlite3.connect(home_dir / "memoloop.db")
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_damaged_search_index_is_named_and_rebuilt_by_reindex(mem, cats, home_dir, capsys):
    mem.close()
    before = content(home_dir, but="vector_index")
    (home_dir / "chroma" / "chroma.sqlite3").write_bytes(b"\x13" * 4096)
    home = ["--home", str(home_dir)]
    assert main(["recall", "Has Mochi sneezed?", *home]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "search index" in err[0] and "is damaged" in err[0] and "memoloop reindex" in err[0]
    assert main(["reindex", *home]) == 0 and f"reindexed {len(cats)}" in capsys.readouterr().out
    assert main(["recall", "Has Mochi sneezed?", *home]) == 0
    assert "Mochi sneezed twice this morning" in capsys.readouterr().out
    # SQL, the source of truth, is never touched; only the name of the index its flags describe changes
    assert content(home_dir, but="vector_index") == before


def test_a_damaged_adapter_falls_back_and_rolls_back(mem, cats, home_dir, tiny_gemma_dir):
    Settings(base_model=str(tiny_gemma_dir), max_new_tokens=8).save(mem.home)
    for version in ("v1", "v2"):
        folder = tiny_adapter(home_dir / "adapters" / version, tiny_gemma_dir)
        registry.register(mem, version, folder, run_id=None, base_model=tiny_gemma_dir.name, metrics={})
        registry.activate(mem, version)
    (home_dir / "adapters" / "v2" / "adapter_model.safetensors").write_bytes(b"not weights")
    companion = Companion(mem, progress=lambda msg: None)
    answer = companion.ask("Has Mochi sneezed before?")
    assert answer.adapter == "v1"  # the previous good adapter answered
    assert any("v2" in w and "could not be loaded" in w for w in companion.warnings), companion.warnings
    rolled = memoloop("adapters", "rollback", home=home_dir)
    assert rolled.returncode == 0 and "v1 is the active adapter again" in rolled.stdout, rolled.stderr


def test_a_damaged_job_store_is_rebuilt_from_the_schedule(mem, cats, home_dir):
    scheduler = schedule.start(mem)
    scheduler.shutdown(wait=True)
    before = [o.text for o in journal.timeline(mem)]
    with mem.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE apscheduler_jobs SET job_state = x'00deadbeef'")
    scheduler = schedule.start(mem)  # the broken job is dropped and made again from the policy
    try:
        assert scheduler.get_job(schedule.JOB_ID, jobstore="default").next_run_time is not None
    finally:
        scheduler.shutdown(wait=True)
    assert [o.text for o in journal.timeline(Memory.open(home_dir))] == before


def limited(code: str, fsize: int, *args) -> subprocess.CompletedProcess:
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                          text=True, timeout=300, preexec_fn=limit, cwd=REPO)


def test_an_adapter_or_a_snapshot_cut_short_by_a_full_disk_is_never_published(tmp_path, tiny_gemma_dir):
    adapters = tmp_path / "adapters"
    saved = limited("""
        import sys
        from pathlib import Path
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM
        from retrain.manifest import Manifest
        from retrain.trainer import save_adapter
        model = get_peft_model(AutoModelForCausalLM.from_pretrained(sys.argv[1]),
                               LoraConfig(r=16, target_modules=["q_proj", "v_proj"]))
        save_adapter(model, Path(sys.argv[2]), Manifest("v9", "tiny", "", {}, {}))
    """, 4096, tiny_gemma_dir, adapters / "v9")  # the config fits, the 16 KB of weights do not
    assert saved.returncode != 0 and "File too large" in saved.stderr, saved.stderr[-800:]
    assert list(adapters.iterdir()) == []  # no folder published, no temp folder left

    snapshot = limited("""
        import sys
        from pathlib import Path
        from retrain.dataset import Dataset, Record, write_snapshot
        rows = [Record(f"When did Mochi sneeze? {i}", "", "On 2024-02-13. " * 20) for i in range(50)]
        write_snapshot(Dataset(train=rows, eval=rows[:5], probe=[]), Path(sys.argv[1]))
    """, 4096, tmp_path / "datasets" / "run-1")
    assert snapshot.returncode != 0 and "File too large" in snapshot.stderr, snapshot.stderr[-800:]
    assert not (tmp_path / "datasets" / "run-1").exists()  # only a .tmp folder, which nothing reads
