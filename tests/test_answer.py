"""The answer path: code decides notes, no record, red flags and citations; the model only phrases.

Runs on a tiny random Gemma (fast; its words are noise, which is the point: every guarantee
checked here must hold whatever the model says)."""
import pytest

from agent.answer import Companion
from agent.guard import unsupported_dates
from agent.settings import Settings
from memory import journal
from memory.errors import MemoloopError
from memory.interactions import add_feedback, feedback_for, get_interaction


@pytest.fixture
def companion(mem, cats, tiny_gemma_dir):
    return Companion(mem, settings=Settings(base_model=str(tiny_gemma_dir), max_new_tokens=12), adapters=[],
                     progress=lambda msg: None)


def test_citations_are_exactly_the_notes_passed_in(companion, cats):
    answer = companion.ask("Mochi is sneezing again, has this happened before?")
    stored = get_interaction(companion.mem, answer.interaction_id)
    cited = {c["id"] for c in answer.citations}
    assert cited >= {cats["Mochi sneezed twice this morning"],
                     cats["Sneezing came back after the move, clear discharge from the nose"]}
    assert cited <= {cats[t] for t in cats if "Luna" not in t and "moved" not in t}
    for c in answer.citations:  # each citation's text and date is in the block the model saw
        assert c["text"] in stored.history_block and c["at"][:10] in stored.history_block
    assert not answer.no_record and answer.red_flag is None
    assert stored.prompt.endswith("<start_of_turn>model\n") and stored.question.startswith("Mochi")
    assert stored.retrieved and stored.completion_tokens > 0 and stored.latency_ms > 0
    assert "Luna" not in stored.history_block  # scoped to the cat asked about


def test_no_record_is_decided_before_generation(companion):
    answer = companion.ask("Has Mochi ever had a dental cleaning?")
    assert answer.no_record and answer.citations == []
    assert answer.answer.startswith("There is no record of this for Mochi")
    stored = get_interaction(companion.mem, answer.interaction_id)
    assert "- no record about this" in stored.history_block


def test_no_record_on_an_empty_history(mem, tiny_gemma_dir):
    journal.add_subject(mem, "Mochi")
    c = Companion(mem, settings=Settings(base_model=str(tiny_gemma_dir), max_new_tokens=8), adapters=[],
                  progress=lambda msg: None)
    assert c.ask("Is Mochi sneezing?").no_record


def test_a_red_flag_comes_first_whatever_the_model_says(companion):
    answer = companion.ask("Mochi keeps straining in the litter box and nothing comes out")
    assert answer.red_flag and "vet" in answer.red_flag.lower()
    assert answer.answer.startswith("See a vet now: ")
    assert companion.pack.disclaimer in answer.answer


def test_a_recent_alarming_note_raises_a_red_flag_for_a_plain_question(companion):
    journal.log(companion.mem, "Mochi ate a lily leaf from the bouquet", subject="Mochi", kind="symptom")
    answer = companion.ask("Should I change Mochi's food?")
    assert answer.red_flag and "lil" in answer.red_flag.lower()


def test_streaming_gives_the_same_text_that_is_stored(companion):
    turn = companion.ask_stream("How much does Mochi weigh?")
    streamed = "".join(turn)
    assert streamed.strip() == turn.answer.answer
    assert get_interaction(companion.mem, turn.answer.interaction_id).answer == turn.answer.answer


def test_feedback_is_stored_and_validated(companion):
    answer = companion.ask("How much does Mochi weigh?")
    add_feedback(companion.mem, answer.interaction_id, rating=-1, correction="Mochi weighed 4.2 kg on 2025-07-01.")
    assert [f.correction for f in feedback_for(companion.mem, answer.interaction_id)] == [
        "Mochi weighed 4.2 kg on 2025-07-01."]
    with pytest.raises(MemoloopError, match="interaction 999 does not exist"):
        add_feedback(companion.mem, 999, rating=1)
    with pytest.raises(MemoloopError, match="the correction is empty"):
        add_feedback(companion.mem, answer.interaction_id, rating=-1, correction="  ")


def test_a_broken_adapter_falls_back_and_says_why(mem, cats, tiny_gemma_dir, tmp_path):
    broken = tmp_path / "broken-adapter"
    broken.mkdir()
    (broken / "adapter_config.json").write_text("{not json")
    (broken / "adapter_model.safetensors").write_bytes(b"garbage")
    c = Companion(mem, settings=Settings(base_model=str(tiny_gemma_dir), max_new_tokens=8),
                  adapters=[broken], progress=lambda msg: None)
    answer = c.ask("Is Mochi sneezing?")
    assert answer.adapter is None and answer.answer
    assert c.warnings and str(broken) in c.warnings[0]


def test_a_missing_model_folder_names_the_path(mem, tmp_path):
    c = Companion(mem, settings=Settings(base_model=str(tmp_path / "nowhere")), adapters=[],
                  progress=lambda msg: None)
    with pytest.raises(MemoloopError, match="nowhere' is missing or incomplete; delete the folder"):
        c.ask("Is Mochi sneezing?")


def test_date_post_check():
    block = "History:\n- 2024-02-13 (Mochi, vet_visit): herpes flare"
    assert unsupported_dates("On 2024-02-13 the vet saw her.", block) == []
    assert unsupported_dates("On 2024-02-13 and again on 2024-03-01.", block) == ["2024-03-01"]


