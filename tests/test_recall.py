"""Recall: relevance, scoping to a pet, time words, 'the latest', and no record."""
from datetime import datetime, timezone

import pytest

from memory import journal
from memory.errors import MemoloopError
from memory.recall import concepts, recall

NOW = datetime(2025, 10, 1, 12, tzinfo=timezone.utc)
VOCAB = {"vaccine": ["vaccin", "booster", "jab", "fvrcp"], "sneeze": ["sneez", "herpes", "lysine"]}


def texts(result):
    return [h.text for h in result.relevant]


def test_finds_the_relevant_notes_and_scores_them(mem, cats):
    result = recall(mem, "Mochi is sneezing again, has this happened before?", now=NOW)
    assert set(texts(result)) >= {"Mochi sneezed twice this morning",
                                  "Sneezing came back after the move, clear discharge from the nose"}
    assert not result.no_record
    assert all(0 <= h.score <= 1 for h in result.hits)
    assert result.hits == sorted(result.hits, key=lambda h: (h.relevant, h.score), reverse=True)


def test_a_question_about_one_cat_never_returns_the_other_cats_notes(mem, cats):
    for question in ("Mochi is sneezing, has this happened before?", "Is Mochi sneezing?"):
        result = recall(mem, question, k=20, now=NOW)
        assert result.scope == ["Mochi"]
        assert all(h.subject in ("Mochi", "household") for h in result.hits)
    result = recall(mem, "sneezing", subject="Luna", k=20, now=NOW)
    assert {h.subject for h in result.hits} <= {"Luna", "household"}
    assert texts(result) == ["Luna sneezing a lot, watery eyes"]


def test_no_record_when_nothing_is_relevant(mem, cats):
    result = recall(mem, "Has Mochi ever had a seizure?", now=NOW)
    assert result.no_record and result.relevant == []
    assert result.hits  # ranked notes are still there, just not relevant enough


def test_no_record_on_an_empty_journal(mem):
    assert recall(mem, "Has Mochi sneezed before?", now=NOW).no_record


def test_time_window_from_the_question(mem, cats):
    result = recall(mem, "Did anyone sneeze in March 2025?", now=NOW)
    assert texts(result) == ["Luna sneezing a lot, watery eyes"]
    result = recall(mem, "Was Mochi sneezing in 2024?", now=NOW)
    assert texts(result) == ["Mochi sneezed twice this morning"]


def test_before_the_move_uses_the_moves_date(mem, cats):
    result = recall(mem, "Was Mochi sneezing before the move?", now=NOW)
    assert texts(result) == ["Mochi sneezed twice this morning"]
    result = recall(mem, "Was Mochi sneezing after the move?", now=NOW)
    assert "Mochi sneezed twice this morning" not in texts(result)


def test_latest_puts_the_newest_relevant_note_first(mem, cats):
    journal.log(mem, "Mochi sneezed once at night", subject="Mochi", at="2025-09-30", kind="symptom")
    journal.log(mem, "Mochi sneezing a little, but eating", subject="Mochi", at="2023-05-01", kind="symptom")
    result = recall(mem, "When did Mochi last sneeze?", now=NOW)
    assert result.time.order == "latest"
    assert texts(result)[0] == "Mochi sneezed once at night"
    dates = [h.at for h in result.relevant]
    assert dates == sorted(dates, reverse=True)
    first = recall(mem, "When did Mochi first sneeze?", now=NOW)
    assert texts(first)[0] == "Mochi sneezing a little, but eating"


def test_vocabulary_links_words_and_kinds(mem, cats):
    assert concepts("When was Luna vaccinated?", VOCAB)[0].kind == "vaccine"
    without = recall(mem, "When was Luna last vaccinated?", now=NOW)
    with_vocab = recall(mem, "When was Luna last vaccinated?", now=NOW, vocabulary=VOCAB)
    assert "Luna got her FVRCP booster at the clinic" in texts(with_vocab)
    assert with_vocab.relevant[0].score > without.hits[0].score


def test_the_packs_litter_words_find_peeing_on_the_bathmat(mem):
    from agent.pack import load_pack

    journal.add_subject(mem, "Luna")
    journal.log(mem, "Luna peed on the bathmat twice", subject="Luna", at="2025-06-20", kind="litter")
    journal.log(mem, "Luna vomited a hairball after breakfast", subject="Luna", at="2025-03-01", kind="symptom")
    question = "Has Luna peed outside the litter box?"
    bare = recall(mem, question, now=NOW, threshold=0.55)  # words alone: "outside", "box" are in no note
    found = recall(mem, question, now=NOW, threshold=0.55, vocabulary=load_pack().vocabulary)
    assert bare.no_record and texts(found) == ["Luna peed on the bathmat twice"]
    assert found.relevant[0].score > bare.hits[0].score + 0.1
    # under the threshold, the note still counts by its telling word ("peed"): a mention in passing
    assert texts(recall(mem, question, now=NOW)) == ["Luna peed on the bathmat twice"]


