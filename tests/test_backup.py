"""A backup restores everything: the database table by table, the files, the active adapter's answers."""
import hashlib
import json
import zipfile

import pytest
from sqlalchemy import create_engine, inspect, select
from sqlmodel import SQLModel

from agent.answer import Companion
from agent.settings import Settings
from memory import journal
from memory.backup import VERSION, export_backup
from memory.engines import Engines
from memory.errors import MemoloopError
from memory.interactions import add_feedback, get_interaction, save_interaction
from memory.models import Interaction
from memory.store import Memory
from memory.transfer import import_file
from retrain import registry, runs
from retrain.dataset_import import import_records
from retrain.schedule import set_policy

# every table a user would miss, and the column that names a row whatever its id
KEYS = {"subject": "name", "observation": "uid", "interaction": "uid", "feedback": "uid",
        "training_record": "digest", "retrain_run": "created_at", "adapter": "version", "schedule_policy": "id",
        "care_item": "uid", "photo": "uid"}
LINKS = {"subject_id": "subject", "supersedes_id": "observation", "superseded_by_id": "observation",
         "interaction_id": "interaction", "run_id": "retrain_run", "observation_id": "observation"}
# derived or transient: not backed up (reminders and alerts are found again from the notes; the
# vector index is filled again)
REBUILT = {"_migrations", "lease", "apscheduler_jobs", "sqlite_sequence", "reminder", "alert", "vector_index"}


def tables(home) -> dict:
    """Every backed-up table as sorted rows with ids replaced by the keys of the rows they name,
    read as typed values (the same from SQLite and PostgreSQL)."""
    url = Engines.of(home).database_url or f"sqlite:///{home / 'memoloop.db'}"
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
        assert {n for n in names if not n.startswith("observation_fts")} - REBUILT == set(KEYS)
        with engine.connect() as con:
            read = {t: [r._asdict() for r in con.execute(select(SQLModel.metadata.tables[t]))] for t in KEYS}
    finally:
        engine.dispose()
    key_of = {t: {r["id"]: r[k] for r in read[t]} for t, k in KEYS.items()}
    out = {}
    for table, key in KEYS.items():
        rows = []
        for row in sorted(read[table], key=lambda r: r[key]):
            if table != "schedule_policy":
                del row["id"]
            for column, target in LINKS.items():
                if row.get(column) is not None:
                    row[column] = key_of[target][row[column]]
            for column in ("retrieved", "citations"):
                if column in row:
                    row[column] = [{**c, "id": key_of["observation"].get(c["id"])} for c in row[column]]
            for column in ("path", "log_path"):
                if row.get(column):
                    row[column] = row[column].replace(str(home), "HOME")
            rows.append(row)
        out[table] = rows
    return out


def files(home) -> dict:
    return {p.relative_to(home).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for sub in ("adapters", "logs", "datasets") for p in sorted((home / sub).rglob("*")) if p.is_file()} | {
        "settings.json": hashlib.sha256((home / "settings.json").read_bytes()).hexdigest()}


