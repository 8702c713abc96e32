"""Photos on notes: checked to be an image (by its content, not its name), at most MAX_BYTES,
stored once by their sha256 in the data home's photos folder, and listed in SQL.

    photo = check(path)                      # before anything is stored: a clear error or a CheckedPhoto
    journal.log(...) then attach(mem, obs_id, photo)
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from memory.errors import MemoloopError
from memory.files import write_atomic
from memory.models import Observation, Photo
from memory.store import Memory

MAX_BYTES = 15 * 1024 * 1024
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True)
class CheckedPhoto:
    data: bytes
    sha256: str
    mime: str
    width: int
    height: int
    name: str


def check(source: Path | bytes, name: str = "") -> CheckedPhoto:
    """The photo's bytes, checked; a MemoloopError naming the file and what would be valid."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), name or "photo"
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise MemoloopError(f"photo '{path}' is not a file; give the path of a JPEG, PNG, WebP or GIF")
        if path.stat().st_size > MAX_BYTES:
            raise MemoloopError(f"photo '{name}' is {path.stat().st_size / 1e6:.1f} MB; the limit is "
                                f"{MAX_BYTES // (1024 * 1024)} MB: make it smaller first")
        data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise MemoloopError(f"photo '{name}' is {len(data) / 1e6:.1f} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, size = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise MemoloopError(f"photo '{name}' is not an image memoloop can read; give a JPEG, PNG, WebP or GIF") from None
    if kind not in FORMATS:
        raise MemoloopError(f"photo '{name}' is a {kind} image; give a JPEG, PNG, WebP or GIF")
    return CheckedPhoto(data, hashlib.sha256(data).hexdigest(), FORMATS[kind], size[0], size[1], name)


def attach(mem: Memory, observation_id: int, photo: CheckedPhoto) -> Photo:
    """Store the file (once per content) and list it on the note."""
    folder = mem.home.photos_dir
    folder.mkdir(parents=True, exist_ok=True)
    row = Photo(observation_id=observation_id, sha256=photo.sha256, mime=photo.mime, width=photo.width,
                height=photo.height, size=len(photo.data), name=photo.name[:200])
    target = folder / row.file_name
    if not target.exists():
        write_atomic(target, photo.data, 0o600)  # the file first: a row never points at nothing
    with mem.session() as s:
        if s.get(Observation, observation_id) is None:
            raise MemoloopError(f"observation {observation_id} does not exist")
        s.add(row)
        s.commit()
        s.refresh(row)
        return row


def of(mem: Memory, observation_ids: list[int]) -> dict[int, list[Photo]]:
    """The photos of these notes, by note id."""
    out: dict[int, list[Photo]] = {}
    if not observation_ids:
        return out
    with mem.session() as s:
        for photo in s.exec(select(Photo).where(Photo.observation_id.in_(observation_ids)).order_by(Photo.id)):
            out.setdefault(photo.observation_id, []).append(photo)
    return out


def path(mem: Memory, photo: Photo) -> Path:
    return mem.home.photos_dir / photo.file_name


def thumbnail(mem: Memory, photo: Photo, size: int = 160) -> bytes:
    """A small JPEG of the photo (made from the stored file; the same content gives the same one)."""
    from PIL import Image

    with Image.open(path(mem, photo)) as image:
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)
        return out.getvalue()
