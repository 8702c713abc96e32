"""The promotion gate: a candidate replaces the active adapter only when it is measurably better.

Loss alone misleads here (template words dominate it, FACTS.md), and the held-out split is the
user's own records, which a bad batch of corrections poisons as much as the training split (a
candidate trained on swapped answers "improves" on swapped held-out answers). So four checks must
all hold, the first on the data itself:
1. the user's answers agree with the notes they answer: at most `max_against_notes` of them cite
   dates while none of those dates is in their (dated) notes. Answers swapped between questions
   do exactly that; an honest correction cites its notes' dates, or answers a "no record" block;
2. held-out loss on the user's eval split beats the active adapter's by `margin`;
3. what is forgotten is weighed against what is learned: loss on a fixed starter probe set may
   rise by `probe_tolerance` nats per answer token (5% perplexity; an absolute bound, since the
   starter's probe loss is ~0.13 and a relative one would turn noise into a regression), or by
   `forgetting_share` of the user's held-out gain when that is larger, never by more than
   `probe_limit`. 25 honest corrections cut the held-out loss 4.66 -> 2.14 while the probe rose
   0.129 -> 0.191: a flat +0.05 rejected the candidate a user had every reason to want;
4. greedy answers to held-out questions stop by themselves, carry the expected key facts
   (dates, numbers, names) and cite only dates from their notes, as often as the active
   adapter's but for one answer's worth (Behaviour.at_least).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from agent.guard import against_notes

_DATE = r"\d{4}-\d{2}-\d{2}"
_NUMBER = r"\d+(?:\.\d+)?\s?(?:kg|g|mg|ml|days?|weeks?|months?|years?|hours?|times?|%)?"
_NAME = r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z-]{2,}"  # capitalised words inside a sentence: vets, drugs


@dataclass
class GatePolicy:
    margin: float = 0.02  # relative held-out loss improvement required
    probe_tolerance: float = 0.05  # probe-loss rise always allowed, in nats per answer token
    forgetting_share: float = 0.1  # ... or this share of the held-out gain, when larger
    probe_limit: float = 0.3  # ... but never more than this (perplexity x1.35)
    behaviour_questions: int = 6
    max_against_notes: float = 0.25  # share of the user's records whose dates contradict their notes


@dataclass
class Behaviour:
    stopped: float  # share of answers that ended with a stop token
    facts: float  # mean share of expected key facts present
    grounded: float = 1.0  # share of answers whose every date is in the notes they were given
    answers: int = 0  # how many answers these shares are over

    def at_least(self, other: "Behaviour") -> bool:
        """No worse, but for one answer's worth: on six answers one answer is 17 points, and a
        candidate that learned 25 corrections lost its promotion to one repetitive answer (which
        the app's decoding stops and its guard cuts) while its other five matched the active's."""
        slack = 1 / self.answers if self.answers else 0.0
        eps = 1e-9
        return (self.stopped >= other.stopped - slack - eps and self.facts >= other.facts - slack - eps
                and self.grounded >= other.grounded - slack - eps)


@dataclass
class Agreement:
    """How the user's records agree with their notes: how many there are, which ones do not."""
    records: int
    against: list[str]  # questions whose answer cites dates, none of them in its notes

    @property
    def share(self) -> float:
        return len(self.against) / self.records if self.records else 0.0


def agreement(records) -> Agreement:
    """Over records with .instruction / .input / .output (the user's, each once)."""
    records = list(records)
    return Agreement(len(records), [r.instruction for r in records if against_notes(r.output, r.input)])


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


def decide(policy: GatePolicy, loss: dict, probe: dict, behaviour: dict[str, Behaviour],
           data: Agreement | None = None) -> tuple[bool, str]:
    """(promote?, why) from losses {"active", "candidate"}, probe losses, behaviour per model, and
    how the user's records agree with their notes."""
    if data is not None and data.share > policy.max_against_notes:
        return False, (f"{len(data.against)} of your {data.records} training answers cite dates that are "
                       f"not in the notes they answer (more than {policy.max_against_notes:.0%}), e.g. "
                       f"\"{data.against[0]}\"; correct those answers again, or activate this adapter by hand")
    active, candidate = loss["active"], loss["candidate"]
    if not candidate < active * (1 - policy.margin):
        return False, (f"held-out loss {candidate:.3f} does not beat the active adapter's {active:.3f} "
                       f"by {policy.margin:.0%}")
    allowed = forgetting_allowed(policy, active - candidate)
    if probe["candidate"] > probe["active"] + allowed:
        return False, (f"starter probe loss regressed from {probe['active']:.3f} to {probe['candidate']:.3f} "
                       f"(more than the {allowed:.2f} per token allowed for a held-out gain of "
                       f"{active - candidate:.2f})")
    cand, act = behaviour["candidate"], behaviour["active"]
    if not cand.at_least(act):
        return False, (f"behaviour probe: stops {cand.stopped:.0%} vs {act.stopped:.0%}, "
                       f"key facts {cand.facts:.0%} vs {act.facts:.0%}, grounded dates "
                       f"{cand.grounded:.0%} vs {act.grounded:.0%} for the active adapter")
    return True, (f"held-out loss {active:.3f} -> {candidate:.3f}, probe {probe['active']:.3f} -> "
                  f"{probe['candidate']:.3f}, key facts {act.facts:.0%} -> {cand.facts:.0%}")


def forgetting_allowed(policy: GatePolicy, gain: float) -> float:
    """How far the probe loss may rise for a held-out gain of `gain` nats per token."""
    return min(policy.probe_limit, max(policy.probe_tolerance, policy.forgetting_share * gain))
