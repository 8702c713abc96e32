"""Journal: log what you saw (one line, or with details), and fix or remove recent entries."""
from datetime import datetime

import streamlit as st

from memory import care, journal, photos
from memory.dates import local_tz
from ui import entries, resources, widgets

mem = resources.memory()
kinds = widgets.pack().kinds
kind_names = list(kinds)
names = journal.subject_names(mem)
choices = sorted(names.values(), key=str.lower) + [entries.HOUSEHOLD_LABEL]
default = entries.default_pet(mem, st.session_state.get("last_pet")) or entries.HOUSEHOLD_LABEL
pet_index = choices.index(default)


def undo(step: dict) -> None:
    if "restore" in step:
        journal.restore(mem, step["restore"])
    elif "delete" in step:
        journal.delete(mem, step["delete"])
    else:
        journal.undo_correction(mem, step["uncorrect"])


def logged(obs, pet: str) -> None:
    st.session_state["last_pet"] = pet
    who = "the household" if pet == entries.HOUSEHOLD_LABEL else pet
    widgets.notify(f"Logged for {who}.", undo={"delete": obs.id})


st.title(":material/edit_note: Journal")
st.caption("Write down what you notice, in your own words. memoloop keeps the dates and finds "
           "these notes again when you ask about them.")
if len(choices) == 1:
    st.info("Add your cat on the **Pets** page so your notes can be about them. "
            "Until then, notes go to the household.", icon=":material/pets:")
    st.page_link("app_pages/pets.py", label="Add your cat", icon=":material/add:")

with st.form("quick_log", clear_on_submit=True):
    pet_col, text_col = st.columns([1, 3], vertical_alignment="bottom")
    quick_pet = pet_col.selectbox("Pet", choices, index=pet_index)
    quick_text = text_col.text_input("What happened today?", placeholder="e.g. Sneezed twice after breakfast")
    quick = st.form_submit_button("Log it", type="primary", icon=":material/add:", key="log_quick")
if quick:
    with widgets.user_errors():
        logged(entries.log_entry(mem, quick_text, pet=quick_pet, kinds=kind_names), quick_pet)

def tap(spec: dict, pet: str, value_key: str | None = None) -> None:
    """A one-tap entry (its value, if it asks for one, read from its form)."""
    value = st.session_state.get(value_key) if value_key else None
    st.session_state["last_pet"] = pet
    widgets.action(entries.quick_entry, mem, spec, pet, value, done=f"Logged for {pet}: {spec['label'].lower()}.",
                   undo=lambda obs: {"delete": obs.id})


pets_only = [c for c in choices if c != entries.HOUSEHOLD_LABEL]
if pets_only:
    with st.container(border=True):
        tap_col, pick_col = st.columns([3, 1], vertical_alignment="center")
        tap_col.markdown("**One tap** :gray[(a normal note with its measurement; Undo takes it back)]")
        tap_pet = pick_col.selectbox("For", pets_only, key="tap_pet", label_visibility="collapsed",
                                     index=pets_only.index(default) if default in pets_only else 0)
        with st.container(horizontal=True, gap="small"):
            for spec in widgets.pack().quick_log:
                if spec.get("value"):
                    asks = spec["value"]
                    with st.popover(spec["label"]), st.form(f"tap_form_{spec['id']}", border=False):
                        st.number_input(asks["label"], min_value=float(asks["min"]), max_value=float(asks["max"]),
                                        value=None, step=float(asks["step"]), key=f"tap_value_{spec['id']}")
                        st.form_submit_button("Log it", key=f"tap_{spec['id']}", type="primary", on_click=tap,
                                              args=(spec, tap_pet, f"tap_value_{spec['id']}"))
                else:
                    st.button(spec["label"], key=f"tap_{spec['id']}", on_click=tap, args=(spec, tap_pet))
            for item, _ in care.items(mem, tap_pet):
                if item.times or (item.kind == "medication" and item.every_days == 1):
                    st.button(f"Gave {item.name}" + (f" {item.dose}" if item.dose else ""), key=f"tap_care_{item.id}",
                              icon=":material/medication:", on_click=widgets.action, args=(care.log_done, mem, item.id),
                              kwargs={"done": f"Logged for {tap_pet}: {item.name} given.",
                                      "undo": lambda obs: {"delete": obs.id}})

