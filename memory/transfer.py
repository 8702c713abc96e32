"""Import and export: JSONL or CSV in, everything out as JSONL, lossless and re-importable.

An import is all or nothing: every row is checked first, then all rows land in one transaction.
The export holds typed lines: {"type": "subject" | "observation" | "interaction" | "feedback", ...}.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import insert, update
from sqlmodel import select

from memory.dates import iso, parse_when
from memory.errors import MemoloopError
from memory.journal import check_kind, check_sex, clean_text
from memory.models import Feedback, Interaction, Observation, Subject
from memory.store import Memory

EXPORT_VERSION = 1


@dataclass
class ImportReport:
    observations: int = 0
    subjects: int = 0
    interactions: int = 0
    feedback: int = 0
    duplicates: int = 0

    def to_json(self) -> dict:
        return dict(self.__dict__)


def read_text(path: Path) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise MemoloopError(f"cannot read '{path}': {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MemoloopError(
            f"'{path}' is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None


def csv_rows(path: Path, content: str, required: set[str], needs: str) -> list[tuple[int, dict]]:
    """(line number, row) for each row of a CSV whose header must name `required` columns."""
    reader = csv.DictReader(io.StringIO(content))
    if not reader.fieldnames or not required <= set(reader.fieldnames):
        raise MemoloopError(f"{path} line 1: the CSV header needs {needs}")
    return [(reader.line_num, dict(row)) for row in reader]


def parse_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, record) for each row of a .jsonl or .csv file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise MemoloopError(f"'{path}' is not a .jsonl or .csv file; export your notes as one of those")
    content = read_text(path)
    if suffix == ".csv":
        return csv_rows(path, content, {"text"}, "at least 'text' (and 'at', 'subject')")
    rows = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise MemoloopError(f"{path} line {number}: not valid JSON ({exc.msg}); nothing was imported") from None
        if not isinstance(record, dict):
            raise MemoloopError(f"{path} line {number}: expected a JSON object; nothing was imported")
        rows.append((number, record))
    return rows


def import_file(mem: Memory, path: Path, *, kinds=None, allow_future: bool = False,
                progress=None) -> ImportReport:
    rows = parse_rows(path)
    report = ImportReport()
    with mem.session() as s:
        names = {x.name.lower(): x for x in s.exec(select(Subject))}
        live = select(Observation.subject_id, Observation.happened_at, Observation.kind, Observation.text)
        seen = {(subject_id, iso(at), kind, note) for subject_id, at, kind, note
                in s.exec(live.where(Observation.deleted_at.is_(None)))}
        notes, others, interaction_map = [], [], {}  # (record, Observation), (record, "interaction"|"feedback")
        for number, record in rows:
            try:
                kind_of_row = record.get("type", "observation")
                if kind_of_row == "subject":
                    _stage_subject(s, record, names, report)
                elif kind_of_row == "observation":
                    obs = _observation(record, names, kinds, allow_future)
                    key = (obs.subject_id, iso(obs.happened_at), obs.kind, obs.text)
                    if key in seen and not obs.deleted_at:
                        report.duplicates += 1
                        continue
                    seen.add(key)
                    notes.append((record, obs))
                elif kind_of_row in ("interaction", "feedback"):
                    others.append((record, kind_of_row))
                else:
                    raise MemoloopError(f"type '{kind_of_row}' is not one of subject, observation, interaction, feedback")
            except MemoloopError as exc:
                raise MemoloopError(f"{path} line {number}: {exc}; nothing was imported") from None
        ids = _insert_notes(s, [item for _, item in notes])
        id_map = {record["id"]: new for (record, _), new in zip(notes, ids) if "id" in record}
        for (record, _), new in zip(notes, ids):  # an edited note points at the one it replaced
            old = id_map.get(record.get("supersedes_id"))
            if old:
                s.execute(update(Observation).where(Observation.id == new).values(supersedes_id=old))
                s.execute(update(Observation).where(Observation.id == old).values(superseded_by_id=new))
        report.observations = len(notes)
        for record, item in others:
            if item == "interaction":
                it = Interaction(**_fields(record, Interaction, drop=("id", "asked_at", "subject")))
                it.asked_at = parse_when(record.get("asked_at"), allow_future=True)
                it.subject_id = names[record["subject"].lower()].id if record.get("subject") else None
                s.add(it)
                s.flush()
                interaction_map[record.get("id")] = it.id
                report.interactions += 1
            else:
                fb = Feedback(**_fields(record, Feedback, drop=("id", "created_at", "interaction_id")))
                fb.created_at = parse_when(record.get("created_at"), allow_future=True)
                fb.interaction_id = interaction_map[record["interaction_id"]]
                s.add(fb)
                report.feedback += 1
        s.commit()
    _index_in_batches(mem, progress)
    return report


def _insert_notes(s, notes: list[Observation]) -> list[int]:
    """The notes in one multi-row INSERT; their new ids, in order.

    The ORM would INSERT them one by one to learn each id. From its first INSERT this transaction
    holds SQLite's write lock, and a new row's id is the largest id + 1, so the last len(notes)
    rows are these, in the order given.
    """
    if not notes:
        return []
    s.execute(insert(Observation), [n.model_dump(exclude={"id"}) for n in notes])
    newest = s.exec(select(Observation.id).order_by(Observation.id.desc()).limit(len(notes))).all()
    return list(reversed(newest))


def _index_in_batches(mem: Memory, progress) -> None:
    """Embed and index what was just stored; `progress(total)` returns a per-batch callback."""
    tick = progress(mem.pending()) if progress is not None else None
    mem.sync_index(batch=512, progress=tick)


def _fields(record: dict, model, drop=()) -> dict:
    return {k: v for k, v in record.items() if k in model.model_fields and k not in drop}


def _stage_subject(s, record, names, report) -> None:
    name = clean_text(record.get("name"), "subject name")
    if name.lower() in names:
        return
    birth = record.get("birth_date")
    neutered = record.get("neutered")
    if neutered is not None and not isinstance(neutered, bool):
        raise MemoloopError(f"subject '{name}': neutered {neutered!r} is not valid; use true, false or leave it out")
    subject = Subject(name=name, species=record.get("species") or "cat", notes=record.get("notes") or "",
                      birth_date=date.fromisoformat(birth) if birth else None,
                      sex=check_sex(record.get("sex")), neutered=neutered)
    s.add(subject)
    s.flush()
    names[name.lower()] = subject
    report.subjects += 1


def _observation(record: dict, names: dict, kinds, allow_future: bool) -> Observation:
    subject = (record.get("subject") or "").strip()
    if subject and subject.lower() not in names:
        raise MemoloopError(f"subject '{subject}' is not known; add it with: memoloop subjects add '{subject}'")
    if not record.get("at"):
        raise MemoloopError("'at' is missing; give the date it happened, e.g. 2024-02-13")
    metrics = record.get("metrics") or {}
    if isinstance(metrics, str):
        try:
            metrics = json.loads(metrics)
        except json.JSONDecodeError:
            raise MemoloopError(f"metrics '{metrics}' is not a JSON object like {{\"weight_kg\": 4.2}}") from None
    if not isinstance(metrics, dict):
        raise MemoloopError(f"metrics '{metrics}' is not a JSON object like {{\"weight_kg\": 4.2}}")
    tags = record.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.replace(";", ",").split(",") if t.strip()]
    deleted = record.get("deleted_at")
    obs = Observation(
        subject_id=names[subject.lower()].id if subject else None,
        happened_at=parse_when(record["at"], allow_future=allow_future, field="at"),
        kind=check_kind(record.get("kind"), kinds), text=clean_text(record.get("text")),
        metrics=metrics, tags=list(tags), source=record.get("source") or "import",
        deleted_at=parse_when(deleted, allow_future=True, field="deleted_at") if deleted else None,
    )
    if record.get("logged_at"):
        obs.logged_at = parse_when(record["logged_at"], allow_future=True, field="logged_at")
    return obs


def export_records(mem: Memory) -> list[dict]:
    """Everything in the data home as typed records, oldest first, ids kept for the links."""
    with mem.session() as s:
        subjects = {x.id: x for x in s.exec(select(Subject).order_by(Subject.id))}
        out = [{"type": "subject", "name": x.name, "species": x.species, "notes": x.notes,
                "sex": x.sex, "neutered": x.neutered, "birth_date": x.birth_date.isoformat() if x.birth_date else None} for x in subjects.values()]
        for o in s.exec(select(Observation).order_by(Observation.id)):
            out.append({"type": "observation", "id": o.id,
                        "subject": subjects[o.subject_id].name if o.subject_id else None,
                        "at": iso(o.happened_at), "logged_at": iso(o.logged_at), "kind": o.kind,
                        "text": o.text, "metrics": o.metrics, "tags": o.tags, "source": o.source,
                        "supersedes_id": o.supersedes_id, "deleted_at": iso(o.deleted_at)})
        for it in s.exec(select(Interaction).order_by(Interaction.id)):
            rec = it.model_dump(exclude={"subject_id", "asked_at"})
            rec.update(type="interaction", asked_at=iso(it.asked_at),
                       subject=subjects[it.subject_id].name if it.subject_id else None)
            out.append(rec)
        for fb in s.exec(select(Feedback).order_by(Feedback.id)):
            rec = fb.model_dump(exclude={"created_at"})
            rec.update(type="feedback", created_at=iso(fb.created_at))
            out.append(rec)
    return out


def export_jsonl(mem: Memory) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in export_records(mem))
