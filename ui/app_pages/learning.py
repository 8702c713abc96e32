"""Learning: the feedback loop made visible: schedule, a live retrain, past runs, adapters, the next
dataset, and the answers of two adapters side by side."""
import time

import pandas as pd
import streamlit as st

from memory.errors import MemoloopError
from retrain import compare, dataset, registry, runs, schedule
from retrain.gate import GatePolicy
from ui import learning, resources, widgets
from ui.conversation import markdown_safe

POLL_RUNNING_S, POLL_IDLE_S = 2, 15  # a retrain started by the schedule shows up within POLL_IDLE_S
COMPARED = "learning_comparison"

mem = resources.memory()


def start_retrain() -> None:
    try:
        run = runs.spawn(mem, runs.create(mem, "manual", schedule.policy(mem).config))
    except MemoloopError as exc:
        widgets.notify(widgets.sentence(exc), error=True)
        return
    widgets.notify(f"Retrain {run.id} started. It runs in the background: keep using memoloop meanwhile.")


def use_adapter(version: str | None) -> None:
    """Activate `version`, or roll back when it is None; the next answer is given with it."""
    try:
        adapter = registry.activate(mem, version) if version else registry.rollback(mem)
    except MemoloopError as exc:
        widgets.notify(widgets.sentence(exc), error=True)
        return
    resources.reload_companion()
    widgets.notify(f"Adapter {adapter.version} answers your questions from now on.")


def save_policy() -> None:
    state = st.session_state
    widgets.action(schedule.set_policy, mem, cron=state["policy_cron"].strip(),
                   min_new_records=int(state["policy_min"]), done="Schedule saved.")


st.title(":material/school: Learning")
st.caption("memoloop learns from the answers you rate :material/thumb_up: and the ones you correct. "
           "From time to time it trains a new adapter on them, tests it on answers it has not seen, and "
           "switches to it only when it is measurably better. All of it happens on this computer.")
widgets.show_notice()

pol = schedule.policy(mem)
current = runs.running(mem)
active = registry.active(mem)
new_records = schedule.new_records_since_last_success(mem)

with st.container(border=True):
    c1, c2, c3 = st.columns([1.5, 1.1, 1])
    c1.metric("Next retrain", learning.upcoming_label(schedule.next_run(mem)))
    c2.metric("New answers to learn from", f"{new_records} of {pol.min_new_records}",
              help="Answers you rated up or corrected since the last retrain. A scheduled retrain "
                   "waits until there are enough of them.")
    c3.metric("Adapter in use", active.version if active else "None",
              help="The adapter is the small part of the model that memoloop trains on your answers.")
    state = "is paused" if pol.paused else f"runs {learning.cron_words(pol.cron)}"
    st.caption(f"The scheduled retrain {state}, once at least {pol.min_new_records} new rated or "
               "corrected answers have arrived.")
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Retrain now", type="primary", icon=":material/model_training:", key="retrain_now",
                  on_click=start_retrain, disabled=current is not None,
                  help="A retrain is running already." if current else "Train and test a new adapter now.")
        if pol.paused:
            st.button("Resume schedule", icon=":material/play_arrow:", key="resume_schedule",
                      on_click=widgets.action, args=(schedule.set_policy, mem),
                      kwargs={"paused": False, "done": "Scheduled retraining is back on."})
        else:
            st.button("Pause schedule", icon=":material/pause:", key="pause_schedule",
                      on_click=widgets.action, args=(schedule.set_policy, mem),
                      kwargs={"paused": True,
                              "done": "Scheduled retraining is paused. Retrain now still works."})
        with st.popover("Change schedule", icon=":material/schedule:", type="tertiary"):
            with st.form("policy", border=False):
                st.text_input("When (cron, local time)", value=pol.cron, key="policy_cron",
                              help="Five fields: minute hour day month weekday. `30 3 * * *` is every "
                                   "night at 03:30; `0 20 * * 0` is Sundays at 20:00.")
                st.number_input("Wait for this many new answers", min_value=1, max_value=10_000,
                                value=pol.min_new_records, key="policy_min")
                st.form_submit_button("Save schedule", type="primary", key="save_schedule",
                                      on_click=save_policy)

