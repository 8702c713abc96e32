"""The Streamlit pages, driven by AppTest on a real data home (MEMOLOOP_HOME from conftest)."""
from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agent.settings import Settings
from memory import journal
from memory.engines import Engines, chroma_server
from memory.interactions import feedback_for, recent_interactions
from memory.store import Memory
from memory.transfer import import_file
from ui import entries

APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"


def open_page(name: str, timeout: float = 60) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=timeout).run()
    if name != "today":  # the first page
        at.switch_page(f"app_pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [t.value for t in at.text] + [c.value for c in at.caption])


def engine_field(at, name: str):
    """The Settings page's field for one engine's URL (its key carries the value it shows)."""
    return next(w for w in at.text_input if (w.key or "").startswith(f"{name}-"))


def test_ask_shows_a_measured_series_and_what_the_guard_left_out(mem, cats, tiny_gemma_dir):
    """The tiny random model writes noise: the page says what was left out; a weight trend is a chart."""
    Settings(base_model=str(tiny_gemma_dir), device="cpu", max_new_tokens=24).save(mem.home)
    journal.log(mem, "Mochi weighs 4.5 kg", subject="Mochi", at="2025-03-01", kind="weight", metrics={"weight_kg": 4.5})
    at = open_page("ask", timeout=120)
    at.chat_input[0].set_value("How has Mochi's weight changed over time?").run()
    assert not at.exception
    answer = at.chat_message[1]
    assert "Mochi's weight: 4.5 kg on 2025-03-01, 4.2 kg on 2025-07-01" in answer.markdown[0].value
    assert [c.type for c in answer.children.values()][1] == "vega_lite_chart"
    at.chat_input[0].set_value("Mochi is sneezing again, has this happened before?").run()
    [cut] = [e for e in at.chat_message[3].expander if e.label.startswith("Checked against your notes")]
    assert "left out" in cut.label and any("~~" in m.value for m in cut.markdown)


def test_quick_log_stores_the_entry_for_the_pet_used_last(mem, cats):
    at = open_page("journal")
    assert at.selectbox[0].value == "Luna"  # the pet of the newest entry
    at.selectbox[0].select("Mochi")
    at.text_input[0].input("Mochi drank a lot of water this evening")
    at.button(key="log_quick").click().run()

    assert not at.error and not at.exception
    newest = journal.timeline(mem, limit=1)[0]
    assert (newest.text, journal.subject_names(mem)[newest.subject_id], newest.source) == (
        "Mochi drank a lot of water this evening", "Mochi", "ui")
    assert entries.local_day(newest.happened_at) == date.today()
    assert "Mochi drank a lot of water this evening" in texts(at)  # listed under Today
    assert at.selectbox[0].value == "Mochi"  # and remembered for the next note


def test_full_form_logs_a_weight_with_date_and_tags(mem, cats):
    at = open_page("journal")
    at.selectbox(key="full_pet").select("Mochi")
    at.date_input[0].set_value(date(2025, 10, 1))
    at.number_input(key="full_weight").set_value(4.35)
    at.text_input[1].input("scale, home")
    at.button(key="log_full").click().run()

    assert not at.error, [e.value for e in at.error]
    obs = journal.timeline(mem, kind="weight", limit=1)[0]
    assert obs.text == "Mochi weighs 4.35 kg" and obs.metrics == {"weight_kg": 4.35}
    assert obs.tags == ["scale", "home"] and entries.local_day(obs.happened_at) == date(2025, 10, 1)


def test_one_tap_entries_are_notes_with_their_measurement_and_undo(mem, cats):
    from memory import care

    item = care.add(mem, "Mochi", "Felimazole", 1, dose="2.5 mg", times="08:00")
    at = open_page("journal")
    at.selectbox(key="tap_pet").select("Mochi").run()  # a change reruns the page, as in a browser
    at.button(key="tap_vomited").click().run()
    newest = journal.timeline(mem, limit=1)[0]
    assert (newest.text, newest.kind, newest.metrics) == ("Mochi vomited.", "symptom", {"vomits": 1})
    at.number_input(key="tap_value_stool").set_value(4)  # in its form: sent with the button
    at.button(key="tap_stool").click().run()
    newest = journal.timeline(mem, limit=1)[0]
    assert (newest.text, newest.kind, newest.metrics) == ("Mochi: stool, 4 on the 1-7 faecal score.", "litter",
                                                          {"stool_score": 4})
    at.button(key="undo_last").click().run()
    assert not journal.get(mem, newest.id).live
    at.button(key=f"tap_care_{item.id}").click().run()
    assert not at.exception and not at.error
    assert [d.doses_today for d in care.due(mem) if d.item.id == item.id] == [1]


def test_today_shows_what_is_overdue_and_the_done_button_logs_it(mem, cats):
    from memory import care

    from datetime import timedelta

    journal.log(mem, "Mochi's FVRCP booster", subject="Mochi", kind="vaccine",
                at=(date.today() - timedelta(days=400)).isoformat())
    journal.log(mem, "Mochi weighs 4.5 kg", subject="Mochi", kind="weight", metrics={"weight_kg": 4.5},
                at=(date.today() - timedelta(days=60)).isoformat())
    journal.log(mem, "Mochi weighs 4.0 kg", subject="Mochi", kind="weight", at="today", metrics={"weight_kg": 4.0})
    at = open_page("today")
    assert not at.exception
    shown = texts(at)
    assert "Mochi: Core vaccines: overdue by 35 days" in shown
    assert "Mochi's weight went down 11.1% in 60 days" in shown  # a trend alert, with its notes
    assert [e.label for e in at.expander if e.label.startswith("The notes it rests on")] == ["The notes it rests on (2)"]
    vaccine = next(d for d in care.due(mem) if d.subject == "Mochi" and d.item.name == "Core vaccines")
    at.button(key=f"done-Overdue-{vaccine.item.id}").click().run()
    assert not at.exception and not at.error
    assert next(d for d in care.due(mem) if d.item.id == vaccine.item.id).status == "done"
    assert "Mochi: Core vaccines: done today" in texts(at)


def test_the_vet_summary_page_shows_the_pets_notes(mem, cats):
    at = open_page("vet_summary")
    assert not at.exception and not at.error
    at.selectbox[0].select("Luna").run()
    shown = " ".join(str(h.proto) for h in at.get("html"))
    assert "Luna: summary for the vet" in shown and "Luna got her FVRCP booster at the clinic" in shown
    assert "herpesvirus" not in shown  # Mochi's


def test_a_mistake_is_a_message_not_a_traceback(mem):
    at = open_page("journal")
    at.button(key="log_quick").click().run()  # nothing written
    assert not at.exception
    assert at.error[0].value.startswith("Text is empty")
    assert journal.timeline(mem) == []
    assert "No notes yet" in texts(at)


def test_delete_then_undo_and_correct_an_entry(mem, cats):
    obs_id = cats["Mochi ate all her breakfast"]
    at = open_page("journal")
    at.button(key=f"delete_{obs_id}").click().run()
    assert not journal.get(mem, obs_id).live
    at.button(key="undo_last").click().run()
    assert journal.get(mem, obs_id).live

    at.text_area(key=f"text_{obs_id}").input("Mochi ate half of her breakfast")
    at.button(key=f"save_{obs_id}").click().run()
    assert not at.exception
    old = journal.get(mem, obs_id)
    assert old.superseded_by_id and journal.get(mem, old.superseded_by_id).text == "Mochi ate half of her breakfast"


def test_pets_add_and_rename(mem):
    at = open_page("pets")
    assert "No pets yet" in at.info[0].value
    at.text_input[0].input("Mochi")
    at.date_input[0].set_value(date(2019, 4, 2))
    at.text_area[0].input("Grey tabby")
    at.button(key="add_pet").click().run()
    pet = journal.list_subjects(mem)[0]
    assert (pet.name, pet.species, pet.birth_date, pet.notes) == ("Mochi", "cat", date(2019, 4, 2), "Grey tabby")

    at.text_input(key=f"name_{pet.id}").input("Mochi-san")
    at.button(key=f"save_{pet.id}").click().run()
    assert [s.name for s in journal.list_subjects(mem)] == ["Mochi-san"]
    assert "#### Mochi-san" in texts(at)

    add_name = [t for t in at.text_input if t.label == "Name" and not t.key][0]
    add_name.input("mochi-san")
    at.button(key="add_pet").click().run()
    assert "already exists" in at.error[0].value


def test_history_lists_filters_and_searches(mem, cats):
    journal.log(mem, "Mochi weighs 4.2 kg", subject="Mochi", at="2025-07-02", kind="weight",
                metrics={"weight_kg": 4.2})
    at = open_page("history")
    table = at.dataframe[0].value
    assert len(table) == len(cats) + 1
    assert "Dr. Tanaka diagnosed a herpesvirus flare and prescribed L-lysine" in set(table["text"])
    assert at.get("vega_lite_chart")  # the weight chart

    at.selectbox[0].select("Luna").run()
    assert set(at.dataframe[0].value["subject"]) == {"Luna"}

    at.selectbox[0].select("All pets")
    at.text_input[0].input("herpes flare").run()
    found = at.dataframe[0].value
    assert found["text"].iloc[0] == "Dr. Tanaka diagnosed a herpesvirus flare and prescribed L-lysine"
    assert len(found) < len(cats)


def test_history_csv_export_imports_back(mem, cats, tmp_path):
    names = journal.subject_names(mem)
    content = entries.entries_csv(journal.timeline(mem), names)
    rows = list(csv.DictReader(io.StringIO(content)))
    assert {r["text"] for r in rows} == set(cats)

    from memory.store import Memory

    other = Memory.open(tmp_path / "other")
    journal.add_subject(other, "Mochi")
    journal.add_subject(other, "Luna")
    path = tmp_path / "entries.csv"
    path.write_text(content, encoding="utf-8")
    assert import_file(other, path).observations == len(cats)
    assert [o.happened_at for o in journal.timeline(other)] == [o.happened_at for o in journal.timeline(mem)]


def test_settings_saves_and_shows_errors(mem):
    at = open_page("settings")
    assert at.text_input(key="data_home").value == str(mem.home.root)
    at.selectbox[0].select("cpu")
    at.number_input[0].set_value(96)
    at.button(key="save_settings").click().run()
    saved = Settings.load(mem.home)
    assert (saved.device, saved.max_new_tokens, saved.base_model) == ("cpu", 96, None)
    assert "Settings saved" in texts(at)

    at.text_input(key="base_model").input("/nowhere/gemma")
    at.button(key="save_settings").click().run()
    assert "is not a model folder" in at.error[0].value
    assert Settings.load(mem.home).base_model is None


def test_settings_moves_the_search_index_to_a_chroma_server_once_it_answers(mem, cats, tmp_path):
    at = open_page("settings")
    engine_field(at, "chroma_url").input("localhost:8000")
    at.button(key="save_index").click().run()
    assert "Chroma server URL 'localhost:8000' is not valid" in at.error[0].value
    with chroma_server(tmp_path / "chroma") as url:
        engine_field(at, "chroma_url").input(url)
        at.button(key="save_index").click().run()
        assert not at.error and f"Notes are now searched in {url}" in texts(at)
        assert f"It keeps the search index on the Chroma server {url}." in at.sidebar.caption[0].value
        assert Engines.saved(mem.home.root).chroma_url == url
        with Memory.open(mem.home.root) as fresh:
            assert fresh.index.server is not None and fresh.index.count() == len(cats) and fresh.pending() == 0
    engine_field(at, "chroma_url").input("")  # the server is gone: back to the folder
    at.button(key="save_index").click().run()
    assert not at.error and "Notes are now searched in the data home" in texts(at)
    assert "Everything stays on this computer." in at.sidebar.caption[0].value
    assert Engines.saved(mem.home.root) == Engines()


@pytest.mark.slow
def test_ask_streams_a_grounded_answer_with_red_flag_citations_and_feedback(mem, cats, gemma_dir):
    """The real model (plus the starter adapter when present); the code decides flag and citations."""
    Settings(base_model=str(gemma_dir), device="cpu", max_new_tokens=32).save(mem.home)
    at = open_page("ask", timeout=300)
    at.chat_input[0].set_value("Luna is straining in the litter box, has she had litter trouble before?").run()
    assert not at.exception
    banner = at.chat_message[1].error  # the red flag comes first, as a banner, and is the only error
    assert [e.value.startswith("**See a vet now:**") for e in banner] == [True]
    [sources] = [e for e in at.chat_message[1].expander if e.label.startswith("From your notes")]
    assert "Luna peed outside the litter box on the bathmat" in "".join(m.value for m in sources.markdown)
    asked = recent_interactions(mem, 1)[0]
    assert asked.red_flag and any(c["id"] == cats["Luna peed outside the litter box on the bathmat"]
                                  for c in asked.citations)

    at.feedback[0].set_value(0).run()  # thumbs down
    at.text_area(key=f"fix_{asked.id}").input("Yes: on 2025-09-20 Luna peed on the bathmat. Straining is urgent.")
    at.button(key=f"save_fix_{asked.id}").click().run()
    assert [(f.rating, f.correction) for f in feedback_for(mem, asked.id)] == [
        (-1, None), (0, "Yes: on 2025-09-20 Luna peed on the bathmat. Straining is urgent.")]

    at.switch_page("app_pages/journal.py").run()
    at.switch_page("app_pages/ask.py").run()
    assert len(at.chat_message) == 2 and "Your correction" in at.chat_message[1].info[0].value
