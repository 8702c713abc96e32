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

from memory.dates import as_utc, day_label, from_sql
from memory.models import LIVE
from memory.store import Memory

# How people ask about a metric; a metric not listed here is asked about by its own first word.
METRIC_WORDS = {
    "weight_kg": ("weight", "weigh", "weighs", "weighed", "weighing", "heavy", "heavier", "lighter",
                  "kg", "kilo", "kilos", "lost weight", "gained weight", "thinner", "fatter", "how big", "bigger",
                  "grown", "growing"),
}
# Lab values and vital signs owners write in words ("Creatinine 201, SDMA 19", "Total T4 was 78 nmol/L"):
# read from the text of any note. Asked about by these words only when the question asks for the value.
LAB_WORDS = {
    "creatinine": ("creatinine", "creat", "crea", "kidney values", "kidney numbers", "kidney levels", "renal values"),
    "sdma": ("sdma",),
    "t4": ("t4", "total t4", "tt4"),
    "glucose": ("glucose", "blood glucose", "blood sugar", "bg"),
    "fructosamine": ("fructosamine",),
    "phosphate": ("phosphate", "phosphorus", "phos"),
    "urea": ("urea", "bun"),
    "usg": ("usg", "urine specific gravity", "specific gravity"),
    "alt": ("alt", "liver enzymes"),
    "pcv": ("pcv", "hct", "haematocrit", "hematocrit"),
    "blood_pressure": ("blood pressure", "bp", "systolic"),
    "resp_rate": ("resp rate", "respiratory rate", "breathing rate", "rr", "sleeping breathing rate"),
    "heart_rate": ("heart rate", "hr", "pulse"),
    "temperature": ("temperature", "temp"),
}
LAB_LABELS = {"sdma": "SDMA", "t4": "T4", "usg": "urine specific gravity", "alt": "ALT", "pcv": "PCV",
              "blood_pressure": "blood pressure", "resp_rate": "resting breathing rate", "heart_rate": "heart rate"}
# after the name, a few words ("T4 recheck: down to 38"), then the value, not a dose or a time ("T4 in 3 weeks")
_NOT_A_VALUE = r"(?!\s*(?:mg(?!/)|mcg|ml|iu|units?|tabs?|tablets?|scoops?|caps?|capsules?|drops?|clicks?|pumps?|puffs?|" \
               r"sachets?|pouch(?:es)?|cans?|cups?|x|times|days?|weeks?|wks?|months?|hours?|hrs?|mins?|kg|g)\b)"
_VALUE = r"(?:[^\w\d.;]+|\s+(?:[a-z]+\b[^\w\d.;]*){0,4}?)(\d+(?:[.,]\d+)?)(?!\d|[.,]\d)" + _NOT_A_VALUE
_LAB_UNIT = re.compile(r"\s*(nmol/l|mmol/l|umol/l|\u00b5mol/l|mmhg|mg/dl|\u00b0c|bpm|/min)", re.I)
# The question asks for the value: "what was her T4", "latest fructosamine", "creatinine levels over time",
# "mochis kidney values since the blockage?".
_THEN = (r"(?=\s*$|\s*[?.!,;]|\s+(?:is|was|were|are|been|at|on|in|over|since|from|when|after|before|this|last|the|"
         r"of|for|now|doing|going|gone|changed|like|and|to|results?|levels?|readings?|values?|numbers?)\b)")
_ALONE = r"(?=\s*$|\s*\?|\s+(?:since|over|from|results?|levels?|readings?|values?|numbers?|history|trend)\b)"
_ASKS_VALUE = (r"(?:^(?:[\w']+\s+){{0,2}}{w}\b" + _ALONE + r"|\b(?:what|whats|how|which)\b[^?.!,;]*\b{w}\b" + _THEN +
               r"|\b{w}\b\s+(?:results?|levels?|readings?|values?|numbers?|figures?|history|trend\w*|over time|"
               r"going (?:up|down)|getting (?:worse|better|higher|lower)|rising|falling|increasing|decreasing|dropping|"
               r"climbing|chang\w*|stable|steady)|\b(?:latest|last|recent|first|earliest|current)\s+(?:\w+\s+){{0,2}}{w}\b)")
COMPOUND_UNITS = {"mmol_l": "mmol/L", "umol_l": "\u00b5mol/L", "nmol_l": "nmol/L", "mg_dl": "mg/dL", "ug_dl": "\u00b5g/dL", "g_l": "g/L",
                  "mm_hg": "mmHg", "per_min": "/min"}
UNITS = {"mmhg": "mmHg", "bpm": "/min", "kg": "kg", "g": "g", "mg": "mg", "ml": "ml", "pct": "%", "c": "°C"}
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
    kind: str = ""  # the note's kind

    @property
    def day(self) -> str:
        return day_label(self.at)


