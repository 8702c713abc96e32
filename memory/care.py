"""A pet's care plan: recurring care items and what is due, read from the notes.

An item (a vaccine, flea or worm treatment, a medication with its dose and times, a check) is due
`every_days` after the last live note that says it was done: a note of that pet, a note of another
pet that names it, or a household note that names it or no pet at all ("did the flea drops on both
cats"). So logging "gave Sora his flea drops" completes the item; nothing is ticked off by hand.
A note saying it was *not* done ("forgot the flea drops") does not count.

The defaults (intervals with their source lines) come from the domain pack; memory only stores
and reads them. A daily medication with times also counts its doses: a missed one shows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import select

from memory.dates import local_day, local_tz, now
from memory.errors import MemoloopError
from memory.journal import clean_text, find_subject
from memory.models import CareItem, Observation, Reminder, Subject
from memory.names import is_about, names_in
from memory.store import Memory

SOON_DAYS = 2  # "due soon": this many days ahead
DOSE_DAYS = 7  # missed doses are looked for this far back
MAX_EVERY_DAYS = 3 * 366
NOT_DONE = re.compile(r"\b(forgot|forgotten|missed|skipped|didn'?t|did not|couldn'?t|could not|ran out|"
                      r"run out|refused|spat (?:it )?out|won'?t take|stop(?:ped|ping)? (?:the|his|her|giving))\b", re.I)
DOSE = re.compile(r"^\s*\d+(?:[.,]\d+)?\s*(?:-\s*\d+(?:[.,]\d+)?\s*)?"
                  r"(mg|mcg|µg|ug|g|ml|mL|IU|iu|units?|drops?|tablets?|tabs?|pipettes?|capsules?|puffs?|"
                  r"scoops?|sachets?|pumps?|clicks?|doses?|injections?)\b.*$")
TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass
class Due:
    """Where one care item stands today."""

    item: CareItem
    subject: str
    status: str  # overdue | due | soon | done | ok | unknown (never logged)
    last: Observation | None = None
    next_due: date | None = None
    days: int | None = None  # days past the due date: positive overdue, negative still to come
    doses_today: int = 0
    missed: list[tuple[date, int]] = field(default_factory=list)  # (day, doses missed)

    @property
    def label(self) -> str:
        """One line: what, whose, where it stands, and when it was last done."""
        last = f"last {self.last.happened_at.astimezone(local_tz()).date().isoformat()}" if self.last else ""
        keep = last and self.status not in ("done", "unknown") and not self.item.times
        return self.standing + (f" ({last})" if keep else "")

    @property
    def standing(self) -> str:
        """The line without the last time (a page shows the last note beside it)."""
        name = f"{self.subject}: {self.item.name}" + (f" {self.item.dose}" if self.item.dose else "")
        if self.status == "unknown":
            return f"{name}: not logged yet (due every {_every(self.item.every_days)})"
        if self.item.times:
            left = len(self.item.times) - self.doses_today
            today = (f"{self.doses_today} of {len(self.item.times)} doses given today"
                     + (f" ({', '.join(self.item.times)})" if left > 0 else ""))
            missed = sum(n for _, n in self.missed)
            return name + ": " + today + (f"; {missed} missed in the last {DOSE_DAYS} days" if missed else "")
        when = {"overdue": f"overdue by {_days(self.days)}, was due {self.next_due}",
                "due": "due today", "soon": f"due in {_days(-self.days)} ({self.next_due})",
                "done": "done today", "ok": f"next due {self.next_due}"}[self.status]
        return f"{name}: {when}"

    def to_json(self) -> dict:
        return {"id": self.item.id, "subject": self.subject, "name": self.item.name, "kind": self.item.kind,
                "every_days": self.item.every_days, "dose": self.item.dose or None, "times": self.item.times,
                "status": self.status, "next_due": self.next_due.isoformat() if self.next_due else None,
                "last": ({"id": self.last.id, "at": self.last.happened_at.isoformat(), "text": self.last.text}
                         if self.last else None),
                "doses_today": self.doses_today if self.item.times else None,
                "missed_doses": [{"day": d.isoformat(), "missed": n} for d, n in self.missed],
                "label": self.label, "source": self.item.source}


def _every(days: int) -> str:
    for unit, n in (("year", 365), ("month", 30), ("week", 7)):
        if days % n == 0 and days >= n:
            return f"{days // n} {unit}s" if days // n > 1 else unit
    return _days(days)


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


# ---- checking what the user gives ------------------------------------------------------------

def check_every(value) -> int:
    try:
        days = int(value)
        if str(value).strip() != str(days):
            raise ValueError
    except (TypeError, ValueError):
        raise MemoloopError(f"--every {value!r} is not a whole number of days; e.g. --every 30") from None
    if not 1 <= days <= MAX_EVERY_DAYS:
        raise MemoloopError(f"--every {days} is out of range; give 1 to {MAX_EVERY_DAYS} days")
    return days


def check_dose(value: str | None) -> str:
    text = (value or "").strip()
    if text and not DOSE.match(text):
        raise MemoloopError(f"--dose {value!r} has no amount with a unit; e.g. \"2.5 mg\", \"1 pipette\", \"0.5 ml\"")
    return text


def check_times(value) -> list[str]:
    items = value if isinstance(value, list) else [t for t in re.split(r"[,\s]+", value or "") if t]
    times = []
    for t in items:
        m = TIME.match(str(t).strip())
        if not m:
            raise MemoloopError(f"--times {t!r} is not a time of day; give HH:MM, e.g. --times 08:00,20:00")
        times.append(f"{int(m.group(1)):02d}:{m.group(2)}")
    return sorted(set(times))


def check_words(value, name: str) -> list[str]:
    """The patterns a note that does it matches; by default the item's name, word by word."""
    items = value if isinstance(value, list) else [w for w in re.split(r"\s*,\s*", value or "") if w]
    words = [w.strip() for w in items if w.strip()] or [re.escape(name.lower())]
    for w in words:
        try:
            re.compile(w)
        except re.error:
            raise MemoloopError(f"--match {w!r} is not a valid pattern; give words, e.g. --match \"flea drops\"") from None
    return words


