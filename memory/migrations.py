"""Append-only, numbered schema migrations, recorded in `_migrations` and applied on open.

Never edit a migration that has shipped: add the next one.
"""
from __future__ import annotations

from sqlalchemy import Connection, text


def m001_initial(conn: Connection) -> None:
    conn.execute(text("""
        CREATE TABLE subject (
            id INTEGER PRIMARY KEY,
            name VARCHAR NOT NULL UNIQUE,
            species VARCHAR NOT NULL DEFAULT 'cat',
            birth_date DATE,
            notes VARCHAR NOT NULL DEFAULT '',
            created_at DATETIME NOT NULL
        )"""))
    conn.execute(text("""
        CREATE TABLE observation (
            id INTEGER PRIMARY KEY,
            subject_id INTEGER REFERENCES subject(id),
            happened_at DATETIME NOT NULL,
            logged_at DATETIME NOT NULL,
            kind VARCHAR NOT NULL DEFAULT 'note',
            text VARCHAR NOT NULL,
            metrics JSON NOT NULL DEFAULT '{}',
            tags JSON NOT NULL DEFAULT '[]',
            source VARCHAR NOT NULL DEFAULT 'cli'
        )"""))
    conn.execute(text("CREATE INDEX ix_observation_subject_id ON observation (subject_id)"))
    conn.execute(text("CREATE INDEX ix_observation_happened_at ON observation (happened_at)"))


def m002_history_and_index_state(conn: Connection) -> None:
    """Corrections supersede, deletes are soft, and each row knows whether the index has it."""
    for ddl in (
        "ADD COLUMN supersedes_id INTEGER REFERENCES observation(id)",
        "ADD COLUMN superseded_by_id INTEGER REFERENCES observation(id)",
        "ADD COLUMN deleted_at DATETIME",
        "ADD COLUMN indexed BOOLEAN NOT NULL DEFAULT 0",
    ):
        conn.execute(text(f"ALTER TABLE observation {ddl}"))


def m003_keyword_search(conn: Connection) -> None:
    """FTS5 over observation text, kept in step by triggers inside the same transaction."""
    conn.execute(text("""
        CREATE VIRTUAL TABLE observation_fts USING fts5(
            text, content='observation', content_rowid='id', tokenize='porter unicode61')"""))
    conn.execute(text("""
        CREATE TRIGGER observation_fts_insert AFTER INSERT ON observation BEGIN
            INSERT INTO observation_fts(rowid, text) VALUES (new.id, new.text);
        END"""))
    conn.execute(text("""
        CREATE TRIGGER observation_fts_delete AFTER DELETE ON observation BEGIN
            INSERT INTO observation_fts(observation_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END"""))
    conn.execute(text("""
        CREATE TRIGGER observation_fts_update AFTER UPDATE OF text ON observation BEGIN
            INSERT INTO observation_fts(observation_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO observation_fts(rowid, text) VALUES (new.id, new.text);
        END"""))
    conn.execute(text("INSERT INTO observation_fts(observation_fts) VALUES ('rebuild')"))


def m004_interactions(conn: Connection) -> None:
    conn.execute(text("""
        CREATE TABLE interaction (
            id INTEGER PRIMARY KEY,
            asked_at DATETIME NOT NULL,
            question VARCHAR NOT NULL,
            subject_id INTEGER REFERENCES subject(id),
            retrieved JSON NOT NULL DEFAULT '[]',
            citations JSON NOT NULL DEFAULT '[]',
            prompt VARCHAR NOT NULL DEFAULT '',
            history_block VARCHAR NOT NULL DEFAULT '',
            answer VARCHAR NOT NULL DEFAULT '',
            model_answer VARCHAR NOT NULL DEFAULT '',
            no_record BOOLEAN NOT NULL DEFAULT 0,
            red_flag VARCHAR,
            base_model VARCHAR NOT NULL DEFAULT '',
            adapter_version VARCHAR,
            latency_ms INTEGER NOT NULL DEFAULT 0,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0
        )"""))
    conn.execute(text("""
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            interaction_id INTEGER NOT NULL REFERENCES interaction(id),
            created_at DATETIME NOT NULL,
            rating INTEGER NOT NULL DEFAULT 0,
            correction VARCHAR,
            note VARCHAR NOT NULL DEFAULT ''
        )"""))
    conn.execute(text("CREATE INDEX ix_feedback_interaction_id ON feedback (interaction_id)"))