@pytest.mark.parametrize("question, k, message", [("  ", 5, "question is empty"),
                                                   ("x" * 1001, 5, "limit is 1000"),
                                                   ("sneezing", 0, "-k 0 is not valid")])
def test_bad_questions(mem, question, k, message):
    with pytest.raises(MemoloopError, match=message):
        recall(mem, question, k=k)


def test_the_questions_telling_concepts_are_a_name_else_its_topics_else_a_rare_word():
    """"urinary problems ... diagnoses": a note about the topic (litter, cystitis) counts as having
    the question's telling word; "Felimazole" names one thing, so only a note saying it does."""
    from memory.keywords import WeighedConcepts, Concept, key_concepts

    topic = Concept(("urin", "bladder", "cystitis"), "litter", prefix=True)
    asked = WeighedConcepts([Concept(("diagnoses",)), topic], df=[2, 9], weights=[3.1, 1.9], total=80)
    assert key_concepts(asked, "How many times was Rusty seen for urinary problems, and the diagnoses?") == {1}
    asked = WeighedConcepts([Concept(("dose",), "medication"), Concept(("felimazole",))], df=[7, 3], weights=[2.0, 3.0],
                  total=80)
    assert key_concepts(asked, "What dose of Felimazole is Tamsin on?") == {1}
    asked = WeighedConcepts([Concept(("diagnoses",)), topic], df=[2, 0], weights=[3.1, 4.5], total=80)
    assert key_concepts(asked, "What were the urinary diagnoses?") == {0}  # the journal has no such topic
    moving = Concept(("moved", "new house"), "moving", prefix=True)
    asked = WeighedConcepts([topic, moving, Concept(("bed",))], df=[9, 5, 3], weights=[1.9, 2.6, 3.0], total=80)
    assert key_concepts(asked, "When did she start peeing on the bed, and was it after we moved?") == {0, 1}
    vet = Concept(("vet", "clinic"), "vet_visit", prefix=True, frame=True)  # a frame, as the cat pack says
    ears = Concept(("ears", "ear infection"), "ears", prefix=True)
    asked = WeighedConcepts([vet, ears], df=[10, 5], weights=[1.9, 2.6], total=80)
    assert key_concepts(asked, "What did the vet give her for her ear infection?") == {1}
    assert key_concepts(WeighedConcepts([vet], df=[10], weights=[1.9], total=80), "When was her last vet visit?") == {0}
    asked = WeighedConcepts([vet, Concept(("limping",))], df=[1, 1], weights=[3.9, 3.9], total=80)
    assert key_concepts(asked, "juno is limping again, what did the vet give her?") == {1}  # not the frame


def test_what_helped_last_time_reads_on_into_the_episode(mem):
    """The match says what happened; the notes in the days after it say what was done about it."""
    journal.add_subject(mem, "Pickle")
    lump = journal.log(mem, "Pickle came in with a swollen, hot lump at the base of his tail", subject="Pickle",
                       at="2022-08-06", kind="symptom").id
    lanced = journal.log(mem, "Dr Okafor lanced the abscess under sedation; Synulox 50 mg twice a day",
                         subject="Pickle", at="2022-08-08", kind="vet_visit").id
    journal.log(mem, "Pickle weighed 5.1 kg", subject="Pickle", at="2022-09-30", kind="weight")
    question = "Pickle's got another hot lump near his tail today. What happened the last time?"
    found = [h.id for h in recall(mem, question, now=NOW).relevant]
    assert found[:2] == [lump, lanced] and len(found) == 2  # a month later is another story
    plain = [h.id for h in recall(mem, "Has Pickle had a hot lump near his tail before?", now=NOW).relevant]
    assert plain == [lump]  # no outcome asked: the match alone