# ---- the plan ---------------------------------------------------------------------------------

def ensure_defaults(mem: Memory, defaults: list[dict]) -> int:
    """Give every pet the domain pack's default items it has never had, and the household its own
    (the litter tray); a removed one stays removed. Return how many were added."""
    added = 0
    with mem.session() as s:
        known = {(i.subject_id, i.default_id) for i in s.exec(select(CareItem).where(CareItem.default_id.is_not(None)))}
        pets = [p.id for p in s.exec(select(Subject)).all()]
        for d in defaults:
            owners = ([None] if pets else []) if d.get("household") else pets
            for owner in owners:
                if (owner, d["id"]) in known:
                    continue
                s.add(CareItem(subject_id=owner, name=d["name"], kind=d.get("kind", "note"),
                               every_days=int(d["every_days"]), words=list(d.get("words", [])),
                               default_id=d["id"], source=d.get("source", "")))
                added += 1
        s.commit()
    return added


def add(mem: Memory, subject: str, name: str, every_days, *, kind: str | None = None, dose: str | None = None,
        times=None, words=None) -> CareItem:
    """A care item of the user's own; with a dose or times it is a medication unless `kind` says otherwise."""
    name = clean_text(name, "care item name")
    every = check_every(every_days)
    dose, times = check_dose(dose), check_times(times)
    kind = kind or ("medication" if dose or times else "note")
    if times and every != 1:
        raise MemoloopError(f"--times {','.join(times)} is for a daily medication; give --every 1 with it")
    item_words = check_words(words, name)
    with mem.session() as s:
        pet = find_subject(s, subject)
        if s.exec(select(CareItem).where(CareItem.subject_id == pet.id, CareItem.active,
                                         CareItem.name == name)).first():
            raise MemoloopError(f"{pet.name} already has '{name}' in the care plan; change it with: memoloop care set")
        item = CareItem(subject_id=pet.id, name=name, kind=kind, every_days=every, dose=dose, times=times,
                        words=item_words, source="you")
        s.add(item)
        s.commit()
        s.refresh(item)
        return item


def update(mem: Memory, item_id: int, *, every_days=None, dose: str | None = None, times=None,
           words=None, active: bool | None = None) -> CareItem:
    with mem.session() as s:
        item = s.get(CareItem, item_id)
        if item is None:
            raise MemoloopError(f"care item {item_id} does not exist; see: memoloop care list")
        if every_days is not None:
            item.every_days, item.source = check_every(every_days), "you"
        if dose is not None:
            item.dose = check_dose(dose)
        if times is not None:
            item.times = check_times(times)
        if words is not None:
            item.words = check_words(words, item.name)
        if item.times and item.every_days != 1:
            raise MemoloopError(f"--times {','.join(item.times)} is for a daily medication; give --every 1 with it")
        if active is not None:
            item.active = active
        s.add(item)
        s.commit()
        s.refresh(item)
        return item


HOUSEHOLD = "Household"  # how an item of the household (no pet) is labelled


def items(mem: Memory, subject: str | None = None, active: bool = True) -> list[tuple[CareItem, str]]:
    """(item, whose: a pet's name or HOUSEHOLD), by whose and name."""
    with mem.session() as s:
        q = select(CareItem, Subject.name).join(Subject, Subject.id == CareItem.subject_id, isouter=True)
        if subject:
            q = q.where(CareItem.subject_id == find_subject(s, subject).id)
        if active:
            q = q.where(CareItem.active)
        rows = s.exec(q).all()
    return sorted(((i, name or HOUSEHOLD) for i, name in rows), key=lambda r: (r[0].subject_id is None, r[1], r[0].name))


