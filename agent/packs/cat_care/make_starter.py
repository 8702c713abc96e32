"""Make the starter dataset: Alpaca records that teach the base model to copy its notes faithfully.

Run:  .venv/bin/python -m agent.packs.cat_care.make_starter [--out PATH] [--seed N]

Each record is {"instruction": question, "input": agent.prompt.context_block(notes, facts, pets,
measured), "output": answer}. The code that answers has already chosen the notes, decided "no
record" and computed any measured series, so the model only retells: every note it states is
copied in the note's own words after its date ("On 2024-03-26 you noted: ..."), the newest note
first for "last time" questions and the oldest for "first time" ones, a knowledge fact word for
word, nothing else. An answer built that way passes agent.guard, which is what the answer path
shows (tests check every record). Synthetic journals vary the pets (names, sexes, neutered),
vets, kinds, 0-4 notes, irrelevant notes of another pet, topic or the household, the order of
lines, present-tense time words in the question and measured weight series. Deterministic: the
same seed and knowledge pack give the same file.
"""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from agent import guard
from agent.pack import Pack, load_pack
from agent.prompt import Fact, Note, context_block
from memory.series import Point, Trend
from agent.packs.cat_care.starter_data import FAMILIES, GENERAL, HOUSEHOLD_NOTES, PETS, VETS, WEIGHT

OUT = Path(__file__).with_name("starter.json")
SEED = 20261203
# Several thousand records: the notes retold (history, latest, first), the same with irrelevant
# notes beside them, measured weight series, no record, and every project-written general answer.
MIX = {"history": 1100, "latest": 600, "first": 300, "distractor": 500, "measured": 200, "no_record": 450}
SHUFFLED_SHARE = 0.3  # recall orders newest first, but the model must not rely on it
FACT_SHARE = 0.6  # grounded blocks that carry a knowledge fact, which the answer restates
PETS_SHARE = 0.7  # blocks with a "Pets:" profile line (pets whose sex the owner gave)
NOW_SHARE = 0.25  # questions that open with what is happening today
FIRST_DAY, LAST_DAY = date(2021, 1, 1), date(2026, 12, 31)
OPENERS = ("On {day} you noted: {text}", "On {day}: {text}", "You wrote on {day}: {text}")
LATEST = ("The most recent was on {day}: {text}", "The last time was on {day}: {text}")
FIRST = ("The first time was on {day}: {text}", "The earliest note is from {day}: {text}")
LATEST_OPENERS = tuple(t.split("{day}")[0] for t in LATEST)
FIRST_OPENERS = tuple(t.split("{day}")[0] for t in FIRST)
BEFORE = "Before that, on {day}: {text}"
AFTER = "After that, on {day}: {text}"
NOW = ("{name} is at it again today. ", "Quick question. ", "Happened again this morning. ",
       "{He} seems a bit off today. ", "Just noticed something. ")
FIRST_QUESTIONS = ("When did {name} first have a {label}?", "When was {name}'s first {label}?",
                   "What was the first {label} on record for {name}?")


@dataclass(frozen=True)
class Case:
    """One pet and the people and animals its notes may mention."""

    name: str
    sex: str
    neutered: bool
    vets: tuple[str, str]
    other: str

    def slots(self, vet: str) -> dict[str, str]:
        he, his, him = ("she", "her", "her") if self.sex == "f" else ("he", "his", "him")
        return {"name": self.name, "vet": vet, "other": self.other, "he": he, "his": his, "him": him,
                "He": he.capitalize(), "His": his.capitalize()}

    @property
    def profile(self) -> str:
        """As memory.models.Subject.profile words it."""
        sex, pronouns, fixed = (("female", "she/her", "spayed") if self.sex == "f"
                                else ("male", "he/him", "neutered"))
        return f"{self.name} is a {sex} cat ({pronouns}), {fixed if self.neutered else 'not neutered'}"


def new_case(rng: random.Random) -> Case:
    (name, sex), (other, _) = rng.sample(PETS, 2)
    return Case(name, sex, rng.random() < 0.85, tuple(rng.sample(VETS, 2)), other)


def spaced_days(rng: random.Random, k: int, gap: tuple[int, int]) -> list[str]:
    """k distinct ISO days, oldest first, inside 2021-2026."""
    span = gap[1] * (k - 1)
    day = FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days - span))
    days = [day]
    for _ in range(k - 1):
        days.append(days[-1] + timedelta(days=rng.randint(*gap)))
    return [d.isoformat() for d in days]


