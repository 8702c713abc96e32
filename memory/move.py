"""Moving a home's database to a PostgreSQL server (or back to its SQLite file).

The new database must answer, and its schema is brought up to date before anything is saved. An
empty one receives everything the home's current database holds, by the same path as a backup
(memory/backup.py: a .zip written and restored, so every row, link, file and the learning state
travel as they do to a new machine); one that already holds notes (a server other computers of the household
or clinic already use) is joined as it is, and the old database is left untouched either way.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import text

from memory.db import DatabaseUnavailable
from memory.engines import Engines, redacted
from memory.errors import MemoloopError
from memory.home import Home
from memory.models import LIVE
from memory.store import Memory


@dataclass
class Moved:
    to: str  # where the notes are now, to show
    copied: int  # notes carried over (0 when the database was joined as it was, or nothing was to copy)
    joined: int  # notes the new database already held
    left: int  # notes the old database keeps that the new one does not have (when it was joined)

    def line(self) -> str:
        if self.copied:
            return f"moved {self.copied} notes, with everything else the home holds, to {self.to}"
        said = f"now using {self.to} ({self.joined} notes)"
        if self.left:
            said += (f"; the {self.left} notes of the database used before stay there: carry them over with "
                     "memoloop export --out FILE.zip and, here, memoloop import FILE.zip")
        return said


def move_database(home: Home, database_url: str | None, progress=None) -> Moved:
    """From now on keep the home's records in `database_url` (None: its SQLite file), with the
    search index in use; saved in the home once the new database holds what it should
    ($MEMOLOOP_DATABASE_URL still wins). A database in use that does not answer is left as it is:
    the home only points elsewhere."""
    from memory.backup import export_backup
    from memory.transfer import import_file

    engines = Engines.of(home.root)
    try:
        current = Memory(home, progress, engines=engines)
    except DatabaseUnavailable:
        current = None
    try:
        mine = _notes(current) if current is not None else 0
        with Memory(home, progress, engines=replace(engines, database_url=database_url)) as target:
            theirs, copied = _notes(target), 0
            if current is not None and _empty(target) and not _empty(current):
                _one_household(current)
                with tempfile.TemporaryDirectory(dir=home.root, prefix=".move-") as tmp:
                    bundle = Path(tmp) / "move.zip"
                    export_backup(current, bundle)
                    import_file(target, bundle)
                copied = mine
            target.index  # this database's own index, filled
    finally:
        if current is not None:
            current.close()
    replace(Engines.saved(home.root), database_url=database_url).save(home.root)
    same = database_url == engines.database_url  # set again: nothing was left behind
    return Moved(redacted(database_url) if database_url else str(home.db_path), copied, theirs,
                 0 if same else mine - copied)


def _one_household(mem: Memory) -> None:
    """A database that keeps several households is copied with PostgreSQL's own tools, not by a home."""
    from memory import households

    kept = households.names(mem.engine)
    if len(kept) > 1:
        raise MemoloopError(f"this database keeps {len(kept)} households ({', '.join(kept)}); copy it with "
                            "pg_dump and pg_restore, then point memoloop at the copy (an empty database would "
                            "get only the first one's records); nothing was changed")


def _notes(mem: Memory) -> int:
    """Live notes: what the user counts (every earlier version travels with them)."""
    with mem.engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM observation o WHERE {LIVE}")).scalar_one()


def _empty(mem: Memory) -> bool:
    """Nothing a user made: no pet, note, question or retrain."""
    with mem.engine.connect() as conn:
        return not any(conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first()
                       for table in ("subject", "observation", "interaction", "training_record", "retrain_run"))
