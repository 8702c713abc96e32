"""Files in and out: reading what a user hands us (UTF-8 text, JSON lines, CSV; every fault one
clear line), and writing so that a crash never leaves a half-written file under the final name."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from memory.errors import MemoloopError
from memory.processes import alive

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


@contextmanager
def replacing(path: Path, mode: int = 0o600):
    """Yields a sibling temp path to write; on success it takes `path`'s name in one rename, on
    failure it is removed and `path` is as it was."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: str | bytes, mode: int = 0o600) -> None:
    """Write a sibling temp file, flush it to disk, then rename it over `path`."""
    with replacing(path, mode) as tmp, open(tmp, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())


def temp_dir_for(final: Path) -> Path:
    """A fresh sibling temp folder (same filesystem, so the final rename is atomic); the leftovers
    of crashed processes are removed on the way."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    for path in final.parent.glob(f".{final.name}.tmp-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def publish_dir(tmp: Path, final: Path) -> None:
    """Move a finished temp folder into place, replacing `final` only once the new one is complete."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
