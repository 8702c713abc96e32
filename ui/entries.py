"""What the pages need between a form and the journal: form values in, display rows out."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import select

from memory import journal
from memory.dates import as_utc, local_day, local_tz, now  # noqa: F401 (local_day: the pages use it from here)
from memory.errors import MemoloopError
from memory.models import Observation
from memory.store import Memory

HOUSEHOLD_LABEL = "Household"  # the choice for notes about no pet in particular


def pet_or_none(choice: str | None) -> str | None:
    return None if not choice or choice == HOUSEHOLD_LABEL else choice


def default_pet(mem: Memory, last_used: str | None) -> str | None:
    """The pet used last in this session, else the pet of the newest entry, else the first pet."""
    names = journal.subject_names(mem)
    if last_used == HOUSEHOLD_LABEL or last_used in names.values():
        return last_used
    newest = journal.timeline(mem, limit=1)
    if newest and newest[0].subject_id in names:
        return names[newest[0].subject_id]
    return min(names.values(), key=str.lower) if names else None


def parse_tags(text: str | None) -> list[str]:
    """'vet, lysine;  home ' -> ['vet', 'lysine', 'home']"""
    parts = (text or "").replace(";", ",").split(",")
    return list(dict.fromkeys(p.strip().lower() for p in parts if p.strip()))


def weight_metrics(weight: float | None) -> dict:
    if weight is None:
        return {}
    return {"weight_kg": round(journal.check_weight(weight), 2)}


def when_from(day: date | None, at: time | None) -> datetime | str | None:
    """A day alone means that day (now if today, else midday); with a time, that local time."""
    if day is None:
        return None
    if day > datetime.now(local_tz()).date():
        raise MemoloopError(f"{day.isoformat()} is in the future; log what has already happened")
    if at is None:
        return day.isoformat()
    moment = datetime.combine(day, at, tzinfo=local_tz())
    if moment > now() + timedelta(minutes=5):
        raise MemoloopError(f"{day.isoformat()} {at:%H:%M} is in the future; log what has already happened")
    return moment


def log_entry(mem: Memory, text: str, *, pet: str | None, kinds, kind: str = "note",
              day: date | None = None, at: time | None = None, weight: float | None = None,
              tags: str = "", photos: list[tuple[bytes, str]] = ()) -> Observation:
    """Log from the Journal page's forms; a weight alone is enough for a weight entry. Photos
    (bytes, file name) are checked before anything is stored."""
    from memory import photos as photo_store

    checked = [photo_store.check(data, name) for data, name in photos]
    metrics = weight_metrics(weight)
    if metrics and not (text or "").strip():
        text = f"{pet or 'The cat'} weighs {metrics['weight_kg']:g} kg"
    obs = journal.log(mem, text, subject=pet_or_none(pet), at=when_from(day, at), kind=kind,
                      metrics=metrics, tags=parse_tags(tags), source="ui", kinds=kinds)
    for photo in checked:
        photo_store.attach(mem, obs.id, photo)
    return obs


def quick_entry(mem: Memory, spec: dict, pet: str, value: float | None = None) -> Observation:
    """A one-tap entry of the domain pack ("ate half", "stool: 4"): a normal note with its kind and
    metrics, undone like any other."""
    if pet_or_none(pet) is None:
        raise MemoloopError(f"'{spec['label']}' is about a pet; pick one (it cannot go to the household)")
    metrics = dict(spec.get("metrics") or {})
    asks = spec.get("value")
    if asks:
        if value is None or not asks["min"] <= value <= asks["max"]:
            raise MemoloopError(f"{asks['label']} {value!r} is out of range; give {asks['min']:g} to {asks['max']:g}")
        value = round(float(value), 2)
        metrics[asks["metric"]] = int(value) if asks["step"] >= 1 else value
    text = spec["text"].format(pet=pet, value=f"{value:g}" if value is not None else "")
    return journal.log(mem, text, subject=pet, kind=spec["kind"], metrics=metrics, source="ui")


def edit_entry(mem: Memory, obs: Observation, *, text: str, kind: str, day: date, kinds) -> Observation:
    """Correct an entry; its time of day is kept unless the day itself changed."""
    changed_day = day != local_day(obs.happened_at)
    return journal.correct(mem, obs.id, text=text, kind=kind, kinds=kinds,
                           at=when_from(day, None) if changed_day else None)


def day_span(mem: Memory) -> tuple[date, date] | None:
    """The local dates of the oldest and newest live entries (the History page's date range)."""
    with mem.session() as s:
        oldest, newest = s.exec(select(func.min(Observation.happened_at), func.max(Observation.happened_at))
                                .where(Observation.live_note())).one()
    return (local_day(oldest), local_day(newest)) if oldest else None


def in_days(observations: list[Observation], start: date, end: date) -> list[Observation]:
    return [o for o in observations if start <= local_day(o.happened_at) <= end]


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of `start` to the end of `end`, in local time."""
    tz = local_tz()
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end, time.max, tzinfo=tz)


def when_label(value: datetime, today: date | None = None) -> str:
    """'Today 08:30', 'Yesterday 19:05', 'Mon 24 Nov', '13 Feb 2024'."""
    local = as_utc(value).astimezone(local_tz())
    today = today or datetime.now(local_tz()).date()
    day = local.date()
    if day == today:
        return f"Today {local:%H:%M}"
    if day == today - timedelta(days=1):
        return f"Yesterday {local:%H:%M}"
    if (today - day).days < 7:
        return f"{local:%a %H:%M}"
    if day.year == today.year:
        return f"{local:%a} {day.day} {local:%b}"
    return f"{day.day} {local:%b %Y}"


def age_label(birth: date | None, today: date | None = None) -> str:
    if birth is None:
        return ""
    today = today or date.today()
    months = (today.year - birth.year) * 12 + today.month - birth.month - (today.day < birth.day)
    if months < 1:
        return "under a month old"
    if months < 24:
        return f"{months} month{'s' * (months != 1)} old"
    return f"{months // 12} years old"


def entry_rows(observations: list[Observation], names: dict[int, str]) -> list[dict]:
    """One flat row per entry: the History table and the CSV export (which `memoloop import` reads)."""
    return [{
        "id": o.id,
        "at": as_utc(o.happened_at).astimezone(local_tz()).isoformat(timespec="minutes"),
        "day": local_day(o.happened_at).isoformat(),
        "subject": names.get(o.subject_id, ""),
        "kind": o.kind,
        "text": o.text,
        "weight_kg": o.metrics.get("weight_kg"),
        "tags": ", ".join(o.tags),
        "by": o.author,  # who wrote it, in server mode
    } for o in observations]


def entries_csv(observations: list[Observation], names: dict[int, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["subject", "at", "kind", "text", "metrics", "tags"])
    writer.writeheader()
    for row, obs in zip(entry_rows(observations, names), observations):
        writer.writerow({"subject": row["subject"], "at": row["at"], "kind": row["kind"], "text": row["text"],
                         "metrics": json.dumps(obs.metrics) if obs.metrics else "", "tags": row["tags"]})
    return out.getvalue()


METRIC_LABELS = {"weight_kg": "Weight (kg)", "ate_pct": "Ate (% of the meal)", "vomits": "Vomits",
                 "urine_clumps": "Urine clumps", "stool_score": "Faecal score (1-7)", "water_ml": "Water (ml)"}


def metric_label(key: str) -> str:
    return METRIC_LABELS.get(key, key.replace("_", " ").capitalize())


def metrics_in(observations: list[Observation]) -> list[str]:
    """The measurements these entries carry, weight first."""
    keys = {k for o in observations for k, v in o.metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return sorted(keys, key=lambda k: (k != "weight_kg", metric_label(k)))


def metric_points(observations: list[Observation], names: dict[int, str], key: str = "weight_kg") -> list[dict]:
    """(date, pet, value) for every entry that carries the measurement, oldest first."""
    label = metric_label(key)
    points = [{"Date": as_utc(o.happened_at).astimezone(local_tz()).replace(tzinfo=None),
               "Pet": names.get(o.subject_id, HOUSEHOLD_LABEL), label: float(o.metrics[key])}
              for o in observations if isinstance(o.metrics.get(key), (int, float)) and not isinstance(o.metrics[key], bool)]
    return sorted(points, key=lambda p: p["Date"])
