"""Retrain runs: start one in its own process, watch it, and notice when one died.

The `retrain_run` row is the truth: status, pid, heartbeat, progress, log path, error.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta

from sqlalchemy import update as sql_update
from sqlmodel import select

from memory.dates import now
from memory.errors import MemoloopError
from memory.models import RetrainRun
from memory.processes import alive
from memory.store import Memory
from retrain import lease

ACTIVE = ("queued", "running")
DONE = ("succeeded", "rejected", "skipped", "failed")
HEARTBEAT_S = 5
STALE_AFTER = timedelta(seconds=90)  # a run silent for this long is dead, whatever its pid says
HERE = socket.gethostname()
ANY_TRAINER = "*"  # a run's host while it waits for a training machine (Settings.trainer == "worker")
TRAINER_WAIT = timedelta(hours=1)  # how long a run waits for one before it is failed with what to do


def get(mem: Memory, run_id: int) -> RetrainRun:
    with mem.session() as s:
        run = s.get(RetrainRun, run_id)
    if run is None:
        raise MemoloopError(f"retrain run {run_id} does not exist")
    return run


def update(mem: Memory, run_id: int, **fields) -> RetrainRun:
    with mem.session() as s:
        run = s.get(RetrainRun, run_id)
        for key, value in fields.items():
            setattr(run, key, value)
        s.add(run)
        s.commit()
        return run


def recent(mem: Memory, limit: int = 20) -> list[RetrainRun]:
    with mem.session() as s:
        return list(s.exec(select(RetrainRun).order_by(RetrainRun.id.desc()).limit(limit)))


def reap(mem: Memory) -> list[int]:
    """Mark runs whose trainer process is gone (killed, out of memory, machine restarted) as failed."""
    failed = []
    with mem.session() as s:
        for run in s.exec(select(RetrainRun).where(RetrainRun.status.in_(ACTIVE))):
            silent = now() - (run.heartbeat_at or run.created_at)
            if run.host == ANY_TRAINER:  # waiting for a training machine
                if silent < TRAINER_WAIT:
                    continue
                run.error = (f"no training machine took this run within {TRAINER_WAIT.total_seconds() / 3600:g} h; start "
                             f"python -m retrain.worker --watch --home DATA_HOME on one (or memoloop settings "
                             f"--trainer here); the active adapter is unchanged")
            elif run.host not in (None, HERE):  # trained elsewhere: its heartbeat is all we can see
                if silent < STALE_AFTER:
                    continue
                run.error = (f"the trainer on {run.host} stopped answering (stopped, or the machine went down); "
                             "the active adapter is unchanged")
            else:
                if silent < STALE_AFTER and (alive(run.pid) or (run.pid is None and run.status == "queued")):
                    continue
                if alive(run.pid):  # alive but silent: stuck; stop it before declaring it dead
                    _stop(run.pid)
            run.status, run.finished_at = "failed", now()
            run.error = run.error or (f"the trainer process {run.pid} stopped without finishing "
                                      "(killed or out of memory); the active adapter is unchanged")
            run.reason = run.error
            s.add(run)
            failed.append(run.id)
        s.commit()
    for run_id in failed:
        lease.release(mem, f"run-{run_id}")
    return failed


def _stop(pid: int) -> None:
    import signal

    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass


def running(mem: Memory) -> RetrainRun | None:
    reap(mem)
    with mem.session() as s:
        return s.exec(select(RetrainRun).where(RetrainRun.status.in_(ACTIVE))).first()


def create(mem: Memory, trigger: str, config: dict | None = None, claim: RetrainRun | None = None) -> RetrainRun:
    """A queued run holding the retrain lease, unless one is already going (then an error with its id).

    `claim`: a queued row the scheduler already inserted for its cron time; it becomes the run.
    """
    reap(mem)
    token = f"start-{uuid.uuid4().hex}"
    if not lease.acquire(mem, token):
        held = lease.holder(mem) or ""
        with mem.session() as s:
            current = s.get(RetrainRun, int(held[4:])) if held[4:].isdigit() else None
        if current is not None and current.status not in ACTIVE:  # finished, letting go of the lease
            lease.release(mem, held)
            return create(mem, trigger, config, claim)
        if current is not None:
            raise MemoloopError(f"retrain run {current.id} is already {current.status} (pid {current.pid}); "
                                "wait for it to finish")
        raise MemoloopError(f"another retrain ({held or 'starting'}) holds the lock; try again in a minute")
    try:
        with mem.session() as s:
            run = s.get(RetrainRun, claim.id) if claim else RetrainRun(trigger=trigger)
            run.config, run.heartbeat_at = config or {}, now()
            s.add(run)
            s.commit()
        lease.hand_over(mem, token, f"run-{run.id}")
        return run
    except BaseException:
        lease.release(mem, token)
        raise


def spawn(mem: Memory, run: RetrainRun) -> RetrainRun:
    """Start the trainer subprocess for a queued run (its output goes to the run's log file), or,
    when this home trains on another machine (Settings.trainer), leave it queued for one."""
    from agent.settings import Settings

    if Settings.load(mem.home).trainer == "worker":
        return update(mem, run.id, host=ANY_TRAINER, heartbeat_at=now(),
                      progress={"phase": "waiting for a training machine"})
    return start(mem, run)


def start(mem: Memory, run: RetrainRun) -> RetrainRun:
    """The trainer subprocess for a run this machine carries out."""
    log_path = mem.home.logs_dir / f"retrain-{run.id}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "retrain.worker", "--run", str(run.id), "--home", str(mem.home.root)]
            + (["--household", mem.household] if mem.household is not None else []),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    return update(mem, run.id, pid=proc.pid, host=HERE, log_path=str(log_path))


def take(mem: Memory) -> RetrainRun | None:
    """The oldest run waiting for a training machine, now this one's (None if there is none; of two
    machines asking at once, one gets it: a conditional UPDATE)."""
    with mem.session() as s:
        waiting = s.exec(select(RetrainRun.id).where(RetrainRun.status == "queued", RetrainRun.host == ANY_TRAINER)
                         .order_by(RetrainRun.id)).all()
    for run_id in waiting:
        with mem.session() as s:
            taken = s.exec(sql_update(RetrainRun).where(RetrainRun.id == run_id, RetrainRun.host == ANY_TRAINER,
                                                        RetrainRun.status == "queued")
                           .values(host=HERE, heartbeat_at=now())).rowcount
            s.commit()
        if taken == 1:
            return get(mem, run_id)
    return None


def wait(mem: Memory, run_id: int, on_progress=None, poll_s: float = 1.0) -> RetrainRun:
    """Block until the run ends; `on_progress(progress_dict)` sees each change."""
    last = None
    while True:
        run = get(mem, run_id)
        if run.progress != last and on_progress:
            on_progress(run.progress)
            last = run.progress
        if run.status in DONE:
            return run
        if run.host in (None, HERE) and not alive(run.pid) and run.status in ACTIVE:
            time.sleep(poll_s)  # the worker may have just written its final status
            if get(mem, run_id).status in ACTIVE:
                reap(mem)
        time.sleep(poll_s)
