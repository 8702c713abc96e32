"""Writing the journal: subjects and observations, corrections that supersede, soft deletes.

Every write lands in SQL first (with `indexed` false), then in the vector index; a crash in
between is repaired the next time the index is opened.
"""
from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from memory.dates import now, parse_when
from memory.errors import MemoloopError
from memory.models import SEXES, Observation, Subject
from memory.store import Memory

MAX_TEXT_CHARS = 4000
DEFAULT_KINDS = ("note",)


def clean_text(value: str | None, field: str = "text") -> str:
    """Stripped user text; empty, over-long, non-text or control characters are refused, not stored."""
    if value is not None and not isinstance(value, str):
        raise MemoloopError(f"{field} {value!r} is not text; give it in quotes, e.g. \"Mochi sneezed twice\"")
    text = (value or "").strip()
    bad = next((c for c in text if is_control(c)), None)
    if bad is not None:
        raise MemoloopError(f"{field} holds the control character U+{ord(bad):04X} at position {text.index(bad)}; "
                            "remove it (only line breaks and tabs are allowed)")
    if not text:
        hint = {"text": "write what happened, e.g. 'Mochi sneezed twice'",
                "subject name": "give the pet's name, e.g. Mochi"}.get(field, "write something or leave it out")
        raise MemoloopError(f"{field} is empty; {hint}")
    if len(text) > MAX_TEXT_CHARS:
        raise MemoloopError(
            f"{field} is {len(text)} characters; the limit is {MAX_TEXT_CHARS}: split it into several notes"
        )
    return text


def optional_text(value, field: str) -> str:
    """Like clean_text, but nothing (or only spaces) is allowed and gives ''."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    return clean_text(value, field)


def is_control(c: str) -> bool:
    return unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t\r"


def check_metrics(metrics) -> dict:
    """{"weight_kg": 4.2}: names are text, values finite numbers."""
    if metrics is None:
        return {}
    if not isinstance(metrics, dict):
        raise MemoloopError(f"metrics {metrics!r} is not a JSON object like {{\"weight_kg\": 4.2}}")
    for name, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise MemoloopError(f"metric '{name}' = {value!r} is not a finite number; give e.g. {{\"{name}\": 4.2}}")
    return dict(metrics)


MAX_WEIGHT_KG = 50  # a cat's weight in kg is below this (the heaviest on record: 21 kg)


def check_weight(kg, label: str = "") -> float:
    """A cat's weight in kilograms, the one rule for the Journal page, the CLI and quick logs."""
    if isinstance(kg, bool) or not isinstance(kg, (int, float)) or not 0 < kg < MAX_WEIGHT_KG:
        raise MemoloopError(f"{label}{kg!r} is not a cat's weight in kg; give it in kilograms, e.g. 4.2")
    return float(kg)


def check_tags(tags) -> list:
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise MemoloopError(f"tags {tags!r} is not a list of words like [\"vet\", \"monthly\"]")
    return [clean_text(t, "tag") for t in tags]


def check_kind(kind: str | None, kinds) -> str:
    if kind is not None and not isinstance(kind, str):
        raise MemoloopError(f"kind {kind!r} is not text; use one of: {', '.join(kinds or DEFAULT_KINDS)}")
    if kind is not None and not kind.strip():
        raise MemoloopError(f"kind '{kind}' is empty; use one of: {', '.join(kinds or DEFAULT_KINDS)}")
    kind = (kind or "note").strip().lower()
    if kinds and kind not in kinds:
        raise MemoloopError(f"kind '{kind}' is not known; use one of: {', '.join(kinds)}")
    return kind


# --- subjects -----------------------------------------------------------------------------

def check_birth_date(value, field: str = "--birth-date") -> date | None:
    """A birth date from text or a date; not in the future."""
    if value is None or value == "":
        return None
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            raise MemoloopError(f"{field} '{value}' is not a date; use YYYY-MM-DD") from None
    if value > date.today():
        raise MemoloopError(f"{field} '{value}' is in the future; give the day the pet was born")
    return value


