"""Importing notes: JSONL or CSV rows of {subject, at, text, kind?, metrics?, tags?}; a JSONL line
{"type": "subject", "name": ..., "sex"?, "neutered"?, "birth_date"?, "species"?, "notes"?} adds a pet.

An import is all or nothing: every row is checked first, then all rows land in one transaction.
A backup (a .zip, or JSON lines with typed records) goes to memory/backup.py instead, so
`memoloop import` takes either.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import select

from memory import backup
from memory.dates import iso, parse_when
from memory.errors import MemoloopError
from memory.files import csv_rows, read_lines, read_text
from memory.journal import (check_birth_date, check_kind, check_metrics, check_sex, check_tags, clean_text,
                            optional_text)
from memory.models import Observation, Subject
from memory.store import Memory

FIELDS = ("subject", "at", "text", "kind", "metrics", "tags")
SUBJECT_FIELDS = {"name", "species", "sex", "neutered", "birth_date", "notes"}


@dataclass
class ImportReport:
    observations: int = 0
    duplicates: int = 0

    def to_json(self) -> dict:
        return dict(self.__dict__)


def parse_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, record) for each row of a .jsonl or .csv file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise MemoloopError(f"'{path}' is not a .jsonl, .csv or .zip file; export your notes as one of those")
    content = read_text(path)
    if suffix == ".csv":
        return csv_rows(path, content, {"text"}, "at least 'text' (and 'at', 'subject')")
    return read_lines(path, content)


def import_file(mem: Memory, path: Path, *, kinds=None, allow_future: bool = False):
    """Import notes (an ImportReport) or restore a backup (a backup.RestoreReport)."""
    if backup.is_backup(path):
        return backup.restore(mem, path)
    rows = parse_rows(path)
    report = ImportReport()
    with mem.session() as s:
        names = {x.name.lower(): x for x in s.exec(select(Subject))}
        live = select(Observation.subject_id, Observation.happened_at, Observation.kind, Observation.text)
        seen = {(subject_id, iso(at), kind, note) for subject_id, at, kind, note
                in s.exec(live.where(Observation.live_note()))}
        notes = []
        for number, record in rows:
            try:
                kind_of_row = record.pop("type", "observation")
                if kind_of_row == "subject":
                    _stage_subject(s, record, names)
                    continue
                if kind_of_row != "observation":
                    raise MemoloopError(f"type {kind_of_row!r} is not valid in a file of notes; use subject or "
                                        "observation (a backup starts with a {\"type\": \"memoloop\"} line)")
                obs = _observation(record, names, kinds, allow_future)
                obs.author = mem.author
            except MemoloopError as exc:
                raise MemoloopError(f"{path} line {number}: {exc}; nothing was imported") from None
            key = (obs.subject_id, iso(obs.happened_at), obs.kind, obs.text)
            if key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            notes.append(obs)
        if notes:
            s.execute(insert(Observation), [n.model_dump(exclude={"id"}) for n in notes])
        report.observations = len(notes)
        s.commit()
    mem.sync_index()
    return report


def _stage_subject(s, record: dict, names: dict) -> None:
    unknown = sorted(set(record) - SUBJECT_FIELDS)
    if unknown:
        raise MemoloopError(f"'{unknown[0]}' is not a field of a pet; valid: {', '.join(sorted(SUBJECT_FIELDS))}")
    name = clean_text(record.get("name"), "subject name")
    if name.lower() in names:
        return
    neutered = record.get("neutered")
    if neutered is not None and not isinstance(neutered, bool):
        raise MemoloopError(f"neutered {neutered!r} is not valid; use true, false or leave it out")
    subject = Subject(name=name, species=(optional_text(record.get("species"), "species") or "cat").lower(),
                      notes=optional_text(record.get("notes"), "notes"),
                      birth_date=check_birth_date(record.get("birth_date"), "birth_date"),
                      sex=check_sex(record.get("sex")), neutered=neutered)
    s.add(subject)
    s.flush()
    names[name.lower()] = subject


def _observation(record: dict, names: dict, kinds, allow_future: bool) -> Observation:
    unknown = sorted(k for k in record if k not in FIELDS and k is not None)
    if unknown:
        raise MemoloopError(f"'{unknown[0]}' is not a field of a note; valid: {', '.join(FIELDS)}")
    subject = record.get("subject") or ""
    if not isinstance(subject, str):
        raise MemoloopError(f"subject {subject!r} is not a pet's name")
    subject = subject.strip()
    if subject and subject.lower() not in names:
        raise MemoloopError(f"subject '{subject}' is not known; add it with: memoloop subjects add '{subject}'")
    at = record.get("at")
    if not at:
        raise MemoloopError("'at' is missing; give the date it happened, e.g. 2024-02-13")
    if not isinstance(at, str):
        raise MemoloopError(f"at {at!r} is not a date; use ISO format like 2024-02-13")
    metrics = record.get("metrics") or {}
    if isinstance(metrics, str):
        try:
            metrics = json.loads(metrics, parse_constant=lambda name: name)
        except json.JSONDecodeError:
            raise MemoloopError(f"metrics '{metrics}' is not a JSON object like {{\"weight_kg\": 4.2}}") from None
    tags = record.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.replace(";", ",").split(",") if t.strip()]
    return Observation(
        subject_id=names[subject.lower()].id if subject else None,
        happened_at=parse_when(at, allow_future=allow_future, field="at"),
        kind=check_kind(record.get("kind") or None, kinds), text=clean_text(record.get("text")),
        metrics=check_metrics(metrics), tags=check_tags(tags), source="import",
    )