@dataclass(frozen=True)
class Trend:
    key: str
    points: list[Point]

    @property
    def unit(self) -> str:
        return _split_unit(self.key)[1]

    @property
    def name(self) -> str:
        """"weight" for weight_kg, "T4" for t4 and t4_nmol_l, "creatinine" for creatinine_umol_l."""
        base = _split_unit(self.key)[0]
        return LAB_LABELS.get(base, base.replace("_", " "))

    @property
    def lab_unit(self) -> str:
        """The unit the notes wrote a lab value in ("nmol/L"), when every note that gives one agrees."""
        if self.key not in LAB_WORDS:
            return ""
        units = {w[1] for p in self.points if (w := written_value(self.key, p.text)) and w[1]}
        return units.pop() if len(units) == 1 else ""

    def value(self, v: float) -> str:
        return f"{v:g} {self.unit or self.lab_unit}".strip()

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


def _split_unit(key: str) -> tuple[str, str]:
    """A metric's name and unit: "weight_kg" -> ("weight", "kg"), "t4_nmol_l" -> ("t4", "nmol/L")."""
    for suffix, unit in COMPOUND_UNITS.items():
        if key.endswith("_" + suffix):
            return key[: -len(suffix) - 1], unit
    if "_" in key and key.rsplit("_", 1)[1] in UNITS:
        return key.rsplit("_", 1)[0], UNITS[key.rsplit("_", 1)[1]]
    return key, ""


def metric_keys(mem: Memory) -> set[str]:
    """The metrics the journal has, plus weight and lab values (notes often state them only in words)."""
    with mem.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT DISTINCT j.key FROM observation o, json_each(o.metrics) j WHERE {LIVE}"))
        return {r[0] for r in rows} | {"weight_kg"} | set(LAB_WORDS)


def asked_metric(question: str, keys: set[str]) -> str | None:
    """The metric a question asks about, if any: "how much does she weigh" -> weight_kg, "her latest
    T4?" -> t4 (but not "his glucose is up, what did the vet do?": that asks about the visit)."""
    q = question.lower()
    for key in sorted(keys):
        if key in LAB_WORDS:
            if any(re.search(_ASKS_VALUE.format(w=re.escape(w)), q) for w in LAB_WORDS[key]):
                return key
            continue
        if key in METRIC_WORDS:  # weight: any mention asks for it ("how much does she weigh")
            if any(re.search(rf"\b{re.escape(w)}\b", q) for w in METRIC_WORDS[key]):
                return key
            continue
        base = _split_unit(key)[0]  # another metric the notes carry: asked for as a value, like a lab's
        if any(re.search(_ASKS_VALUE.format(w=re.escape(w)), q) for w in LAB_WORDS.get(base, (base.replace("_", " "),))):
            return key
    return None


def words_pattern(key: str) -> str:
    """The words a question may use for the metric `key`, as one pattern."""
    base = _split_unit(key)[0]
    words = METRIC_WORDS.get(key) or LAB_WORDS.get(base) or (base.replace("_", " "),)
    return r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b"


def written_value(key: str, note: str) -> tuple[float, str] | None:
    """A lab value written in a note's words, with its unit if given: ("Total T4 was 78 nmol/L") -> (78, "nmol/L")."""
    found = [m for w in LAB_WORDS[key] if (m := re.search(rf"\b{re.escape(w)}\b" + _VALUE, note, re.I))]
    if not found:
        return None
    m = min(found, key=lambda m: (m.start(), -m.end(0)))  # the first the note names: "phos 1.9 ... (phosphate binder)"
    unit = _LAB_UNIT.match(note, m.end(1))
    return float(m.group(1).replace(",", ".")), unit.group(1) if unit else ""


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
                at = from_sql(r.happened_at)
                points.append(Point(r.id, at, r.name or "household", value, r.text, r.kind))
    return points


def _value(key: str, kind: str, note: str, metrics) -> float | None:
    import json

    metrics = json.loads(metrics) if isinstance(metrics, str) else (metrics or {})
    value = metrics.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if key in LAB_WORDS:
        for other, v in metrics.items():  # the same value recorded as "phosphate_mmol_l"
            if _split_unit(other)[0] == key and isinstance(v, (int, float)) and not isinstance(v, bool):
                return float(v)
        written = written_value(key, note)
        return written[0] if written else None
    # a weight note, or another that weighed her ("booster, wt 3.8kg"), not "a 2 kg bag of food"
    if key == "weight_kg" and (kind == "weight" or _WEIGHED.search(note)):
        found = _KG.findall(note)
        if len(found) == 1:  # "5.1 kg"; two weights in one note are ambiguous
            return float(found[0].replace(",", "."))
    return None
