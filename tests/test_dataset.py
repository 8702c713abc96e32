"""Dataset rules: a correction wins, down-votes are left out, duplicates collapse, the split is stable."""
import json

import pytest

from agent.prompt import context_block
from memory.errors import MemoloopError
from memory.interactions import add_feedback, save_interaction
from memory.models import Interaction
from retrain import dataset
from retrain.dataset import Record, build, in_eval, starter_held_out, write_snapshot
from retrain.dataset_import import import_records
from retrain.gate import against_notes, agreement

STARTER = [Record(f"starter question {i}", "History:\n- no record about this", f"starter answer {i}", "starter")
           for i in range(300)]


def asked(mem, question, answer="model answer", block="History:\n- 2024-02-13 (Mochi, symptom): sneezed"):
    return save_interaction(mem, Interaction(question=question, history_block=block, answer=answer + "\n\ndisclaimer",
                                             model_answer=answer)).id


def test_correction_wins_down_votes_are_excluded(mem):
    up = asked(mem, "q up", "good answer")
    down = asked(mem, "q down", "bad answer")
    fixed = asked(mem, "q fixed", "wrong answer")
    add_feedback(mem, up, rating=1)
    add_feedback(mem, down, rating=-1)
    add_feedback(mem, fixed, rating=1)
    add_feedback(mem, fixed, rating=-1, correction="the right answer")
    by_question = {r.instruction: r for r in dataset.approved(mem)}
    assert set(by_question) == {"q up", "q fixed"}
    assert by_question["q up"].output == "good answer"  # the model's part, not the disclaimer
    assert by_question["q fixed"].output == "the right answer"
    assert by_question["q fixed"].input.startswith("History:")
    assert by_question["q fixed"].interaction_id == fixed


def test_duplicates_collapse_to_the_newest_answer(mem):
    first = asked(mem, "same question", "first")
    second = asked(mem, "same question", "second")
    add_feedback(mem, first, rating=1)
    add_feedback(mem, second, rating=0, correction="corrected later")
    records = dataset.approved(mem)
    assert [r.output for r in records] == ["corrected later"]


def test_split_is_stable_and_eval_never_trains(mem):
    for i in range(60):
        add_feedback(mem, asked(mem, f"question {i}"), rating=1)
    before = build(mem, starter=STARTER)
    for i in range(60, 90):
        add_feedback(mem, asked(mem, f"question {i}"), rating=1)
    after = build(mem, starter=STARTER)
    assert {r.key for r in before.eval if in_eval(r)} <= {r.key for r in after.eval}  # held out for good
    assert not {r.key for r in after.eval} & {r.key for r in after.train}
    assert len(after.eval) >= dataset.EVAL_MIN and {r.key for r in after.eval} >= {
        r.key for r in after.train + after.eval if in_eval(r) and r.source != "starter"}
    replay = [r for r in after.train if r.source == "starter"]
    # the probe is the starter's own held-out tenth: neither the starter adapter nor any replay saw it
    assert replay and not any(starter_held_out(r.alpaca()) for r in replay)
    assert after.probe and all(starter_held_out(r.alpaca()) for r in after.probe)
    user_train = [r for r in after.train if r.source != "starter"]
    assert len(user_train) == dataset.USER_WEIGHT * len({r.key for r in user_train})  # corrections weigh more
    assert after.probe and all(r.source == "starter" for r in after.probe)
    assert build(mem, starter=STARTER).digest == after.digest  # deterministic


def test_a_small_set_still_holds_out_enough_to_judge(mem):
    for i in range(25):
        add_feedback(mem, asked(mem, f"question {i}"), rating=1)
    data = build(mem, starter=STARTER)
    assert len(data.eval) == dataset.EVAL_MIN and data.user_records == 25
    assert build(mem, starter=STARTER).digest == data.digest  # the same records, every time
    everything = data.everything()
    assert {r.key for r in data.eval} <= {r.key for r in everything.train} and everything.eval == []
    user = [r for r in everything.train if r.source != "starter"]
    assert len(user) == dataset.USER_WEIGHT * 25


