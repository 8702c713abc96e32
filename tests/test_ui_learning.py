"""The Learning page, driven by AppTest on a real data home: schedule, runs, adapters, dataset."""
from __future__ import annotations

import os
from datetime import timedelta

from memory.dates import now
from memory.interactions import add_feedback, save_interaction
from memory.models import Interaction
from retrain import lease, registry, runs, schedule
from tests.test_registry import adapter_folder
from tests.test_ui_pages import open_page, texts
from ui import learning


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def finished_run(mem, status: str, **fields):
    """A run row in a final state, as the worker leaves it (its lease released), without training."""
    run = runs.create(mem, "manual")
    lease.release(mem, f"run-{run.id}")
    return runs.update(mem, run.id, status=status, started_at=now() - timedelta(minutes=20),
                       finished_at=now(), **fields)


def corrected_answers(mem, n: int) -> None:
    for i in range(n):
        iid = save_interaction(mem, Interaction(
            question=f"When did Mochi get vaccine number {i}?",
            history_block=f"History:\n- 2024-03-1{i} (Mochi, vaccine): FVRCP booster {i}",
            answer="I am not sure.", model_answer="I am not sure.")).id
        add_feedback(mem, iid, correction=f"Mochi had FVRCP booster {i} on 2024-03-1{i}.")


def test_the_page_shows_the_schedule_and_the_next_run(mem):
    schedule.set_policy(mem, cron="0 20 * * 0", min_new_records=3)
    corrected_answers(mem, 2)
    at = open_page("learning")
    assert metric(at, "Next retrain") == learning.upcoming_label(schedule.next_run(mem))
    assert metric(at, "Next retrain").endswith("20:00")
    assert metric(at, "New answers to learn from") == "2 of 3"
    assert "runs every Sunday at 20:00, once at least 3 new rated" in texts(at)
    assert "No retrains yet" in texts(at)


def test_pause_resume_and_change_the_schedule(mem):
    at = open_page("learning")
    at.button(key="pause_schedule").click().run()
    assert schedule.policy(mem).paused and schedule.next_run(mem) is None
    assert metric(at, "Next retrain") == "Paused" and "is paused" in texts(at)
    at.button(key="resume_schedule").click().run()
    assert not schedule.policy(mem).paused and metric(at, "Next retrain") != "Paused"

    at.text_input(key="policy_cron").input("15 2 * * *")
    at.number_input(key="policy_min").set_value(4)
    at.button(key="save_schedule").click().run()
    pol = schedule.policy(mem)
    assert (pol.cron, pol.min_new_records) == ("15 2 * * *", 4) and "every day at 02:15" in texts(at)

    at.text_input(key="policy_cron").input("every night")
    at.button(key="save_schedule").click().run()
    assert "Cron 'every night' is not valid" in at.error[0].value and not at.exception
    assert schedule.policy(mem).cron == "15 2 * * *"


def test_finished_runs_show_with_their_verdict_and_reason(mem):
    finished_run(mem, "skipped", reason="only 2 approved records; at least 4 are needed")
    finished_run(mem, "rejected", adapter_version="v2", train_records=40, eval_records=4,
                 eval_loss={"base": 3.1, "active": 0.52, "candidate": 0.55},
                 reason="held-out loss 0.550 does not beat the active adapter's 0.520 by 2%")
    at = open_page("learning")
    table = at.dataframe[0].value
    assert list(table["run"]) == [2, 1]
    newest = table.iloc[0]
    assert newest["verdict"] == "Rejected v2"
    assert newest["why"] == "held-out loss 0.550 does not beat the active adapter's 0.520 by 2%"
    assert newest[["base", "active", "candidate", "records"]].tolist() == ["3.100", "0.520", "0.550", "40 / 4"]
    assert table.iloc[1]["verdict"] == "Skipped" and "at least 4 are needed" in table.iloc[1]["why"]


def test_retrain_now_starts_a_run_and_shows_why_it_cannot(mem):
    assert lease.acquire(mem, "start-elsewhere")  # another process is starting a retrain
    at = open_page("learning")
    at.button(key="retrain_now").click().run()
    assert "holds the lock" in at.error[0].value and runs.recent(mem) == []
    lease.release(mem, "start-elsewhere")

    at.button(key="retrain_now").click().run()
    assert not at.error and "Retrain 1 started" in texts(at)
    assert at.button(key="retrain_now").disabled  # while it runs
    ended = runs.wait(mem, 1, poll_s=0.5)  # nothing rated yet: the worker skips, and says why
    assert ended.status == "skipped" and ended.trigger == "manual"
    at.run()
    assert "only 0 approved records" in at.dataframe[0].value.iloc[0]["why"]
    assert not at.button(key="retrain_now").disabled


