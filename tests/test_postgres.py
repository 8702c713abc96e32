"""The records on a PostgreSQL server (a throwaway cluster, initdb + pg_ctl, on a Unix socket): a
home moves there with everything and back, homes share it, a bad URL or a server that does not
answer is one line and loses nothing, and two processes opening a new database migrate it once."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from memory import journal
from memory.engines import (CHROMA_ENV, DATABASE_ENV, Engines, chroma_server, create_database,
                             redacted)
from memory.move import move_database
from memory.recall import recall
from memory.store import Memory
from tests.conftest import run_cli
from tests.test_backup import answer, files, lived_in, tables  # noqa: F401  (lived_in: a fixture)
from tests.test_ui_pages import engine_field, open_page, texts
from ui.cli import main

_names = iter(range(10 ** 6))


@pytest.fixture
def server(pg_server):
    return pg_server


@pytest.fixture
def database(server) -> str:
    return create_database(server, f"move{next(_names)}")


def one_line(capsys, *words) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert all(w in err[0] for w in words), err[0]
    return err[0]


def test_a_home_moves_to_postgresql_with_everything_and_back(mem, cats, home_dir, database, capsys):
    mem.close()
    home = ["--home", str(home_dir)]
    assert main(["settings", "--database-url", database, "--json", *home]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["moved"]["copied"] == len(cats) and said["database_url"] == redacted(database) and ":***@" in said["database_url"]
    assert Engines.saved(home_dir).database_url == database
    with Memory.open(home_dir) as moved:
        assert moved.engine.dialect.name == "postgresql"
        assert "Mochi sneezed twice this morning" in [h.text for h in recall(moved, "Has Mochi sneezed?").relevant]
        assert moved.index.count() == len(cats) and moved.pending() == 0
        journal.log(moved, "Mochi chased a moth at midnight", subject="Mochi", at="2025-10-01")
    assert main(["doctor", *home]) == 0
    report = capsys.readouterr().out
    assert "database: PostgreSQL 15" in report and "answers; 10 notes" in report and "memoloop:***@" in report

    # back to the SQLite file: it still holds what it held, and the note written on the server stays there
    assert main(["settings", "--database-url", "", *home]) == 0
    out = capsys.readouterr().out
    assert f"now using {home_dir / 'memoloop.db'} ({len(cats)} notes)" in out
    with Memory.open(home_dir) as back:
        assert back.engine.dialect.name == "sqlite" and len(journal.timeline(back)) == len(cats)
        assert "Mochi sneezed twice this morning" in [h.text for h in recall(back, "Has Mochi sneezed?").relevant]


def test_a_lived_in_home_moves_every_table_file_and_answer(lived_in, home_dir, database):
    lived_in.close()
    said = answer(home_dir)  # the active adapter's answer (itself an interaction that moves too)
    before = tables(home_dir), files(home_dir)
    with Memory.open(home_dir) as mem:
        assert move_database(mem.home, database).copied == len(journal.timeline(mem))
    assert Engines.of(home_dir).database_url == database
    assert (tables(home_dir), files(home_dir)) == before
    assert answer(home_dir) == said


def test_two_homes_on_one_database_and_one_index_share_the_journal(tmp_path, database, monkeypatch):
    monkeypatch.setenv(DATABASE_ENV, database)
    with chroma_server(tmp_path / "chroma") as index:
        monkeypatch.setenv(CHROMA_ENV, index)
        with Memory.open(tmp_path / "front-desk") as desk, Memory.open(tmp_path / "ward") as ward:
            journal.add_subject(desk, "Mochi")
            journal.log(desk, "Mochi vomited a hairball after breakfast", subject="Mochi", at="2025-05-02")
            assert [h.text for h in recall(ward, "When did Mochi vomit?").relevant] == \
                ["Mochi vomited a hairball after breakfast"]
            journal.log(ward, "Mochi ate half her dinner", subject="Mochi", at="2025-05-03")
            assert desk.pending() == 0 and desk.index.count() == 2


@pytest.mark.parametrize("url, words", [
    ("mysql://cat@localhost/journal", ["database URL 'mysql://cat@localhost/journal' is not valid",
                                       "postgresql+psycopg://USER@HOST/DATABASE"]),
    ("postgresql+psycopg://memoloop:secret@/nowhere?host=/tmp/no-server-here",
     ["cannot open the database at 'postgresql+psycopg://memoloop:***@/nowhere?host=/tmp/no-server-here'",
      "nothing was changed"]),
])
def test_a_bad_database_url_is_one_line_exit_2_and_changes_nothing(mem, cats, home_dir, capsys, url, words):
    mem.close()
    before = (home_dir / "memoloop.db").read_bytes()
    assert main(["settings", "--database-url", url, "--home", str(home_dir)]) == 2
    line = one_line(capsys, *words)
    assert "secret" not in line  # a password is never shown
    assert Engines.saved(home_dir).database_url is None and (home_dir / "memoloop.db").read_bytes() == before


def test_a_wrong_password_is_one_line_and_never_shown(mem, cats, home_dir, database, capsys):
    mem.close()
    wrong = make_url(database).set(password="not-the-password").render_as_string(hide_password=False)
    assert main(["settings", "--database-url", wrong, "--home", str(home_dir)]) == 2
    line = one_line(capsys, "cannot open the database", 'password authentication failed for user "memoloop"', "memoloop:***@")
    assert "not-the-password" not in line and Engines.saved(home_dir).database_url is None


def test_a_database_that_stops_answering_is_one_line_everywhere_and_can_be_left(home_dir, server, capsys):
    url = create_database(server, f"gone{next(_names)}")
    home = ["--home", str(home_dir)]
    assert main(["settings", "--database-url", url, *home]) == 0
    capsys.readouterr()
    with create_engine(server, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)'))
    assert main(["log", "Mochi ate well", *home]) == 2
    one_line(capsys, "cannot open the database", "does not exist", "memoloop settings --database-url")
    assert main(["doctor", *home]) == 2
    assert "database: PostgreSQL" in capsys.readouterr().out
    at = open_page("settings")  # the app says why, and still lets the user point elsewhere
    assert "Cannot open the database" in at.error[0].value and "does not exist" in at.error[0].value
    engine_field(at, "database_url").input("")
    at.button(key="save_database").click().run()
    assert not at.error and f"Now using {home_dir / 'memoloop.db'} (0 notes)" in texts(at)
    assert main(["log", "Mochi ate well", *home]) == 0


def test_two_processes_opening_a_new_database_migrate_it_once(tmp_path, database):
    env = {**os.environ, DATABASE_ENV: database}
    exe = str(Path(sys.executable).with_name("memoloop"))
    procs = [subprocess.Popen([exe, "doctor", "--home", str(tmp_path / f"h{i}")], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    engine = create_engine(database)
    with engine.connect() as conn:
        names = [r[0] for r in conn.execute(text("SELECT name FROM _migrations"))]
    engine.dispose()
    assert len(names) == len(set(names)) and "m011_vector_index_uid" in names


def test_the_settings_page_moves_the_records_to_a_database(mem, cats, database):
    at = open_page("settings")
    engine_field(at, "database_url").input("sqlite:///elsewhere.db")
    at.button(key="save_database").click().run()
    assert "is not valid" in at.error[0].value
    engine_field(at, "database_url").input(database)
    at.button(key="save_database").click().run()
    assert not at.error and f"Moved {len(cats)} notes" in texts(at)
    assert "It keeps the records on the PostgreSQL server" in at.sidebar.caption[0].value
    assert "Anyone who opens this app sees every record" in at.sidebar.warning[0].value  # no people yet
    assert Engines.saved(mem.home.root).database_url == database
    assert engine_field(at, "database_url").value == redacted(database) != database  # no password on screen


def test_run_cli_uses_the_saved_database(home_dir, database):
    """The console script, as a user runs it, reads the home's engines.json."""
    assert run_cli("settings", "--database-url", database, home=home_dir).returncode == 0
    assert run_cli("log", "Luna slept on the radiator", home=home_dir).returncode == 0
    engine = create_engine(database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT text FROM observation")).scalars().all() == ["Luna slept on the radiator"]
    engine.dispose()


def test_a_questions_words_are_counted_by_their_stems_and_phrases(home_dir, database):
    from memory import keywords

    with Memory.open(home_dir, engines=Engines(database_url=database)) as mem:
        for note in ("Mochi threw up a hairball", "Mochi sneezed twice", "vomit on the rug, then sneezing",
                     "Luna ate well", "Mochi ate tuna and threw up"):
            journal.log(mem, note)
        asked = keywords.concepts("Did Mochi sneeze or throw up after tuna? ???",
                                  {"vomit": ["vomit", "threw up", "throw up"]})
        asked.append(keywords.Concept(("???",)))  # no word a query can hold: counted as 0
        with mem.engine.connect() as conn:
            assert keywords.weigh(conn, asked).df == [3, 3, 2, 1, 0]  # vomit, mochi, sneez-, tuna, ???
