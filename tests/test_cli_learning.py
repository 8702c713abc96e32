"""The CLI contract for the learning commands: ask, feedback, dataset, adapters, retrain, schedule."""
import json

import pytest

from agent.settings import Settings
from memory.interactions import add_feedback, save_interaction
from memory.models import Interaction
from tests.conftest import run_cli
from ui.cli import main


def cli_json(capsys, *args: str, home) -> object:
    capsys.readouterr()
    assert main([*args, "--json", "--home", str(home)]) == 0
    return json.loads(capsys.readouterr().out)


def test_ask_feedback_and_the_dataset_it_makes(mem, cats, home_dir, gemma_dir, tmp_path, capsys):
    Settings(base_model=str(gemma_dir)).save(mem.home)
    answer = cli_json(capsys, "ask", "When did Luna get her FVRCP booster?", "--subject", "Luna", home=home_dir)
    assert set(answer) >= {"interaction_id", "answer", "citations", "red_flag", "no_record", "adapter"}
    assert not answer["no_record"] and answer["adapter"] == "starter"
    assert [c["at"][:10] for c in answer["citations"]] == ["2025-08-01"]

    right = "Luna got her FVRCP booster at the clinic on 2025-08-01."
    feedback = cli_json(capsys, "feedback", str(answer["interaction_id"]), "--down", "--correction", right,
                        home=home_dir)
    assert feedback["rating"] == -1 and feedback["correction"] == right

    data = cli_json(capsys, "dataset", home=home_dir)
    mine = [r for r in data["train"] + data["eval"] if r["instruction"] == "When did Luna get her FVRCP booster?"]
    # the only approved record is held out: a retrain needs something to judge the candidate on
    assert [r["output"] for r in data["eval"]] == [right] and [r["output"] for r in mine] == [right]
    assert "2025-08-01 (Luna, vaccine)" in mine[0]["input"]

    out = tmp_path / "train.json"
    assert main(["dataset", "--out", str(out), "--home", str(home_dir)]) == 0
    assert "1 approved record: " in capsys.readouterr().out
    assert json.loads(out.read_text()) == data["train"]


def test_dataset_import_and_a_record_whose_dates_its_notes_lack(home_dir, tmp_path, capsys):
    rows = [{"instruction": "When was Mochi spayed?", "input": "", "output": "On 2023-06-01."},
            {"instruction": "How heavy is Mochi?", "input": "History:\n- 2024-05-02 (Mochi, weight): 4.6 kg",
             "output": "On 2024-02-13 Mochi sneezed."}]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(rows))
    assert cli_json(capsys, "dataset", "import", str(path), home=home_dir) == {"imported": 2, "duplicates": 0}
    assert main(["dataset", "--home", str(home_dir)]) == 0
    assert "2 approved records" in (line := capsys.readouterr().out)
    assert "1 cite dates that are not in their notes" in line


def test_dataset_names_the_rated_up_answers_it_leaves_out(mem, home_dir, capsys):
    iid = save_interaction(mem, Interaction(question="When did Mochi last weigh in?",
                                            history_block="History:\n- 2024-05-02 (Mochi, weight): 4.6 kg",
                                            answer="On 2024-06-09.", model_answer="On 2024-06-09.")).id
    add_feedback(mem, iid, rating=1)
    assert main(["dataset", "--home", str(home_dir)]) == 0
    line = capsys.readouterr().out
    assert line.startswith("0 approved records")
    assert f"left out 1 rated-up answer with dates not in their notes (interaction {iid};" in line


def test_adapters_retrain_and_schedule_status(home_dir, capsys):
    listed = cli_json(capsys, "adapters", "list", home=home_dir)
    assert [(a["version"], a["status"]) for a in listed] == [("starter", "active")]
    assert main(["retrain", "--home", str(home_dir)]) == 0
    assert "no retrain has run yet" in capsys.readouterr().out
    shown = cli_json(capsys, "schedule", "show", home=home_dir)
    assert set(shown) == {"cron", "paused", "next_run", "min_new_records", "last_run"}
    assert shown["last_run"] is None and not shown["paused"]


@pytest.mark.parametrize("args, message", [
    (["feedback", "999", "--up"], "999"),
    (["adapters", "activate", "v99"], "v99"),
    (["adapters", "rollback"], "no earlier adapter"),
    (["dataset", "import", "notes.txt"], ".json (Alpaca list) or .csv"),
])
def test_learning_mistakes_are_one_line_exit_2(home_dir, args, message):
    result = run_cli(*args, home=home_dir)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_missing_resource_is_one_line_exit_1(mem, home_dir, tmp_path):
    """Nothing the user typed was wrong (DESIGN.md: exit 1): an adapter whose files are gone, a
    model folder that was deleted after it was chosen."""
    from shutil import copytree, rmtree

    from agent.adapters import STARTER_ADAPTER
    from retrain import registry

    folder = copytree(STARTER_ADAPTER, tmp_path / "v1")
    registry.register(mem, "v1", folder, run_id=None, base_model="b", metrics={})
    (folder / "adapter_model.safetensors").unlink()
    result = run_cli("adapters", "activate", "v1", home=home_dir)
    assert result.returncode == 1 and "has no loadable files" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr

    model = copytree(tmp_path / "v1", tmp_path / "model")  # any folder with a config.json passes Settings
    (model / "config.json").write_text("{}")
    Settings(base_model=str(model)).save(mem.home)
    rmtree(model)
    mem.close()
    result = run_cli("ask", "When did Mochi sneeze?", home=home_dir)
    assert result.returncode == 1 and f"'{model}' is missing or incomplete" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
