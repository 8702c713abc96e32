"""The feedback loop on its own: an APScheduler 3 job, stored in the project's database.

Default policy: nightly at 03:30 local time, only when at least 10 new approved or corrected
records arrived since the last successful run. `memoloop up` starts the scheduler beside the UI;
`memoloop schedule run` runs it alone. The job is an importable function (persistent jobs cannot
be lambdas) that starts the trainer subprocess; the lease in retrain.lease and a unique
`scheduled_for` per run make sure one cron time trains at most once, however many schedulers run.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from memory.dates import local_tz, now
from memory.errors import MemoloopError
from memory.models import Feedback, RetrainRun, SchedulePolicy, TrainingRecord
from memory.store import Memory
from retrain import runs

JOB_ID = "memoloop-retrain"
JOB_FUNC = "retrain.schedule:scheduled_retrain"
MISFIRE_GRACE = timedelta(hours=6)  # a laptop asleep at 03:30 still retrains when it wakes, once
POLICY_CHECK_S = 30  # how often a running scheduler picks up `memoloop schedule set/pause/resume`
CARE_CHECK_S = 15 * 60  # how often it looks for care that has come due (memory.care), and once at start


def cron_trigger(cron: str):
    from apscheduler.triggers.cron import CronTrigger

    try:
        return CronTrigger.from_crontab(cron, timezone=local_tz())
    except (ValueError, TypeError) as exc:
        raise MemoloopError(f"cron '{cron}' is not valid ({exc}); use 5 fields: minute hour day month "
                            "weekday, e.g. '30 3 * * *' for 03:30 every night") from None


def policy(mem: Memory) -> SchedulePolicy:
    with mem.session() as s:
        row = s.get(SchedulePolicy, 1)
        if row is None:
            row = SchedulePolicy()
            s.add(row)
            try:
                s.commit()
            except IntegrityError:  # another process created it first
                s.rollback()
                row = s.get(SchedulePolicy, 1)
        return row


def set_policy(mem: Memory, *, cron: str | None = None, min_new_records: int | None = None,
               paused: bool | None = None, config: dict | None = None) -> SchedulePolicy:
    if cron is not None:
        cron_trigger(cron)
    if min_new_records is not None and min_new_records < 1:
        raise MemoloopError(f"--min-new-records {min_new_records} is not valid; use 1 or more")
    policy(mem)
    with mem.session() as s:
        row = s.get(SchedulePolicy, 1)
        for key, value in (("cron", cron), ("min_new_records", min_new_records), ("paused", paused),
                           ("config", config)):
            if value is not None:
                setattr(row, key, value)
        row.updated_at = now()
        s.add(row)
        s.commit()
        return row


def last_fire_time(cron: str, at: datetime) -> datetime:
    """The cron time a job firing at `at` answers: the latest one not after it."""
    trigger = cron_trigger(cron)
    fire = trigger.get_next_fire_time(None, at - MISFIRE_GRACE)
    latest = fire
    while fire is not None and fire <= at:
        latest, fire = fire, trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return (latest or at).astimezone(at.tzinfo)


def next_run(mem: Memory, at: datetime | None = None) -> datetime | None:
    pol = policy(mem)
    return None if pol.paused else cron_trigger(pol.cron).get_next_fire_time(None, at or now())


def new_records_since_last_success(mem: Memory) -> int:
    """Approved or corrected records that arrived after the last run that trained (or since ever)."""
    with mem.session() as s:
        last = s.exec(select(func.max(RetrainRun.started_at)).where(
            RetrainRun.status.in_(("succeeded", "rejected")))).first()
        feedback = select(func.count(func.distinct(Feedback.interaction_id))).where(
            (Feedback.rating > 0) | Feedback.correction.is_not(None))
        imported = select(func.count(TrainingRecord.id))
        if last is not None:
            feedback = feedback.where(Feedback.created_at > last)
            imported = imported.where(TrainingRecord.created_at > last)
        return s.exec(feedback).one() + s.exec(imported).one()


def scheduled_retrain(home_root: str, household: str | None = None) -> int | None:
    """The scheduled job: claim this cron time, then skip (with the reason) or run one retrain."""
    with Memory.open(home_root, household=household) as mem:  # the scheduler lives for weeks: each tick gives its connections back
        return _scheduled_retrain(mem)


def _scheduled_retrain(mem: Memory) -> int | None:
    pol = policy(mem)
    if pol.paused:
        return None
    try:  # the first scheduler to claim the cron time answers it; any other one stops here
        claim = _claim(mem, last_fire_time(pol.cron, now()))
    except IntegrityError:
        return None
    new = new_records_since_last_success(mem)
    if new < pol.min_new_records:
        return _skip(mem, claim, f"{new} new approved records since the last retrain; "
                                 f"the schedule waits for {pol.min_new_records}")
    try:
        run = runs.create(mem, "schedule", pol.config, claim=claim)
    except MemoloopError as exc:  # a manual retrain is already going: say so for this cron time
        return _skip(mem, claim, str(exc))
    runs.spawn(mem, run)
    return runs.wait(mem, run.id, poll_s=5).id


def _claim(mem: Memory, fire: datetime) -> RetrainRun:
    with mem.session() as s:
        row = RetrainRun(trigger="schedule", status="queued", scheduled_for=fire, heartbeat_at=now())
        s.add(row)
        s.commit()
        return row


def _skip(mem: Memory, claim: RetrainRun, reason: str) -> int:
    runs.update(mem, claim.id, status="skipped", reason=reason, finished_at=now())
    return claim.id


def build_scheduler(mem: Memory):
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=mem.engine, tablename="apscheduler_jobs"),
                   "local": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(MISFIRE_GRACE.total_seconds())},
        timezone=local_tz())


def sync(scheduler, mem: Memory) -> None:
    """Make the stored job match the policy; leave it alone (and its missed runs) when it does."""
    pol = policy(mem)
    trigger = cron_trigger(pol.cron)
    try:
        job = scheduler.get_job(JOB_ID, jobstore="default")
    except Exception as exc:  # a damaged job store (a pickle APScheduler cannot read): made again from the policy
        logging.getLogger(__name__).warning("the stored retrain job was unreadable (%s); rebuilt from the schedule", exc)
        scheduler.remove_job(JOB_ID, jobstore="default")
        job = None
    args = (str(mem.home.root),) + ((mem.household,) if mem.household is not None else ())
    if job is None or str(job.trigger) != str(trigger) or job.args != args:
        job = scheduler.add_job(JOB_FUNC, trigger, args=list(args), id=JOB_ID, jobstore="default",
                                replace_existing=True, name="nightly retrain")
    if pol.paused and job.next_run_time is not None:
        scheduler.pause_job(JOB_ID, jobstore="default")
    elif not pol.paused and job.next_run_time is None:
        scheduler.resume_job(JOB_ID, jobstore="default")


def start(mem: Memory):
    """Recover from a crash (dead runs marked failed), start the scheduler, keep it in step with the policy."""
    runs.reap(mem)
    scheduler = build_scheduler(mem)
    scheduler.start(paused=True)
    sync(scheduler, mem)
    scheduler.add_job(sync, "interval", seconds=POLICY_CHECK_S, args=[scheduler, mem], id="policy-sync",
                      jobstore="local", replace_existing=True)
    scheduler.add_job(check_care, "interval", seconds=CARE_CHECK_S, args=[mem], id="care-check", jobstore="local",
                      replace_existing=True, next_run_time=now())
    scheduler.resume()
    return scheduler


def check_care(mem: Memory) -> int:
    """Record a reminder for each care item that has come due (the app shows new ones as a toast)
    and the trend alerts that hold; return how many reminders are new."""
    from agent.pack import load_pack
    from memory import alerts, care

    pack = load_pack()
    care.ensure_defaults(mem, list(pack.care))
    alerts.check(mem, list(pack.trends))
    return len(care.record_reminders(mem, care.due(mem)))
