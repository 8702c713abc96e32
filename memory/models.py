"""The records: SQL is the source of truth; the vector index is derived from it."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Column, DateTime, TypeDecorator, and_
from sqlmodel import Field, SQLModel

from memory.dates import now


class UTCDateTime(TypeDecorator):
    """Stores UTC without an offset (SQLite has none) and hands back aware datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: memoloop stores only aware datetimes")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def _when(**kw) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _uid() -> Any:
    """A random id that travels with the row through a backup (see memory/backup.py)."""
    return Field(default_factory=lambda: uuid.uuid4().hex, index=True, unique=True)


def _json(default_factory) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


class Subject(SQLModel, table=True):
    """A pet (or any subject of the journal); observations without one belong to the household."""

    __tablename__ = "subject"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    species: str = "cat"
    sex: Optional[str] = None  # "female" | "male" | None (not given)
    neutered: Optional[bool] = None
    birth_date: Optional[date] = None
    notes: str = ""
    created_at: datetime = _when(default_factory=now)

    @property
    def profile(self) -> str:
        """"Mochi is a female cat (she/her), spayed": what prompts and the answer guard use for pronouns."""
        if self.sex not in SEXES:
            return ""
        fixed = {True: "spayed" if self.sex == "female" else "neutered", False: "not neutered"}.get(self.neutered)
        return f"{self.name} is a {self.sex} {self.species} ({SEXES[self.sex]})" + (f", {fixed}" if fixed else "")


SEXES = {"female": "she/her", "male": "he/him"}


class Observation(SQLModel, table=True):
    """One thing the user saw, at the time they say it happened."""

    __tablename__ = "observation"
    id: Optional[int] = Field(default=None, primary_key=True)
    uid: str = _uid()
    subject_id: Optional[int] = Field(default=None, foreign_key="subject.id", index=True)
    happened_at: datetime = _when(index=True)
    logged_at: datetime = _when(default_factory=now)
    kind: str = "note"
    text: str
    metrics: dict = _json(dict)
    tags: list = _json(list)
    source: str = "cli"
    author: str = ""  # the login of the person who wrote it (server mode); "" on the embedded journal
    supersedes_id: Optional[int] = Field(default=None, foreign_key="observation.id")
    superseded_by_id: Optional[int] = Field(default=None, foreign_key="observation.id")
    deleted_at: Optional[datetime] = _when(default=None)
    # False until the vector index has this row's current state; the next open repairs it.
    indexed: bool = False

    @property
    def live(self) -> bool:
        """The current version of a note that was not deleted: what recall, the timeline and export
        of the journal see. The one definition; `LIVE` and `live_note` say the same in SQL."""
        return self.deleted_at is None and self.superseded_by_id is None

    @classmethod
    def live_note(cls):
        """`live` as a SQLModel where-clause."""
        return and_(cls.deleted_at.is_(None), cls.superseded_by_id.is_(None))


LIVE = "o.deleted_at IS NULL AND o.superseded_by_id IS NULL"  # `Observation.live` in raw SQL (table alias o)


class CareItem(SQLModel, table=True):
    """A recurring piece of a pet's care (a vaccine, flea or worm treatment, a medication with its
    dose and times, a check): due `every_days` after the last note that says it was done."""

    __tablename__ = "care_item"
    id: Optional[int] = Field(default=None, primary_key=True)
    uid: str = _uid()
    subject_id: Optional[int] = Field(default=None, foreign_key="subject.id", index=True)  # None: the household's
    name: str
    kind: str = "note"  # the journal kind a note of it has (vaccine, medication, grooming...)
    every_days: int = 30
    words: list = _json(list)  # regexes: a note matching one says it was done
    dose: str = ""  # "2.5 mg", "1 pipette": a medication's dose, with its unit
    times: list = _json(list)  # ["08:00", "20:00"]: the doses of a day, for a daily medication
    default_id: Optional[str] = None  # the domain pack's default it came from
    source: str = ""  # where the interval comes from (the pack's source line, or "you")
    active: bool = True  # False: stopped or removed (a pack default is not added again)
    created_at: datetime = _when(default_factory=now)


class Reminder(SQLModel, table=True):
    """A care item found due or overdue by the scheduler, once per due day; `shown_at` once the app
    has told the user."""

    __tablename__ = "reminder"
    id: Optional[int] = Field(default=None, primary_key=True)
    care_item_id: int = Field(foreign_key="care_item.id", index=True)
    due_on: date
    status: str = "due"  # due | overdue
    noticed_at: datetime = _when(default_factory=now)
    shown_at: Optional[datetime] = _when(default=None)


class Alert(SQLModel, table=True):
    """A trend the code noticed (memory.alerts): open while it holds, cleared when it no longer does."""

    __tablename__ = "alert"
    id: Optional[int] = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", index=True)
    rule: str  # the domain pack's trend rule id
    level: str = "watch"  # watch | vet
    message: str = ""
    evidence: list = _json(list)  # the note ids it rests on
    first_seen: datetime = _when(default_factory=now)
    last_seen: datetime = _when(default_factory=now)
    cleared_at: Optional[datetime] = _when(default=None)


