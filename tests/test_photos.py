"""Photos on notes (memory.photos): checked by content, stored once by sha256, in the backup."""
from __future__ import annotations

import hashlib
import io
import json

import pytest
from PIL import Image

from memory import journal, photos
from memory.store import Memory
from ui.cli import main


def png(path, colour=(200, 120, 40), size=(64, 48)):
    Image.new("RGB", size, colour).save(path, "PNG")
    return path


def test_a_photo_is_stored_once_by_its_content_and_listed_on_its_note(home_dir, tmp_path, capsys):
    picture = png(tmp_path / "ear.png")
    assert main(["subjects", "add", "Mochi", "--home", str(home_dir)]) == 0
    for text in ("Mochi's left ear is red inside", "Ear still red, same spot"):
        assert main(["log", text, "--subject", "Mochi", "--photo", str(picture), "--json", "--home", str(home_dir)]) == 0
    first, second = [json.loads(line) for line in capsys.readouterr().out.splitlines()[1:]]
    digest = hashlib.sha256(picture.read_bytes()).hexdigest()
    assert first["photos"] == second["photos"] == [f"{digest}.png"]
    mem = Memory.open(home_dir)
    assert [f.name for f in mem.home.photos_dir.iterdir()] == [f"{digest}.png"]  # one file for both notes
    listed = photos.of(mem, [first["id"], second["id"]])
    assert [(p.width, p.height, p.mime, p.name) for p in listed[first["id"]]] == [(64, 48, "image/png", "ear.png")]
    thumb = Image.open(io.BytesIO(photos.thumbnail(mem, listed[first["id"]][0], 32)))
    assert thumb.format == "JPEG" and max(thumb.size) == 32


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("not a picture at all"), "is not an image memoloop can read"),
    (lambda p: Image.new("RGB", (8, 8)).save(p, "BMP"), "is a BMP image; give a JPEG, PNG, WebP or GIF"),
    (lambda p: png(p, size=(400, 400)), "the limit is 0 MB"),
])
def test_a_bad_photo_is_one_line_exit_2_and_nothing_is_stored(home_dir, tmp_path, capsys, monkeypatch, make, message):
    bad = tmp_path / "photo.jpg"
    make(bad)
    if "limit" in message:
        monkeypatch.setattr(photos, "MAX_BYTES", 100)
    assert main(["subjects", "add", "Mochi", "--home", str(home_dir)]) == 0
    assert main(["log", "Mochi's rash", "--subject", "Mochi", "--photo", str(bad), "--home", str(home_dir)]) == 2
    err = capsys.readouterr().err
    assert message in err and "photo.jpg" in err and len(err.strip().splitlines()) == 1
    mem = Memory.open(home_dir)
    assert journal.timeline(mem) == [] and not mem.home.photos_dir.exists()


def test_photos_travel_in_the_zip_backup(home_dir, tmp_path, capsys):
    picture = png(tmp_path / "lump.png", colour=(10, 200, 90))
    assert main(["subjects", "add", "Mochi", "--home", str(home_dir)]) == 0
    assert main(["log", "A small lump on Mochi's shoulder", "--subject", "Mochi", "--photo", str(picture),
                 "--home", str(home_dir)]) == 0
    out = tmp_path / "backup.zip"
    assert main(["export", "--out", str(out), "--home", str(home_dir)]) == 0
    other = tmp_path / "other"
    assert main(["import", str(out), "--json", "--home", str(other)]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["photos"] == 1
    mem = Memory.open(other)
    [note] = journal.timeline(mem)
    [photo] = photos.of(mem, [note.id])[note.id]
    assert photos.path(mem, photo).read_bytes() == picture.read_bytes()


def test_the_journal_forms_photos_are_checked_before_the_note_is_stored(mem, tmp_path):
    from memory.errors import MemoloopError
    from ui import entries

    journal.add_subject(mem, "Mochi")
    with pytest.raises(MemoloopError, match="'notes.pdf' is not an image"):
        entries.log_entry(mem, "Vet letter", pet="Mochi", kinds=None, photos=[(b"%PDF-1.4 ...", "notes.pdf")])
    assert journal.timeline(mem) == []
    data = png(tmp_path / "eye.png").read_bytes()
    obs = entries.log_entry(mem, "Mochi's eye is weepy", pet="Mochi", kinds=None, photos=[(data, "eye.png")])
    assert [p.name for p in photos.of(mem, [obs.id])[obs.id]] == ["eye.png"]
