"""The one check of model text against its notes (agent.guard): each failure class an owner met."""
import subprocess
import sys

from agent import guard

BLOCK = """History:
- 2024-05-02 (Rusty, vet_visit): Dr. Patel found ear mites in both ears and treated them with Revolution.
- 2024-01-10 (Rusty, weight): Rusty weighs 5.2 kg
Pets:
- Rusty is a male cat (he/him), neutered
Facts:
- Ear mites spread between cats, so treat every cat in the house."""


def problems(text, block=BLOCK):
    return [v.problems for v in guard.check(text, block)]


def test_a_faithful_sentence_passes():
    assert problems("On 2024-05-02 Dr. Patel found ear mites and treated them with Revolution.") == [[]]
    assert problems("Treat every cat in the house for ear mites.") == [[]]


def test_a_garbled_fact_is_replaced_by_the_note_it_came_from():
    shown = guard.guard("The vet removed his ears on 2024-05-02.", BLOCK)
    assert "removed" in " ".join(shown.cut[0]["problems"])
    assert shown.text == ("On 2024-05-02: Dr. Patel found ear mites in both ears and treated them with "
                          "Revolution.")
    assert shown.cut[0]["shown_instead"] == shown.text


def test_numbers_and_names_no_note_has_are_cut():
    [found] = problems("He had a kidney stone and a blood pressure of 2.6.")
    assert "number 2.6 is not in the notes" in found
    assert any("kidney" in p for p in found)
    [found] = problems("Dr. Okafor treated the ear mites with Revolution.")
    assert any("Okafor" in p for p in found)


def test_invented_dates_in_any_form_are_cut():
    assert "date 2025-02-13 is not in the notes" in problems("On 2025-02-13 Dr. Patel found ear mites.")[0]
    assert any("8/14" in p for p in problems("On 14 August Dr. Patel found ear mites.")[0])


def test_junk_characters_are_cut():
    assert "characters outside the Latin script" in problems("Rusty had ear mites \u043f\u0440\u0438\u0432\u0435\u0442.")[0]
    assert "characters outside the Latin script" in problems("Rusty had ear mites \u0e2a\u0e27\u0e31\u0e2a.")[0]
    assert guard.is_latin("Café, 4.2 kg — ok")
    assert guard.is_latin("creatinine 212 \u00b5mol/L")  # read in fresh4: a unit the notes use, not junk


def test_a_repeated_sentence_is_shown_once():
    shown = guard.guard("Rusty weighs 5.2 kg. Rusty weighs 5.2 kg. Rusty weighs 5.2 kg.", BLOCK)
    assert shown.shown == ["Rusty weighs 5.2 kg."]
    assert [c["problems"] for c in shown.cut] == [["repeats an earlier sentence"]] * 2
    shown = guard.guard("On 2024-05-02 Dr. Patel found ear mites; on 2024-05-02 Dr. Patel found ear mites;", BLOCK)
    assert len(shown.shown) == 1 and shown.shown[0].endswith(".")


def test_a_pronoun_of_the_other_sex_is_cut():
    assert "'she' for a male cat" in problems("She weighs 5.2 kg.")[0]
    assert problems("He weighs 5.2 kg.") == [[]]


def test_after_no_record_no_dated_history_is_allowed():
    block = "History:\n- no record about this\nFacts:\n- A cat that hides for more than a day may be unwell."
    [found] = problems("On 24 July the sun shone through the curtains and the cat hid under the covers.", block)
    assert "dated history after 'no record'" in found
    shown = guard.guard("On 24 July the sun shone and the cat hid.", block)
    assert shown.text == "" and shown.cut[0]["sentence"].startswith("On 24 July")


def test_a_note_the_answer_leaves_out_is_added_in_its_own_words():
    missing = guard.uncovered_notes("Rusty weighs 5.2 kg, noted on 2024-01-10.", BLOCK)
    assert [n.day for n in missing] == ["2024-05-02"]
    partial = guard.uncovered_notes("On 2024-05-02 and 2024-01-10 the vet saw him.", BLOCK)
    assert {n.day for n in partial} == {"2024-05-02", "2024-01-10"}  # dates alone, facts left out


def test_sentences_keep_abbreviations_and_decimals_together():
    assert guard.sentences("On 2024-05-02 Dr. Patel saw him. He weighs 4.2 kg, e.g. light.") == [
        "On 2024-05-02 Dr. Patel saw him.", "He weighs 4.2 kg, e.g. light."]