def test_how_many_and_the_first_time_count_every_terse_note_with_the_topic(mem):
    """Terse notes score low on the whole; a question about the whole history still needs them."""
    from agent.pack import load_pack

    pack = load_pack("cat_care")
    journal.add_subject(mem, "Tofu")
    journal.add_subject(mem, "Ziggy")
    shots = [journal.log(mem, text, subject="Tofu", at=at, kind=kind).id for at, kind, text in [
        ("2023-09-12", "vet_visit", "tofu 1st visit w/ dr patel @ maple grove animal hosp. fvrcp #1 + pyrantel "
                                    "dewormer, healthy except some flea dirt"),
        ("2023-10-03", "vaccine", "tofu fvrcp #2 @ maple grove, she was 2.1kg on their scale. dr patel says growing "
                                  "right on track"),
        ("2023-11-14", "vet_visit", "tofu spayed today + rabies 1yr + fvrcp #3. home w/ cone and buprenorphine 0.1ml "
                                    "by mouth q12h x3 days")]]
    journal.log(mem, "tofu climbed the curtains again", subject="Tofu", at="2023-12-01", kind="behaviour")
    diet = journal.log(mem, "ziggy wt 7.2kg. dr patel wants him down ~1kg so switching to measured meals, "
                            "no more free feeding", subject="Ziggy", at="2023-10-14", kind="weight").id
    journal.log(mem, "ziggy 7.0kg, diet slowly working", subject="Ziggy", at="2024-01-06", kind="weight")
    ask = dict(now=NOW, vocabulary=pack.vocabulary, specific=pack.specific)
    found = recall(mem, "how many fvrcp shots did tofu get as a kitten", **ask).relevant
    assert {h.id for h in found} == set(shots)
    first = recall(mem, "when did ziggy first go on a diet", **ask).relevant
    assert min(first, key=lambda h: h.at).id == diet


def test_an_anchor_that_only_describes_the_thing_asked_does_not_lose_it(mem):
    """'the abscess after the fight': which fight is itself recalled; if nothing is in its window, a
    what-question is asked again without it, but a yes/no question keeps it (nothing is the answer)."""
    journal.add_subject(mem, "Otis")
    abscess = journal.log(mem, "The leg swelled up into an abscess, Dr. Natarajan lanced it and gave Convenia",
                          subject="Otis", at="2022-08-15", kind="vet_visit").id
    journal.log(mem, "Otis had a fight with the ginger tom next door again, a scratch on his nose",
                subject="Otis", at="2023-11-18", kind="behaviour")
    found = recall(mem, "What did Dr. Natarajan give Otis for that leg abscess after the fight?", now=NOW)
    assert abscess in [h.id for h in found.relevant]
    assert recall(mem, "Did Otis get an abscess after the fight?", now=NOW).no_record


def test_a_weight_written_in_a_vet_note_is_a_point_of_the_series(mem):
    from memory import series

    journal.add_subject(mem, "Juno")
    journal.log(mem, "juno 1st visit bayside, dr alvarez. wt 2.3kg. felv/fiv neg", subject="Juno",
                at="2023-03-06", kind="vet_visit")
    journal.log(mem, "juno boosters rcp + felv. wt 3.8kg.", subject="Juno", at="2024-03-23", kind="vaccine")
    journal.log(mem, "bought a 2 kg bag of kitten food for juno", subject="Juno", at="2024-04-01", kind="appetite")
    assert [p.value for p in series.series(mem, "weight_kg", None)] == [2.3, 3.8]


def test_another_pets_note_that_names_this_one_counts(mem):
    journal.add_subject(mem, "Pip")
    journal.add_subject(mem, "Biscuit")
    journal.log(mem, "pip annual, rcp only. wt 5.2kg", subject="Pip", at="2024-07-15", kind="vet_visit")
    passing = journal.log(mem, "biscuit + juno eating side by side again. pip threw up a hairball x2 this wk, "
                               "started laxatone", subject="Biscuit", at="2025-03-01", kind="behaviour").id
    journal.log(mem, "biscuit coughed up a hairball", subject="Biscuit", at="2025-04-01", kind="symptom")
    found = recall(mem, "has pip been given anything for hairballs?", now=NOW)
    assert [h.id for h in found.relevant] == [passing]
    assert found.relevant[0].subject == "Biscuit"


def test_a_lab_value_written_in_words_is_a_series(mem):
    """Read in fresh2: "how have Mabel's creatinine levels gone over time?" got "no record" with
    five creatinine results in the notes' words."""
    from memory import series

    journal.add_subject(mem, "Mabel")
    for text, at in [("Blood results back. Total T4 was 78 nmol/L. Kidneys ok (creatinine 142).", "2023-09-21"),
                     ("T4 recheck: down to 38 nmol/L, recheck T4 in 3 weeks, Felimazole 2.5 mg", "2023-10-14"),
                     ("Kidney recheck for Mabel. Creatinine 201, SDMA 19.", "2024-05-11"),
                     ("Temperature normal. Prescribed Doxybactin 50 mg", "2024-06-01")]:
        journal.log(mem, text, subject="Mabel", at=at, kind="vet_visit")
    creatinine = series.Trend("creatinine", series.series(mem, "creatinine", None))
    assert [p.value for p in creatinine.points] == [142, 201]
    t4 = series.Trend("t4", series.series(mem, "t4", None))
    assert t4.summary("Mabel").startswith("Mabel's T4: 78 nmol/L on 2023-09-21, 38 nmol/L on 2023-10-14. "
                                          "From 78 nmol/L to 38 nmol/L: down 40 nmol/L (51.3%)")
    assert series.series(mem, "temperature", None) == []  # "50 mg" is a dose, not a temperature
    keys = series.metric_keys(mem)
    assert series.asked_metric("how have Mabel's creatinine levels gone over time?", keys) == "creatinine"
    assert series.asked_metric("What was Mabel's very first T4 result?", keys) == "t4"
    assert series.asked_metric("what glucose meter did I get for Mabel?", keys) is None
    assert series.asked_metric("her glucose is up again, what did the vet do last time?", keys) is None