def test_every_sentence_shown_is_checked_and_what_was_cut_is_stored(companion, cats):
    """The tiny random model writes noise: none of it may reach the user; the notes speak instead."""
    from agent import guard

    answer = companion.ask("Mochi is sneezing again, has this happened before?")
    stored = get_interaction(companion.mem, answer.interaction_id)
    assert stored.cut and answer.cut == stored.cut and all(c["problems"] for c in stored.cut)
    assert all(v.ok for v in guard.check(answer.body, stored.history_block)), answer.body
    for c in answer.citations:  # every note the code chose is stated, with its date
        assert f"On {c['at'][:10]}: {c['text']}" in answer.body
    assert "memoloop left out" in answer.answer


def test_after_no_record_only_vetted_words_follow(companion):
    answer = companion.ask("Has Mochi ever had a dental cleaning?")
    assert answer.answer.startswith("There is no record of this for Mochi in your journal.")
    rest = answer.body.removeprefix("There is no record of this for Mochi in your journal.").strip()
    facts = " ".join(f.text for f in companion.draft("Has Mochi ever had a dental cleaning?").facts)
    assert rest in facts  # the vetted facts, or nothing: never "I could not phrase an answer" after it


def test_a_trend_question_shows_the_series_computed_in_code(companion):
    for day, kg in (("2025-01-05", 4.6), ("2025-04-02", 4.4)):
        journal.log(companion.mem, f"Mochi weighs {kg} kg", subject="Mochi", at=day, kind="weight",
                    metrics={"weight_kg": kg})
    answer = companion.ask("How has Mochi's weight changed over time?")
    assert answer.trend is not None and [p.value for p in answer.trend.points] == [4.6, 4.4, 4.2]
    assert ("Mochi's weight: 4.6 kg on 2025-01-05, 4.4 kg on 2025-04-02, 4.2 kg on 2025-07-01. "
            "From 4.6 kg to 4.2 kg: down 0.4 kg (8.7%) over 3 measurements.") in answer.answer
    assert not answer.no_record and len(answer.citations) == 3


def test_a_sentence_cut_off_by_the_token_limit_is_not_shown(companion):
    from agent import guard

    turn = companion.ask_stream("Mochi is sneezing again, has this happened before?")
    text = "".join(turn)
    assert not turn.raw.rstrip().endswith((".", "!", "?"))  # 12 tokens of a random model run out mid-sentence
    fragment = guard.sentences(turn.raw)[-1]
    assert turn.guarded.cut[-1] == {"sentence": fragment, "problems": ["unfinished: the model ran out of words"],
                                    "shown_instead": None}
    assert fragment not in text
    assert get_interaction(companion.mem, turn.answer.interaction_id).cut[-1]["sentence"] == fragment


def test_a_question_about_the_record_gets_no_general_facts_but_advice_when_asked(companion):
    assert companion.draft("When did Mochi last have a sneezing fit?").facts == []
    assert companion.draft("Mochi is sneezing again, should I worry?").facts
    assert companion.draft("Has Mochi ever had a dental cleaning?").facts  # no record: the facts speak


def test_a_question_that_names_weight_in_passing_keeps_its_other_notes(companion):
    """Found on the fifth journal set: "who did his last booster and what did they say about his
    weight?" was answered from the weight series alone, without the booster note."""
    booster = journal.log(companion.mem, "Mochi's annual FVRCP booster with Dr Tanaka, who says she "
                          "could lose a little weight", subject="Mochi", at="2025-08-01", kind="vaccine").id
    d = companion.draft("Who did Mochi's last booster and what did they say about her weight?")
    assert d.trend is not None and booster in [h.id for h in d.chosen]
    d = companion.draft("How has Mochi's weight changed over time?")
    assert d.trend is not None and all(h.id in {p.id for p in d.trend.points} for h in d.chosen)


def test_a_note_copied_across_its_sentences_is_shown_once(mem, tiny_gemma_dir):
    """Read on fresh5 (10 of 66 answers): the real model copied a two-sentence note word for word,
    its first words were shown early, and then the whole note came again. This is that model's own
    output, streamed word by word through the check."""
    import re

    from agent.answer import checked_sentences
    from agent.model import Usage

    journal.add_subject(mem, "Biscuit", sex="female", neutered=True)
    journal.log(mem, "got the aerokat spacer + a flixotide 125mcg inhaler from the vet. 1 puff twice a day, mask on "
                "her face for 7-10 breaths. she hates it. bribing w dreamies after.", subject="Biscuit",
                kind="medication", at="2024-05-02")
    companion = Companion(mem, settings=Settings(base_model=str(tiny_gemma_dir)), adapters=[], progress=lambda m: None)
    draft = companion.draft("whats the spacer thing for biscuit's inhaler called")
    note = "On 2024-05-02: got the aerokat spacer + a flixotide 125mcg inhaler from the vet."
    raw = ("The first time was on 2024-05-02: got the aerokat spacer + a flixotide 125mcg inhaler from the vet. "
           "1 puff twice a day, mask on her face for 7-10 breaths. she hates it. bribing w dreamies after.")
    usage = Usage(stopped=True)  # the model stopped by itself
    parts = list(checked_sentences(iter(re.findall(r"\s*\S+", raw)), draft, usage, quote_first=True))
    early = "".join(text for kind, text in parts if kind == "early")
    said = [text for kind, text in parts if kind == "sentence"]
    assert early and note.startswith(early.strip())  # the note's own words came first, as they came
    assert said == [note, "1 puff twice a day, mask on her face for 7-10 breaths. she hates it. bribing w dreamies after."]