def tiny_adapter(folder, tiny_gemma_dir):
    """A LoRA with random (non-zero) weights on the tiny Gemma: answers differ from the bare base."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_gemma_dir),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.save_pretrained(folder)
    (folder / "meta.json").write_text(json.dumps({"version": "v1", "base_model": tiny_gemma_dir.name}))
    return folder


@pytest.fixture
def lived_in(mem, cats, home_dir, tiny_gemma_dir, tmp_path):
    """A home after months of use: every kind of row and file a backup must carry."""
    journal.update_subject(mem, "Luna", notes="shy, loves the window", sex="female", neutered=True,
                           birth_date=__import__("datetime").date(2021, 5, 2))
    journal.correct(mem, cats["Mochi weighs 4.2 kg"], metrics={"weight_kg": 4.3})  # only the metric changed
    journal.delete(mem, cats["Mochi ate all her breakfast"])
    journal.log(mem, "Mochi ate all her breakfast", subject="Mochi", at="2025-06-01", kind="appetite")
    undone = journal.correct(mem, cats["Luna sneezing a lot, watery eyes"], text="Luna sneezing, eyes fine")
    journal.undo_correction(mem, undone.id)
    wrong = journal.correct(mem, cats["Mochi sneezed twice this morning"], text="Mochi sneezed three times")
    journal.delete(mem, wrong.id)
    cited = journal.get(mem, cats["Sneezing came back after the move, clear discharge from the nose"])
    it = save_interaction(mem, Interaction(
        question="Has Mochi sneezed before?", subject_id=cited.subject_id, answer="Yes, on 2025-01-15.",
        citations=[{"id": cited.id, "at": cited.happened_at.isoformat(), "text": cited.text}],
        retrieved=[{"id": cited.id, "score": 0.71}], prompt="p", model_answer="Yes, on 2025-01-15."))
    add_feedback(mem, it.id, rating=-1, correction="Yes: on 2024-02-10 and 2025-01-15.", note="missed one")
    records = tmp_path / "mine.json"
    records.write_text(json.dumps([{"instruction": "Is lily toxic to cats?", "output": "Yes, very."}]))
    import_records(mem, records)
    run = runs.create(mem, "manual")
    log = home_dir / "logs" / f"run-{run.id}.log"
    log.write_text("step 1 loss 2.0\n")
    (home_dir / "datasets" / f"run-{run.id}").mkdir()
    (home_dir / "datasets" / f"run-{run.id}" / "train.json").write_text("[]")
    runs.update(mem, run.id, status="succeeded", log_path=str(log), eval_loss={"base": 2.0, "candidate": 1.5})
    adapter = tiny_adapter(home_dir / "adapters" / "v1", tiny_gemma_dir)
    registry.register(mem, "v1", adapter, run_id=run.id, base_model=str(tiny_gemma_dir), metrics={"x": 1})
    registry.activate(mem, "v1")
    set_policy(mem, cron="0 4 * * 1", min_new_records=5, paused=True)
    Settings(base_model=str(tiny_gemma_dir), max_new_tokens=12).save(mem.home)
    return mem


def answer(home) -> tuple:
    """What the active adapter wrote (shown and cut sentences alike), and which adapter it was."""
    with Memory.open(home) as mem:
        a = Companion(mem, settings=Settings.load(mem.home), progress=lambda msg: None).ask("Has Mochi sneezed before?")
        it = get_interaction(mem, a.interaction_id)
        return a.answer, it.model_answer, it.cut, a.adapter


def test_restore_into_an_empty_home_gives_back_every_table_file_and_answer(lived_in, home_dir, tmp_path):
    bundle = export_backup(lived_in, tmp_path / "backup.zip")
    other = tmp_path / "other"
    with Memory.open(other) as mem:
        report = import_file(mem, bundle)
        assert mem.pending() == 0 and mem.index.count() == len(journal.timeline(mem))
    assert (report.adapters, report.retrain_runs, report.training_records, report.feedback) == (1, 1, 1, 1)
    assert tables(other) == tables(home_dir)
    assert files(other) == files(home_dir)
    with Memory.open(other) as mem:  # the next export is the same (ids and the time of export aside)
        again = export_backup(mem, tmp_path / "again.zip")
    read = lambda path: zipfile.ZipFile(path).read("memoloop.jsonl").decode().splitlines()[1:]  # noqa: E731
    assert read(again) == read(bundle)
    live = {o.text: o.metrics for o in journal.timeline(Memory.open(other))}
    assert live["Mochi weighs 4.2 kg"] == {"weight_kg": 4.3}  # the metric-only correction
    assert "Mochi ate all her breakfast" in live and "Luna sneezing a lot, watery eyes" in live
    assert "Mochi sneezed twice this morning" not in live and "Mochi sneezed three times" not in live
    restored = answer(other)
    assert restored == answer(home_dir) and restored[-1] == "v1"


def test_importing_a_backup_twice_or_into_its_own_home_changes_nothing(lived_in, home_dir, tmp_path):
    bundle = export_backup(lived_in, tmp_path / "backup.zip")
    before = tables(home_dir)
    report = import_file(lived_in, bundle)
    assert report.observations == report.interactions == report.feedback == 0 and report.duplicates > 0
    assert tables(home_dir) == before
    other = tmp_path / "other"
    with Memory.open(other) as mem:
        import_file(mem, bundle)
        once = tables(other)
        second = import_file(mem, bundle)
    assert tables(other) == once and second.observations == 0 and second.adapters == 0


def test_a_jsonl_backup_restores_the_records_and_says_adapters_need_the_zip(lived_in, home_dir, tmp_path):
    path = export_backup(lived_in, tmp_path / "backup.jsonl")
    other = tmp_path / "other"
    with Memory.open(other) as mem:
        report = import_file(mem, path)
    assert report.adapters == 0 and any(".zip" in line for line in report.kept)
    mine, theirs = tables(home_dir), tables(other)
    for table in ("subject", "observation", "interaction", "feedback", "training_record", "retrain_run"):
        assert theirs[table] == mine[table], table


def test_a_home_that_has_retrained_keeps_its_own_adapters(lived_in, tmp_path, tiny_gemma_dir):
    bundle = export_backup(lived_in, tmp_path / "backup.zip")
    with Memory.open(tmp_path / "other") as mem:
        journal.add_subject(mem, "Mochi")
        run = runs.create(mem, "manual")
        registry.register(mem, "v1", tiny_adapter(mem.home.adapters_dir / "v1", tiny_gemma_dir), run_id=run.id,
                          base_model="mine", metrics={})
        report = import_file(mem, bundle)
        assert report.observations > 0 and report.adapters == 0 and report.kept
        assert [a.base_model for a in registry.adapters(mem) if a.version == "v1"] == ["mine"]


def backup_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_lines(path, lines):
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


@pytest.mark.parametrize("damage, message", [
    (lambda lines: lines[:-1], "is incomplete"),
    (lambda lines: lines[:len(lines) // 2], "is incomplete"),
    (lambda lines: [{**lines[0], "version": VERSION + 1}] + lines[1:], "from a newer memoloop"),
    (lambda lines: lines[:3] + [{"type": "video"}] + lines[3:-1] + [{"type": "end", "records": len(lines) - 1}],
     "type 'video' is not one of"),
    (lambda lines: [dict(x, text=123) if x["type"] == "observation" else x for x in lines], "text 123 is not text"),
    (lambda lines: [dict(x, interaction_id=999) if x["type"] == "feedback" else x for x in lines],
     "interaction_id 999 is not a interaction in this file"),
    (lambda lines: [dict(x, metrics={"weight_kg": "heavy"}) if x["type"] == "observation" else x for x in lines],
     "is not a finite number"),
    (lambda lines: [dict(x, text="a\x00b") if x["type"] == "observation" else x for x in lines],
     "holds a control character"),
    (lambda lines: [dict(x, birth_date="May 2021") if x["type"] == "subject" else x for x in lines],
     "birth_date 'May 2021' is not an ISO 8601 date"),
])
def test_a_damaged_backup_names_the_fault_and_imports_nothing(lived_in, tmp_path, damage, message):
    lines = backup_lines(export_backup(lived_in, tmp_path / "backup.jsonl") and tmp_path / "backup.jsonl")
    path = write_lines(tmp_path / "damaged.jsonl", damage(lines))
    with Memory.open(tmp_path / "other") as mem:
        with pytest.raises(MemoloopError, match=message):
            import_file(mem, path)
        assert journal.timeline(mem, include_deleted=True) == [] and journal.list_subjects(mem) == []


def test_a_damaged_file_in_a_zip_is_refused_before_anything_lands(lived_in, tmp_path):
    good = zipfile.ZipFile(export_backup(lived_in, tmp_path / "backup.zip"))
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as out:
        for item in good.infolist():
            data = good.read(item)
            out.writestr(item, data[:-1] + b"!" if item.filename.endswith(".safetensors") else data)
    with Memory.open(tmp_path / "other") as mem:
        with pytest.raises(MemoloopError, match="is damaged"):
            import_file(mem, bad)
        assert journal.list_subjects(mem) == [] and not (mem.home.adapters_dir / "v1").exists()
    (tmp_path / "cut.zip").write_bytes((tmp_path / "backup.zip").read_bytes()[:-200])
    with Memory.open(tmp_path / "third") as mem, pytest.raises(MemoloopError, match="not a complete memoloop backup"):
        import_file(mem, tmp_path / "cut.zip")


def test_a_version_1_export_is_still_read(mem, cats, tmp_path):
    """The first exports: typed lines, no header, `at` for the date, only `supersedes_id` links."""
    corrected = journal.correct(mem, cats["Mochi weighs 4.2 kg"], text="Mochi weighs 4.3 kg")
    lines = [{"type": "subject", "name": "Mochi", "species": "cat", "notes": "", "sex": None, "neutered": None,
              "birth_date": None}]
    for o in journal.timeline(mem, subject="Mochi", include_deleted=True) + [journal.get(mem, cats["Mochi weighs 4.2 kg"])]:
        lines.append({"type": "observation", "id": o.id, "subject": "Mochi", "at": o.happened_at.isoformat(),
                      "logged_at": o.logged_at.isoformat(), "kind": o.kind, "text": o.text, "metrics": o.metrics,
                      "tags": o.tags, "source": o.source, "supersedes_id": o.supersedes_id, "deleted_at": None})
    path = write_lines(tmp_path / "old.jsonl", lines)
    with Memory.open(tmp_path / "other") as other:
        assert import_file(other, path).observations == len(lines) - 1
        live = {o.text for o in journal.timeline(other)}
        assert "Mochi weighs 4.3 kg" in live and "Mochi weighs 4.2 kg" not in live
        assert import_file(other, path).observations == 0  # the same version-1 file twice: nothing new
    assert corrected.supersedes_id == cats["Mochi weighs 4.2 kg"]


def test_the_history_pages_download_is_the_same_zip(lived_in, tmp_path):
    import io

    from memory.backup import backup_zip

    bundle = zipfile.ZipFile(io.BytesIO(backup_zip(lived_in)))
    header = json.loads(bundle.read("memoloop.jsonl").decode().splitlines()[0])
    assert header["version"] == VERSION and {f["path"] for f in header["files"]} <= set(bundle.namelist())
    assert "adapters/v1/adapter_model.safetensors" in bundle.namelist()
    assert not list(lived_in.home.root.glob(".export-*"))  # its temp folder is gone