def m005_learning(conn: Connection) -> None:
    """Imported training records, retrain runs and the adapter registry."""
    conn.execute(text("""
        CREATE TABLE training_record (
            id INTEGER PRIMARY KEY,
            created_at DATETIME NOT NULL,
            instruction VARCHAR NOT NULL,
            input VARCHAR NOT NULL DEFAULT '',
            output VARCHAR NOT NULL,
            source VARCHAR NOT NULL DEFAULT '',
            digest VARCHAR NOT NULL UNIQUE
        )"""))
    conn.execute(text("""
        CREATE TABLE retrain_run (
            id INTEGER PRIMARY KEY,
            trigger VARCHAR NOT NULL DEFAULT 'manual',
            status VARCHAR NOT NULL DEFAULT 'queued',
            created_at DATETIME NOT NULL,
            started_at DATETIME,
            finished_at DATETIME,
            heartbeat_at DATETIME,
            pid INTEGER,
            dataset_digest VARCHAR NOT NULL DEFAULT '',
            train_records INTEGER NOT NULL DEFAULT 0,
            eval_records INTEGER NOT NULL DEFAULT 0,
            new_records INTEGER NOT NULL DEFAULT 0,
            config JSON NOT NULL DEFAULT '{}',
            progress JSON NOT NULL DEFAULT '{}',
            eval_loss JSON NOT NULL DEFAULT '{}',
            metrics JSON NOT NULL DEFAULT '{}',
            adapter_version VARCHAR,
            promoted BOOLEAN NOT NULL DEFAULT 0,
            reason VARCHAR NOT NULL DEFAULT '',
            log_path VARCHAR NOT NULL DEFAULT '',
            error VARCHAR NOT NULL DEFAULT ''
        )"""))
    conn.execute(text("""
        CREATE TABLE adapter (
            id INTEGER PRIMARY KEY,
            version VARCHAR NOT NULL UNIQUE,
            path VARCHAR NOT NULL,
            base_model VARCHAR NOT NULL DEFAULT '',
            run_id INTEGER REFERENCES retrain_run(id),
            status VARCHAR NOT NULL DEFAULT 'candidate',
            created_at DATETIME NOT NULL,
            activated_at DATETIME,
            metrics JSON NOT NULL DEFAULT '{}'
        )"""))
    # The database itself guarantees at most one active adapter.
    conn.execute(text("CREATE UNIQUE INDEX one_active_adapter ON adapter (status) WHERE status = 'active'"))


def m006_schedule(conn: Connection) -> None:
    """The retrain schedule's policy, the one-retrain-at-a-time lease, and one run per scheduled time."""
    conn.execute(text("""
        CREATE TABLE schedule_policy (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            cron VARCHAR NOT NULL,
            min_new_records INTEGER NOT NULL,
            paused BOOLEAN NOT NULL DEFAULT 0,
            config JSON NOT NULL DEFAULT '{}',
            updated_at DATETIME NOT NULL
        )"""))
    conn.execute(text("""
        CREATE TABLE lease (
            name VARCHAR PRIMARY KEY,
            holder VARCHAR,
            expires_at DATETIME,
            heartbeat_at DATETIME
        )"""))
    conn.execute(text("INSERT INTO lease (name) VALUES ('retrain')"))
    conn.execute(text("ALTER TABLE retrain_run ADD COLUMN scheduled_for DATETIME"))
    conn.execute(text("CREATE UNIQUE INDEX one_run_per_scheduled_time ON retrain_run (scheduled_for) "
                      "WHERE scheduled_for IS NOT NULL"))


def m007_profiles_and_guard(conn: Connection) -> None:
    """Pets carry sex and neutered status; an interaction keeps the sentences the guard cut."""
    conn.execute(text("ALTER TABLE subject ADD COLUMN sex VARCHAR"))
    conn.execute(text("ALTER TABLE subject ADD COLUMN neutered BOOLEAN"))
    conn.execute(text("ALTER TABLE interaction ADD COLUMN cut JSON NOT NULL DEFAULT '[]'"))


def m008_uids(conn: Connection) -> None:
    """Notes, interactions and feedback carry a uid that survives a backup: importing the same
    backup twice, or into the home it came from, finds each row already there."""
    for table in ("observation", "interaction", "feedback"):
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN uid VARCHAR"))
        conn.execute(text(f"UPDATE {table} SET uid = lower(hex(randomblob(16)))"))
        conn.execute(text(f"CREATE UNIQUE INDEX ix_{table}_uid ON {table} (uid)"))


def m009_one_adapter_loss_key(conn: Connection) -> None:
    """An adapter's own held-out loss is `eval_loss.adapter` (the manifest's name), whoever trained
    it: the worker used to write `candidate`, the starter `adapter`."""
    conn.execute(text("""
        UPDATE adapter SET metrics = json_set(json_remove(metrics, '$.eval_loss.candidate'),
                                              '$.eval_loss.adapter', json_extract(metrics, '$.eval_loss.candidate'))
        WHERE json_type(metrics, '$.eval_loss.candidate') IS NOT NULL"""))