st.session_state["watched_run"] = current.id if current else None


@st.fragment(run_every=POLL_RUNNING_S if current else POLL_IDLE_S)
def live_run() -> None:
    run = runs.running(mem)
    if (run.id if run else None) != st.session_state.get("watched_run"):
        st.rerun()  # a run started or ended: the whole page (table, adapters) changes with it
    if run is None:
        return
    phase, share, detail = learning.progress_view(run.progress or {})
    with st.container(border=True):
        st.markdown(f":material/model_training: **Retrain {run.id}** · {phase}…")
        st.progress(share or 0.0, text=detail or None)
        st.caption("It trains in its own process: keep logging and asking. Answers may come a bit "
                   "slower until it is done.")


live_run()

st.subheader("Past retrains")
past = learning.run_rows(runs.recent(mem, 30))
if past:
    st.caption("Each retrain is judged on answers it never trained on: the lower the loss, the closer its "
               "answers to yours. The new adapter is used only when it beats the current one.")
    st.dataframe(
        pd.DataFrame(past), hide_index=True, width="stretch",
        column_order=["run", "when", "verdict", "base", "active", "candidate", "why", "trigger", "records"],
        column_config={
            "run": st.column_config.NumberColumn("Run", width=48),
            "when": st.column_config.TextColumn("When", width=104),
            "verdict": st.column_config.TextColumn("Verdict", width=112),
            "base": st.column_config.TextColumn("Base", width=60, help="Loss of the model without an adapter"),
            "active": st.column_config.TextColumn("Current", width=68,
                                                  help="Loss of the adapter answering at the time"),
            "candidate": st.column_config.TextColumn("New", width=60,
                                                     help="Loss of the adapter this run trained"),
            "why": st.column_config.TextColumn("Why", width="large"),
            "trigger": st.column_config.TextColumn("Started", width="small"),
            "records": st.column_config.TextColumn("Train / test", width="small",
                                                   help="Records trained on / held out to test with"),
        })
else:
    st.caption("No retrains yet. The first one runs on schedule once enough answers are rated, "
               "or start one with **Retrain now**.")

st.subheader("Adapters")
adapters = sorted(registry.adapters(mem), key=lambda a: a.id, reverse=True)
if adapters:
    st.caption("Each retrain that finishes keeps its adapter here. Switch back to any of them at any time.")
    st.button("Roll back", icon=":material/undo:", key="rollback", on_click=use_adapter, args=(None,),
              help="Go back to the adapter that answered before the current one.")
    for adapter in adapters:
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            with st.container(gap="small"):
                colour = "green" if adapter.status == "active" else "gray"
                status = learning.STATUS.get(adapter.status, adapter.status)
                st.markdown(f"**{adapter.version}** :{colour}-badge[{status}]")
                st.caption(learning.adapter_line(adapter))
                if adapter.metrics.get("rejected_because"):
                    st.caption(f"Not promoted: {adapter.metrics['rejected_because']}")
            if adapter.status != "active":
                st.button("Use this one", key=f"activate_{adapter.version}", on_click=use_adapter,
                          args=(adapter.version,))
else:
    st.caption("No adapters yet: the base model answers. Each retrain adds one.")

