"""Importing notes is all or nothing (backups: test_backup.py)."""
import json

import pytest

from memory import journal
from memory.errors import MemoloopError
from memory.transfer import import_file


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_import_jsonl_and_csv(mem, cats, tmp_path):
    jsonl = write(tmp_path / "notes.jsonl", "\n".join(json.dumps(r) for r in [
        {"subject": "Mochi", "at": "2025-09-01", "text": "Mochi vomited a hairball", "kind": "symptom"},
        {"subject": "", "at": "2025-09-02T10:00:00", "text": "Bought a new scratching post"},
        {"subject": "Luna", "at": "2025-09-03", "text": "Luna weighs 3.9 kg", "kind": "weight",
         "metrics": {"weight_kg": 3.9}, "tags": ["monthly"]},
    ]) + "\n")
    report = import_file(mem, jsonl, kinds=["note", "symptom", "weight"])
    assert (report.observations, report.duplicates) == (3, 0)
    csv = write(tmp_path / "notes.csv", "subject,at,text,kind,metrics,tags\n"
                "Mochi,2025-09-04,Mochi skipped dinner,symptom,,\n"
                'Luna,2025-09-05,Luna weighs 4.0 kg,weight,"{""weight_kg"": 4.0}",monthly;scale\n')
    assert import_file(mem, csv).observations == 2
    luna = journal.timeline(mem, subject="Luna", kind="weight")
    assert luna[0].metrics == {"weight_kg": 4.0} and luna[0].tags == ["monthly", "scale"]
    assert mem.pending() == 0 and mem.index.count() == len(cats) + 5
    # importing the same file again stores nothing twice
    assert import_file(mem, jsonl).duplicates == 3


@pytest.mark.parametrize("content, message", [
    ('{"subject": "Mochi", "at": "2025-01-01", "text": "ok"}\n{"subject": "Mochi", "at": "2025-01-02", "text": "ok"\n',
     "line 2: not valid JSON"),
    ('{"subject": "Mochi", "at": "2025-01-01", "text": "ok"}\n{"subject": "Nala", "at": "2025-01-02", "text": "hi"}\n',
     "line 2: subject 'Nala' is not known"),
    ('{"subject": "Mochi", "at": "2025-01-01", "text": "ok"}\n\n{"subject": "Mochi", "at": "soon", "text": "x"}\n',
     "line 3: at 'soon' is not a date"),
    ('{"subject": "Mochi", "at": "2025-01-01", "text": "   "}\n', "line 1: text is empty"),
    ('{"subject": "Mochi", "at": "2099-01-01", "text": "future"}\n', "line 1: at '2099-01-01' is in the future"),
    ('[1, 2]\n', "line 1: expected a JSON object"),
])
def test_a_bad_row_names_its_line_and_nothing_is_imported(mem, cats, tmp_path, content, message):
    path = write(tmp_path / "bad.jsonl", content)
    with pytest.raises(MemoloopError, match=message + ".*nothing was imported"):
        import_file(mem, path)
    assert len(journal.timeline(mem)) == len(cats)


def test_bad_csv_row_and_encoding(mem, cats, tmp_path):
    path = write(tmp_path / "bad.csv", "subject,at,text\nMochi,2025-01-01,fine\nMochi,,no date\n")
    with pytest.raises(MemoloopError, match="line 3: 'at' is missing"):
        import_file(mem, path)
    latin = write(tmp_path / "latin.csv", "subject,at,text\nMochi,2025-01-01,Mochi mangé\n", "latin-1")
    with pytest.raises(MemoloopError, match="is not UTF-8"):
        import_file(mem, latin)
    with pytest.raises(MemoloopError, match="not a .jsonl, .csv or .zip"):
        import_file(mem, write(tmp_path / "notes.txt", "hello"))
    assert len(journal.timeline(mem)) == len(cats)