def done_by(item: CareItem, note: Observation, pet: str, names: list[str]) -> bool:
    """Does this note say the item was done for this pet?"""
    if NOT_DONE.search(note.text):
        return False
    if not any(re.search(w, note.text, re.I) for w in [*item.words, rf"\b{re.escape(item.name)}\b"]):
        return False
    if item.subject_id is None:  # the household's (the litter tray): anyone's note
        return True
    if note.subject_id in (item.subject_id, None):  # its own note (unless about another pet only), or the household's
        return is_about(note.text, pet, names)
    return bool(names_in(note.text, pet, names))  # another pet's note that names this one ("did both Mochi's and Sora's claws")


def due(mem: Memory, subject: str | None = None, today: date | None = None, soon: int = SOON_DAYS) -> list[Due]:
    """Every active item with where it stands, most urgent first."""
    today = today or now().astimezone(local_tz()).date()
    plan = items(mem, subject)
    with mem.session() as s:
        names = [p.name for p in s.exec(select(Subject)).all()]
        notes = s.exec(select(Observation).where(Observation.live_note())
                       .order_by(Observation.happened_at.desc())).all()
    result = []
    for item, pet in plan:
        done = [n for n in notes if done_by(item, n, pet, names)]
        result.append(_stand(item, pet, done, today, soon))
    order = {"overdue": 0, "due": 1, "soon": 2, "unknown": 3, "done": 4, "ok": 5}
    return sorted(result, key=lambda d: (order[d.status], d.next_due or date.max, d.subject, d.item.name))


def _day(note: Observation) -> date:
    return local_day(note.happened_at)


def _stand(item: CareItem, pet: str, done: list[Observation], today: date, soon: int) -> Due:
    last = next((n for n in done if _day(n) <= today), None)
    if item.times:  # a daily medication: its doses
        per_day: dict[date, int] = {}
        for n in done:
            per_day[_day(n)] = per_day.get(_day(n), 0) + 1
        start = max(item.created_at.astimezone(local_tz()).date(), today - timedelta(days=DOSE_DAYS))
        missed = [(d, len(item.times) - per_day.get(d, 0)) for d in _days_between(start, today)
                  if per_day.get(d, 0) < len(item.times)]
        given = per_day.get(today, 0)
        clock = now().astimezone(local_tz()).strftime("%H:%M")
        owed = sum(t <= clock for t in item.times)  # doses whose time has come today
        status = "done" if given >= len(item.times) else "due" if given < owed else "soon"
        return Due(item, pet, status, last, today, 0, given, missed)
    if last is None:
        return Due(item, pet, "unknown")
    next_due = _day(last) + timedelta(days=item.every_days)
    days = (today - next_due).days
    status = ("done" if _day(last) == today else "overdue" if days > 0 else "due" if days == 0
              else "soon" if -days <= soon else "ok")
    return Due(item, pet, status, last, next_due, days)


def _days_between(start: date, end: date):
    """The whole days from start up to the day before end."""
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)


def log_done(mem: Memory, item_id: int, at=None) -> Observation:
    """Log a note saying the item was done (what the Today page's button and `care done` write): a
    normal note of the item's kind, which is what completes it."""
    from memory import journal

    with mem.session() as s:
        item = s.get(CareItem, item_id)
        if item is None:
            raise MemoloopError(f"care item {item_id} does not exist; see: memoloop care list")
        pet = s.get(Subject, item.subject_id).name if item.subject_id else None
    dose = f" {item.dose}" if item.dose else ""
    if pet and (item.dose or item.times):  # a medication of the user's own: "Gave Mochi Felimazole 2.5 mg."
        text = f"Gave {pet} {item.name}{dose}."
    else:
        text = f"{item.name}{dose} done" + (f" for {pet}." if pet else ".")
    return journal.log(mem, text, subject=pet, at=at, kind=item.kind)


# ---- reminders ---------------------------------------------------------------------------------

def record_reminders(mem: Memory, found: list[Due]) -> list[Reminder]:
    """Store each item found due or overdue, once per due day (what the scheduler calls); return the
    new ones."""
    new = []
    with mem.session() as s:
        for d in found:
            if d.status not in ("overdue", "due") or d.next_due is None:
                continue
            exists = s.exec(select(Reminder).where(Reminder.care_item_id == d.item.id,
                                                   Reminder.due_on == d.next_due)).first()
            if exists is None:
                reminder = Reminder(care_item_id=d.item.id, due_on=d.next_due, status=d.status)
                s.add(reminder)
                new.append(reminder)
        s.commit()
        for r in new:
            s.refresh(r)
    return new


def unshown_reminders(mem: Memory, mark_shown: bool = True) -> list[tuple[Reminder, CareItem, str]]:
    """Reminders the app has not told the user about yet (and, by default, mark them told)."""
    with mem.session() as s:
        rows = s.exec(select(Reminder, CareItem, Subject.name)
                      .join(CareItem, CareItem.id == Reminder.care_item_id)
                      .join(Subject, Subject.id == CareItem.subject_id)
                      .where(Reminder.shown_at.is_(None), CareItem.active)
                      .order_by(Reminder.due_on)).all()
        if mark_shown:
            stamp = now()
            for r, _, _ in rows:
                r.shown_at = stamp
                s.add(r)
            s.commit()
        return [(r, i, name) for r, i, name in rows]