def test_a_pet_called_by_a_short_form_of_its_name_is_the_one_asked_about(mem):
    """Read in fresh3: "clem peed outside the box again" searched every pet's notes (Clementine)."""
    journal.add_subject(mem, "Clementine")
    journal.add_subject(mem, "Biscuit")
    journal.log(mem, "Clem peed on the laundry pile, 2nd accident this week", subject="Clementine",
                at="2024-01-02", kind="litter")
    journal.log(mem, "Biscuit peed on the bath mat", subject="Biscuit", at="2024-02-02", kind="litter")
    found = recall(mem, "clem peed outside the box again today, what did we do last time?", now=NOW)
    assert found.scope == ["Clementine"]
    assert {h.subject for h in found.relevant} <= {"Clementine", "household"}


def test_a_three_letter_short_form_counts_when_the_notes_call_the_pet_so(mem):
    """Read in fresh5: "when did giz last have his cat flu booster" (Gizmo) was answered with
    Biscuit's booster note; the owner's notes call Gizmo "giz", and "sam" is the vet, not Sammy."""
    for pet in ("Gizmo", "Biscuit", "Sammy"):
        journal.add_subject(mem, pet)
    for day, pet, text in [("2024-01-02", "Gizmo", "giz 7.2kg, absolute unit"),
                           ("2024-02-02", "Gizmo", "giz threw up twice, undigested biscuits"),
                           ("2024-03-02", "Gizmo", "weighed giz again, 7.0kg"),
                           ("2024-03-05", "Biscuit", "biscuit ate giz's food again"),
                           ("2024-04-01", "Biscuit", "booster jab for biscuit at the vets (cat flu + enteritis)"),
                           ("2024-04-02", "Biscuit", "sam checked biscuit's lungs, all clear"),
                           ("2024-04-03", "Sammy", "sam trimmed sammy's claws")]:
        journal.log(mem, text, subject=pet, at=day, kind="note")
    found = recall(mem, "when did giz last have his cat flu booster", now=NOW)
    assert found.scope == ["Gizmo"] and not found.relevant  # no record for Gizmo, not Biscuit's booster
    assert recall(mem, "what did sam say about her lungs", now=NOW).scope is None  # the vet: in both pets' notes
    assert recall(mem, "when did biscuit last have a booster", now=NOW).scope == ["Biscuit"]


def test_how_many_times_counts_visits_not_notes_that_say_times(mem):
    """Read in fresh5: "how many times has giz actually been to the vet" cited only "threw up 3
    times"; the vet visits ranked below it."""
    journal.add_subject(mem, "Gizmo")
    journal.log(mem, "Gizmo threw up 3 times today, undigested biscuits each time", subject="Gizmo",
                at="2025-03-08", kind="symptom")
    journal.log(mem, "took Gizmo to fallowfield vets, saw dr hughes: cystitis", subject="Gizmo",
                at="2024-07-04", kind="vet_visit")
    journal.log(mem, "Gizmo to levenshulme vets, they think gastritis", subject="Gizmo", at="2025-03-10",
                kind="vet_visit")
    found = recall(mem, "how many times has Gizmo actually been to the vet", now=NOW)
    assert {h.at.date().isoformat() for h in found.relevant[:2]} == {"2025-03-10", "2024-07-04"}


def test_a_question_about_a_drug_for_a_lab_value_is_not_a_question_about_the_value():
    from memory import series

    keys = {"phosphate_mmol_l", "sdma_ug_dl", "weight_kg"}
    assert series.asked_metric("what phosphate binder is moss on and how much", keys) is None
    assert series.asked_metric("whats moss's phosphate level", keys) == "phosphate_mmol_l"
    assert series.asked_metric("is moss's SDMA going up", keys) == "sdma_ug_dl"
    assert series.Trend("phosphate_mmol_l", []).name == "phosphate"
    assert series.Trend("phosphate_mmol_l", []).unit == "mmol/L"


def test_owners_words_for_a_value_over_time():
    from memory import series

    keys = series.LAB_WORDS.keys() | {"weight_kg"}
    assert series.asked_metric("mochis kidney values since the blockage?", keys) == "creatinine"
    assert series.asked_metric("how big is waffles now vs when we got her", keys) == "weight_kg"
    assert series.asked_metric("glucose meter broke, what now", keys) is None
