"""Households on one PostgreSQL database: two people of two households sign in, and recall, ask,
History, export, the dataset and retrain never see the other household's rows (each household's
records are a schema of their own: memory/households.py). A wrong password, an unknown household
and households on the embedded journal are one line and change nothing."""
import io
import itertools
import json
import sys

import pytest
from sqlalchemy import create_engine, text

from agent.answer import Companion
from agent.settings import Settings
from memory import households
from memory.backup import export_backup
from memory.engines import Engines, create_database
from memory.interactions import add_feedback
from memory.recall import recall
from memory.store import Memory
from retrain import dataset as datasets
from retrain import registry, runs
from tests.test_postgres import one_line
from tests.test_retrain import FAST
from tests.test_ui_pages import open_page, texts
from ui import resources, sign_in
from ui.cli import main

A, B = "Shelter A", "Shelter B"
NOTES = {A: ["Mochi sneezed after the move to the blue flat", "Mochi ate tuna pate with a sprinkle of lysine"],
         B: ["Mochi vomited a hairball on the red carpet", "Mochi limped on the left hind leg after jumping"]}
WORDS = {A: "blue flat", B: "red carpet"}  # in nothing the other household wrote
_numbers = itertools.count()  # each test's own databases on the session's cluster


def cli(*args, password=None) -> int:
    if password is not None:
        sys.stdin = io.StringIO(password + "\n")
    try:
        return main(list(args))
    finally:
        sys.stdin = sys.__stdin__


@pytest.fixture
def shelters(home_dir, pg_server, tiny_gemma_dir, capsys):
    """A home on its own database with two households, alice in A and bob in B, each with a Mochi."""
    home = ["--home", str(home_dir)]
    database = create_database(pg_server, f"homes{next(_numbers)}")
    assert cli("settings", "--database-url", database, *home) == 0
    Settings(base_model=str(tiny_gemma_dir), max_new_tokens=16).save(Memory.open(home_dir).home)
    assert cli("households", "add", A, *home) == 0 and cli("households", "add", B, *home) == 0
    assert cli("people", "add", "alice", "--household", A, "--password-stdin", *home, password="alice-secret") == 0
    assert cli("people", "add", "bob", "--name", "Bob", "--household", B, "--password-stdin", *home,
               password="bob-secret") == 0
    for household, author in ((A, "alice"), (B, "bob")):
        assert cli("subjects", "add", "Mochi", "--household", household, *home) == 0
        with Memory.open(home_dir, household=household, author=author) as mem:
            from memory import journal
            for note in NOTES[household]:
                journal.log(mem, note, subject="Mochi", at="2026-11-20T08:00")
    capsys.readouterr()
    return database


def sign_in_as(login: str, password: str):
    at = open_page("today")
    assert at.title[0].value == "Sign in" and not at.tabs  # nothing of anyone's before signing in
    at.text_input(key="sign-in-login").input(login)
    at.text_input(key="sign-in-password").input(password)
    at.button[0].click().run()
    return at


def everything_in(database: str, schema: str) -> str:
    """Every row of every table of one household's schema, as text."""
    engine = create_engine(database)
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT table_name FROM information_schema.tables "
                                   "WHERE table_schema = :s AND table_type = 'BASE TABLE'"), {"s": schema}).scalars()
        dump = "\n".join(str(row) for t in list(tables)
                         for row in conn.execute(text(f'SELECT t::text FROM "{schema}"."{t}" t')))
    engine.dispose()
    return dump