def find_subject(s: Session, name: str) -> Subject:
    found = s.exec(select(Subject).where(func.lower(Subject.name) == name.strip().lower())).first()
    if found is None:
        known = ", ".join(x.name for x in s.exec(select(Subject).order_by(Subject.name))) or "none yet"
        raise MemoloopError(
            f"subject '{name}' is not known (known: {known}); add it with: memoloop subjects add '{name}'"
        )
    return found


def check_sex(sex: str | None) -> str | None:
    if sex is None or not str(sex).strip():
        return None
    value = str(sex).strip().lower()
    if value not in SEXES:
        raise MemoloopError(f"sex '{sex}' is not valid; use one of: {', '.join(SEXES)}")
    return value


def add_subject(mem: Memory, name: str, species: str = "cat", birth_date: date | str | None = None,
                notes: str = "", sex: str | None = None, neutered: bool | None = None) -> Subject:
    name = clean_text(name, "subject name")
    sex = check_sex(sex)
    birth_date = check_birth_date(birth_date)
    notes = optional_text(notes, "notes")
    with mem.session() as s:
        if s.exec(select(Subject).where(func.lower(Subject.name) == name.lower())).first():
            raise MemoloopError(f"subject '{name}' already exists; pick another name")
        subject = Subject(name=name, species=(species or "cat").strip().lower(),
                          birth_date=birth_date, notes=notes or "", sex=sex, neutered=neutered)
        s.add(subject)
        s.commit()
        return subject


def update_subject(mem: Memory, name: str, *, new_name: str | None = None, species: str | None = None,
                   birth_date: date | None = None, notes: str | None = None, sex: str | None = None,
                   neutered: bool | None = None) -> Subject:
    sex = check_sex(sex)
    birth_date = check_birth_date(birth_date)
    if notes is not None:
        notes = optional_text(notes, "notes")
    with mem.session() as s:
        subject = find_subject(s, name)
        if new_name and new_name.strip().lower() != subject.name.lower():
            new_name = clean_text(new_name, "subject name")
            if s.exec(select(Subject).where(func.lower(Subject.name) == new_name.lower())).first():
                raise MemoloopError(f"subject '{new_name}' already exists; pick another name")
            subject.name = new_name
        elif new_name:
            subject.name = new_name.strip()
        if species is not None:
            subject.species = species.strip().lower() or subject.species
        if birth_date is not None:
            subject.birth_date = birth_date
        if notes is not None:
            subject.notes = notes
        if sex is not None:
            subject.sex = sex
        if neutered is not None:
            subject.neutered = neutered
        s.add(subject)
        s.commit()
        return subject


def list_subjects(mem: Memory) -> list[Subject]:
    with mem.session() as s:
        return list(s.exec(select(Subject).order_by(Subject.name)))


# --- observations -------------------------------------------------------------------------

def log(mem: Memory, text: str, *, subject: str | None = None, at: str | datetime | None = None,
        kind: str | None = "note", metrics: dict | None = None, tags: list | None = None,
        source: str = "cli", allow_future: bool = False, kinds=None) -> Observation:
    """Store one observation and index it."""
    text = clean_text(text)
    kind = check_kind(kind, kinds)
    happened = parse_when(at, allow_future=allow_future)
    with mem.session() as s:
        subject_id = find_subject(s, subject).id if subject else None
        obs = Observation(subject_id=subject_id, happened_at=happened, kind=kind, text=text,
                          metrics=check_metrics(metrics), tags=check_tags(list(tags or [])), source=source,
                          author=mem.author)
        s.add(obs)
        s.commit()
    mem.sync_index()
    return get(mem, obs.id)


def get(mem: Memory, obs_id: int) -> Observation:
    with mem.session() as s:
        obs = s.get(Observation, obs_id)
        if obs is None:
            raise MemoloopError(f"observation {obs_id} does not exist")
        return obs


