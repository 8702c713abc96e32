"""Reading the files a user hands us: UTF-8 text, JSON lines and CSV, every fault one clear line."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from memory.errors import MemoloopError

MAX_FILE_BYTES = 512 * 1024 * 1024
csv.field_size_limit(64 * 1024 * 1024)  # the text limit (memory.journal) names a long field, not the csv module


def read_text(path: Path) -> str:
    path = Path(path)
    try:
        if path.is_dir():
            raise MemoloopError(f"'{path}' is a folder; give the file to import")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise MemoloopError(f"'{path}' is {path.stat().st_size >> 20} MB; the limit is "
                                f"{MAX_FILE_BYTES >> 20} MB: split it into several files")
        raw = path.read_bytes()
    except OSError as exc:
        raise MemoloopError(f"cannot read '{path}': {exc.strerror or exc}") from None
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MemoloopError(f"'{path}' is not a text file (it holds NUL bytes); give a .jsonl or .csv file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MemoloopError(
            f"'{path}' is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None


def read_lines(path: Path, content: str) -> list[tuple[int, dict]]:
    """(line number, object) for each non-empty JSON line; NaN and Infinity are refused."""
    rows = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_constant=_no_constant)
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise MemoloopError(f"{path} line {number}: not valid JSON ({reason}); nothing was imported") from None
        if not isinstance(record, dict):
            raise MemoloopError(f"{path} line {number}: expected a JSON object; nothing was imported")
        rows.append((number, record))
    return rows


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number memoloop stores")


def csv_rows(path: Path, content: str, required: set[str], needs: str) -> list[tuple[int, dict]]:
    """(line number, row) for each row of a CSV whose header must name `required` columns once each."""
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header or not required <= {h.strip() for h in header}:
            raise MemoloopError(f"{path} line 1: the CSV header needs {needs}")
        names = [h.strip() for h in header]
        twice = next((h for h in names if h and names.count(h) > 1), None)
        if twice:
            raise MemoloopError(f"{path} line 1: the CSV header names '{twice}' twice; keep one column of each name")
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(names):
                raise MemoloopError(f"{path} line {reader.line_num}: {len(values)} fields, but the header has "
                                    f"{len(names)} ({', '.join(names)}); nothing was imported")
            rows.append((reader.line_num, dict(zip(names, values))))
        return rows
    except csv.Error as exc:
        raise MemoloopError(f"{path} line {reader.line_num}: not valid CSV ({exc}); nothing was imported") from None