def test_two_households_never_see_each_others_rows(shelters, home_dir, tiny_gemma_dir):
    schemas = {h.name: h.schema for h in households.households(create_engine(shelters))}
    mems = {h: Memory.open(home_dir, household=h, author=who) for h, who in ((A, "alice"), (B, "bob"))}
    try:
        for mine, theirs in ((A, B), (B, A)):
            mem = mems[mine]
            # recall and ask: the other household's words find nothing of theirs
            found = recall(mem, f"Mochi {NOTES[theirs][0]}", subject="Mochi", k=20)
            assert found.hits and all(WORDS[theirs] not in h.text for h in found.hits)
            answer = Companion(mem, progress=lambda m: None).ask(NOTES[theirs][1], subject="Mochi")
            assert all(WORDS[theirs] not in c["text"] for c in answer.citations)
            add_feedback(mem, answer.interaction_id, rating=-1, correction=f"{mine}: Mochi is fine, see the notes.")
            # export: the household's own records, nothing else
            backup = home_dir / f"{mine}.jsonl"
            export_backup(mem, backup)
            lines = backup.read_text()
            assert WORDS[mine] in lines and WORDS[theirs] not in lines and "Shelter" in lines
            assert '"author": "alice"' in lines if mine == A else '"author": "bob"' in lines
        # the dataset: each household's one correction
        for mine, theirs in ((A, B), (B, A)):
            assert [r.output for r in datasets.approved(mems[mine])] == [f"{mine}: Mochi is fine, see the notes."]
        # retrain: B has too few records for its own retrain; A's runs and adapters know nothing of it
        run = runs.wait(mems[B], runs.spawn(mems[B], runs.create(mems[B], "manual", FAST)).id, poll_s=0.5)
        assert run.status == "skipped" and "only 1 approved records" in run.reason
        assert runs.recent(mems[A]) == [] and [r.id for r in runs.recent(mems[B])] == [run.id]
        assert [a.version for a in registry.adapters(mems[A])] == ["starter"]
        # and anywhere: not one row of one household's schema holds the other's words
        for mine, theirs in ((A, B), (B, A)):
            dump = everything_in(shelters, schemas[mine])
            assert WORDS[mine] in dump and WORDS[theirs] not in dump
    finally:
        for mem in mems.values():
            mem.close()


def test_each_household_trains_its_own_adapter(shelters, home_dir):
    with Memory.open(home_dir, household=B, author="bob") as mem:
        from tests.test_retrain import correct_twelve
        correct_twelve(mem)
        run = runs.wait(mem, runs.spawn(mem, runs.create(mem, "manual", FAST)).id, poll_s=0.5)
        assert run.status == "succeeded", run.error or run.reason
        assert registry.active(mem).version == run.adapter_version
        assert (home_dir / "households" / mem.home.household / "adapters" / run.adapter_version / "meta.json").exists()
    with Memory.open(home_dir, household=A) as mem:
        assert registry.active(mem).version == "starter" and not list(mem.home.adapters_dir.iterdir())


def test_people_sign_in_and_see_only_their_household(shelters, home_dir):
    at = sign_in_as("alice", "not-her-password")
    assert "do not match" in at.error[0].value and at.title[0].value == "Sign in"
    at = sign_in_as("alice", "alice-secret")
    assert not at.exception and at.session_state[resources.HOUSEHOLD_KEY] == A
    assert "alice · Shelter A" in texts(at)
    at.switch_page("app_pages/history.py").run()
    table = at.dataframe[0].value
    assert set(table["text"]) == set(NOTES[A]) and set(table["by"]) == {"alice"}
    at.switch_page("app_pages/settings.py").run()
    assert "whoever runs it changes these settings" in at.info[0].value and not at.text_input  # the server's
    assert "PostgreSQL" in texts(at) and ":***@" in texts(at)  # its password not on screen
    bob = sign_in_as("bob", "bob-secret")
    bob.switch_page("app_pages/history.py").run()
    assert set(bob.dataframe[0].value["text"]) == set(NOTES[B]) and "Bob · Shelter B" in texts(bob)
    bob.button(key="sign-out").click().run()
    assert bob.title[0].value == "Sign in" and sign_in.PERSON_KEY not in bob.session_state


