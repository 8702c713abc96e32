"""The CLI contract for the memory commands, run as a user runs it."""
import json

from tests.conftest import run_cli
from ui.cli import main


def test_contract_log_recall_export_reindex(home_dir, tmp_path, capsys):
    assert main(["subjects", "add", "Mochi", "--home", str(home_dir)]) == 0
    assert capsys.readouterr().out.strip() == "added Mochi (cat)"
    assert main(["log", "Mochi sneezed twice", "--subject", "Mochi", "--at", "2024-02-13",
                 "--kind", "symptom", "--json", "--home", str(home_dir)]) == 0
    logged = json.loads(capsys.readouterr().out)
    assert logged["subject"] == "Mochi" and logged["at"].startswith("2024-02-13")

    assert main(["recall", "Is Mochi sneezing?", "--json", "--home", str(home_dir)]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [set(h) for h in hits] == [{"id", "subject", "at", "kind", "text", "score"}]
    assert hits[0]["id"] == logged["id"] and hits[0]["subject"] == "Mochi"

    assert main(["recall", "Has Mochi had a seizure?", "--json", "--home", str(home_dir)]) == 0
    assert json.loads(capsys.readouterr().out) == []  # no record: nothing relevant enough

    out = tmp_path / "all.jsonl"
    assert main(["export", "--out", str(out), "--home", str(home_dir)]) == 0
    types = [json.loads(line)["type"] for line in out.read_text().splitlines()]
    assert types == ["memoloop", "subject", "observation", "end"]
    capsys.readouterr()
    assert main(["reindex", "--json", "--home", str(home_dir)]) == 0
    assert json.loads(capsys.readouterr().out) == {"indexed": 1}

    assert main(["subjects", "list", "--json", "--home", str(home_dir)]) == 0
    assert [s["name"] for s in json.loads(capsys.readouterr().out)] == ["Mochi"]


def test_user_mistakes_are_one_line_exit_2_no_traceback(home_dir, tmp_path):
    """The installed command, as a separate process (tests/test_bad_input.py has the full table)."""
    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_text('{"at": "2025-01-01", "text": "fine"}\n{"at": "2025-01-02"\n')
    cases = [
        (["log", "sneezed", "--subject", "Nala"], "subject 'Nala' is not known"),
        (["import", str(bad_jsonl)], "line 2: not valid JSON"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ]
    for args, message in cases:
        result = run_cli(*args, home=home_dir)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, result.stderr)
        assert "Traceback" not in result.stderr
    stored = [json.loads(line)["type"] for line in run_cli("export", home=home_dir).stdout.splitlines()]
    assert stored == ["memoloop", "end"]  # nothing was stored by any of them


def test_a_pets_sex_and_neutered_status_are_kept_and_exported(home_dir, tmp_path, capsys):
    assert main(["subjects", "add", "Rusty", "--sex", "male", "--neutered", "--home", str(home_dir)]) == 0
    assert capsys.readouterr().out.strip() == "added Rusty (male cat, neutered)"
    assert main(["subjects", "add", "Pip", "--sex", "Female", "--no-neutered", "--json", "--home", str(home_dir)]) == 0
    assert json.loads(capsys.readouterr().out)["sex"] == "female"
    assert main(["subjects", "list", "--json", "--home", str(home_dir)]) == 0
    assert [(s["name"], s["sex"], s["neutered"]) for s in json.loads(capsys.readouterr().out)] == [
        ("Pip", "female", False), ("Rusty", "male", True)]
    out, other = tmp_path / "all.jsonl", tmp_path / "other"
    assert main(["export", "--out", str(out), "--home", str(home_dir)]) == 0
    assert main(["import", str(out), "--home", str(other)]) == 0
    capsys.readouterr()
    assert main(["subjects", "list", "--json", "--home", str(other)]) == 0
    assert [(s["sex"], s["neutered"]) for s in json.loads(capsys.readouterr().out)] == [("female", False), ("male", True)]


def test_a_home_that_is_not_writable(tmp_path):
    blocker = tmp_path / "a-file"  # tests run as root in CI, where chmod does not stop writes
    blocker.write_text("not a folder")
    result = run_cli("subjects", "list", home=blocker / "home")
    assert result.returncode == 2
    assert "is not writable" in result.stderr and "--home" in result.stderr


def test_edit_delete_and_undo_from_the_cli_keep_every_version(home_dir, capsys):
    def cli(*args):
        assert main([*args, "--json", "--home", str(home_dir)]) == 0, args
        return json.loads(capsys.readouterr().out)

    cli("subjects", "add", "Mochi")
    first = cli("log", "Mochi weighs 4.2 kg", "--subject", "Mochi", "--at", "2025-01-03")
    fixed = cli("edit", str(first["id"]), "Mochi weighs 4.3 kg")
    assert fixed["text"] == "Mochi weighs 4.3 kg" and fixed["at"] == first["at"]
    assert cli("undo", str(fixed["id"]))["id"] == first["id"]  # the correction undone: 4.2 is back
    def live():
        assert main(["export", "--home", str(home_dir)]) == 0
        notes = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        return [n["text"] for n in notes if n["type"] == "observation" and not n["deleted_at"]
                and not n["superseded_by_id"]]

    assert live() == ["Mochi weighs 4.2 kg"]
    gone = cli("delete", str(first["id"]))
    assert live() == []
    back = cli("undo", str(gone["id"]))
    assert back["undone"] == "delete" and live() == ["Mochi weighs 4.2 kg"]
    for args, message in [(["edit", "99", "x"], "observation 99 does not exist"),
                          (["undo", str(first["id"])], "nothing to undo"),
                          (["delete", str(fixed["id"])], "already deleted"),
                          (["edit", "abc", "x"], "'abc' is not a note id"),
                          (["edit", str(first["id"])], "edit needs the new TEXT")]:
        result = run_cli(*args, home=home_dir)
        assert result.returncode == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1, args
