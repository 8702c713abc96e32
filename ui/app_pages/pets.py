"""Pets: who the journal is about. Add a pet, rename one, keep their profile up to date."""
import streamlit as st

from memory import journal
from ui import entries, resources, widgets

SPECIES = "cat"
SEX = {"Not given": None, "Female": "female", "Male": "male"}
NEUTERED = {"Not given": None, "Yes": True, "No": False}


def _choice(options: dict, value) -> int:
    return list(options.values()).index(value)

mem = resources.memory()


def save_profile(pet) -> None:
    state = st.session_state
    widgets.action(journal.update_subject, mem, pet.name, new_name=state[f"name_{pet.id}"],
                   species=state[f"species_{pet.id}"], birth_date=state[f"born_{pet.id}"],
                   notes=state[f"notes_{pet.id}"], sex=SEX[state[f"sex_{pet.id}"]],
                   neutered=NEUTERED[state[f"neutered_{pet.id}"]], done="Profile saved.")


st.title(":material/pets: Pets")
st.caption("The cats (and any other pets) your journal is about. Their names let memoloop tell "
           "whose notes a question is about.")
widgets.show_notice()

pets = journal.list_subjects(mem)
if not pets:
    st.info("No pets yet — add your first cat below.", icon=":material/pets:")
for pet in pets:
    with st.container(border=True):
        facts = [f"{pet.sex.capitalize()} {pet.species}" if pet.sex else pet.species.capitalize()]
        if pet.neutered is not None:
            facts.append(("spayed" if pet.sex == "female" else "neutered") if pet.neutered else "not neutered")
        if pet.birth_date:
            facts.append(f"born {pet.birth_date.isoformat()} ({entries.age_label(pet.birth_date)})")
        st.markdown(f"#### {pet.name}")
        st.caption(" · ".join(facts))
        if pet.notes:
            st.text(pet.notes)
        with st.expander("Edit profile", icon=":material/edit:"):
            with st.form(f"profile_{pet.id}", border=False):
                c1, c2 = st.columns(2)
                c1.text_input("Name", value=pet.name, key=f"name_{pet.id}",
                              help="Renaming keeps all of this pet's notes.")
                c2.text_input("Species", value=pet.species, key=f"species_{pet.id}")
                c1.selectbox("Sex", list(SEX), index=_choice(SEX, pet.sex), key=f"sex_{pet.id}")
                c2.selectbox("Spayed / neutered", list(NEUTERED), index=_choice(NEUTERED, pet.neutered),
                             key=f"neutered_{pet.id}")
                st.date_input("Birth date", value=pet.birth_date, max_value="today", format="YYYY-MM-DD",
                              key=f"born_{pet.id}")
                st.text_area("Notes", value=pet.notes, key=f"notes_{pet.id}", height=80,
                             placeholder="Breed, colour, vet, allergies, insurance…")
                st.form_submit_button("Save", type="primary", key=f"save_{pet.id}",
                                      on_click=save_profile, args=(pet,))

st.subheader("Add a pet")
with st.form("add_pet", clear_on_submit=True):
    c1, c2 = st.columns(2)
    name = c1.text_input("Name", placeholder="e.g. Mochi")
    species = c2.text_input("Species", value=SPECIES)
    sex = c1.selectbox("Sex", list(SEX), help="Answers say she or he; some warnings depend on it.")
    neutered = c2.selectbox("Spayed / neutered", list(NEUTERED))
    born = st.date_input("Birth date (optional)", value=None, max_value="today", format="YYYY-MM-DD",
                         help="An estimate is fine: it helps with age-related advice.")
    notes = st.text_area("Notes (optional)", height=80, placeholder="Breed, colour, vet, allergies, insurance…")
    added = st.form_submit_button("Add pet", type="primary", icon=":material/add:", key="add_pet")
if added:
    with widgets.user_errors():
        pet = journal.add_subject(mem, name, species=species, birth_date=born, notes=notes,
                                  sex=SEX[sex], neutered=NEUTERED[neutered])
        st.session_state["last_pet"] = pet.name
        widgets.notify(f"Welcome, {pet.name}! Log their first note on the Journal page.")
        st.rerun()
