"""Today: trend alerts, what care is overdue, due soon and done today (read from the notes), the care plan."""
import streamlit as st

from memory import alerts, care, journal
from memory.dates import day_label
from ui import conversation, resources, widgets

mem = resources.memory()
care.ensure_defaults(mem, list(widgets.pack().care))
kinds = widgets.pack().kinds


def undo(step: dict) -> None:
    journal.delete(mem, step["delete"])


ICONS = {"overdue": ":material/error:", "due": ":material/notifications_active:", "soon": ":material/schedule:",
         "done": ":material/check_circle:", "unknown": ":material/help:", "ok": ":material/event_available:"}
COLOURS = {"overdue": "red", "due": "orange", "soon": "orange", "done": "green", "unknown": "gray", "ok": "gray"}


def row(d: care.Due, key: str) -> None:
    with st.container(border=True, horizontal=True, vertical_alignment="center"):
        text = conversation.markdown_safe(d.last.text[:90] + ("…" if len(d.last.text) > 90 else "")) if d.last else ""
        last = f"  \n:gray[Last: {day_label(d.last.happened_at)}, \u201c{text}\u201d]" if d.last else ""
        label = conversation.markdown_safe(d.standing)
        st.markdown(f"{ICONS[d.status]} :{COLOURS[d.status]}[**{label}**]{last}", width="stretch")
        if d.status != "done" or d.item.times:
            st.button("Done", icon=":material/check:", key=f"done-{key}-{d.item.id}", on_click=widgets.action,
                      args=(care.log_done, mem, d.item.id), kwargs={
                          "done": f"Logged: {d.item.name} for {d.subject}.",
                          "undo": lambda obs: {"delete": obs.id}})


st.title(":material/today: Today")
st.caption("What your cats' care plan says is due, worked out from your notes: logging "
           "\u201cgave Sora his flea drops\u201d in the Journal counts, just like the Done button here.")
widgets.show_notice(undo)

for alert in alerts.check(mem, list(widgets.pack().trends)):
    vet = alert.level == "vet"
    with st.container(border=True):
        st.markdown(f"{':material/emergency:' if vet else ':material/trending_up:'} "
                    f":{'red' if vet else 'orange'}[**{conversation.markdown_safe(alert.message)}**]")
        with st.expander(f"The notes it rests on ({len(alert.evidence)})"):
            for note_id in alert.evidence:
                note = journal.get(mem, note_id)
                if note.live:
                    st.markdown(f"**{day_label(note.happened_at)}**: {conversation.markdown_safe(note.text)}")

found = care.due(mem)
if not found:
    st.info("Add your cat on the **Pets** page: vaccines, flea and worm treatments and checks are "
            "then tracked from your notes.", icon=":material/pets:")
    st.page_link("app_pages/pets.py", label="Add your cat", icon=":material/add:")
    st.stop()

sections = [("Overdue", ("overdue",)), ("Due today", ("due",)), ("Due soon", ("soon",)), ("Done today", ("done",))]
shown = False
for title, statuses in sections:
    group = [d for d in found if d.status in statuses]
    if group:
        shown = True
        st.subheader(title)
        for d in group:
            row(d, title)
if not shown:
    st.success("Nothing is due today or in the next two days.", icon=":material/check_circle:")

with st.expander("The whole care plan", icon=":material/list_alt:"):
    for d in found:
        if d.status in ("unknown", "ok"):
            row(d, "plan")
    st.caption("Intervals are defaults from the care pack; each says where it comes from. Change one, "
               "or stop tracking it, below.")
    for item, whose in care.items(mem):
        with st.popover(f"{whose}: {item.name} (every {item.every_days} days)", icon=":material/edit:"):
            st.caption(item.source or "Added by you.")
            with st.form(f"edit-{item.id}", border=False):
                every = st.number_input("Every (days)", min_value=1, max_value=care.MAX_EVERY_DAYS,
                                        value=item.every_days, step=1)
                if st.form_submit_button("Save"):
                    widgets.action(care.update, mem, item.id, every_days=every, done=f"{item.name}: every {every} days.")
                    st.rerun()
            st.button("Stop tracking", key=f"stop-{item.id}", icon=":material/block:", on_click=widgets.action,
                      args=(care.update, mem, item.id), kwargs={"active": False, "done": f"Stopped: {item.name}."})

with st.expander("Add a medication or other care item", icon=":material/add:"):
    pets = sorted(journal.subject_names(mem).values(), key=str.lower)
    with st.form("add_care", clear_on_submit=True, border=False):
        c1, c2 = st.columns(2)
        pet = c1.selectbox("Pet", pets)
        name = c2.text_input("Name", placeholder="e.g. Felimazole")
        c3, c4, c5 = st.columns(3)
        every = c3.number_input("Every (days)", min_value=1, max_value=care.MAX_EVERY_DAYS, value=1, step=1,
                                help="1 for a daily medication")
        dose = c4.text_input("Dose (optional)", placeholder="e.g. 2.5 mg")
        times = c5.text_input("Times of day (optional)", placeholder="e.g. 08:00, 20:00")
        if st.form_submit_button("Add to the plan", type="primary", icon=":material/add:"):
            with widgets.user_errors():
                item = care.add(mem, pet, name, every, dose=dose, times=times)
                widgets.notify(f"Added to the care plan: {item.name}.")
                st.rerun()
