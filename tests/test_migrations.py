"""Migrations are append-only and bring an old database up to date without losing data."""
import json
import sqlite3

from sqlalchemy import text

from memory import db, migrations
from memory.store import Memory


def test_an_old_database_is_migrated_on_open(home_dir):
    home_dir.mkdir(parents=True)
    path = home_dir / "memoloop.db"
    db.connect(f"sqlite:///{path}", upto=1).dispose()  # a database from the first release
    con = sqlite3.connect(path)
    con.execute("INSERT INTO subject (name, species, notes, created_at) VALUES ('Mochi', 'cat', '', '2024-01-01 00:00:00')")
    con.execute("INSERT INTO observation (subject_id, happened_at, logged_at, kind, text, metrics, tags, source) "
                "VALUES (1, '2024-02-13 12:00:00.000000', '2024-02-13 13:00:00.000000', 'symptom', "
                "'Mochi sneezed twice', '{}', '[]', 'cli')")
    con.commit()
    con.close()

    mem = Memory.open(home_dir)
    with mem.engine.connect() as conn:
        names = [r[0] for r in conn.execute(text("SELECT name FROM _migrations ORDER BY name"))]
        assert names == [m.__name__ for m in migrations.MIGRATIONS]
        # the old row is searchable by keyword (FTS rebuilt) and waits for the vector index
        assert conn.execute(text("SELECT rowid FROM observation_fts WHERE observation_fts MATCH 'sneeze'")).all() == [(1,)]
    assert mem.pending() == 1
    mem.sync_index()
    assert mem.pending() == 0 and mem.index.count() == 1


def test_migrations_apply_once(home_dir):
    Memory.open(home_dir)
    mem = Memory.open(home_dir)
    with mem.engine.connect() as conn:
        assert migrations.apply(conn) == []
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"


def test_an_adapter_row_from_the_worker_of_before_reads_its_loss_under_one_name(home_dir):
    home_dir.mkdir(parents=True)
    path = home_dir / "memoloop.db"
    db.connect(f"sqlite:///{path}", upto=8).dispose()
    con = sqlite3.connect(path)
    for version, metrics in (("v1", '{"eval_loss": {"base": 3.1, "active": 0.9, "candidate": 0.5}, "best_epoch": 2}'),
                             ("starter", '{"eval_loss": {"base": 1.1, "adapter": 0.04}}')):
        con.execute("INSERT INTO adapter (version, path, status, base_model, metrics, created_at) "
                    "VALUES (?, '/x', 'retired', 'b', ?, '2026-01-01 00:00:00')", (version, metrics))
    con.commit()
    con.close()
    mem = Memory.open(home_dir)
    with mem.engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT version, metrics FROM adapter")).all())
    assert json.loads(rows["v1"]) == {"eval_loss": {"base": 3.1, "active": 0.9, "adapter": 0.5}, "best_epoch": 2}
    assert json.loads(rows["starter"]) == {"eval_loss": {"base": 1.1, "adapter": 0.04}}