class Photo(SQLModel, table=True):
    """An image on a note, stored once by its content (photos/<sha256>.<ext> in the data home)."""

    __tablename__ = "photo"
    id: Optional[int] = Field(default=None, primary_key=True)
    uid: str = _uid()
    observation_id: int = Field(foreign_key="observation.id", index=True)
    sha256: str = Field(index=True)
    mime: str
    width: int
    height: int
    size: int  # bytes
    name: str = ""  # the file name it came with
    created_at: datetime = _when(default_factory=now)

    @property
    def file_name(self) -> str:
        return f"{self.sha256}.{self.mime.split('/')[-1]}"


class Interaction(SQLModel, table=True):
    """One question asked and everything needed to reproduce and learn from the answer."""

    __tablename__ = "interaction"
    id: Optional[int] = Field(default=None, primary_key=True)
    uid: str = _uid()
    asked_at: datetime = _when(default_factory=now)
    question: str
    author: str = ""  # who asked (a person's login in server mode)
    subject_id: Optional[int] = Field(default=None, foreign_key="subject.id")
    retrieved: list = _json(list)  # [{"id", "score"}] every hit recall returned
    citations: list = _json(list)  # [{"id", "at", "text"}] the notes passed to the model
    prompt: str = ""
    history_block: str = ""
    answer: str = ""  # what the user saw
    model_answer: str = ""  # the model's part of it (no red-flag line or disclaimer): what training learns
    cut: list = _json(list)  # [{"sentence", "problems", "shown_instead"}] model sentences the guard did not show
    no_record: bool = False
    red_flag: Optional[str] = None
    base_model: str = ""
    adapter_version: Optional[str] = None
    latency_ms: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Feedback(SQLModel, table=True):
    """The user's verdict on an answer: a rating and, when they bothered, the right answer."""

    __tablename__ = "feedback"
    id: Optional[int] = Field(default=None, primary_key=True)
    uid: str = _uid()
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    created_at: datetime = _when(default_factory=now)
    rating: int = 0  # +1 up, -1 down, 0 a correction without a rating
    correction: Optional[str] = None
    note: str = ""
    author: str = ""  # who rated or corrected (a person's login in server mode)


class TrainingRecord(SQLModel, table=True):
    """An Alpaca record the user brought (dataset import): approved training data with its source."""

    __tablename__ = "training_record"
    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = _when(default_factory=now)
    instruction: str
    input: str = ""
    output: str
    source: str = ""
    digest: str = Field(index=True, unique=True)


class RetrainRun(SQLModel, table=True):
    """One retrain: why it ran, on what data, how it went. The source of truth for the UI and CLI."""

    __tablename__ = "retrain_run"
    id: Optional[int] = Field(default=None, primary_key=True)
    trigger: str = "manual"  # manual | schedule
    status: str = "queued"  # queued | running | succeeded | rejected | skipped | failed
    created_at: datetime = _when(default_factory=now)
    started_at: Optional[datetime] = _when(default=None)
    finished_at: Optional[datetime] = _when(default=None)
    heartbeat_at: Optional[datetime] = _when(default=None)
    pid: Optional[int] = None
    # The machine whose process carries it out (retrain.runs.HERE), or "*": queued for any training
    # machine (`python -m retrain.worker --watch`, sharing the database and the data home).
    host: Optional[str] = None
    dataset_digest: str = ""
    train_records: int = 0
    eval_records: int = 0
    new_records: int = 0
    config: dict = _json(dict)
    progress: dict = _json(dict)  # {"step", "total", "loss", "eta_s", "phase"}
    eval_loss: dict = _json(dict)  # {"base", "active", "candidate"}
    metrics: dict = _json(dict)  # gate details
    adapter_version: Optional[str] = None
    promoted: bool = False
    reason: str = ""
    log_path: str = ""
    error: str = ""
    scheduled_for: Optional[datetime] = _when(default=None)  # the cron time a scheduled run answers


class Adapter(SQLModel, table=True):
    """A trained LoRA adapter; exactly one is `active` at any time (the starter until a retrain wins)."""

    __tablename__ = "adapter"
    id: Optional[int] = Field(default=None, primary_key=True)
    version: str = Field(index=True, unique=True)
    path: str
    base_model: str = ""
    run_id: Optional[int] = Field(default=None, foreign_key="retrain_run.id")
    status: str = "candidate"  # candidate | active | retired | rejected
    created_at: datetime = _when(default_factory=now)
    activated_at: Optional[datetime] = _when(default=None)
    metrics: dict = _json(dict)


class SchedulePolicy(SQLModel, table=True):
    """When the feedback loop retrains by itself: a cron time and a minimum of new records."""

    __tablename__ = "schedule_policy"
    id: int = Field(default=1, primary_key=True)
    cron: str = "30 3 * * *"  # nightly at 03:30, local time
    min_new_records: int = 10
    paused: bool = False
    config: dict = _json(dict)  # TrainConfig overrides for every retrain (scheduled or started by hand)
    updated_at: datetime = _when(default_factory=now)
