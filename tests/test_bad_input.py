"""Bad input, all of it: every command, every import format, every form field.

Each case: exit 2, one line on stderr that names the bad value (and what is valid), no traceback,
and the database's content unchanged (a hash of every row of every table, before and after).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from agent.settings import Settings
from memory import journal
from memory.dates import parse_when
from memory.errors import MemoloopError
from memory.interactions import save_interaction
from memory.models import Interaction
from memory.store import Memory
from memory.timewords import parse
from memory.transfer import parse_rows
from retrain import registry, schedule
from ui.cli import main

FUTURE = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture(scope="module")
def home(tmp_path_factory, tiny_gemma_dir):
    """A home in use: two pets, notes (one corrected), an answered question, the schedule, the starter."""
    root = tmp_path_factory.mktemp("bad-input") / "home"
    with Memory.open(root) as mem:
        Settings(base_model=str(tiny_gemma_dir), max_new_tokens=8).save(mem.home)
        journal.add_subject(mem, "Mochi")
        journal.add_subject(mem, "Luna")
        note = journal.log(mem, "Mochi weighs 4.2 kg", subject="Mochi", at="2025-01-03", kind="weight")
        journal.correct(mem, note.id, text="Mochi weighs 4.3 kg")
        journal.log(mem, "Luna sneezed twice", subject="Luna", at="2025-02-01", kind="symptom")
        save_interaction(mem, Interaction(question="Has Luna sneezed?", answer="Yes, on 2025-02-01."))
        schedule.policy(mem)
        registry.ensure_starter(mem)
    return root


def content(home: Path, but: str | None = None) -> str:
    """A hash of every row of every table (the bytes of the file may move with a checkpoint),
    `but` one table's rows."""
    con = sqlite3.connect(home / "memoloop.db")
    try:
        rows = [r for r in con.iterdump() if not (but and r.startswith(f'INSERT INTO "{but}"'))]
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()
    finally:
        con.close()


@pytest.fixture(scope="module")
def bad_files(home) -> dict[str, Path]:
    """Every bad file the import commands are given."""
    folder = home.parent / "files"
    folder.mkdir(exist_ok=True)
    made = {}

    def put(name, data):
        path = folder / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        made[name] = path

    ok = json.dumps({"subject": "Mochi", "at": "2025-03-01", "text": "fine"})
    rows = lambda *r: "\n".join([ok, *(json.dumps(x) if isinstance(x, dict) else x for x in r)]) + "\n"  # noqa: E731
    put("garbage.jsonl", bytes(range(256)) * 4)
    put("latin1.csv", "subject,at,text\nMochi,2025-01-01,Mochi mangé\n".encode("latin-1"))
    put("utf16.jsonl", (ok + "\n").encode("utf-16"))
    put("broken.jsonl", rows('{"subject": "Mochi", "at": "2025-01-02", "text": "cut', ok))
    put("array.jsonl", rows("[1, 2]"))
    put("nan.jsonl", rows('{"at": "2025-01-02", "text": "x", "metrics": {"weight_kg": NaN}}'))
    put("text-number.jsonl", rows({"at": "2025-01-02", "text": 123}))
    put("tags-number.jsonl", rows({"at": "2025-01-02", "text": "x", "tags": 5}))
    put("metric-word.jsonl", rows({"at": "2025-01-02", "text": "x", "metrics": {"weight_kg": "heavy"}}))
    put("metrics-list.jsonl", rows({"at": "2025-01-02", "text": "x", "metrics": "[1, 2]"}))
    put("at-number.jsonl", rows({"at": 20250102, "text": "x"}))
    put("at-word.jsonl", rows({"at": "last tuesday-ish", "text": "x"}))
    put("at-future.jsonl", rows({"at": FUTURE, "text": "x"}))
    put("subject-unknown.jsonl", rows({"subject": "Nala", "at": "2025-01-02", "text": "x"}))
    put("subject-number.jsonl", rows({"subject": 7, "at": "2025-01-02", "text": "x"}))
    put("kind-unknown.jsonl", rows({"at": "2025-01-02", "text": "x", "kind": "sneeze"}))
    put("field-unknown.jsonl", rows({"at": "2025-01-02", "txt": "x"}))
    put("nul-text.jsonl", rows({"at": "2025-01-02", "text": "a\u0000b"}))
    put("bell-text.jsonl", rows({"at": "2025-01-02", "text": "a\u0007b"}))
    put("empty-text.jsonl", rows({"at": "2025-01-02", "text": "   "}))
    put("no-at.jsonl", rows({"text": "x"}))
    put("huge-line.jsonl", rows({"at": "2025-01-02", "text": "m" * 50_000_000}))
    put("no-text.csv", "subject,at,note\nMochi,2025-01-01,x\n")
    put("extra-field.csv", "subject,at,text\nMochi,2025-01-01,x,surplus\n")
    put("missing-field.csv", "subject,at,text\nMochi,2025-01-01\n")
    put("duplicate-header.csv", "subject,at,text,text\nMochi,2025-01-01,x,y\n")
    put("long-field.csv", "subject,at,text\nMochi,2025-01-01," + "m" * 200_000 + "\n")
    put("bad-date.csv", "subject,at,text\nMochi,2025-02-30,x\n")
    put("unclosed-quote.csv", 'subject,at,text\nMochi,2025-01-01,"never closed\nMochi,2025-01-02,x\n')
    put("notes.txt", "hello")
    put("newer.jsonl", json.dumps({"type": "memoloop", "version": 99, "files": []}) + "\n")
    put("cut-backup.jsonl", json.dumps({"type": "memoloop", "version": 2, "files": []}) + "\n"
        + json.dumps({"type": "subject", "name": "Nala"}) + "\n")
    put("garbage.zip", b"PK\x03\x04 not really a zip")
    put("alpaca-object.json", json.dumps({"instruction": "x", "output": "y"}))
    put("alpaca-empty-output.json", json.dumps([{"instruction": "x", "output": ""}]))
    put("alpaca.txt", "instruction: x")
    put("not-an-image.jpg", "<html>a web page saved as .jpg</html>")
    (folder / "a-folder.jsonl").mkdir(exist_ok=True)
    made["a-folder.jsonl"] = folder / "a-folder.jsonl"
    return made