def correct(mem: Memory, obs_id: int, *, text: str | None = None, at: str | datetime | None = None,
            kind: str | None = None, metrics: dict | None = None, tags: list | None = None,
            kinds=None) -> Observation:
    """A correction is a new row that supersedes the old one; the old one stays as history."""
    with mem.session() as s:
        old = s.get(Observation, obs_id)
        if old is None or not old.live:
            raise MemoloopError(f"observation {obs_id} does not exist or was already replaced or deleted")
        new = Observation(
            subject_id=old.subject_id,
            happened_at=parse_when(at) if at else old.happened_at,
            kind=check_kind(kind, kinds) if kind else old.kind,
            text=clean_text(text) if text is not None else old.text,
            metrics=old.metrics if metrics is None else check_metrics(metrics),
            tags=old.tags if tags is None else check_tags(list(tags)),
            source=old.source, supersedes_id=old.id, author=mem.author,
        )
        s.add(new)
        s.flush()
        old.superseded_by_id, old.indexed = new.id, False
        s.add(old)
        s.commit()
    mem.sync_index()
    return get(mem, new.id)


def undo_correction(mem: Memory, obs_id: int) -> Observation:
    """Bring back the row `obs_id` replaced; the correction itself is soft-deleted."""
    with mem.session() as s:
        new = s.get(Observation, obs_id)
        if new is None or new.supersedes_id is None or not new.live:
            raise MemoloopError(f"observation {obs_id} is not a live correction")
        old = s.get(Observation, new.supersedes_id)
        new.deleted_at, new.indexed = now(), False
        old.superseded_by_id, old.indexed = None, False
        s.add_all([new, old])
        s.commit()
    mem.sync_index()
    return get(mem, old.id)


def undo(mem: Memory, obs_id: int) -> tuple[Observation, str]:
    """Undo what happened last to `obs_id`: a delete (it comes back) or a correction (the old text does)."""
    with mem.session() as s:
        obs = s.get(Observation, obs_id)
    if obs is None:
        raise MemoloopError(f"observation {obs_id} does not exist")
    if obs.deleted_at is not None:
        return restore(mem, obs_id), "delete"
    if obs.live and obs.supersedes_id is not None:
        return undo_correction(mem, obs_id), "correction"
    raise MemoloopError(f"observation {obs_id} was neither deleted nor a correction; nothing to undo "
                        "(give the id that delete or edit printed)")


def delete(mem: Memory, obs_id: int) -> Observation:
    return _set_deleted(mem, obs_id, deleted=True)


def restore(mem: Memory, obs_id: int) -> Observation:
    return _set_deleted(mem, obs_id, deleted=False)


def _set_deleted(mem: Memory, obs_id: int, *, deleted: bool) -> Observation:
    with mem.session() as s:
        obs = s.get(Observation, obs_id)
        if obs is None:
            raise MemoloopError(f"observation {obs_id} does not exist")
        if obs.superseded_by_id is not None:
            raise MemoloopError(f"observation {obs_id} was replaced by #{obs.superseded_by_id}; "
                                f"{'delete' if deleted else 'restore'} that one instead")
        if not deleted and obs.supersedes_id is not None:
            old = s.get(Observation, obs.supersedes_id)
            if old.superseded_by_id != obs.id:
                raise MemoloopError(f"observation {obs_id} was a correction that was undone; edit #{old.id} instead")
        if deleted and obs.deleted_at is not None:
            raise MemoloopError(f"observation {obs_id} is already deleted (memoloop undo {obs_id} brings it back)")
        obs.deleted_at, obs.indexed = (now() if deleted else None), False
        s.add(obs)
        s.commit()
    mem.sync_index()
    return get(mem, obs_id)


def timeline(mem: Memory, *, subject: str | None = None, kind: str | None = None,
             since: datetime | None = None, until: datetime | None = None,
             include_deleted: bool = False, limit: int | None = None) -> list[Observation]:
    """Live observations, newest first, filtered the way the History page and the CLI need."""
    with mem.session() as s:
        if include_deleted:
            q = select(Observation).where(Observation.superseded_by_id.is_(None))
        else:
            q = select(Observation).where(Observation.live_note())
        if subject:
            q = q.where(Observation.subject_id == find_subject(s, subject).id)
        if kind:
            q = q.where(Observation.kind == kind)
        if since:
            q = q.where(Observation.happened_at >= since)
        if until:
            q = q.where(Observation.happened_at <= until)
        q = q.order_by(Observation.happened_at.desc(), Observation.id.desc())
        return list(s.exec(q.limit(limit) if limit else q))


def subject_names(mem: Memory) -> dict[int, str]:
    with mem.session() as s:
        return {x.id: x.name for x in s.exec(select(Subject))}
