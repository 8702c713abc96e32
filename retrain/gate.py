"""The promotion gate: a candidate replaces the active adapter only when it is measurably better.

Loss alone misleads here (template words dominate it, FACTS.md), so three checks must all hold:
1. held-out loss on the user's eval split beats the active adapter's by `margin`;
2. loss on a fixed starter probe set rises by at most `probe_tolerance` nats per answer token
   (5% perplexity): an absolute bound, since the starter's probe loss is ~0.13 and a relative
   one would turn noise into a regression;
3. greedy answers to held-out questions stop by themselves, carry the expected key facts
   (dates, numbers, names) and cite only dates from their notes, at least as often as the
   active adapter's (training on answers swapped between questions breaks the last one).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

_DATE = r"\d{4}-\d{2}-\d{2}"
_NUMBER = r"\d+(?:\.\d+)?\s?(?:kg|g|mg|ml|days?|weeks?|months?|years?|hours?|times?|%)?"
_NAME = r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z-]{2,}"  # capitalised words inside a sentence: vets, drugs


@dataclass
class GatePolicy:
    margin: float = 0.02  # relative held-out loss improvement required
    probe_tolerance: float = 0.05  # probe-loss rise allowed, in nats per answer token
    behaviour_questions: int = 6


@dataclass
class Behaviour:
    stopped: float  # share of answers that ended with a stop token
    facts: float  # mean share of expected key facts present
    grounded: float = 1.0  # share of answers whose every date is in the notes they were given

    def at_least(self, other: "Behaviour") -> bool:
        eps = 1e-9
        return (self.stopped >= other.stopped - eps and self.facts >= other.facts - eps
                and self.grounded >= other.grounded - eps)


def key_facts(text: str) -> set[str]:
    """What a correct answer must carry: dates, numbers with units, proper names."""
    found = set(re.findall(_DATE, text))
    without_dates = re.sub(r"\b(Dr|Mr|Mrs|Ms)\.", r"\1", re.sub(_DATE, " ", text))
    found |= {n.strip().lower() for n in re.findall(_NUMBER, without_dates) if n.strip()}
    found |= {w.lower() for w in re.findall(_NAME, without_dates)}
    return found


def fact_share(expected: str, answer: str) -> float:
    facts = key_facts(expected)
    if not facts:
        return 1.0
    lower = answer.lower()
    return sum(1 for f in facts if f.lower() in lower) / len(facts)


def decide(policy: GatePolicy, loss: dict, probe: dict, behaviour: dict[str, Behaviour]) -> tuple[bool, str]:
    """(promote?, why) from losses {"active", "candidate"}, probe losses, behaviour per model."""
    active, candidate = loss["active"], loss["candidate"]
    if not candidate < active * (1 - policy.margin):
        return False, (f"held-out loss {candidate:.3f} does not beat the active adapter's {active:.3f} "
                       f"by {policy.margin:.0%}")
    if probe["candidate"] > probe["active"] + policy.probe_tolerance:
        return False, (f"starter probe loss regressed from {probe['active']:.3f} to {probe['candidate']:.3f} "
                       f"(more than {policy.probe_tolerance:.2f} per token)")
    cand, act = behaviour["candidate"], behaviour["active"]
    if not cand.at_least(act):
        return False, (f"behaviour probe: stops {cand.stopped:.0%} vs {act.stopped:.0%}, "
                       f"key facts {cand.facts:.0%} vs {act.facts:.0%}, grounded dates "
                       f"{cand.grounded:.0%} vs {act.grounded:.0%} for the active adapter")
    return True, (f"held-out loss {active:.3f} -> {candidate:.3f}, probe {probe['active']:.3f} -> "
                  f"{probe['candidate']:.3f}, key facts {act.facts:.0%} -> {cand.facts:.0%}")


def behaviour_as_dict(b: Behaviour) -> dict:
    return asdict(b)
