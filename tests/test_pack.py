"""The cat-care domain pack: loading, red-flag triage, knowledge facts and the starter dataset."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from agent.pack import PACKS_DIR, KnowledgeFact, load_pack
from agent.packs.cat_care import make_starter
from agent.packs.cat_care.starter_data import FAMILIES, GENERAL, WEIGHT
from agent.prompt import Fact, Note, context_block
from memory.errors import MemoloopError

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
LINE = re.compile(r"^- (\d{4}-\d{2}-\d{2}) \(([^,]+), (\w+)\): (.+)$")


@pytest.fixture(scope="module")
def pack():
    return load_pack("cat_care")


@pytest.fixture(scope="module")
def starter():
    return json.loads((PACKS_DIR / "cat_care" / "starter.json").read_text(encoding="utf-8"))


# --- loading -------------------------------------------------------------------------------

def test_pack_loads_with_kinds_flags_disclaimer_and_facts(pack):
    assert pack.name == "cat_care" and pack.subject_species == "cat"
    assert {"note", "symptom", "appetite", "litter", "weight", "medication", "vet_visit", "vaccine",
            "behaviour", "grooming", "dental"} <= set(pack.kinds)
    assert all(description.strip() for description in pack.kinds.values())
    assert len(pack.red_flags) >= 15 and len({f.id for f in pack.red_flags}) == len(pack.red_flags)
    assert "vet" in pack.disclaimer
    assert 80 <= len(pack.knowledge) <= 120


def test_the_vet_frames_a_question_and_the_topic_tells(pack):
    from memory.keywords import concepts

    found = {c.kind: c.frame for c in concepts("What did the vet give her for her ear infection?", pack.vocabulary)
             if c.kind}
    assert found == {"vet_visit": True, "ears": False}


def test_every_fact_has_an_id_topic_text_and_source(pack):
    ids = [f.id for f in pack.knowledge]
    assert len(ids) == len(set(ids))
    for fact in pack.knowledge:
        assert isinstance(fact, KnowledgeFact) and isinstance(fact, Fact)
        assert fact.topic and fact.source and len(fact.text) > 30, fact.id
        assert not DATE.search(fact.text), fact.id  # a fact must never put a date into an answer
    topics = {f.topic for f in pack.knowledge}
    assert {"toxins", "urinary", "vaccines", "respiratory", "kidney", "dental", "senior"} <= topics
    assert any(f.topic == "toxins" for f in pack.knowledge)


def test_facts_state_the_safety_essentials(pack):
    text = " ".join(f.text for f in pack.knowledge).lower()
    for needle in ("permethrin", "lilies", "paracetamol", "antifreeze", "essential oils", "blocked urethra",
                   "no good evidence"):  # lysine: the evidence is weak and the pack must say so
        assert needle in text


def _copy_pack(tmp_path):
    shutil.copytree(PACKS_DIR / "cat_care", tmp_path / "cat_care")
    return tmp_path / "cat_care"


def test_missing_pack_file_is_a_clear_error_naming_the_path(tmp_path):
    copy = _copy_pack(tmp_path)
    (copy / "knowledge.jsonl").unlink()
    with pytest.raises(MemoloopError, match=re.escape(str(copy / "knowledge.jsonl"))):
        load_pack("cat_care", packs_dir=tmp_path)


def test_corrupt_pack_json_is_a_clear_error_naming_the_path(tmp_path):
    copy = _copy_pack(tmp_path)
    (copy / "pack.json").write_text('{"name": "cat_care", "kinds": [', encoding="utf-8")
    with pytest.raises(MemoloopError, match=r"pack\.json is not valid JSON"):
        load_pack("cat_care", packs_dir=tmp_path)


def test_bad_fact_line_and_bad_regex_are_named(tmp_path):
    copy = _copy_pack(tmp_path)
    with (copy / "knowledge.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"id": "x", "topic": "y", "text": "no source"}\n')
    with pytest.raises(MemoloopError, match=r"knowledge\.jsonl, line \d+"):
        load_pack("cat_care", packs_dir=tmp_path)
    shutil.copy(PACKS_DIR / "cat_care" / "knowledge.jsonl", copy / "knowledge.jsonl")
    data = json.loads((copy / "pack.json").read_text(encoding="utf-8"))
    data["red_flags"][0]["patterns"] = ["(unclosed"]
    (copy / "pack.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(MemoloopError, match="bad patterns regex"):
        load_pack("cat_care", packs_dir=tmp_path)


def test_unknown_pack_lists_the_available_ones():
    with pytest.raises(MemoloopError, match="unknown domain pack 'dog_care'.*cat_care"):
        load_pack("dog_care")


# --- red flags -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, flag", [
    ("Mochi hasn't eaten since yesterday", "not_eating"),
    ("she hasnt eaten anything for two days, should I worry?", "not_eating"),
    ("He stopped eating", "not_eating"),
    ("Is it bad that she has not eaten for 2 days?", "not_eating"),
    ("ate a lily leaf", "lily"),
    ("Tigger chewed on lilies from the bouquet", "lily"),
    ("she licked lily pollen off her fur", "lily"),
    ("He is straining in the litter box and only a few drops come out", "urinary_blockage"),
    ("keeps going back to the litter box, straining to pee", "urinary_blockage"),
    ("I put the dog's flea treatment on her by mistake", "permethrin"),
    ("gave him half a paracetamol for his leg", "human_painkillers"),
    ("He is breathing with his mouth open", "breathing"),
    ("panting while lying on the sofa", "breathing"),
    ("had a seizure this morning", "seizure"),
    ("collapsed in the kitchen", "collapse"),
    ("Vomiting and very weak", "vomiting_with_lethargy"),
    ("threw up 5 times today", "vomiting_severe"),
    ("bleeding that won't stop", "bleeding"),
    ("fell from the balcony", "trauma"),
    ("his gums look pale", "pale_gums"),
    ("hiding under the bed and not moving", "hiding_not_moving"),
    ("dragging her back legs and crying", "hind_leg_paralysis"),
    ("licked some antifreeze in the garage", "antifreeze"),
    ("swallowed a piece of string", "swallowed_string"),
    ("she drank water from the lily vase", "lily"),
    ("She is not breathing normally", "breathing"),
    # missed on the fourth and fifth helper-written sets (triage_fresh3/4), caught since
    ("when i pinch her skin it stays up, gums are sticky", "dehydration"),
    ("hes wee-ing nothing, just little drops of blood", "urinary_blockage"),
    ("saw a string caught under his tongue when he yawned", "swallowed_string"),
    ("running eucalyptus in my diffuser all day and now she is drooling and walking wobbly", "other_poisoning"),
    ("she drank some of the water from the vase with the lilies in it", "lily"),
])
def test_red_flag_matches_alarming_phrasings(pack, text, flag):
    found = pack.matching_rule(text)
    assert found is not None and found.id == flag, (text, found and found.id)
    assert pack.triage(text) == found.reason


@pytest.mark.parametrize("text", [
    "no straining, peeing normally",
    "she is not vomiting anymore",
    "The vomiting has stopped",
    "hasn't vomited since Monday",
    "Are lilies safe for cats?",
    "She didn't eat the lily",
    "Never use the dog's flea treatment on cats",
    "panting after playing with the wand toy",
    "Skipped breakfast, ate normally at dinner",
    "stopped eating her dry food but eats wet food",
    "Ear drops: only a few drops in each ear",
    "She is hiding under the bed after the move",
    "Vomited once, not lethargic, eating fine",
    "gums are pink and healthy",
    "Sneezed twice today",
    "Weighed 4.2 kg",
    "her breathing is fine, no breathing problems",
    "Fits in the box perfectly",
])
def test_red_flag_ignores_negated_or_harmless_phrasings(pack, text):
    found = pack.matching_rule(text)
    assert found is None, (text, found and found.id)


@pytest.mark.parametrize("text", [
    "how do i stop him eating string and hair ties",
    "we use rat bait in the barn, is there a pet safe option so the cats dont get poisoned",
    "Last year Cleo licked lily pollen, kidneys are fine now thank god. Which flowers are safe?",
    "has tofu ever chewed tinsel",
])
def test_prevention_and_history_questions_raise_no_flag(pack, text):
    from agent.triage import present_part

    assert pack.triage(present_part(text)) is None, text


def test_triage_checks_recent_observations_after_the_question(pack):
    recent = ["Ate well", "Straining in the litter box, nothing coming out"]
    assert pack.triage("Is Oscar OK today?", recent) == pack.triage("straining to pee")
    assert pack.matching_rule("Mochi ate a lily leaf", recent).id == "lily"  # the question comes first
    assert pack.triage("Is Oscar OK today?", ["Ate well", "Sneezed once"]) is None


def test_a_cat_called_lily_is_not_a_lily(pack):
    assert pack.matching_rule("Mochi licked Lily", names=["Lily"]) is None
    assert pack.matching_rule("Lily chewed a lily in the vase", names=["Lily"]).id == "lily"


def test_disclaimer_rules(pack):
    assert pack.needs_disclaimer(red_flag=True)
    assert pack.needs_disclaimer(no_record=True)
    assert pack.needs_disclaimer(kinds=["medication"])
    assert not pack.needs_disclaimer(kinds=["grooming"])


# --- starter dataset -----------------------------------------------------------------------

def test_starter_records_have_exactly_the_alpaca_keys(starter):
    assert 3000 <= len(starter) <= 3600  # several thousand, generated by make_starter
    for r in starter:
        assert set(r) == {"instruction", "input", "output"}
        assert all(isinstance(v, str) and v.strip() for v in r.values())
        assert r["input"].startswith("History:\n")


def test_starter_outputs_never_contain_a_date_absent_from_the_input(starter):
    for r in starter:
        invented = set(DATE.findall(r["output"])) - set(DATE.findall(r["input"]))
        assert not invented, (r["instruction"], invented)


def sections(block: str) -> dict[str, list[str]]:
    out, name = {}, None
    for line in block.splitlines():
        if not line.startswith("- ") and line.endswith(":"):
            name = line[:-1]
            out[name] = []
        else:
            out[name].append(line)
    return out


def test_starter_inputs_are_context_blocks_with_pack_kinds_facts_and_profiles(pack, starter):
    texts = {f.text for f in pack.knowledge}
    for r in starter:
        parts = sections(r["input"])
        assert list(parts)[0] == "History" and set(parts) <= {"History", "Measured", "Pets", "Facts"}
        lines = parts["History"]
        assert lines == ["- no record about this"] or all(LINE.match(line) for line in lines), r["input"]
        assert all(LINE.match(line).group(3) in pack.kinds for line in lines if LINE.match(line))
        assert all(line[2:] in texts for line in parts.get("Facts", [])), r["input"]
        assert all(re.fullmatch(r"- \w+ is a (female|male) cat \((she/her|he/him)\), (spayed|neutered|not neutered)", p)
                   for p in parts.get("Pets", []))
    assert sum("Pets" in sections(r["input"]) for r in starter) > len(starter) / 2
    assert sum("Measured" in sections(r["input"]) for r in starter) >= make_starter.MIX["measured"]


def test_starter_answers_copy_their_notes_and_pass_the_answer_guard(starter):
    """Extractive: every note an answer states is in the note's own words after its date, and the
    answer guard would show every sentence unchanged."""
    from agent import guard
    for r in starter:
        assert make_starter.passes_guard(r), (r["instruction"], [v for v in guard.check(r["output"], r["input"]) if not v.ok])
        notes = {m.group(1): m.group(4) for m in map(LINE.match, r["input"].splitlines()) if m}
        for day in DATE.findall(r["output"]):
            after = r["output"].split(day, 1)[1]
            assert re.match(r"(?: you noted)?: ", after) and notes[day].rstrip(".") in after, (day, r["output"])


def test_starter_mix_and_answer_shapes(starter):
    measured = [r for r in starter if "\nMeasured:\n" in r["input"]]
    no_notes = [r for r in starter if r["input"].startswith("History:\n- no record about this")]
    grounded = [r for r in starter if r not in measured and r not in no_notes]
    general = len({q for entry in GENERAL for q, _, _ in entry})
    assert len(no_notes) == make_starter.MIX["no_record"] + general
    assert len(measured) == make_starter.MIX["measured"]
    assert len(grounded) == sum(make_starter.MIX[k] for k in ("history", "latest", "first", "distractor"))
    for r in no_notes + measured:  # the code says "no record" and shows the numbers; the model adds facts
        assert not DATE.search(r["output"]) and "no record" not in r["output"].lower()
    latest = first = 0
    for r in grounded:
        dates = DATE.findall(r["output"])
        assert dates, r["output"]
        if r["output"].startswith(make_starter.LATEST_OPENERS):
            latest += 1
            assert dates[0] == max(dates)  # "last time" answers lead with the newest date
        elif r["output"].startswith(make_starter.FIRST_OPENERS):
            first += 1
            assert dates[0] == min(dates)
        else:
            assert dates == sorted(dates)  # history is retold oldest first
    assert latest >= make_starter.MIX["latest"] and first == make_starter.MIX["first"]


def test_starter_varies_pets_and_shuffles_some_blocks(starter):
    names = {m.group(2) for r in starter for m in map(LINE.match, r["input"].splitlines()) if m}
    assert len(names) >= 30
    shuffled = 0
    for r in starter:
        days = [m.group(1) for m in map(LINE.match, r["input"].splitlines()) if m]
        shuffled += days != sorted(days, reverse=True)
    assert shuffled >= 50


def test_starter_templates_reference_real_facts(pack):
    ids = {f.id for f in pack.knowledge}
    referenced = {i for fam in FAMILIES for i in fam["facts"]}
    referenced |= {i for fam in FAMILIES + [WEIGHT] for _, fact_ids in fam["none"] for i in fact_ids}
    referenced |= {i for group in WEIGHT["facts"].values() for i in group}
    referenced |= {i for entry in GENERAL for _, _, fact_ids in entry for i in fact_ids}
    assert referenced <= ids, referenced - ids


def test_starter_is_deterministic_and_the_file_is_up_to_date(starter):
    first, second = make_starter.build_records(), make_starter.build_records()
    assert first == second
    assert first == starter, "starter.json is stale: run python -m agent.packs.cat_care.make_starter"
    assert make_starter.build_records(seed=7) != first


def test_context_block_round_trip_for_a_grounded_record(starter):
    r = next(r for r in starter if LINE.match(r["input"].splitlines()[1]) and "\nPets:\n" in r["input"]
             and "\nFacts:\n" in r["input"])
    parts = sections(r["input"])
    notes = [Note(*LINE.match(line).groups()) for line in parts["History"]]
    rebuilt = context_block(notes, [Fact(line[2:]) for line in parts["Facts"]],
                            [line[2:] for line in parts["Pets"]], [line[2:] for line in parts.get("Measured", [])])
    assert rebuilt == r["input"]