def test_mistakes_are_one_line_and_change_nothing(shelters, home_dir, tmp_path, capsys):
    home = ["--home", str(home_dir)]
    assert cli("log", "Mochi slept", "--household", "Shelter C", *home) == 2
    one_line(capsys, "household 'Shelter C' does not exist", "'Shelter A', 'Shelter B'")
    assert cli("households", "add", A, *home) == 2
    one_line(capsys, f"household '{A}' already exists")
    assert cli("people", "add", "alice", "--household", B, "--password-stdin", *home, password="another-one") == 2
    one_line(capsys, "login 'alice' is taken", "people join alice")
    assert cli("people", "add", "carol", "--household", B, "--password-stdin", *home, password="short") == 2
    one_line(capsys, "too short", "at least 8")
    assert cli("people", "add", "Carol Smith", "--household", B, "--password-stdin", *home, password="long-enough") == 2
    one_line(capsys, "login 'Carol Smith' is not valid")
    assert cli("log", "Mochi slept", "--household", B, "--person", "alice", *home) == 2
    one_line(capsys, "alice is not in household 'Shelter B' (only Shelter A)", "people join alice")
    assert cli("log", "Mochi slept", "--person", "carol", *home) == 2
    one_line(capsys, "person 'carol' does not exist", "alice, bob")
    assert cli("doctor", "--household", B, *home) == 0
    assert "2 notes in household 'Shelter B'; 2 households, 2 people can sign in" in capsys.readouterr().out
    assert cli("people", "join", "alice", "--household", B, "--json", *home) == 0
    assert json.loads(capsys.readouterr().out)["households"] == [A, B]
    assert households.sign_in(create_engine(shelters), "carol", "long-enough") is None  # nothing was saved
    assert cli("people", "password", "bob", "--password-stdin", *home, password="bob-new-secret") == 0
    engine = create_engine(shelters)
    assert households.sign_in(engine, "bob", "bob-secret") is None
    assert households.sign_in(engine, "bob", "bob-new-secret").households == [B]
    assert cli("people", "password", "carol", "--password-stdin", *home, password="long-enough") == 2
    one_line(capsys, "person 'carol' does not exist")
    assert cli("people", "remove", "bob", *home) == 0 and households.sign_in(engine, "bob", "bob-new-secret") is None
    with Memory.open(home_dir, household=B) as mem:  # what bob wrote stays his
        from memory import journal
        assert {o.author for o in journal.timeline(mem)} == {"bob"}
    assert cli("people", "add", "bob", "--household", B, "--password-stdin", *home, password="bob-again!") == 0
    engine.dispose()
    embedded = ["--home", str(tmp_path / "embedded")]
    assert cli("households", "add", A, *embedded) == 2
    one_line(capsys, "households and people need server mode", "--database-url")
    assert cli("log", "Mochi slept", "--household", A, *embedded) == 2
    one_line(capsys, "need server mode")
    assert Engines.saved(tmp_path / "embedded").database_url is None
    assert cli("log", "Mochi slept on the sofa", "--household", B, "--person", "alice", *home) == 0  # a member now
    with Memory.open(home_dir, household=B) as mem:
        from memory import journal
        assert [(o.text, o.author) for o in journal.timeline(mem) if "sofa" in o.text] == [("Mochi slept on the sofa",
                                                                                           "alice")]


def test_up_runs_one_scheduler_per_household(shelters, home_dir):
    from memory.home import Home
    from retrain import schedule
    from ui import up

    home = Home.open(home_dir)
    assert up.households(home) == [A, B]
    schedulers = {}
    try:
        assert up.start_schedulers(home, schedulers) == [A, B]
        jobs = [s.get_job(schedule.JOB_ID, jobstore="default") for s, _ in schedulers.values()]
        assert [j.args for j in jobs] == [(str(home.root), A), (str(home.root), B)]
        lines = up.schedule_lines(schedulers)
        assert [line.split(":")[0] for line in lines] == [f" for {A}", f" for {B}"]
        assert up.start_schedulers(home, schedulers) == []  # each once
        assert cli("households", "add", "Shelter C", "--home", str(home_dir)) == 0  # while it runs
        assert up.start_schedulers(home, schedulers) == ["Shelter C"] and len(schedulers) == 3
    finally:
        for scheduler, mem in schedulers.values():
            scheduler.shutdown(wait=False)
            mem.close()


def test_a_database_of_several_households_is_not_moved_by_one_home(shelters, home_dir, pg_server, capsys):
    empty = create_database(pg_server, f"empty{next(_numbers)}")
    assert cli("settings", "--database-url", empty, "--home", str(home_dir)) == 2
    one_line(capsys, "keeps 2 households (Shelter A, Shelter B)", "pg_dump", "nothing was changed")
    assert Engines.saved(home_dir).database_url == shelters
