"""A summary for the vet: one pet, one period, every line a note (or a care item) with its date.

Built from the data only: the profile, the medications (the care plan's and every medication
note), vaccine dates, the weight series, symptoms and events in order, open alerts and the
owner's questions. `html()` renders it as one self-contained printable page (an SVG chart, no
script), for `memoloop summary` and the app's Vet summary page.
"""
from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlmodel import select

from memory import alerts, care
from memory.dates import day_label, local_day, local_tz, now
from memory.errors import MemoloopError
from memory.journal import find_subject
from memory.models import Interaction, Observation, Subject
from memory.names import is_about
from memory.series import Point, series
from memory.store import Memory

VACCINE = re.compile(r"\b(vaccin\w*|boosters?|fvrcp|f3|rabies (shot|jab|vaccine)|felv (shot|jab|vaccine)|jabs?)\b", re.I)
EVENT_KINDS = ("symptom", "vet_visit", "appetite", "litter", "behaviour", "dental", "grooming", "note")


@dataclass
class Line:
    day: str
    text: str
    ref: str  # "note 12" / "care plan": where the line comes from


@dataclass
class Summary:
    pet: Subject
    since: date | None
    until: date
    medications: list[Line] = field(default_factory=list)
    vaccines: list[Line] = field(default_factory=list)
    weights: list[Point] = field(default_factory=list)
    events: list[Line] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    questions: list[Line] = field(default_factory=list)

    @property
    def profile(self) -> list[tuple[str, str]]:
        p = self.pet
        age = ""
        if p.birth_date:
            years = (self.until - p.birth_date).days / 365.25
            age = f"{years:.0f} years" if years >= 2 else f"{years * 12:.0f} months"
        fixed = {True: "yes", False: "no"}.get(p.neutered, "not recorded")
        chip = re.search(r"\b(?:micro)?chip\w*\W+(?:no\.?|number|#)?\s*([0-9A-Z]{9,15})\b", p.notes or "", re.I)
        return [("Name", p.name), ("Species", p.species), ("Sex", p.sex or "not recorded"),
                ("Neutered", fixed), ("Born", f"{p.birth_date} ({age})" if p.birth_date else "not recorded"),
                ("Microchip", chip.group(1) if chip else "not recorded"), ("Notes", p.notes or "")]


def to_json(s: Summary) -> dict:
    def lines(xs: list[Line]) -> list[dict]:
        return [x.__dict__ for x in xs]

    return {"pet": s.pet.name, "since": s.since.isoformat() if s.since else None, "until": s.until.isoformat(),
            "profile": dict(s.profile), "medications": lines(s.medications), "vaccines": lines(s.vaccines),
            "weights": [{"day": p.day, "kg": p.value, "ref": f"note {p.id}"} for p in s.weights],
            "events": lines(s.events), "alerts": s.alerts, "questions": lines(s.questions)}


def build(mem: Memory, pet: str, since: date | None = None, until: date | None = None) -> Summary:
    until = until or now().astimezone(local_tz()).date()
    if since and since > until:
        raise MemoloopError(f"--since {since} is after --until {until}; give an earlier start")
    with mem.session() as s:
        subject = find_subject(s, pet)
        notes = list(s.exec(select(Observation).where(Observation.live_note(), (Observation.subject_id == subject.id)
                                                      | Observation.subject_id.is_(None))
                            .order_by(Observation.happened_at, Observation.id)).all())
        names = [x.name for x in s.exec(select(Subject)).all()]
        asked = list(s.exec(select(Interaction).where(Interaction.subject_id == subject.id)
                            .order_by(Interaction.asked_at)).all())
    inside = [n for n in notes if (since is None or local_day(n.happened_at) >= since) and local_day(n.happened_at) <= until]
    out = Summary(subject, since, until)
    for item, _ in care.items(mem, subject.name):
        if item.kind == "medication" and (item.times or item.every_days == 1 or item.dose):
            when = f" at {', '.join(item.times)}" if item.times else ""
            out.medications.append(Line("current", f"{item.name} {item.dose}".strip()
                                        + f", every {item.every_days} day(s){when}", "care plan"))
    for n in inside:
        if n.subject_id is None and (n.kind not in ("medication", "vaccine") or not is_about(n.text, subject.name, names)):
            continue  # of the household's notes, only treatments and vaccines for this pet or for all
        line = Line(day_label(n.happened_at), n.text, f"note {n.id}")
        if n.kind == "vaccine" or VACCINE.search(n.text):
            out.vaccines.append(line)
        elif n.kind == "medication":
            out.medications.append(line)
        elif n.kind in EVENT_KINDS:
            out.events.append(line)
    start = datetime.combine(since, time.min, local_tz()) if since else None
    end = datetime.combine(until, time.max, local_tz())
    out.weights = series(mem, "weight_kg", [subject.id], start=start, end=end)
    out.alerts = [a.message for a in alerts.open_alerts(mem, subject.id)]
    out.questions = [Line(day_label(i.asked_at), i.question, f"question {i.id}") for i in asked
                     if (since is None or local_day(i.asked_at) >= since) and local_day(i.asked_at) <= until]
    return out


