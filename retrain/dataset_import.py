"""Bring your own data: an Alpaca JSON list or an instruction,input,output CSV, all or nothing."""
from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from agent.prompt import context_block
from memory.errors import MemoloopError
from memory.journal import MAX_TEXT_CHARS
from memory.models import TrainingRecord
from memory.store import Memory
from memory.transfer import csv_rows, read_text
from retrain.dataset import Record


def read_rows(path: Path) -> list[tuple[str, dict]]:
    """(where, row) pairs: 'record 3' for JSON, 'line 4' for CSV."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise MemoloopError(f"'{path}' is not a .json (Alpaca list) or .csv (instruction,input,output) file")
    content = read_text(path)
    if suffix == ".csv":
        rows = csv_rows(path, content, {"instruction", "output"}, "instruction and output (input is optional)")
        return [(f"line {number}", row) for number, row in rows]
    try:
        rows = json.loads(content)
    except json.JSONDecodeError as exc:
        raise MemoloopError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); nothing was imported") from None
    if not isinstance(rows, list):
        raise MemoloopError(f"{path}: expected a JSON list of {{instruction, input, output}} records")
    return [(f"record {i}", row) for i, row in enumerate(rows)]


def _record(row, source: str) -> Record:
    if not isinstance(row, dict):
        raise MemoloopError("expected an object with instruction, input, output")
    fields = {}
    for key in ("instruction", "input", "output"):
        value = row.get(key) or ""
        if not isinstance(value, str):
            raise MemoloopError(f"'{key}' must be text")
        if key != "input" and not value.strip():
            raise MemoloopError(f"'{key}' is empty")
        if len(value) > MAX_TEXT_CHARS:
            raise MemoloopError(f"'{key}' is {len(value)} characters; the limit is {MAX_TEXT_CHARS}")
        fields[key] = value.strip()
    # a record without notes is trained as the model sees a question with none: "no record" history
    return Record(fields["instruction"], fields["input"] or context_block([]), fields["output"], source)


def import_records(mem: Memory, path: Path) -> dict:
    """Adds the file's records as approved training data; returns counts."""
    path = Path(path)
    records = []
    for where, row in read_rows(path):
        try:
            records.append(_record(row, f"import:{path.name}"))
        except MemoloopError as exc:
            raise MemoloopError(f"{path} {where}: {exc}; nothing was imported") from None
    added = 0
    with mem.session() as s:
        known = set(s.exec(select(TrainingRecord.digest)))
        for r in records:
            digest = _digest(r)
            if digest in known:
                continue
            known.add(digest)
            s.add(TrainingRecord(instruction=r.instruction, input=r.input, output=r.output,
                                 source=r.source, digest=digest))
            added += 1
        s.commit()
    return {"imported": added, "duplicates": len(records) - added}


def _digest(r: Record) -> str:
    import hashlib

    return hashlib.sha256(f"{r.instruction}\x1f{r.input}\x1f{r.output}".encode()).hexdigest()
