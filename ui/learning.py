"""What the Learning page shows, in words: schedule, runs, adapters and the next dataset as plain rows."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from memory.dates import as_utc, local_tz
from agent.guard import against_notes
from ui.entries import when_label

DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
PHASES = {"measuring the active adapter": "Measuring the current adapter",
          "loading the base model": "Loading the base model",
          "train": "Training", "measuring the candidate": "Testing the new adapter",
          "learning the held-out answers too": "Learning the answers it was tested on", "done": "Finishing"}
SOURCES = {"correction": "Corrected", "approved": "Rated up", "import": "Imported", "starter": "Starter"}
ENDINGS = {"stop": "", "length": " · cut off at the length limit",
           "loop": " · cut off: it began repeating itself"}
STATUS = {"active": "Answering now", "candidate": "Candidate", "retired": "Earlier",
          "rejected": "Not promoted"}


def upcoming_label(value: datetime | None, today=None) -> str:
    """'Today 03:30', 'Tomorrow 03:30', 'Sun 30 Nov 03:30' for a time still to come."""
    if value is None:
        return "Paused"
    local = as_utc(value).astimezone(local_tz())
    today = today or datetime.now(local_tz()).date()
    if local.date() == today:
        return f"Today {local:%H:%M}"
    if local.date() == today + timedelta(days=1):
        return f"Tomorrow {local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def past_label(value: datetime | None) -> str:
    return when_label(value) if value is not None else ""


def cron_words(cron: str) -> str:
    """'every night at 03:30' for the usual shapes; the cron itself for anything else."""
    fields = cron.split()
    if len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit() and fields[2:4] == ["*", "*"]:
        at = f"{int(fields[1]):02d}:{int(fields[0]):02d}"
        if fields[4] == "*":
            return f"every day at {at}"
        if re.fullmatch(r"[0-7]", fields[4]):
            return f"every {DAYS[int(fields[4]) % 7]} at {at}"
    return f"on the schedule '{cron}'"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def progress_view(progress: dict) -> tuple[str, float | None, str]:
    """(phase in words, share done 0..1 or None, detail line) of a running retrain."""
    phase = progress.get("phase")
    words = PHASES.get(phase, (phase or "Starting").capitalize())
    step, total = progress.get("step"), progress.get("total")
    share = min(1.0, step / total) if step is not None and total else None
    details = []
    if phase == "train" and total:
        details.append(f"step {step} of {total}")
    if progress.get("loss") is not None:
        details.append(f"loss {progress['loss']:.3f}")
    if phase == "train" and progress.get("eta_s") is not None:
        details.append(f"about {duration(progress['eta_s'])} left")
    return words, share, " · ".join(details)


def verdict(run) -> str:
    if run.status == "succeeded":
        return f"Promoted {run.adapter_version}"
    if run.status == "rejected":
        return f"Rejected {run.adapter_version}"
    return {"skipped": "Skipped", "failed": "Failed", "queued": "Starting…",
            "running": "Running…"}.get(run.status, run.status)


def loss_text(value) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else ""


def run_rows(runs) -> list[dict]:
    """One row per finished retrain for the runs table, newest first (a running one is shown live)."""
    rows = []
    for r in runs:
        if r.status in ("queued", "running"):
            continue
        loss = r.eval_loss or {}
        rows.append({
            "run": r.id, "trigger": "Scheduled" if r.trigger == "schedule" else "By hand",
            "when": past_label(r.started_at or r.finished_at or r.created_at),
            "records": f"{r.train_records} / {r.eval_records}" if r.train_records or r.eval_records else "",
            "base": loss_text(loss.get("base")), "active": loss_text(loss.get("active")),
            "candidate": loss_text(loss.get("candidate")),
            "verdict": verdict(r), "why": r.reason or r.error or "",
        })
    return rows


def adapter_loss(adapter) -> float | None:
    """The adapter's own held-out loss, as its run measured it."""
    loss = ((adapter.metrics or {}).get("eval_loss") or {}).get("adapter")
    return loss if isinstance(loss, (int, float)) else None


def adapter_line(adapter) -> str:
    parts = [f"added {past_label(adapter.created_at)}"]
    if adapter.run_id:
        parts.append(f"run {adapter.run_id}")
    loss = adapter_loss(adapter)
    if loss is not None:
        parts.append(f"held-out loss {loss:.3f}")
    return " · ".join(parts)


def compare_choices(adapters, active_version: str | None) -> list[str | None]:
    """What the active adapter can be compared with: newest adapter first, the bare base model last."""
    newest_first = sorted(adapters, key=lambda a: a.id, reverse=True)
    others = [a.version for a in newest_first if a.version != active_version]
    return others + ([None] if active_version is not None else [])


def dataset_rows(data, include_starter: bool) -> list[dict]:
    """Each record once (training may weight some by repeating them), the user's first."""
    rows, seen = [], set()
    for split, part in (("Train", data.train), ("Held out", data.eval)):
        for r in part:
            if (split, r.key) in seen or (r.source == "starter" and not include_starter):
                continue
            seen.add((split, r.key))
            rows.append({"split": split, "source": SOURCES.get(r.source, r.source.capitalize() or "Imported"),
                         "question": r.instruction, "answer": r.output, "notes": r.input,
                         "dates_agree": not against_notes(r.output, r.input)})
    return sorted(rows, key=lambda row: row["source"] == SOURCES["starter"])


def dataset_json(data) -> str:
    """The Alpaca list the next retrain trains on, as `memoloop dataset --out` writes it."""
    return json.dumps([r.alpaca() for r in data.train], ensure_ascii=False, indent=1)