def order_for_block(rng: random.Random, notes: list[Note]) -> list[Note]:
    newest_first = sorted(notes, key=lambda n: n.day, reverse=True)
    if rng.random() < SHUFFLED_SHARE:
        rng.shuffle(newest_first)
    return newest_first


def facts_by_id(pack: Pack) -> dict[str, Fact]:
    return {f.id: Fact(f.text, f.source) for f in pack.knowledge}


def event_notes(rng: random.Random, family: dict, case: Case, k: int) -> list[Note]:
    """k different events of a family on spaced days, oldest first, in the owner's words."""
    events = rng.sample(family["events"], k)
    out = []
    for day, (kind, wordings) in zip(spaced_days(rng, k, (20, 320)), events):
        slots = case.slots(case.vets[0] if rng.random() < 0.75 else case.vets[1])
        out.append(Note(day, case.name, kind, rng.choice(wordings.split(" | ")).format(**slots)))
    return out


def said(template: str, note: Note) -> str:
    """A note retold: its date, then its own words, ending like a sentence."""
    text = note.text.rstrip()
    return template.format(day=note.day, text=text if text.endswith((".", "!", "?")) else text + ".")


def retell(rng: random.Random, shape: str, notes: list[Note]) -> str:
    """The answer's account of the notes, oldest first; "latest" and "first" lead with the note asked
    about and add the one beside it."""
    if shape == "latest":
        text = said(rng.choice(LATEST), notes[-1])
        return text + (" " + said(BEFORE, notes[-2]) if len(notes) > 1 and rng.random() < 0.5 else "")
    if shape == "first":
        text = said(rng.choice(FIRST), notes[0])
        return text + (" " + said(AFTER, notes[1]) if len(notes) > 1 and rng.random() < 0.5 else "")
    opener = rng.choice(OPENERS)
    return " ".join(said(opener, n) for n in notes)


def question_for(rng: random.Random, family: dict, case: Case, shape: str) -> tuple[str, str]:
    """(question, lead): the lead answers a yes/no question ("Yes." when notes are on record)."""
    slots = case.slots(case.vets[0])
    if shape == "latest":
        question, lead = rng.choice(family["latest"]), ""
    elif shape == "first":
        question, lead = rng.choice(FIRST_QUESTIONS).replace("{label}", family["label"][0]), ""
    else:
        lead, question = rng.choice(family["history"])
    if rng.random() < NOW_SHARE:
        question = rng.choice(NOW) + question
    return question.format(**slots), f"{lead}. " if lead else ""


def profiles(rng: random.Random, cases: list[Case]) -> list[str]:
    return [c.profile for c in cases] if rng.random() < PETS_SHARE else []


def grounded(rng: random.Random, facts: dict[str, Fact], shape: str, distractor: bool = False) -> dict:
    family = rng.choice(FAMILIES)
    case = new_case(rng)
    k = rng.choice([1, 2, 2, 3, 3, 4]) if shape == "history" else rng.choice([1, 2, 3, 3, 4])
    notes = event_notes(rng, family, case, k)
    question, lead = question_for(rng, family, case, shape)
    used = [facts[rng.choice(family["facts"])]] if rng.random() < FACT_SHARE else []
    answer = lead + retell(rng, shape, notes) + "".join(f" {f.text}" for f in used)
    cases = [case]
    if distractor:
        extra, other = distractor_note(rng, family, case, {n.day for n in notes})
        notes = notes + [extra]
        cases += [other] if other else []
    block = context_block(order_for_block(rng, notes), used, profiles(rng, cases))
    return record(question, block, answer)


def distractor_note(rng: random.Random, family: dict, case: Case, taken: set[str]) -> tuple[Note, Case | None]:
    """An irrelevant line the answer leaves out, on a day of its own: the same topic for another pet
    (with that pet), another topic for the same pet, or the household."""
    day = spaced_days(rng, 1, (1, 1))[0]
    while day in taken:
        day = spaced_days(rng, 1, (1, 1))[0]
    roll = rng.random()
    if roll < 0.2:
        return Note(day, "household", "note", rng.choice(HOUSEHOLD_NOTES)), None
    if roll < 0.55 and "{other}" not in family["label"][0]:
        other = Case(case.other, rng.choice("fm"), rng.random() < 0.85, case.vets, case.name)
        note = event_notes(rng, family, other, 1)[0]
        return Note(day, other.name, note.kind, note.text), other
    note = event_notes(rng, rng.choice([f for f in FAMILIES if f is not family]), case, 1)[0]
    return Note(day, case.name, note.kind, note.text), None


