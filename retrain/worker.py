"""One retrain, in its own process: snapshot the data, train (on from the active adapter), measure,
gate, promote.

    python -m retrain.worker --run RUN_ID --home DATA_HOME [--household NAME]
    python -m retrain.worker --watch --home DATA_HOME [--household NAME]

Started by retrain.runs.spawn (never inside the UI process); or, when the home trains on another
machine (memoloop settings --trainer worker), by `--watch` there, which takes each queued run. Everything it learns goes into the
run's row; the active adapter changes only in the registry's single promote transaction.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
import sys
import threading
import time
import traceback
from pathlib import Path

from agent.convert import BASE_ID, prepare_default_model, read_base_id
from agent.settings import Settings
from memory.dates import now
from memory.errors import MemoloopError
from memory.offline import offline_environment
from memory.store import Memory
from retrain import dataset as datasets
from retrain import lease, registry, runs
from retrain.config import TrainConfig
from retrain.gate import GatePolicy, agreement, decide

MIN_RECORDS = 4  # below this many approved records a retrain would learn nothing: skip
LEARN_HELD_OUT_BELOW = 80  # fewer user records: a promoted adapter is trained again on all of them


class Heartbeat(threading.Thread):
    """Keeps the run's heartbeat fresh so watchers can tell a slow run from a dead one."""

    def __init__(self, mem: Memory, run_id: int):
        super().__init__(daemon=True, name="memoloop-heartbeat")
        self.mem, self.run_id, self.stop = mem, run_id, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(runs.HEARTBEAT_S):
            runs.update(self.mem, self.run_id, heartbeat_at=now())
            lease.renew(self.mem, f"run-{self.run_id}")


def execute(mem: Memory, run_id: int, policy: GatePolicy | None = None) -> None:
    """Carry out a queued run to its end state; any failure leaves the active adapter untouched."""
    run = runs.update(mem, run_id, status="running", started_at=now(), heartbeat_at=now())
    cfg = TrainConfig(**{k: v for k, v in (run.config or {}).items() if k in TrainConfig.__dataclass_fields__})
    policy = policy or GatePolicy(**(run.config or {}).get("gate", {}))
    beat = Heartbeat(mem, run_id)
    beat.start()
    try:
        cfg = training_mode(cfg, run.config or {})
        _train_and_gate(mem, run_id, cfg, policy)
    except BaseException as exc:  # noqa: BLE001 - the run must end recorded, whatever happened
        message = str(exc) if isinstance(exc, MemoloopError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, OSError) and getattr(exc, "errno", None) == 28:
            message = f"the disk is full ({exc.filename or 'while saving'}); free some space and retrain"
        traceback.print_exc()
        runs.update(mem, run_id, status="failed", finished_at=now(), error=message, reason=message)
        if not isinstance(exc, Exception):
            raise
    finally:
        beat.stop.set()
        lease.release(mem, f"run-{run_id}")


def training_mode(cfg: TrainConfig, asked: dict, device: str | None = None) -> TrainConfig:
    """QLoRA (an NF4 base, bitsandbytes) on a GPU, LoRA on a CPU, unless the run asked for a mode."""
    if "mode" in asked:
        return cfg
    if device is None:
        from agent.model import resolve_device  # torch
        device = resolve_device(cfg.device)
    return replace(cfg, mode="qlora" if device == "cuda" else "lora")


def watch(home: str, household: str | None = None, poll_s: float = 5.0, once: bool = False) -> int:
    """Carry out the runs queued for a training machine (Settings.trainer "worker"), one at a time, for
    every household (or one): this machine shares the database and the data home (its adapters,
    datasets and logs) with the app's. Returns how many it carried out (`once`: one pass)."""
    from memory import households
    from memory.engines import Engines
    from memory.home import Home

    root, done, opened = Home.open(home), 0, {}  # household -> its Memory, opened once
    try:
        while True:
            for name in [household] if household is not None else (
                    households.names_at(Engines.of(root.root).database_url) or [None]):
                mem = opened.get(name) or opened.setdefault(name, Memory(root, household=name))
                runs.reap(mem)
                run = runs.take(mem)
                if run is None:
                    continue
                print(f"memoloop: training run {run.id}{f' of {name}' if name else ''} on {runs.HERE}", flush=True)
                run = runs.wait(mem, runs.start(mem, run).id, poll_s=min(poll_s, 5.0))
                print(f"memoloop: run {run.id} {run.status}: {run.reason or run.error}", flush=True)
                done += 1
            if once:
                return done
            time.sleep(poll_s)
    finally:
        for mem in opened.values():
            mem.close()


