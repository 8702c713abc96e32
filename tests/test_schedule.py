"""Scheduled retraining with a real APScheduler and a real SQLite job store."""
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from agent.settings import Settings
from memory.dates import now
from memory.errors import MemoloopError
from memory.interactions import add_feedback, save_interaction
from memory.models import Interaction, RetrainRun
from memory.store import Memory
from retrain import lease, runs, schedule
from tests.conftest import first_line

TINY = {"max_steps": 2, "grad_accum": 2, "max_len": 256, "gate": {"behaviour_questions": 1}}


def scheduled_rows(mem):
    with mem.session() as s:
        return list(s.exec(select(RetrainRun).where(RetrainRun.trigger == "schedule")))


def approve(mem, n):
    for i in range(n):
        iid = save_interaction(mem, Interaction(question=f"Did Mochi eat today {i}?", history_block="History:",
                                                answer="Yes.", model_answer="Yes.")).id
        add_feedback(mem, iid, rating=1)


def wait_for(condition, seconds=30):
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.2)


def misfire(mem, hours: int) -> None:
    """The stored job as a machine that was off for `hours` hourly fire times would have left it."""
    first = schedule.build_scheduler(mem)
    first.start(paused=True)
    schedule.sync(first, mem)
    first.shutdown()
    store = schedule.build_scheduler(mem)._jobstores["default"]
    store.start(first, "default")
    job = store.lookup_job(schedule.JOB_ID)
    job.next_run_time = now() - timedelta(hours=hours)
    store.update_job(job)


def test_job_persists_and_a_misfired_run_is_coalesced_to_one(mem):
    schedule.set_policy(mem, cron="0 * * * *", min_new_records=5)
    misfire(mem, 3)

    restarted = schedule.start(Memory.open(mem.home.root))  # a new process would open it like this
    try:
        wait_for(lambda: scheduled_rows(mem))
        time.sleep(1.0)
        rows = scheduled_rows(mem)
        assert len(rows) == 1 and rows[0].status == "skipped"
        assert "0 new approved records" in rows[0].reason and "waits for 5" in rows[0].reason
        job = restarted.get_job(schedule.JOB_ID)
        assert job.next_run_time > now()
    finally:
        restarted.shutdown(wait=False)


def test_pause_and_resume(mem):
    sched = schedule.start(mem)
    try:
        assert sched.get_job(schedule.JOB_ID).next_run_time is not None
        schedule.set_policy(mem, paused=True)
        schedule.sync(sched, mem)
        assert sched.get_job(schedule.JOB_ID).next_run_time is None and schedule.next_run(mem) is None
        schedule.set_policy(mem, paused=False, cron="15 4 * * *")
        schedule.sync(sched, mem)
        job = sched.get_job(schedule.JOB_ID)
        assert job.next_run_time is not None and (job.next_run_time.hour, job.next_run_time.minute) == (4, 15)
    finally:
        sched.shutdown(wait=False)


def test_two_schedulers_firing_at_once_start_one_run(mem, tiny_gemma_dir):
    Settings(base_model=str(tiny_gemma_dir)).save(mem.home)
    approve(mem, 6)
    schedule.set_policy(mem, cron="0 3 * * *", min_new_records=5, config=TINY)
    results = []
    fire = [threading.Thread(target=lambda: results.append(schedule.scheduled_retrain(str(mem.home.root))))
            for _ in range(2)]
    for t in fire:
        t.start()
    for t in fire:
        t.join(timeout=600)
    rows = scheduled_rows(mem)
    assert len(rows) == 1, [(r.status, r.reason) for r in rows]
    assert rows[0].status in ("succeeded", "rejected"), rows[0].error
    assert sorted(results, key=str) == sorted([rows[0].id, None], key=str)
    # the next fire with no new records is skipped, with the reason
    assert schedule.new_records_since_last_success(mem) == 0


def test_a_stale_lease_is_recovered_and_a_dead_run_marked_failed(mem):
    assert lease.acquire(mem, "run-999")
    with pytest.raises(MemoloopError, match=r"another retrain \(run-999\) holds the lock"):
        runs.create(mem, "manual")
    with mem.engine.begin() as conn:  # the holder died: its lease ran out
        conn.exec_driver_sql("UPDATE lease SET expires_at = '2000-01-01 00:00:00.000000'")
    run = runs.create(mem, "manual")
    runs.update(mem, run.id, status="running", pid=2 ** 22 + 12345)  # a pid that does not exist
    sched = schedule.start(mem)  # start-up after a crash reaps it
    sched.shutdown(wait=False)
    dead = runs.get(mem, run.id)
    assert dead.status == "failed" and "stopped without finishing" in dead.error
    assert lease.holder(mem) is None


SCHEDULER = """
import sys, time
from memory.store import Memory
from retrain import schedule
scheduler = schedule.start(Memory.open(sys.argv[1]))
print("started", flush=True)
time.sleep(120)
"""


def test_two_scheduler_processes_on_one_database_answer_a_due_time_once(mem, home_dir):
    """Two app processes (say two computers of a clinic on one database) both find the same job due."""
    schedule.set_policy(mem, cron="0 * * * *", min_new_records=5)
    misfire(mem, 1)
    procs = [subprocess.Popen([sys.executable, "-c", SCHEDULER, str(home_dir)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        assert [first_line(p.stdout, 120).strip() for p in procs] == ["started", "started"]
        wait_for(lambda: scheduled_rows(mem))
        time.sleep(3)  # the other one has had its chance
        rows = scheduled_rows(mem)
        assert len(rows) == 1 and rows[0].status == "skipped", [(r.status, r.reason) for r in rows]
    finally:
        for p in procs:
            p.kill()
            p.communicate(timeout=30)