def test_adapters_activate_and_roll_back_from_the_page(mem, tmp_path):
    for v in ("v1", "v2"):
        registry.register(mem, v, adapter_folder(tmp_path, v), run_id=None, base_model="b",
                          metrics={"eval_loss": {"adapter": 0.5}})
    registry.activate(mem, "v1")
    save_interaction(mem, Interaction(question="Has Mochi sneezed before?"))
    at = open_page("learning")
    assert metric(at, "Adapter in use") == "v1"
    assert "held-out loss 0.500" in texts(at)
    at.button(key="activate_v2").click().run()
    assert registry.active(mem).version == "v2"
    assert "Adapter v2 answers your questions from now on." in texts(at)
    assert metric(at, "Adapter in use") == "v2"

    at.button(key="rollback").click().run()
    assert registry.active(mem).version == "v1" and metric(at, "Adapter in use") == "v1"
    assert [o for o in at.selectbox(key="compare_with").options] == ["adapter v2", "the base model alone"]


def test_an_adapter_that_cannot_load_is_an_error_not_a_switch(mem, tmp_path):
    folder = adapter_folder(tmp_path, "v1")
    registry.register(mem, "v1", folder, run_id=None, base_model="b", metrics={})
    (folder / "adapter_model.safetensors").unlink()
    at = open_page("learning")
    at.button(key="activate_v1").click().run()
    assert "has no loadable files" in at.error[0].value and registry.active(mem) is None
    at.button(key="rollback").click().run()
    assert "no earlier adapter" in at.error[0].value


def test_dataset_preview_counts_and_lists_the_records(mem):
    corrected_answers(mem, 6)
    at = open_page("learning")
    counts = {label: metric(at, label) for label in
              ("Your answers", "To train on", "Starter examples", "Held out")}
    assert counts["Your answers"] == "6"
    held, replay = int(counts["Held out"]), int(counts["Starter examples"])
    assert 1 <= held < 6 and replay > 0 and int(counts["To train on"]) >= 6 - held + replay
    table = at.dataframe[-1].value
    assert len(table) == 6 and set(table["source"]) == {"Corrected"}
    assert "Mochi had FVRCP booster 3 on 2024-03-13." in set(table["answer"])

    at.toggle(key="show_starter").set_value(True).run()
    assert len(at.dataframe[-1].value) == 6 + int(counts["Starter examples"])


def test_answers_that_cite_dates_missing_from_their_notes_are_pointed_out(mem):
    corrected_answers(mem, 4)
    assert not open_page("learning").warning
    iid = save_interaction(mem, Interaction(question="How heavy is Mochi?",
                                            history_block="History:\n- 2024-05-02 (Mochi, weight): 4.6 kg",
                                            answer="4.6 kg", model_answer="4.6 kg")).id
    add_feedback(mem, iid, correction="Mochi had FVRCP booster 1 on 2024-03-11.")  # another question's answer
    at = open_page("learning")
    assert "1 of your answers cites dates that are not in the notes they answer" in at.warning[0].value
    table = at.dataframe[-1].value
    assert list(table.loc[~table["dates_agree"], "question"]) == ["How heavy is Mochi?"]


def test_rated_up_answers_with_invented_dates_are_left_out_and_named(mem):
    corrected_answers(mem, 4)
    assert not open_page("learning").info
    iid = save_interaction(mem, Interaction(question="When did Mochi last weigh in?",
                                            history_block="History:\n- 2024-05-02 (Mochi, weight): 4.6 kg",
                                            answer="On 2024-05-02 and 2024-06-09.",
                                            model_answer="On 2024-05-02 and 2024-06-09.")).id
    add_feedback(mem, iid, rating=1)
    at = open_page("learning")
    assert at.info[0].value.startswith("Not used for training: “When did Mochi last weigh in?”. You rated its "
                                       "answer up, but the answer states a date that is not in its notes")
    assert metric(at, "Your answers") == "4"
    assert "When did Mochi last weigh in?" not in set(at.dataframe[-1].value["question"])


def test_a_running_retrain_shows_live_and_then_joins_the_table(mem):
    run = runs.create(mem, "schedule")
    runs.update(mem, run.id, status="running", pid=os.getpid(), heartbeat_at=now(), started_at=now(),
                progress={"phase": "train", "step": 3, "total": 12, "loss": 1.2345, "eta_s": 150})
    at = open_page("learning")
    assert f"**Retrain {run.id}** · Training…" in texts(at)
    bar = at.get("progress")[0].proto
    assert bar.value == 25 and bar.text == "step 3 of 12 · loss 1.234 · about 2 min left"
    assert at.button(key="retrain_now").disabled and "No retrains yet" in texts(at)

    lease.release(mem, f"run-{run.id}")
    runs.update(mem, run.id, status="succeeded", finished_at=now(), adapter_version="v1", promoted=True,
                reason="held-out loss 1.000 -> 0.700")
    at.run()
    assert "Training…" not in texts(at) and not at.get("progress")
    assert at.dataframe[0].value.iloc[0][["verdict", "trigger"]].tolist() == ["Promoted v1", "Scheduled"]


def test_progress_and_schedule_in_words():
    assert learning.progress_view({}) == ("Starting", None, "")
    assert learning.progress_view({"phase": "measuring the candidate", "step": 12, "total": 12}) == (
        "Testing the new adapter", 1.0, "")
    assert learning.cron_words("30 3 * * *") == "every day at 03:30"
    assert learning.cron_words("0 20 * * 7") == "every Sunday at 20:00"
    assert learning.cron_words("*/5 * * * *") == "on the schedule '*/5 * * * *'"
    assert learning.duration(45) == "45 s" and learning.duration(1500) == "25 min"