def _train_and_gate(mem: Memory, run_id: int, cfg: TrainConfig, policy: GatePolicy) -> None:
    """build -> freeze -> train -> measure -> decide -> register, each step using the one before."""
    from retrain import trainer  # torch loads here, after main() set the process environment
    from retrain.measure import measure

    settings = Settings.load(mem.home)
    base_id = read_base_id(Path(settings.base_model)) if settings.base_model else BASE_ID
    active = registry.active(mem)
    if active and active.base_model and active.base_model != base_id:
        active = None  # trained on another base model: start from the bare base, and compare with it
    continuing = active is not None and cfg.start == "active"
    if continuing:
        cfg = replace(cfg, learning_rate=cfg.continue_learning_rate)
    data = datasets.build(mem, seed=cfg.seed, continuing=continuing, replay_ratio=cfg.replay_ratio)
    datasets.write_snapshot(data, mem.home.datasets_dir / f"run-{run_id}")  # what was trained, for the record
    runs.update(mem, run_id, dataset_digest=data.digest, train_records=len(data.train),
                eval_records=len(data.eval), config={**cfg.to_json(), "gate": policy.__dict__})
    if data.user_records < MIN_RECORDS:
        runs.update(mem, run_id, status="skipped", finished_at=now(),
                    reason=f"only {data.user_records} approved records; at least {MIN_RECORDS} are needed "
                           "(rate answers up or correct them)")
        return
    report = _progress_reporter(mem, run_id)
    report({"phase": "loading the base model"})
    base_path = Path(settings.base_model) if settings.base_model else prepare_default_model(mem.home.models_dir, print)
    base = trainer.load(base_path, cfg)
    report({"phase": "measuring the active adapter"})
    answers, tokens = policy.behaviour_questions, settings.max_new_tokens
    reference = measure(base, Path(active.path) if active else None, data, answers, tokens)
    base_loss = measure(base, None, replace(data, probe=[])).loss if active else reference.loss  # held-out only
    start = Path(active.path) if continuing else None

    def training(step: int, total: int, loss: float, eta: float) -> None:
        report({"phase": "train", "step": step, "total": total, "loss": round(loss, 4), "eta_s": round(eta)})

    candidate = trainer.train(data, cfg, base, start, training)
    steps = candidate.manifest.training["steps"]
    report({"phase": "measuring the candidate", "step": steps, "total": steps})
    result = measure(base, candidate, data, answers, tokens)
    agrees = agreement(data.user)
    promote, reason = decide(policy, {"active": reference.loss, "candidate": result.loss},
                             {"active": reference.probe_loss, "candidate": result.probe_loss},
                             {"active": reference.behaviour, "candidate": result.behaviour}, agrees)
    if promote and data.eval and data.user_records < LEARN_HELD_OUT_BELOW:
        # The held-out answers are the user's corrections too: with few records, a third of them.
        # The gate judged this candidate; its twin, trained the same way on everything, is kept.
        report({"phase": "learning the held-out answers too"})
        candidate.release()
        judged = candidate.manifest
        candidate = trainer.train(data.everything(), cfg, base, start, training)
        candidate.manifest.training["judged_twin"] = {k: judged.training[k] for k in ("steps", "best_epoch")}
        steps = candidate.manifest.training["steps"]
    version = registry.next_version(mem)
    candidate.manifest.version, candidate.manifest.run = version, run_id
    candidate.manifest.losses = {"base": base_loss, "active": reference.loss, "adapter": result.loss}
    candidate.manifest.probe_loss, candidate.manifest.behaviour = result.probe_loss, result.behaviour.__dict__
    out = candidate.save(mem.home.adapters_dir / version)
    losses = {"base": base_loss, "active": reference.loss, "candidate": result.loss}
    training = candidate.manifest.training
    metrics = {"against_notes": {"records": agrees.records, "questions": agrees.against},
               "probe_loss": {"active": reference.probe_loss, "candidate": result.probe_loss},
               "behaviour": {"active": reference.behaviour.__dict__, "candidate": result.behaviour.__dict__},
               "best_epoch": training["best_epoch"], "epoch_losses": training["epoch_losses"],
               "active_version": active.version if active else None,
               "started_from": candidate.manifest.started_from}
    report({"phase": "saving"})
    metrics["seconds"] = report.seconds
    registry.register(mem, version, out, run_id=run_id, base_model=base.id,
                      metrics={"eval_loss": candidate.manifest.losses, **metrics})
    if promote:
        registry.activate(mem, version)
    else:
        registry.reject(mem, version, reason)
    runs.update(mem, run_id, status="succeeded" if promote else "rejected", finished_at=now(),
                eval_loss=losses, metrics=metrics, adapter_version=version, promoted=promote, reason=reason,
                progress={"phase": "done", "step": steps, "total": steps})


def _progress_reporter(mem: Memory, run_id: int):
    """report(progress): writes the run's progress (train steps at most once a second) and adds up
    the seconds spent in each phase into `report.seconds`, which the run's metrics keep."""
    last, phase = [0.0], {"name": None, "since": time.monotonic()}
    seconds: dict[str, float] = {}

    def report(progress: dict) -> None:
        clock = time.monotonic()
        if progress.get("phase") != phase["name"]:
            if phase["name"]:
                seconds[phase["name"]] = round(seconds.get(phase["name"], 0) + clock - phase["since"], 1)
            phase.update(name=progress.get("phase"), since=clock)
        if clock - last[0] >= 1.0 or progress.get("phase") != "train":
            last[0] = clock
            runs.update(mem, run_id, progress=progress, heartbeat_at=now())
    report.seconds = seconds
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrain.worker", description=__doc__.split("\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", type=int, help="the retrain_run id to carry out")
    which.add_argument("--watch", action="store_true", help="carry out every run queued for a training machine, "
                                                            "until Ctrl-C")
    parser.add_argument("--home", required=True, help="the data home (shared with the app's machine)")
    parser.add_argument("--household", default=None, help="server mode: the household whose runs these are "
                                                          "(--watch: default every household)")
    args = parser.parse_args(argv)
    offline_environment()
    if args.watch:
        try:
            watch(args.home, args.household)
        except KeyboardInterrupt:
            pass
        except MemoloopError as exc:
            print(f"memoloop: error: {exc}", file=sys.stderr)
            return 2
        return 0
    execute(Memory.open(args.home, household=args.household), args.run)
    return 0


if __name__ == "__main__":
    offline_environment(training=True)  # its own process: spinning threads, below the app's priority
    sys.exit(main())