def test_answers_whose_dates_are_not_in_their_notes_are_counted(mem):
    notes = "History:\n- 2024-02-13 (Mochi, symptom): sneezed\n- 2024-03-01 (Mochi, weight): 4.6 kg"
    honest = asked(mem, "When did Mochi sneeze?", block=notes)
    add_feedback(mem, honest, rating=-1, correction="On 2024-02-13 Mochi sneezed.")
    swapped = asked(mem, "How heavy is Mochi?", block="History:\n- 2024-03-01 (Mochi, weight): 4.6 kg")
    add_feedback(mem, swapped, rating=-1, correction="On 2024-02-13 Mochi sneezed.")
    new_fact = asked(mem, "When was Mochi spayed?", block="History:\n- no record about this")
    add_feedback(mem, new_fact, rating=-1, correction="Mochi was spayed on 2023-06-01.")  # the notes had none
    undated = asked(mem, "Is Mochi heavy?", block=notes)
    add_feedback(mem, undated, rating=-1, correction="No, 4.6 kg is a healthy weight.")
    data = build(mem, starter=STARTER)
    check = agreement(data.user)
    assert check.records == 4 and check.against == ["How heavy is Mochi?"]
    assert check.share == 0.25 and data.manifest()["against_notes"] == 1
    assert not against_notes("Seen on 2024-02-13 and again on 2025-01-01.", notes)  # one date is in them
    assert against_notes("Seen on 2025-01-01.", notes) and not against_notes("Seen on 2025-01-01.", "")


def test_a_rated_up_answer_that_invents_a_date_is_left_out_and_counted(mem):
    notes = "History:\n- 2024-02-13 (Mochi, symptom): sneezed"
    faithful = asked(mem, "When did Mochi sneeze?", "Mochi sneezed on 2024-02-13.", block=notes)
    invented = asked(mem, "Has Mochi sneezed before?", "Yes, on 2024-02-13 and on 2024-05-02.", block=notes)
    corrected = asked(mem, "When was Mochi spayed?", "On 2024-02-13.", block=notes)
    for iid in (faithful, invented, corrected):
        add_feedback(mem, iid, rating=1)
    add_feedback(mem, corrected, correction="Mochi was spayed on 2023-06-01.")  # the user's own words train
    data = build(mem, starter=STARTER)
    assert sorted(r.instruction for r in data.user) == ["When did Mochi sneeze?", "When was Mochi spayed?"]
    assert [(r.instruction, r.interaction_id) for r in data.invented] == [("Has Mochi sneezed before?", invented)]
    assert data.manifest()["invented_dates"] == 1
    assert not any("2024-05-02" in r.output for r in data.train + data.eval)


def test_the_snapshot_records_exactly_what_is_trained(mem, tmp_path):
    for i in range(12):
        add_feedback(mem, asked(mem, f"question {i}"), rating=1)
    data = build(mem, starter=STARTER)
    folder = write_snapshot(data, tmp_path / "snap")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["digest"] == data.digest and manifest["user_records"] == data.user_records == 12
    for part in ("train", "eval", "probe"):
        rows = json.loads((folder / f"{part}.json").read_text())
        assert [Record.of(r).alpaca() for r in rows] == [r.alpaca() for r in getattr(data, part)]
        assert [r["source"] for r in rows] == [r.source for r in getattr(data, part)]


def test_import_alpaca_json_and_csv(mem, tmp_path):
    alpaca = tmp_path / "mine.json"
    alpaca.write_text(json.dumps([{"instruction": "How often should I brush Mochi?", "input": "",
                                   "output": "Daily if she lets you."},
                                  {"instruction": "Best litter?", "output": "Unscented clumping litter."}]))
    assert import_records(mem, alpaca) == {"imported": 2, "duplicates": 0}
    assert import_records(mem, alpaca) == {"imported": 0, "duplicates": 2}
    table = tmp_path / "mine.csv"
    table.write_text("instruction,input,output\nWhy does she knead?,,It is a comfort behaviour.\n")
    assert import_records(mem, table)["imported"] == 1
    approved = dataset.approved(mem)
    assert {r.source for r in approved} == {"import:mine.json", "import:mine.csv"}
    # no input: trained with the same "no record" history block the model sees at inference
    assert {r.input for r in approved} == {context_block([])}


@pytest.mark.parametrize("name, content, message", [
    ("bad.json", '[{"instruction": "q", "output": "a"}, {"instruction": "q2", "output": ""}]', "record 1: 'output' is empty"),
    ("bad.json", '{"instruction": "q"}', "expected a JSON list"),
    ("bad.json", '[{"instruction": "q", "output": "a"},', "not valid JSON"),
    ("bad.csv", "instruction,output\nq,a\nq2,\n", "line 3: 'output' is empty"),
    ("bad.csv", "question,answer\nq,a\n", "needs instruction and output"),
    ("bad.txt", "hello", "is not a .json"),
])
def test_bad_import_files_import_nothing(mem, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(MemoloopError, match=message):
        import_records(mem, path)
    assert dataset.approved(mem) == []
