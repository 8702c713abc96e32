"""Make the starter dataset: Alpaca records that teach the base model memoloop's answer format.

Run:  .venv/bin/python -m agent.packs.cat_care.make_starter [--out PATH] [--seed N]

Each record is {"instruction": question, "input": agent.prompt.context_block(notes, facts),
"output": answer}. The code that answers has already chosen the notes (and decided "no record"),
so the model only learns to retell them: dates copied exactly, the newest date for "last time"
questions whatever order the lines come in, facts restated, nothing invented. Deterministic:
the same seed and knowledge pack give the same file.
"""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from agent.pack import Pack, load_pack
from agent.prompt import Fact, Note, context_block
from agent.packs.cat_care.starter_data import FAMILIES, GENERAL, HOUSEHOLD, PETS, VETS, WEIGHT

OUT = Path(__file__).with_name("starter.json")
SEED = 20261122
# Grounded 55%, no record 20%, general 15%, grounded with one irrelevant note 10%
# (FACTS.md, "Starter adapter experiment": the model must not be taught to claim every line).
MIX = {"grounded": 335, "no_record": 120, "general": 90, "distractor": 60}
SHUFFLED_SHARE = 0.3  # recall orders newest first, but the model must not rely on it
FACT_SHARE = 0.7  # grounded answers that also restate a knowledge fact
WORDS = {2: "two", 3: "three", 4: "four"}
FIRST_DAY, LAST_DAY = date(2022, 1, 1), date(2026, 12, 31)


@dataclass(frozen=True)
class Case:
    """One pet and the people and animals its notes may mention."""

    name: str
    sex: str
    vets: tuple[str, str]
    other: str

    def slots(self, vet: str) -> dict[str, str]:
        he, his, him = ("she", "her", "her") if self.sex == "f" else ("he", "his", "him")
        return {"name": self.name, "vet": vet, "other": self.other, "he": he, "his": his, "him": him,
                "He": he.capitalize(), "His": his.capitalize()}


def new_case(rng: random.Random) -> Case:
    (name, sex), (other, _) = rng.sample(PETS, 2)
    return Case(name, sex, tuple(rng.sample(VETS, 2)), other)


def spaced_days(rng: random.Random, k: int, gap: tuple[int, int]) -> list[str]:
    """k distinct ISO days, oldest first, inside 2022-2026."""
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


def event_notes(rng: random.Random, family: dict, case: Case, k: int) -> list[tuple[Note, str]]:
    """k different events of a family on spaced days, each with the clause the answer retells."""
    events = rng.sample(family["events"], k)
    out = []
    for day, (kind, wordings, clause) in zip(spaced_days(rng, k, (20, 320)), events):
        slots = case.slots(case.vets[0] if rng.random() < 0.75 else case.vets[1])
        text = rng.choice(wordings.split(" | ")).format(**slots)
        out.append((Note(day, case.name, kind, text), clause.format(**slots)))
    return out


def closing(rng: random.Random, family: dict, facts: dict[str, Fact], case: Case,
            dated: list[tuple[Note, str]]) -> tuple[list[Fact], str]:
    """A fact the block carries and the answer restates, or a count of what is on record."""
    if rng.random() < FACT_SHARE:
        fact = facts[rng.choice(family["facts"])]
        return [fact], fact.text
    singular, plural = (label.format(**case.slots("")) for label in family["label"])
    if len(dated) == 1:
        return [], f"That is the only {singular} on record for {case.name}."
    return [], (f"That makes {WORDS[len(dated)]} {plural} on record for {case.name}, "
                f"the most recent on {dated[-1][0].day}.")


def history_answer(lead: str, dated: list[tuple[Note, str]]) -> str:
    body = "; ".join(f"on {n.day} {clause}" for n, clause in dated)
    return f"{lead}: {body}." if lead else f"{body[0].upper()}{body[1:]}."


def latest_answer(rng: random.Random, dated: list[tuple[Note, str]]) -> str:
    (newest, clause) = dated[-1]
    opener = rng.choice(["The last time was on {d}, when {c}.", "The most recent was on {d}, when {c}.",
                         "Most recently, on {d}, {c}."])
    text = opener.format(d=newest.day, c=clause)
    if len(dated) > 1 and rng.random() < 0.6:
        before, clause = dated[-2]
        text += f" Before that, on {before.day}, {clause}."
    return text


def grounded(rng: random.Random, facts: dict[str, Fact], distractor: bool = False) -> dict:
    family = rng.choice(FAMILIES + [WEIGHT] * 2)
    case = new_case(rng)
    if family is WEIGHT:
        notes, question, answer, used = weight_record(rng, case, facts)
    else:
        dated = event_notes(rng, family, case, rng.choice([1, 2, 2, 3, 3, 4]))
        used, close = closing(rng, family, facts, case, dated)
        if rng.random() < 0.3:
            question = rng.choice(family["latest"])
            answer = latest_answer(rng, dated)
        else:
            lead, question = rng.choice(family["history"])
            answer = history_answer(lead, dated)
        answer = f"{answer} {close}"
        notes = [n for n, _ in dated]
        question = question.format(**case.slots(case.vets[0]))
    if distractor:
        notes = notes + [distractor_note(rng, family, case, notes)]
    return record(question, context_block(order_for_block(rng, notes), used), answer)