def _esc(text: str) -> str:
    return _html.escape(text, quote=True)


def _chart(points: list[Point]) -> str:
    """The weight series as an inline SVG line chart (prints as it shows)."""
    if len(points) < 2:
        return ""
    w, h, pad = 640, 200, 40
    t0, t1 = points[0].at.timestamp(), points[-1].at.timestamp()
    lo, hi = min(p.value for p in points), max(p.value for p in points)
    lo, hi = (lo - 0.1, hi + 0.1) if hi - lo < 0.2 else (lo, hi)

    def xy(p: Point) -> tuple[float, float]:
        x = pad + (w - 2 * pad) * ((p.at.timestamp() - t0) / ((t1 - t0) or 1))
        return x, h - pad - (h - 2 * pad) * (p.value - lo) / (hi - lo)

    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in map(xy, points))
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{p.day}: {p.value:g} kg</title></circle>'
                   for p, (x, y) in zip(points, map(xy, points)))
    return (f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="weight chart">'
            f'<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="{path}"/>{dots}'
            f'<text x="{pad}" y="{h - 10}">{points[0].day}</text>'
            f'<text x="{w - pad}" y="{h - 10}" text-anchor="end">{points[-1].day}</text>'
            f'<text x="4" y="{pad}">{hi:g} kg</text><text x="4" y="{h - pad}">{lo:g} kg</text></svg>')


def _lines(lines: list[Line], empty: str) -> str:
    if not lines:
        return f"<p class='none'>{_esc(empty)}</p>"
    rows = "".join(f"<tr><td class='day'>{_esc(x.day)}</td><td>{_esc(x.text)}</td><td class='ref'>{_esc(x.ref)}</td></tr>"
                   for x in lines)
    return f"<table>{rows}</table>"


STYLE = """
body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;color:#222;line-height:1.4}
h1{margin-bottom:0}h2{border-bottom:1px solid #ccc;margin-top:1.4em;font-size:1.15em}
table{border-collapse:collapse;width:100%}td{padding:3px 8px;vertical-align:top;border-bottom:1px solid #eee}
td.day{white-space:nowrap;width:7em}td.ref{color:#888;font-size:.85em;white-space:nowrap;width:6em}
.none{color:#777}.alert{color:#9b2c2c}.chart{width:100%;max-width:640px;height:auto}.chart text{font-size:11px;fill:#555}
.meta{color:#666}@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}
"""


def html(summary: Summary) -> str:
    s = summary
    period = f"{s.since} to {s.until}" if s.since else f"everything up to {s.until}"
    weights = [Line(p.day, f"{p.value:g} kg", f"note {p.id}") for p in s.weights]
    profile = "".join(f"<tr><td class='day'>{_esc(k)}</td><td>{_esc(v)}</td></tr>" for k, v in s.profile if v)
    alerts_ = "".join(f"<p class='alert'>{_esc(a)}</p>" for a in s.alerts) or "<p class='none'>No open alerts.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(s.pet.name)}: summary for the vet</title>
<style>{STYLE}</style></head><body>
<h1>{_esc(s.pet.name)}: summary for the vet</h1>
<p class="meta">From the owner's journal in memoloop, {period}. Every line is a dated note of the owner's
(its number on the right) or an item of the care plan; nothing here was written by a model.</p>
<h2>Profile</h2><table>{profile}</table>
<h2>Medications</h2>{_lines(s.medications, "No medication recorded in this period.")}
<h2>Vaccines</h2>{_lines(s.vaccines, "No vaccine recorded in this period.")}
<h2>Weight</h2>{_chart(s.weights)}{_lines(weights, "No weight recorded in this period.")}
<h2>Symptoms and events</h2>{_lines(s.events, "Nothing recorded in this period.")}
<h2>Open alerts</h2>{alerts_}
<h2>The owner's questions</h2>{_lines(s.questions, "No questions asked in this period.")}
</body></html>
"""