def m010_care_plan(conn: Connection) -> None:
    """Care items (vaccines, treatments, medications, checks), the reminders found for them, the
    trend alerts, and photos on notes."""
    conn.execute(text("""
        CREATE TABLE care_item (
            id INTEGER PRIMARY KEY,
            uid VARCHAR NOT NULL,
            subject_id INTEGER REFERENCES subject(id),
            name VARCHAR NOT NULL,
            kind VARCHAR NOT NULL DEFAULT 'note',
            every_days INTEGER NOT NULL,
            words JSON NOT NULL DEFAULT '[]',
            dose VARCHAR NOT NULL DEFAULT '',
            times JSON NOT NULL DEFAULT '[]',
            default_id VARCHAR,
            source VARCHAR NOT NULL DEFAULT '',
            active BOOLEAN NOT NULL DEFAULT 1,
            created_at DATETIME NOT NULL
        )"""))
    conn.execute(text("CREATE INDEX ix_care_item_subject_id ON care_item (subject_id)"))
    conn.execute(text("CREATE UNIQUE INDEX ix_care_item_uid ON care_item (uid)"))
    conn.execute(text("""
        CREATE TABLE reminder (
            id INTEGER PRIMARY KEY,
            care_item_id INTEGER NOT NULL REFERENCES care_item(id),
            due_on DATE NOT NULL,
            status VARCHAR NOT NULL DEFAULT 'due',
            noticed_at DATETIME NOT NULL,
            shown_at DATETIME,
            UNIQUE (care_item_id, due_on)
        )"""))
    conn.execute(text("CREATE INDEX ix_reminder_care_item_id ON reminder (care_item_id)"))
    conn.execute(text("""
        CREATE TABLE alert (
            id INTEGER PRIMARY KEY,
            subject_id INTEGER NOT NULL REFERENCES subject(id),
            rule VARCHAR NOT NULL,
            level VARCHAR NOT NULL DEFAULT 'watch',
            message VARCHAR NOT NULL DEFAULT '',
            evidence JSON NOT NULL DEFAULT '[]',
            first_seen DATETIME NOT NULL,
            last_seen DATETIME NOT NULL,
            cleared_at DATETIME
        )"""))
    conn.execute(text("CREATE INDEX ix_alert_subject_id ON alert (subject_id)"))
    conn.execute(text("""
        CREATE TABLE photo (
            id INTEGER PRIMARY KEY,
            uid VARCHAR NOT NULL,
            observation_id INTEGER NOT NULL REFERENCES observation(id),
            sha256 VARCHAR NOT NULL,
            mime VARCHAR NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            size INTEGER NOT NULL,
            name VARCHAR NOT NULL DEFAULT '',
            created_at DATETIME NOT NULL
        )"""))
    conn.execute(text("CREATE INDEX ix_photo_observation_id ON photo (observation_id)"))
    conn.execute(text("CREATE INDEX ix_photo_sha256 ON photo (sha256)"))
    conn.execute(text("CREATE UNIQUE INDEX ix_photo_uid ON photo (uid)"))


def m011_vector_index_uid(conn: Connection) -> None:
    """Which vector index SQL's `indexed` flags describe: the one that carries `index_uid`
    (memory.store); a Chroma server or folder that does not is refilled from SQL. `database_uid`
    names this database's own database on a Chroma server."""
    conn.execute(text("CREATE TABLE vector_index (id INTEGER PRIMARY KEY CHECK (id = 1), "
                      "database_uid VARCHAR NOT NULL, index_uid VARCHAR)"))
    conn.execute(text("INSERT INTO vector_index (id, database_uid) VALUES (1, lower(hex(randomblob(16))))"))


MIGRATIONS = [m001_initial, m002_history_and_index_state, m003_keyword_search, m004_interactions,
              m005_learning, m006_schedule, m007_profiles_and_guard, m008_uids, m009_one_adapter_loss_key,
              m010_care_plan, m011_vector_index_uid]


def apply(conn: Connection, upto: int | None = None) -> list[str]:
    """Apply what is missing, each in its own transaction; return the names applied."""
    conn.execute(text("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, applied_at DATETIME)"))
    conn.commit()
    done = {row[0] for row in conn.execute(text("SELECT name FROM _migrations"))}
    applied = []
    for migration in MIGRATIONS[:upto]:
        if migration.__name__ in done:
            continue
        migration(conn)
        conn.execute(text("INSERT INTO _migrations VALUES (:n, CURRENT_TIMESTAMP)"), {"n": migration.__name__})
        conn.commit()
        applied.append(migration.__name__)
    return applied