def test_the_date_checks_the_gate_and_dataset_use():
    block = "History:\n- 2024-02-13 (Mochi, vet_visit): herpes flare"
    assert guard.unsupported_dates("On 2024-02-13 and again on 2024-03-01.", block) == ["2024-03-01"]
    assert guard.against_notes("On 2023-01-01 it happened.", block)
    assert not guard.against_notes("On 2024-02-13 and 2023-01-01.", block)


def test_importing_the_guard_does_not_import_torch():
    code = ("import sys, agent.guard, agent.triage, agent.pack, retrain.dataset, retrain.gate, retrain.manifest; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_note_quoted_word_for_word_passes_whatever_its_pronouns():
    block = ("History:\n- 2022-12-02 (Tamsin, vaccine): FVRCP booster by Dr. Fairley; he also scanned her microchip\n"
             "Pets:\n- Tamsin is a female cat (she/her), spayed\nFacts:\n- Hiding for a day or two after a move is common.")
    assert problems("He also scanned her microchip.", block) == [[]]
    assert problems("He ate his dinner.", block)[0]  # the model's own "he" for a female cat
    assert problems("Hiding for a day or two after a move is common.", block) == [[]]  # "two" is in the fact


def test_a_sentence_that_copies_the_prompts_layout_is_cut():
    [found] = problems("He had his booster. Pets: - Rusty is a male cat (he/him), neutered Facts: - Ear mites spread.")[1:]
    assert "copies the prompt's layout" in found
    assert "repeats itself" in problems("Rusty weighs 5.2 kg and then Rusty weighs 5.2 kg and then Rusty weighs 5.2 kg")[0]


def test_calling_an_older_note_the_most_recent_or_a_newer_one_the_first_is_cut():
    block = """History:
- 2024-06-01 (Rusty, symptom): Sick after breakfast, fine by lunch.
- 2023-02-11 (Rusty, symptom): Sick twice overnight.
- 2024-09-30 (Rusty, grooming): Brushed out a mat behind his ear."""
    assert problems("The most recent was on 2024-06-01: Sick after breakfast, fine by lunch.", block) == [[]]
    [wrong] = problems("The last time was on 2023-02-11: Sick twice overnight.", block)
    assert wrong == ["calls 2023-02-11 the most recent, but 2024-06-01 is newer"]
    assert problems("The first time was on 2023-02-11: Sick twice overnight.", block) == [[]]
    [wrong] = problems("The first time was on 2024-06-01: Sick after breakfast, fine by lunch.", block)
    assert wrong == ["calls 2024-06-01 the first, but 2023-02-11 is older"]
    # a newer note of another kind (grooming) is not what "the last time he was sick" is about
    assert problems("The most recent was on 2024-06-01: Sick after breakfast, fine by lunch.", block) == [[]]


def test_a_note_that_says_first_time_itself_makes_no_claim():
    block = """History:
- 2025-03-06 (Coco, behaviour): Coco and Otis shared the sofa for the first time.
- 2025-01-01 (Coco, behaviour): Hissed at Otis after his vet trip."""
    assert problems("On 2025-03-06 you noted: Coco and Otis shared the sofa for the first time.", block) == [[]]


def test_a_note_the_model_began_is_finished_without_repeating_what_it_said():
    """Found on the fifth journal set: "On 2024-09-18: Ziggy's sneezing hadn't cleared, so Dr Behrens
    had a look." then the whole note again, first sentence included."""
    from agent.guard import Source, unsaid

    note = Source("Ziggy's sneezing hadn't cleared, so Dr Behrens had a look. Prescribed Doxybactin 50 mg.",
                  "2024-09-18")
    said = "On 2024-09-18: Ziggy's sneezing hadn't cleared, so Dr Behrens had a look."
    assert unsaid(note, said) == "Prescribed Doxybactin 50 mg."  # it goes straight on
    assert unsaid(note, said + " On 2024-09-14: sneezing.") == "On 2024-09-18: Prescribed Doxybactin 50 mg."
    assert unsaid(note, said + " Prescribed Doxybactin 50 mg.") is None
    assert unsaid(note, "On 2024-09-14: sneezing.") == note.said


def test_an_undated_sentence_after_a_dated_one_keeps_to_that_note():
    # Read in fresh2: the 2024 weight was told as if it were said at the 2023-10-28 visit.
    block = """History:
- 2023-10-28 (Biscuit, vet_visit): Dr Behrens checked his teeth, all fine.
- 2024-03-02 (Biscuit, weight): Dr Behrens says he's a bit too chunky at 5.6 kg.
Pets:
- Biscuit is a male cat (he/him), neutered"""
    told = guard.check("You wrote on 2023-10-28: Dr Behrens checked his teeth. "
                       "Dr Behrens says he's a bit too chunky at 5.6 kg.", block)
    assert told[0].ok
    assert "number 5.6 is not in the notes" in told[1].problems
    # on its own, or after the note it belongs to, the same sentence is true
    assert guard.check("Dr Behrens says he's a bit too chunky at 5.6 kg.", block)[0].ok
    assert guard.check("On 2024-03-02 he was weighed. Dr Behrens says he's a bit too chunky at 5.6 kg.",
                       block)[1].ok


def test_a_short_run_the_model_repeats_straight_after_itself_is_a_loop():
    assert "repeats itself" in problems("Rusty had Revolution all 3: Revolution all 3.")[0]
    assert "repeats itself" not in problems("Rusty weighs 5.2 kg and treat every cat in the house.")[0]


def test_a_latest_question_is_answered_with_the_newest_note_first():
    # Read in fresh2: "biscuit's latest fructosamine?" -> "Yes. On 2024-10-19: ..." with 2026-08-01 in the block.
    block = """History:
- 2026-08-01 (Biscuit, vet_visit): biscuit fructosamine 350, stay on 1.5 IU bid.
- 2024-10-19 (Biscuit, vet_visit): biscuit fructosamine 310, good control.
Pets:
- Biscuit is a male cat (he/him), neutered"""
    shown = guard.guard("Yes. On 2024-10-19: biscuit fructosamine 310, good control.", block,
                        question="biscuit's latest fructosamine?", order="latest")
    assert shown.shown == ["On 2026-08-01: biscuit fructosamine 350, stay on 1.5 IU bid."]
    assert [c["problems"][0] for c in shown.cut] == [
        "a bare yes or no: the notes shown are the answer",
        "opens with 2024-10-19, but the most recent is 2026-08-01"]
    # read in fresh4: "has bramble ever had a problem with her claws" -> "Yes." over a weight note;
    # whether the notes say so is decided in code. Without an order any note may come first.
    assert guard.guard("Yes. On 2024-10-19: biscuit fructosamine 310, good control.", block,
                       question="Has Biscuit had his fructosamine checked?").shown == [
        "On 2024-10-19: biscuit fructosamine 310, good control."]


def test_a_note_the_model_began_goes_on_without_its_date_again():
    # Read in fresh3: "On 2025-02-10: First subQ fluids at home tonight! On 2025-02-10: Lactated Ringer's..."
    b = guard.read_block("History:\n- 2025-02-10 (Clem, medication): First subQ fluids at home tonight! "
                         "Lactated Ringer's, 100 mL.\n")
    assert guard.unsaid(b.notes[0], "On 2025-02-10: First subQ fluids at home tonight!") == "Lactated Ringer's, 100 mL."


def test_an_order_the_question_did_not_ask_for_is_not_claimed():
    # Read in fresh3: "how much gabapentin did the cats get for the move" -> "The most recent was on 2024-06-22: ..."
    block = "History:\n- 2024-06-22 (household, household): MOVING DAY!! Each cat got half a gabapentin capsule.\n"
    said = "The most recent was on 2024-06-22: MOVING DAY!! Each cat got half a gabapentin capsule."
    assert guard.guard(said, block, question="how much gabapentin did the cats get for the move").text == (
        "On 2024-06-22: MOVING DAY!! Each cat got half a gabapentin capsule.")
    assert guard.guard(said, block, question="when did we last move?", order="latest").text == said
    # read in fresh6: "When did Oli have her dental cleaning?" -> "The earliest note is from D: <a rabies shot>"
    assert guard.guard(said.replace("The most recent was on", "The earliest note is from"), block,
                       question="when did they get gabapentin").text == said.replace("The most recent was on", "On")


def test_what_goes_on_from_a_sentence_that_was_cut_is_cut_too():
    # Read in fresh3: a cut "On 2023-08-27: Dr N - ..." was replaced by the 2025-04-12 note, and the
    # model's next words ("Cerenia 16mg tab ...", from the 2023 note) then read as if from 2025.
    block = """History:
- 2025-04-12 (Moss, observation): moss vomitted on the rug, gave him 1/4 cerenia tab left over.
- 2023-08-27 (Moss, vet_visit): Dr N - nausea from kidneys prob. Cerenia 16mg tab, 1/4 tab once daily x4d.
Pets:
- Moss is a male cat (he/him), neutered"""
    said = "On 2023-08-27: Dr N - nausea from kidneys prob. Cerenia 16mg tab, 1/4 tab once daily x4d."
    shown = guard.guard("On 2023-08-27: Dr N removed his kidneys. Cerenia 16mg tab, 1/4 tab once daily x4d.", block)
    assert shown.shown == [said]  # the note itself, once; not its own words after another's
    # "...again, what did the vet give last time?" may open with the visit, not the newest note
    assert guard.guard(said, block, question="moss is vomiting again, what did dr nguyen give him last time",
                       order="latest").text == said


def test_another_note_of_the_same_day_keeps_its_date():
    # Read in fresh4: the move note of 2024-01-12 read as the end of that day's blood results.
    b = guard.read_block("History:\n- 2024-01-12 (Bramble, vet_visit): Bloods with Dr Baird. T4 19 nmol/L.\n"
                         "- 2024-01-12 (household, household): The cats went to the cattery while the removal men worked.\n")
    said = "On 2024-01-12: Bloods with Dr Baird."
    assert guard.unsaid(b.notes[1], said) == ("On 2024-01-12: The cats went to the cattery while the "
                                              "removal men worked.")
    assert guard.unsaid(b.notes[0], said) == "T4 19 nmol/L."


def test_a_bare_yes_cut_is_not_reported_as_words_that_did_not_match():
    cut = guard.guard("Yes. Rusty weighs 5.2 kg.", BLOCK, question="Is Rusty heavy?").cut
    assert cut and guard.cut_summary(cut) == ""
    cut = guard.guard("Yes. Rusty weighs 9.9 kg.", BLOCK, question="Is Rusty heavy?").cut
    assert guard.cut_summary(cut).startswith("memoloop left out 1 sentence")


def test_a_note_told_without_its_date_is_finished_with_only_what_is_missing():
    # Read on fresh5: the model told the note's last sentences without its date, and the whole note
    # was then added after them, those sentences again included.
    b = guard.read_block("History:\n- 2022-08-25 (household, household): We are going to Brisbane to meet "
                         "Isla. Shona will look after the cats. We fly out on 3 September.\n")
    said = "Shona will look after the cats. We fly out on 3 September."
    assert guard.unsaid(b.notes[0], said) == "On 2022-08-25: We are going to Brisbane to meet Isla."
    assert guard.unsaid(b.notes[0], "We are going to Brisbane to meet Isla. " + said) == (
        "(That is your note of 2022-08-25.)")  # every word said: only the date is missing


def test_said_in_reads_numbers_and_either_form_of_a_note():
    assert guard.said_in("Weight 3.7 kg.", "On 2023-06-20: Recheck. Weight 3.7 kg. All good.")
    assert not guard.said_in("Weight 3.7 kg.", "On 2023-01-18: Recheck. Weight 4.1 kg.")  # not the same number
    told = "On 2022-03-12 you noted: Pippin's first visit, with Dr Ben Harris. She weighed 1.2 kg."
    assert guard.said_in("On 2022-03-12: Pippin's first visit, with Dr Ben Harris. She weighed 1.2 kg.", told)
    assert not guard.said_in("On 2022-04-12: Pippin's first visit, with Dr Ben Harris.", told)  # another day
    # the guard shows a sentence once, and a second weight is not taken for a repeat of the first
    block = "History:\n- 2023-06-20 (Tui, weight): Weight 3.7 kg.\n- 2023-01-18 (Tui, weight): Weight 4.1 kg.\n"
    said = ["Weight 3.7 kg on 2023-06-20.", "Weight 4.1 kg on 2023-01-18."]
    assert guard.guard(" ".join(said), block).shown == said
    assert guard.guard(" ".join(said + said[:1]), block).shown == said
