"""Measured quantities over time (weight, lab values): computed from the notes' metrics, never by a model.

    key = asked_metric("How has Biscuit's weight changed this year?", metric_keys(mem))   # "weight_kg"
    points = series(mem, key, subject_ids=[3], start=..., end=...)
    trend(points).summary("Biscuit")  # "Biscuit's weight: 6.2 kg on 2023-01-10 ... down 1.6 kg (25.8%)"
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from memory.dates import as_utc, day_label
from memory.keywords import LIVE
from memory.store import Memory

# How people ask about a metric; a metric not listed here is asked about by its own first word.
METRIC_WORDS = {
    "weight_kg": ("weight", "weigh", "weighs", "weighed", "weighing", "heavy", "heavier", "lighter",
                  "kg", "kilo", "kilos", "lost weight", "gained weight", "thinner", "fatter"),
}
UNITS = {"kg": "kg", "g": "g", "mg": "mg", "ml": "ml", "pct": "%", "c": "°C"}
# A weight written in a note's text, when the note has no metric: "Biscuit 5.1 kg", "booster, wt 3.8kg".
_WEIGHED = re.compile(r"\b(?:wt|weigh\w*|scales?)\b", re.I)
_KG = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:kg|kilos?)\b", re.I)


@dataclass(frozen=True)
class Point:
    id: int
    at: datetime
    subject: str
    value: float
    text: str

    @property
    def day(self) -> str:
        return day_label(self.at)


@dataclass(frozen=True)
class Trend:
    key: str
    points: list[Point]

    @property
    def unit(self) -> str:
        return UNITS.get(self.key.rsplit("_", 1)[-1], "") if "_" in self.key else ""

    @property
    def name(self) -> str:
        return self.key.rsplit("_", 1)[0].replace("_", " ") if self.unit else self.key.replace("_", " ")

    def value(self, v: float) -> str:
        return f"{v:g} {self.unit}".strip()

    @property
    def change(self) -> float:
        return self.points[-1].value - self.points[0].value

    @property
    def change_pct(self) -> float | None:
        first = self.points[0].value
        return None if not first else 100 * self.change / first

    def summary(self, who: str) -> str:
        """One line of data: every point with its date, then first to last and the change."""
        series = ", ".join(f"{self.value(p.value)} on {p.day}" for p in self.points)
        line = f"{who}'s {self.name}: {series}"
        if len(self.points) < 2:
            return line
        direction = "up" if self.change > 0 else "down" if self.change < 0 else "unchanged"
        line += f". From {self.value(self.points[0].value)} to {self.value(self.points[-1].value)}: {direction}"
        if self.change:
            line += f" {self.value(round(abs(self.change), 3))}"
            if self.change_pct is not None:
                line += f" ({abs(self.change_pct):.1f}%)"
        return line + f" over {len(self.points)} measurements"


def metric_keys(mem: Memory) -> set[str]:
    """The metrics the journal has, plus weight (weight notes often state it only in words)."""
    with mem.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT DISTINCT j.key FROM observation o, json_each(o.metrics) j WHERE {LIVE}"))
        return {r[0] for r in rows} | {"weight_kg"}


def asked_metric(question: str, keys: set[str]) -> str | None:
    """The metric a question asks about, if any: "how much does she weigh" -> weight_kg."""
    q = question.lower()
    for key in sorted(keys):
        words = METRIC_WORDS.get(key) or (key.split("_")[0],)
        if any(re.search(rf"\b{re.escape(w)}\b", q) for w in words):
            return key
    return None


def series(mem: Memory, key: str, subject_ids: list[int | None] | None = None,
           start: datetime | None = None, end: datetime | None = None) -> list[Point]:
    """Every live measurement of `key`, oldest first, for the subjects given (None = all)."""
    where, params = [LIVE], {}
    if subject_ids is not None:
        named = [i for i in subject_ids if i]
        where.append("(o.subject_id IN (%s)%s)" % (",".join(str(int(i)) for i in named) or "NULL",
                                                  " OR o.subject_id IS NULL" if None in subject_ids else ""))
    if start is not None:
        where.append("o.happened_at >= :start")
        params["start"] = as_utc(start).replace(tzinfo=None).isoformat(sep=" ")
    if end is not None:
        where.append("o.happened_at < :end")
        params["end"] = as_utc(end).replace(tzinfo=None).isoformat(sep=" ")
    sql = text(f"""SELECT o.id, o.happened_at, o.kind, o.text, o.metrics, s.name FROM observation o
                   LEFT JOIN subject s ON s.id = o.subject_id
                   WHERE {' AND '.join(where)} ORDER BY o.happened_at, o.id""")
    points = []
    with mem.engine.connect() as conn:
        for r in conn.execute(sql, params):
            value = _value(key, r.kind, r.text, r.metrics)
            if value is not None:
                at = as_utc(datetime.fromisoformat(str(r.happened_at)))
                points.append(Point(r.id, at, r.name or "household", value, r.text))
    return points


def _value(key: str, kind: str, note: str, metrics) -> float | None:
    import json

    metrics = json.loads(metrics) if isinstance(metrics, str) else (metrics or {})
    value = metrics.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    # a weight note, or another that weighed her ("booster, wt 3.8kg"), not "a 2 kg bag of food"
    if key == "weight_kg" and (kind == "weight" or _WEIGHED.search(note)):
        found = _KG.findall(note)
        if len(found) == 1:  # "5.1 kg"; two weights in one note are ambiguous
            return float(found[0].replace(",", "."))
    return None