def distractor_note(rng: random.Random, family: dict, case: Case, notes: list[Note]) -> Note:
    """An irrelevant line: another topic for the same pet, the same topic for another pet, or the house."""
    day = spaced_days(rng, 1, (1, 1))[0]
    roll = rng.random()
    if roll < 0.2:
        return Note(day, "household", "note", rng.choice(HOUSEHOLD))
    if roll < 0.5 and family is not WEIGHT and "{other}" not in family["label"][0]:
        other = Case(case.other, rng.choice("fm"), case.vets, case.name)
        note, _ = event_notes(rng, family, other, 1)[0]
        return Note(day, other.name, note.kind, note.text)
    others = [f for f in FAMILIES if f is not family]
    note, _ = event_notes(rng, rng.choice(others), case, 1)[0]
    return Note(day, case.name, note.kind, note.text)


def weight_record(rng: random.Random, case: Case, facts: dict[str, Fact]):
    k = rng.choice([2, 3, 3, 4])
    trend = rng.choice(["loss", "gain", "steady"])
    weights = [round(rng.uniform(3.2, 6.4), 1)]
    for _ in range(k - 1):
        step = {"loss": -1, "gain": 1, "steady": 0}[trend] * rng.choice([0.1, 0.2, 0.2, 0.3, 0.4])
        weights.append(round(weights[-1] + (step or rng.choice([-0.1, 0.0, 0.1])), 1))
    days = spaced_days(rng, k, (30, 120))
    notes = []
    for day, kg in zip(days, weights):
        slots = case.slots(rng.choice(case.vets)) | {"kg": f"{kg:.1f}"}
        notes.append(Note(day, case.name, "weight", rng.choice(WEIGHT["notes"]).format(**slots)))
    change = round(weights[-1] - weights[0], 1)
    shape = "loss" if change <= -0.2 else "gain" if change >= 0.2 else "steady"
    slots = case.slots(case.vets[0])
    if rng.random() < 0.3:
        question = rng.choice(WEIGHT["latest"]).format(**slots)
        answer = f"The last weight on record is {weights[-1]:.1f} kg on {days[-1]}."
        answer += f" Before that, {slots['he']} weighed {weights[-2]:.1f} kg on {days[-2]}."
    else:
        asks, question = rng.choice(WEIGHT["history"])
        lead = "" if not asks else "Yes: " if asks == shape else "No: "
        listed = [f"{kg:.1f} kg on {d}" for kg, d in zip(weights, days)]
        answer = f"{lead}{case.name} weighed {', '.join(listed[:-1])} and {listed[-1]}."
        question = question.format(**slots)
    pct = round(100 * abs(change) / weights[0])
    answer += {"loss": f" That is a loss of {abs(change):.1f} kg, about {pct}% of {slots['his']} body weight.",
               "gain": f" That is a gain of {change:.1f} kg.",
               "steady": f" {slots['His']} weight has stayed steady."}[shape]
    used = []
    if rng.random() < FACT_SHARE:
        pick = WEIGHT["facts"][shape if shape != "loss" or pct < 10 else "big_loss"]
        used = [facts[rng.choice(pick)]]
        answer += f" {used[0].text}"
    return notes, question, answer, used


def no_record(rng: random.Random, facts: dict[str, Fact]) -> dict:
    family = rng.choice(FAMILIES + [WEIGHT])
    case = new_case(rng)
    question, phrase, fact_ids = rng.choice(family["none"])
    used = [facts[i] for i in fact_ids]
    answer = " ".join([f"There is no record of {phrase.format(**case.slots(''))} for {case.name}."]
                      + [f.text for f in used])
    return record(question.format(**case.slots("")), context_block([], used), answer)


def general_records(rng: random.Random, facts: dict[str, Fact], n: int) -> list[dict]:
    pool = [(q, lead, ids) for entry in GENERAL for q, lead, ids in entry]
    out = []
    for question, lead, ids in rng.sample(pool, n):
        used = [facts[i] for i in ids]
        answer = " ".join(([lead] if lead else []) + [f.text for f in used])
        out.append(record(question, context_block([], used), answer))
    return out


def record(question: str, block: str, answer: str) -> dict:
    return {"instruction": question, "input": block, "output": answer}


def build_records(seed: int = SEED, pack: Pack | None = None) -> list[dict]:
    """The whole starter set, in a seeded random order; duplicates are drawn again."""
    rng = random.Random(seed)
    facts = facts_by_id(pack or load_pack("cat_care"))
    makers = {"grounded": lambda: grounded(rng, facts), "no_record": lambda: no_record(rng, facts),
              "distractor": lambda: grounded(rng, facts, distractor=True)}
    records, seen = general_records(rng, facts, MIX["general"]), set()
    seen.update((r["instruction"], r["input"]) for r in records)
    for category, make in makers.items():
        made = 0
        while made < MIX[category]:
            r = make()
            if (r["instruction"], r["input"]) not in seen:
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