CASES = [
    # pets
    (["subjects", "add"], "subjects add needs a NAME"),
    (["subjects", "add", "mochi"], "subject 'mochi' already exists"),
    (["subjects", "add", "   "], "subject name is empty"),
    (["subjects", "add", "Na\x01la"], "control character U+0001"),
    (["subjects", "add", "Nala", "--sex", "tom"], "sex 'tom' is not valid; use one of: female, male"),
    (["subjects", "add", "Nala", "--birth-date", "2020-13-01"], "--birth-date '2020-13-01' is not a date"),
    (["subjects", "add", "Nala", "--birth-date", "last spring"], "--birth-date 'last spring' is not a date"),
    (["subjects", "add", "Nala", "--birth-date", FUTURE], f"--birth-date '{FUTURE}' is in the future"),
    (["subjects", "add", "Nala", "--neutered", "yes"], "unrecognized arguments: yes"),
    (["subjects", "rename", "Mochi"], "subjects rename needs NAME and NEW_NAME"),
    (["subjects", "rename", "Nala", "Nora"], "subject 'Nala' is not known"),
    (["subjects", "rename", "Mochi", "luna"], "subject 'luna' already exists"),
    (["subjects", "adopt", "Nala"], "invalid choice: 'adopt'"),
    # log
    (["log"], "the following arguments are required: text"),
    (["log", ""], "text is empty"),
    (["log", "   \n\t "], "text is empty"),
    (["log", "m" * 4001], "text is 4001 characters; the limit is 4000"),
    (["log", "Mochi\x00sneezed"], "control character U+0000"),
    (["log", "Mochi\x1b[31msneezed"], "control character U+001B"),
    (["log", "sneezed", "--subject", "Nala"], "subject 'Nala' is not known (known: Luna, Mochi)"),
    (["log", "sneezed", "--at", FUTURE], f"--at '{FUTURE}' is in the future"),
    (["log", "sneezed", "--at", "soon"], "--at 'soon' is not a date"),
    (["log", "sneezed", "--at", "2024-02-30"], "--at '2024-02-30' is not a date"),
    (["log", "sneezed", "--at", "2024-01-01T25:00"], "--at '2024-01-01T25:00' is not a date"),
    (["log", "sneezed", "--kind", "sneeze"], "kind 'sneeze' is not known; use one of"),
    (["log", "sneezed", "--kind", ""], "kind '' is empty; use one of"),
    (["log", "sneezed", "--weight", "-1"], "--weight -1.0 is not a cat's weight in kg"),
    (["log", "sneezed", "--weight", "0"], "--weight 0.0 is not a cat's weight in kg"),
    (["log", "sneezed", "--weight", "nan"], "--weight nan is not a cat's weight in kg"),
    (["log", "sneezed", "--weight", "inf"], "--weight inf is not a cat's weight in kg"),
    (["log", "sneezed", "--weight", "heavy"], "argument --weight: invalid float value: 'heavy'"),
    (["log", "sneezed", "--tag", ""], "tag is empty"),
    (["log", "sneezed", "--tag", "vet\x07"], "tag holds the control character U+0007"),
    # recall and ask
    (["recall", ""], "the question is empty"),
    (["recall", "q" * 2001], "the question is 2001 characters"),
    (["recall", "sneezing?", "-k", "0"], "-k 0 is not valid; give 1 to 50"),
    (["recall", "sneezing?", "-k", "many"], "-k many is not valid; give 1 to 50"),
    (["recall", "sneezing?", "--subject", "Nala"], "subject 'Nala' is not known"),
    (["ask", ""], "the question is empty"),
    (["ask", "   "], "the question is empty"),
    (["ask", "Has Nala sneezed?", "--subject", "Nala"], "subject 'Nala' is not known"),
    (["ask", "q" * 2001], "the question is 2001 characters"),
    # feedback
    (["feedback", "999", "--up"], "interaction 999 does not exist"),
    (["feedback", "abc", "--up"], "'abc' is not an interaction id"),
    (["feedback", "0", "--up"], "'0' is not an interaction id"),
    (["feedback", "1"], "feedback needs --up, --down or --correction TEXT"),
    (["feedback", "1", "--correction", "  "], "the correction is empty"),
    (["feedback", "1", "--up", "--down"], "argument --down: not allowed with argument --up"),
    (["feedback", "1", "--up", "--note", "ok\x00"], "note holds the control character U+0000"),
    (["feedback", "1", "--correction", "c" * 4001], "the correction is 4001 characters"),
    # edit, delete, undo
    (["edit", "999", "Mochi sneezed"], "observation 999 does not exist"),
    (["edit", "0", "Mochi sneezed"], "'0' is not a note id"),
    (["edit", "-3", "Mochi sneezed"], "'-3' is not a note id"),
    (["edit", "2", ""], "text is empty"),
    (["edit", "2"], "edit needs the new TEXT, --at or --kind"),
    (["edit", "2", "x", "--at", "soon"], "--at 'soon' is not a date"),
    (["edit", "2", "x", "--kind", "sneeze"], "kind 'sneeze' is not known"),
    (["edit", "1", "x"], "observation 1 does not exist or was already replaced or deleted"),
    (["delete", "999"], "observation 999 does not exist"),
    (["delete", "1"], "observation 1 was replaced by #2; delete that one instead"),
    (["delete", "two"], "'two' is not a note id"),
    (["undo", "999"], "observation 999 does not exist"),
    (["undo", "3"], "observation 3 was neither deleted nor a correction; nothing to undo"),
    # export
    (["export", "--out", "/nonexistent-dir/backup.zip"], "cannot write '/nonexistent-dir/backup.zip'"),
    (["export", "--out", "backup.txt"], "--out 'backup.txt' must end in .zip"),
    # import: every format
    (["import", "missing.jsonl"], "cannot read 'missing.jsonl'"),
    (["import", "{a-folder.jsonl}"], "is a folder; give the file to import"),
    (["import", "{notes.txt}"], "is not a .jsonl, .csv or .zip file"),
    (["import", "{garbage.jsonl}"], "is not a text file (it holds NUL bytes)"),
    (["import", "{latin1.csv}"], "is not UTF-8 (byte 0xe9"),
    (["import", "{utf16.jsonl}"], "is not UTF-8 (byte 0xff at offset 0)"),
    (["import", "{broken.jsonl}"], "line 2: not valid JSON"),
    (["import", "{array.jsonl}"], "line 2: expected a JSON object"),
    (["import", "{nan.jsonl}"], "line 2: not valid JSON (NaN is not a number memoloop stores)"),
    (["import", "{text-number.jsonl}"], "line 2: text 123 is not text"),
    (["import", "{tags-number.jsonl}"], "line 2: tags 5 is not a list of words"),
    (["import", "{metric-word.jsonl}"], "line 2: metric 'weight_kg' = 'heavy' is not a finite number"),
    (["import", "{metrics-list.jsonl}"], "line 2: metrics [1, 2] is not a JSON object"),
    (["import", "{at-number.jsonl}"], "line 2: at 20250102 is not a date"),
    (["import", "{at-word.jsonl}"], "line 2: at 'last tuesday-ish' is not a date"),
    (["import", "{at-future.jsonl}"], f"line 2: at '{FUTURE}' is in the future"),
    (["import", "{subject-unknown.jsonl}"], "line 2: subject 'Nala' is not known"),
    (["import", "{subject-number.jsonl}"], "line 2: subject 7 is not a pet's name"),
    (["import", "{kind-unknown.jsonl}"], "line 2: kind 'sneeze' is not known"),
    (["import", "{field-unknown.jsonl}"], "line 2: 'txt' is not a field of a note; valid: subject, at, text"),
    (["import", "{nul-text.jsonl}"], "line 2: text holds the control character U+0000"),
    (["import", "{bell-text.jsonl}"], "line 2: text holds the control character U+0007"),
    (["import", "{empty-text.jsonl}"], "line 2: text is empty"),
    (["import", "{no-at.jsonl}"], "line 2: 'at' is missing"),
    (["import", "{huge-line.jsonl}"], "line 2: text is 50000000 characters; the limit is 4000"),
    (["import", "{no-text.csv}"], "line 1: the CSV header needs at least 'text'"),
    (["import", "{extra-field.csv}"], "line 2: 4 fields, but the header has 3"),
    (["import", "{missing-field.csv}"], "line 2: 2 fields, but the header has 3"),
    (["import", "{duplicate-header.csv}"], "line 1: the CSV header names 'text' twice"),
    (["import", "{long-field.csv}"], "line 2: text is 200000 characters; the limit is 4000"),
    (["import", "{bad-date.csv}"], "line 2: at '2025-02-30' is not a date"),
    (["import", "{unclosed-quote.csv}"], "line 3: not valid CSV (unexpected end of data)"),
    (["import", "{newer.jsonl}"], "is a format-99 backup from a newer memoloop; this one reads formats 1 to 2"),
    (["import", "{cut-backup.jsonl}"], "is incomplete (it stops before its end line)"),
    (["import", "{garbage.zip}"], "is not a complete memoloop backup"),
    # training data, schedule, adapters
    (["dataset", "import"], "dataset import needs a FILE"),
    (["dataset", "import", "missing.json"], "cannot read 'missing.json'"),
    (["dataset", "import", "{alpaca-object.json}"], "a JSON list"),
    (["dataset", "import", "{alpaca-empty-output.json}"], "'output' is empty"),
    (["dataset", "import", "{alpaca.txt}"], "is not a .json (Alpaca list) or .csv"),
    (["schedule", "set"], "schedule set needs a CRON"),
    (["schedule", "set", "61 * * * *"], "cron '61 * * * *' is not valid"),
    (["schedule", "set", "at midnight"], "cron 'at midnight' is not valid"),
    (["schedule", "set", "--min-new-records", "0"], "--min-new-records 0 is not valid; use 1 or more"),
    (["schedule", "set", "--min-new-records", "ten"], "argument --min-new-records: invalid int value: 'ten'"),
    (["adapters", "activate"], "adapters activate needs a VERSION"),
    (["adapters", "activate", "nope"], "adapter 'nope' does not exist; known versions: starter"),
    (["adapters", "rollback"], "there is no earlier adapter to roll back to"),
    (["adapters", "delete"], "invalid choice: 'delete'"),
    (["up", "--port", "80"], "--port 80 is not valid; use 1024 to 65535"),
    (["up", "--port", "70000"], "--port 70000 is not valid; use 1024 to 65535"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    # the care plan, the vet summary, photos
    (["care", "add", "Felimazole", "--subject", "Mochi", "--every", "0"], "--every 0 is out of range; give 1 to"),
    (["care", "add", "Felimazole", "--subject", "Mochi", "--every", "1", "--dose", "5"], "--dose '5' has no amount with a unit"),
    (["care", "add", "Felimazole", "--subject", "Mochi", "--times", "25:00"], "--times '25:00' is not a time of day"),
    (["care", "add", "Felimazole", "--subject", "Nala", "--every", "1"], "subject 'Nala' is not known"),
    (["care", "set", "999", "--every", "7"], "care item 999 does not exist"),
    (["care", "done", "Felimazole"], "care done needs the item's ID, not 'Felimazole'"),
    (["due", "--soon", "-1"], "--soon -1 is negative"),
    (["summary", "Nala"], "subject 'Nala' is not known"),
    (["summary", "Mochi", "--since", "2025-02-30"], "--since '2025-02-30' is not a date"),
    (["summary", "Mochi", "--since", "2025-03-01", "--until", "2025-01-01"], "--since 2025-03-01 is after --until"),
    (["log", "Mochi's chin", "--subject", "Mochi", "--photo", "{not-an-image.jpg}"], "is not an image memoloop can read"),
    (["log", "Mochi's chin", "--subject", "Mochi", "--photo", "missing.png"], "photo 'missing.png' is not a file"),
]


def test_there_are_at_least_80_cases():
    assert len(CASES) >= 80


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(a)[:40] for a, _ in CASES])
def test_a_bad_input_is_one_clear_line_exit_2_and_changes_nothing(home, bad_files, capsys, args, message):
    args = [str(bad_files[a[1:-1]]) if a.startswith("{") else a for a in args]
    before = content(home)
    assert main([*args, "--home", str(home)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("memoloop: error: "), err[-500:]
    assert message in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
    assert content(home) == before


# --- the app's forms ---------------------------------------------------------------------

APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"

def new_pet(at):
    return [t for t in at.text_input if t.label == "Name" and not t.key][0]


FORMS = [
    ("journal", lambda at: at.text_input[0].input("Mochi\x07 sneezed"), "log_quick", "control character U+0007"),
    ("journal", lambda at: at.text_input[0].input("m" * 4001), "log_quick", "4001 characters"),
    ("journal", lambda at: at.text_input[0].input("  "), "log_quick", "empty"),
    ("journal", lambda at: (at.text_area[0].input("sneezed"), at.text_input[1].input("vet\x00")), "log_full",
     "control character U+0000"),
    ("journal", lambda at: at.text_area[0].input("Mochi sneezed\x1b[2J"), "log_full", "control character U+001B"),
    ("pets", lambda at: new_pet(at).input(""), "add_pet", "subject name is empty"),
    ("pets", lambda at: new_pet(at).input("mochi"), "add_pet", "already exists"),
    ("pets", lambda at: new_pet(at).input("Nala\x1b"), "add_pet", "control character U+001B"),
    ("pets", lambda at: (new_pet(at).input("Nala"), [t for t in at.text_area if not t.key][0].input("shy\x00")), "add_pet",
     "notes holds the control character U+0000"),
    ("settings", lambda at: at.text_input(key="base_model").input("/nowhere/gemma"), "save_settings", "is not a model folder"),
]


@pytest.mark.parametrize("page, fill, button, message", FORMS, ids=[f"{p}-{b}-{i}" for i, (p, _, b, _) in enumerate(FORMS)])
def test_a_bad_form_field_is_a_message_and_changes_nothing(home, monkeypatch, page, fill, button, message):
    monkeypatch.setenv("MEMOLOOP_HOME", str(home))
    at = AppTest.from_file(str(APP), default_timeout=60).run()  # Today, the first page, adds the pack's care plan
    at.switch_page(f"app_pages/{page}.py").run()
    before = content(home)
    fill(at)
    at.button(key=button).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.error and message.lower() in at.error[0].value.lower(), [e.value for e in at.error]
    assert content(home) == before


# --- properties -----------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_date_text_is_a_date_or_one_clear_error(text):
    try:
        parsed = parse_when(text, allow_future=True, field="at")
    except MemoloopError as exc:
        assert "is not a date" in str(exc) or "is in the future" in str(exc)
    else:
        assert parsed.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["since", "March", "last", "week", "2024-02-13", "before", "the move", "in",
                                 "first", "time", "3", "days", "ago", "yesterday", "on", "a", "month", "Feb", "31"]),
                max_size=8).map(" ".join) | st.text(max_size=60))
def test_any_question_gets_a_time_window_that_is_not_backwards(question):
    from memory.dates import now

    window = parse(question, now())
    assert window.start is None or window.end is None or window.start <= window.end, (question, window)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400), st.sampled_from([".jsonl", ".csv"]))
def test_any_bytes_parse_as_rows_or_fail_with_one_clear_error(tmp_path, data, suffix):
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    try:
        rows = parse_rows(path)
    except MemoloopError as exc:
        assert str(exc).count("\n") == 0 and str(path) in str(exc)
    else:
        assert all(isinstance(n, int) and isinstance(r, dict) for n, r in rows)