def measured(rng: random.Random, facts: dict[str, Fact]) -> dict:
    """A weight question: the code has computed the series (memory.series) and shows it first;
    the model's sentences with numbers are cut there, so it adds the fact that fits the change."""
    case = new_case(rng)
    k = rng.choice([2, 3, 3, 4, 5])
    trend = rng.choice(["loss", "gain", "steady"])
    weights = [round(rng.uniform(3.0, 6.8), 1)]
    for _ in range(k - 1):
        step = {"loss": -1, "gain": 1, "steady": 0}[trend] * rng.choice([0.1, 0.2, 0.2, 0.3, 0.4])
        weights.append(round(weights[-1] + (step or rng.choice([-0.1, 0.0, 0.1])), 1))
    days = spaced_days(rng, k, (30, 150))
    notes = []
    for day, kg in zip(days, weights):
        slots = case.slots(rng.choice(case.vets)) | {"kg": f"{kg:.1f}"}
        notes.append(Note(day, case.name, "weight", rng.choice(WEIGHT["notes"]).format(**slots)))
    points = [Point(i, datetime.fromisoformat(d), case.name, kg, n.text)
              for i, (d, kg, n) in enumerate(zip(days, weights, notes))]
    line = Trend("weight_kg", points).summary(case.name)
    change = weights[-1] - weights[0]
    pct = 100 * abs(change) / weights[0]
    shape = "loss" if change <= -0.15 else "gain" if change >= 0.15 else "steady"
    fact = facts[rng.choice(WEIGHT["facts"]["big_loss" if shape == "loss" and pct >= 10 else shape])]
    asks, question = rng.choice(WEIGHT["history"] + [("", q) for q in WEIGHT["latest"]])
    lead = "" if not asks else "Yes. " if asks == shape else "No. "
    block = context_block(order_for_block(rng, notes), [fact], profiles(rng, [case]), [line])
    return record(question.format(**case.slots(case.vets[0])), block, lead + fact.text)


def no_record(rng: random.Random, facts: dict[str, Fact]) -> dict:
    family = rng.choice(FAMILIES + [WEIGHT])
    case = new_case(rng)
    question, fact_ids = rng.choice(family["none"])
    used = [facts[i] for i in fact_ids]
    answer = " ".join(f.text for f in used)  # the code has said "There is no record of this" first
    return record(question.format(**case.slots("")), context_block([], used, profiles(rng, [case])), answer)


def general_records(facts: dict[str, Fact]) -> list[dict]:
    """Every project-written general answer: the facts word for word, after the lead ("Yes.")
    when the answer guard would show it."""
    out = []
    for question, lead, ids in (q for entry in GENERAL for q in entry):
        used = [facts[i] for i in ids]
        answer = " ".join(f.text for f in used)
        with_lead = record(question, context_block([], used), f"{lead} {answer}".strip())
        out.append(with_lead if passes_guard(with_lead) else record(question, context_block([], used), answer))
    return out


def passes_guard(r: dict) -> bool:
    """What the answer path would show unchanged (an irrelevant note of the same pet and kind that
    is newer than the one retold as "the most recent" makes a record that teaches a wrong claim)."""
    return not [v for v in guard.check(r["output"], r["input"], no_numbers="\nMeasured:\n" in r["input"])
                if not v.ok]


def record(question: str, block: str, answer: str) -> dict:
    return {"instruction": question, "input": block, "output": answer}


def build_records(seed: int = SEED, pack: Pack | None = None) -> list[dict]:
    """The whole starter set, in a seeded random order; duplicates are drawn again."""
    rng = random.Random(seed)
    facts = facts_by_id(pack or load_pack("cat_care"))
    makers = {"history": lambda: grounded(rng, facts, "history"),
              "latest": lambda: grounded(rng, facts, "latest"),
              "first": lambda: grounded(rng, facts, "first"),
              "distractor": lambda: grounded(rng, facts, rng.choice(["history", "latest"]), distractor=True),
              "measured": lambda: measured(rng, facts),
              "no_record": lambda: no_record(rng, facts)}
    records = general_records(facts)
    seen = {(r["instruction"], r["input"]) for r in records}
    for category, make in makers.items():
        made = 0
        while made < MIX[category]:
            r = make()
            if (r["instruction"], r["input"]) not in seen and passes_guard(r):
                seen.add((r["instruction"], r["input"]))
                records.append(r)
                made += 1
    rng.shuffle(records)
    return records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the JSON list (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)
    records = build_records(args.seed)
    args.out.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(records)} records to {args.out}")


if __name__ == "__main__":
    main()
