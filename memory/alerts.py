"""Trends the code notices: rules from the domain pack, evaluated over the metrics and notes, never
by a model. Each alert keeps its evidence (the notes, and the series for a measured change) and is
stored while it holds; one that no longer holds is cleared.

Rule types (the pack's "trends" list):
- "change": a metric moved by `watch_pct` or more within `days` (by `vet_pct`: see a vet);
- "more_often": notes matching `words` (or of `kinds`) in the last `recent_days` at least `min_count`
  and at least `times_usual` times the pet's usual rate over the `usual_days` before;
- "doses_stopped": a daily medication of the care plan with no dose logged for `days` days and no
  note saying it was stopped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import select

from memory import care
from memory.dates import day_label, local_day, local_tz, now
from memory.models import Alert, Observation, Subject
from memory.series import Point, Trend, series
from memory.store import Memory

STOPPED = re.compile(r"\b(stop(ped)?|finished|ended|off (the|his|her)|no longer|course (is )?(done|over|finished)|"
                     r"last (dose|tablet|pill))\b", re.I)


@dataclass
class Found:
    subject_id: int
    subject: str
    rule: str
    level: str  # watch | vet
    message: str
    notes: list[int] = field(default_factory=list)  # the evidence: note ids
    points: list[Point] = field(default_factory=list)  # and, for a measured change, its series


def evaluate(mem: Memory, rules: list[dict], today: date | None = None) -> list[Found]:
    today = today or now().astimezone(local_tz()).date()
    with mem.session() as s:
        pets = list(s.exec(select(Subject)).all())
        notes = list(s.exec(select(Observation).where(Observation.live_note())
                            .order_by(Observation.happened_at)).all())
    found = []
    for rule in rules:
        for pet in pets:
            check = {"change": _change, "more_often": _more_often, "doses_stopped": _doses_stopped}[rule["type"]]
            hit = check(mem, rule, pet, notes, today)
            if hit:
                found.append(hit)
    return found


def _change(mem, rule, pet, notes, today) -> Found | None:
    """The latest value against the earliest within `days` before it (a dip and a recovery is no
    change; a fall is)."""
    points = [p for p in series(mem, rule["metric"], [pet.id]) if local_day(p.at) <= today]
    if len(points) < 2 or (today - local_day(points[-1].at)).days > rule["days"]:
        return None
    last = points[-1]
    window = [p for p in points[:-1] if (local_day(last.at) - local_day(p.at)).days <= rule["days"] and p.value]
    if not window:
        return None
    ref = window[0]
    pct = round(100 * (last.value - ref.value) / ref.value, 1)  # 6.0 -> 5.7 kg is 5.0%, not 4.999...
    if abs(pct) < rule["watch_pct"]:
        return None
    trend = Trend(rule["metric"], [p for p in points if p.at >= ref.at])
    days = (local_day(last.at) - local_day(ref.at)).days
    level = "vet" if abs(pct) >= rule["vet_pct"] else "watch"
    message = (f"{pet.name}'s {trend.name} went {'down' if pct < 0 else 'up'} {abs(pct):.1f}% in {days} days "
               f"({trend.value(ref.value)} on {ref.day}, {trend.value(last.value)} on {last.day})"
               + (f": {rule['vet_says']}" if level == "vet" and rule.get("vet_says") else ""))
    return Found(pet.id, pet.name, rule["id"], level, message, [p.id for p in trend.points], trend.points)


def _matches(rule: dict, note: Observation) -> bool:
    return note.kind in rule.get("kinds", ()) or any(re.search(w, note.text, re.I) for w in rule.get("words", ()))


def _more_often(mem, rule, pet, notes, today) -> Found | None:
    recent_start = today - timedelta(days=rule["recent_days"] - 1)
    usual_start = recent_start - timedelta(days=rule["usual_days"])
    mine = [n for n in notes if n.subject_id == pet.id and _matches(rule, n)]
    recent = [n for n in mine if recent_start <= local_day(n.happened_at) <= today]
    before = [n for n in mine if usual_start <= local_day(n.happened_at) < recent_start]
    usual = len(before) * rule["recent_days"] / rule["usual_days"]  # as many days as the recent window
    if len(recent) < rule["min_count"] or len(recent) < rule["times_usual"] * usual:
        return None
    message = (f"{pet.name}: {len(recent)} notes of {rule['what']} in the last {rule['recent_days']} days "
               f"(usually {usual:.1f})")
    return Found(pet.id, pet.name, rule["id"], rule.get("level", "watch"), message, [n.id for n in recent])


def _doses_stopped(mem, rule, pet, notes, today) -> Found | None:
    for item, _ in care.items(mem, pet.name):
        if not item.times:
            continue
        given = [n for n in notes if care.done_by(item, n, pet.name, []) and local_day(n.happened_at) <= today]
        if not given:
            continue
        last = given[-1]
        quiet = (today - local_day(last.happened_at)).days
        said_stop = any(STOPPED.search(n.text) and re.search(rf"\b{re.escape(item.name)}\b", n.text, re.I)
                        for n in notes if n.subject_id in (pet.id, None) and n.happened_at >= last.happened_at)
        if quiet >= rule["days"] and not said_stop:
            return Found(pet.id, pet.name, rule["id"], "watch",
                         f"{pet.name}: no {item.name} logged for {quiet} days (last {day_label(last.happened_at)}) "
                         f"and no note saying it was stopped", [last.id])
    return None


def record(mem: Memory, found: list[Found]) -> tuple[list[Alert], list[Alert]]:
    """Store what holds now (an open alert of the same pet and rule is updated) and clear the open
    ones that no longer hold; return (new, cleared)."""
    stamp, new, cleared = now(), [], []
    with mem.session() as s:
        open_ = {(a.subject_id, a.rule): a for a in s.exec(select(Alert).where(Alert.cleared_at.is_(None)))}
        for f in found:
            alert = open_.pop((f.subject_id, f.rule), None)
            if alert is None:
                alert = Alert(subject_id=f.subject_id, rule=f.rule, first_seen=stamp)
                new.append(alert)
            alert.level, alert.message, alert.evidence, alert.last_seen = f.level, f.message, f.notes, stamp
            s.add(alert)
        for alert in open_.values():
            alert.cleared_at = stamp
            s.add(alert)
            cleared.append(alert)
        s.commit()
        for a in new + cleared:
            s.refresh(a)
    return new, cleared


def open_alerts(mem: Memory, subject_id: int | None = None) -> list[Alert]:
    with mem.session() as s:
        q = select(Alert).where(Alert.cleared_at.is_(None))
        if subject_id is not None:
            q = q.where(Alert.subject_id == subject_id)
        return list(s.exec(q.order_by(Alert.level, Alert.first_seen)).all())  # "vet" sorts before "watch"


def check(mem: Memory, rules: list[dict]) -> list[Alert]:
    """Evaluate, store, and return the open alerts (what `memoloop alerts` and the scheduler run)."""
    record(mem, evaluate(mem, rules))
    return open_alerts(mem)