st.subheader("What the next retrain learns from")
with widgets.user_errors():
    data = dataset.build(mem)
    m = data.manifest()
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Your answers", m["user_records"],
              help="Answers you rated up or corrected, and records you imported.")
    c2.metric("To train on", m["train"])
    c3.metric("Starter examples", m["replay"], help="Mixed in so the model keeps what it already knew.")
    c4.metric("Held out", m["eval"], help="Never trained on: the new adapter is judged on these.")
    if m["user_records"] and not data.train:
        st.caption("Your first answers are kept aside to test the next adapter with. Rate or correct a few "
                   "more and they become training examples.")
    if m["against_notes"]:
        st.warning(f"{m['against_notes']} of your answers {'cites' if m['against_notes'] == 1 else 'cite'} "
                   "dates that are not in the notes they answer "
                   f"(unticked below). If more than {GatePolicy().max_against_notes:.0%} do, the next adapter "
                   "is not promoted: correct those answers again, or use it by hand.", icon=":material/event_busy:")
    if data.invented:
        named = "; ".join(f"“{markdown_safe(r.instruction)}”" for r in data.invented[:3])
        if len(data.invented) == 1:
            said = (f"Not used for training: {named}. You rated its answer up, but the answer states a date "
                    "that is not in its notes")
        else:
            said = (f"Not used for training: {len(data.invented)} answers you rated up ({named}"
                    f"{'…' if len(data.invented) > 3 else ''}). Each states a date that is not in its notes")
        st.info(said + " (it showed a “Check” line), and learning it would teach the model to invent dates.",
                icon=":material/event_busy:")
    if m["user_records"]:
        starter = st.toggle("Show the starter examples too", key="show_starter")
        st.dataframe(
            pd.DataFrame(learning.dataset_rows(data, starter)), hide_index=True, width="stretch",
            column_order=("split", "source", "dates_agree", "question", "answer", "notes"),
            column_config={"split": st.column_config.TextColumn("Set", width="small"),
                           "source": st.column_config.TextColumn("From", width="small"),
                           "question": st.column_config.TextColumn("Question", width="medium"),
                           "answer": st.column_config.TextColumn("Answer it learns", width="large"),
                           "notes": st.column_config.TextColumn("Notes it saw", width="medium"),
                           "dates_agree": st.column_config.CheckboxColumn(
                               "In notes", width="small",
                               help="Are the dates this answer cites in its notes? Unticked: it cites "
                                    "dates, and none of them is in its notes.")})
    else:
        st.info("Nothing of yours to learn from yet: rate answers :material/thumb_up: or correct them "
                "on the **Ask** page.", icon=":material/thumb_up:")
    st.download_button("Download the training set (Alpaca JSON)", learning.dataset_json(data),
                       file_name="memoloop-training-set.json", mime="application/json",
                       icon=":material/download:", disabled=not data.train)

st.subheader("Before and after")
questions = compare.recent_questions(mem)
choices = learning.compare_choices(adapters, active.version if active else None)
mine = compare.label(active.version if active else None)
if not questions:
    st.caption("Ask a few questions first: this compares two adapters on your own latest questions.")
elif not choices:
    st.caption("There is only one model to ask so far. After the first retrain you can compare "
               "its answers here.")
else:
    st.caption(f"How {mine} and another one answer your last {len(questions)} questions, from the same "
               "notes. It takes a minute or two; nothing is saved.")
    other = st.selectbox("Compare with", choices, format_func=compare.label, key="compare_with")
    pair = (active.version if active else None, other)
    if st.button("Compare answers", icon=":material/compare_arrows:", key="compare"):
        started = time.monotonic()
        with st.status("Comparing answers…") as box:
            try:
                with resources.generation_lock():
                    rows = compare.compare(mem, *pair, questions, pack=widgets.pack(),
                                           progress=lambda msg: box.update(label=msg))
                took = learning.duration(time.monotonic() - started)
                box.update(label=f"Compared in {took}", state="complete")
                st.session_state[COMPARED] = {"pair": pair, "rows": rows}
            except MemoloopError as exc:
                box.update(label="Could not compare", state="error")
                st.session_state.pop(COMPARED, None)
                widgets.notify(widgets.sentence(exc), error=True)
                st.rerun()
    result = st.session_state.get(COMPARED)
    if result and result["pair"] == pair:
        labels = (f"{mine} (answering now)".capitalize(), compare.label(other).capitalize())
        for row in result["rows"]:
            st.markdown(f"**{markdown_safe(row.question)}**")
            if row.red_flag:
                st.caption(f":material/emergency: memoloop shows a vet warning first: {row.red_flag}")
            notes = f"{len(row.citations)} of your notes" if row.citations else "no matching notes"
            st.caption(f"Both were given {notes}.")
            for col, side, name in zip(st.columns(2), ("a", "b"), labels):
                answer = row.answers[side]
                with col.container(border=True):
                    st.markdown(f":small[**{name}**]")
                    st.markdown(markdown_safe(answer.text) or "_(no words)_")
                    ending = learning.ENDINGS[answer.ended]
                    st.caption(f"{answer.tokens} tokens in {answer.seconds:g} s{ending}")