with st.expander("More detail: kind, date, weight, tags", icon=":material/tune:"):
    with st.form("full_log", clear_on_submit=True, border=False):
        c1, c2 = st.columns(2)
        full_pet = c1.selectbox("Pet", choices, index=pet_index, key="full_pet")
        kind = c2.selectbox("Kind", kind_names, format_func=widgets.kind_label,
                            help="\n".join(f"- **{widgets.kind_label(k)}**: {d}" for k, d in kinds.items()))
        c3, c4 = st.columns(2)
        day = c3.date_input("Date", value="today", max_value="today", format="YYYY-MM-DD")
        at = c4.time_input("Time (optional)", value=None, step=300,
                           help="Leave empty for now (today) or midday (an earlier day).")
        full_text = st.text_area("What happened?", height=90,
                                 placeholder="e.g. Dr. Tanaka checked her eyes and prescribed L-lysine")
        c5, c6 = st.columns(2)
        weight = c5.number_input("Weight in kg (optional)", min_value=0.0, max_value=journal.MAX_WEIGHT_KG - 0.1, value=None,
                                 step=0.05, format="%.2f", help="Saved as a measurement: History charts it.",
                                 key="full_weight")
        tags = c6.text_input("Tags (optional)", placeholder="e.g. lysine, eyes", help="Separate tags with commas.")
        uploads = st.file_uploader("Photos (optional)", type=["jpg", "jpeg", "png", "webp", "gif"],
                                   accept_multiple_files=True, help="JPEG, PNG, WebP or GIF, at most 15 MB each.")
        full = st.form_submit_button("Save entry", type="primary", icon=":material/save:", key="log_full")
if full:
    with widgets.user_errors():
        if weight is not None and kind == "note" and "weight" in kinds:
            kind = "weight"  # a weight with no kind chosen is a weight entry
        obs = entries.log_entry(mem, full_text, pet=full_pet, kinds=kind_names, kind=kind, day=day, at=at,
                                weight=weight, tags=tags, photos=[(f.getvalue(), f.name) for f in uploads or []])
        logged(obs, full_pet)

widgets.show_notice(undo)


def save_edit(obs) -> None:
    state = st.session_state
    widgets.action(entries.edit_entry, mem, obs, text=state[f"text_{obs.id}"], kind=state[f"kind_{obs.id}"],
                   day=state[f"day_{obs.id}"], kinds=kind_names, done="Entry corrected.",
                   undo=lambda new: {"uncorrect": new.id})


def show_entry(obs) -> None:
    with st.container(border=True):
        text_col, buttons = st.columns([6, 1], vertical_alignment="center")
        pet = names.get(obs.subject_id, entries.HOUSEHOLD_LABEL)
        details = [f"**{entries.when_label(obs.happened_at)}**", pet, widgets.kind_badge(obs.kind)]
        if "weight_kg" in obs.metrics:
            details.append(f"**{obs.metrics['weight_kg']:g} kg**")
        details += [f":gray-badge[{t}]" for t in obs.tags]
        text_col.markdown(" · ".join(details[:3]) + " " + " ".join(details[3:]))
        text_col.text(obs.text)
        pictures = attached.get(obs.id, [])
        if pictures:
            text_col.image([widgets.thumbnail(mem, p) for p in pictures], width=120, caption=[p.name for p in pictures])
        with buttons.container(horizontal=True, gap="small", horizontal_alignment="right"):
            with st.popover("", icon=":material/edit:", help="Correct this entry", type="tertiary"):
                with st.form(f"edit_{obs.id}", border=False):
                    st.text_area("Text", value=obs.text, key=f"text_{obs.id}")
                    st.selectbox("Kind", kind_names, format_func=widgets.kind_label, key=f"kind_{obs.id}",
                                 index=kind_names.index(obs.kind) if obs.kind in kind_names else 0)
                    st.date_input("Date", value=entries.local_day(obs.happened_at), max_value="today",
                                  format="YYYY-MM-DD", key=f"day_{obs.id}")
                    st.form_submit_button("Save correction", type="primary", key=f"save_{obs.id}",
                                          on_click=save_edit, args=(obs,))
            st.button("", icon=":material/delete:", key=f"delete_{obs.id}", help="Delete this entry",
                      type="tertiary", on_click=widgets.action, args=(journal.delete, mem, obs.id),
                      kwargs={"done": "Entry deleted.", "undo": {"restore": obs.id}})


recent = journal.timeline(mem, limit=25)
attached = photos.of(mem, [o.id for o in recent])
today = datetime.now(local_tz()).date()
todays = [o for o in recent if entries.local_day(o.happened_at) == today]
earlier = [o for o in recent if entries.local_day(o.happened_at) != today]

st.subheader("Today")
if todays:
    for obs in todays:
        show_entry(obs)
elif recent:
    st.caption("Nothing logged today yet.")
else:
    st.caption("No notes yet — log the first one above.")
if earlier:
    st.subheader("Recently")
    for obs in earlier:
        show_entry(obs)
    st.caption("Older entries are on the **History** page.")
