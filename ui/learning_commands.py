"""CLI commands of the feedback loop: dataset, retrain, adapters, schedule."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from memory.dates import iso
from memory.errors import MemoloopError
from memory.files import write_atomic
from ui.arguments import emit, open_memory



def cmd_dataset(args):
    from retrain import dataset

    mem = open_memory(args)
    if args.action == "import":
        from retrain.dataset_import import import_records

        if not args.file:
            raise MemoloopError("dataset import needs a FILE (.json Alpaca list or .csv)")
        result = import_records(mem, Path(args.file))
        emit(args, result, f"imported {result['imported']} training records"
             + (f" (skipped {result['duplicates']} already there)" if result["duplicates"] else ""))
        return
    data = dataset.build(mem)
    doc = {"train": [r.alpaca() for r in data.train], "eval": [r.alpaca() for r in data.eval]}
    if args.out:
        out = Path(args.out)
        try:
            write_atomic(out, json.dumps(doc["train"], ensure_ascii=False, indent=1), mode=0o644)
        except OSError as exc:
            raise MemoloopError(f"cannot write '{out}': {exc.strerror or exc}") from None
    m = data.manifest()
    emit(args, doc, f"{m['user_records']} approved record{'' if m['user_records'] == 1 else 's'}: "
         f"{m['train']} to train on "
         f"({m['replay']} replayed from the starter set), {m['eval']} held out"
         + (f"; {m['against_notes']} cite dates that are not in their notes" if m["against_notes"] else "")
         + _left_out(data.invented)
         + (f"; wrote the training list to {args.out}" if args.out else ""))


def _left_out(invented) -> str:
    if not invented:
        return ""
    one = len(invented) == 1
    ids = ", ".join(str(r.interaction_id) for r in invented)
    return (f"; left out {len(invented)} rated-up answer{'' if one else 's'} with dates not in their notes "
            f"(interaction{'' if one else 's'} {ids}; `memoloop feedback ID --correction TEXT` trains on your "
            "words instead)")


def run_json(run) -> dict:
    return {"id": run.id, "status": run.status, "promoted": run.promoted, "adapter": run.adapter_version,
            "eval_loss": {k: run.eval_loss.get(k) for k in ("base", "active", "candidate")},
            "reason": run.reason or run.error, "trigger": run.trigger, "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at), "log": run.log_path}


def cmd_retrain(args):
    from retrain import runs, schedule

    mem = open_memory(args)
    if not args.now:
        latest = runs.recent(mem, 1)
        if not latest:
            emit(args, {}, "no retrain has run yet; start one with: memoloop retrain --now")
            return
        emit(args, run_json(latest[0]), _run_line(latest[0]))
        return
    run = runs.spawn(mem, runs.create(mem, "manual", schedule.policy(mem).config))
    print(f"retrain run {run.id} started (log: {run.log_path})", file=sys.stderr)
    run = runs.wait(mem, run.id, on_progress=None if args.json else _progress_printer())
    emit(args, run_json(run), _run_line(run))
    return 0 if run.status != "failed" else 1


def _run_line(run) -> str:
    losses = ", ".join(f"{k} {v:.3f}" for k, v in run.eval_loss.items() if v is not None)
    verdict = {"succeeded": f"promoted {run.adapter_version}", "rejected": "kept the active adapter"}.get(
        run.status, run.status)
    return f"run {run.id}: {verdict}" + (f" ({losses})" if losses else "") + (f": {run.reason or run.error}" if (run.reason or run.error) else "")


def _progress_printer():
    from tqdm import tqdm

    bar = {"bar": None}

    def show(progress: dict):
        if progress.get("phase") == "train" and progress.get("total"):
            if bar["bar"] is None:
                bar["bar"] = tqdm(total=progress["total"], desc="training", unit="step", file=sys.stderr)
            bar["bar"].n = progress["step"]
            bar["bar"].set_postfix(loss=progress.get("loss"))
            bar["bar"].refresh()
        elif progress.get("phase"):
            print(f"  {progress['phase']}...", file=sys.stderr)
    return show


def adapter_json(a) -> dict:
    return {"version": a.version, "status": a.status, "path": a.path, "base_model": a.base_model,
            "run": a.run_id, "created_at": iso(a.created_at), "activated_at": iso(a.activated_at),
            "eval_loss": a.metrics.get("eval_loss"), "reason": a.metrics.get("rejected_because")}


def cmd_adapters(args):
    from retrain import registry

    mem = open_memory(args)
    if args.action == "activate":
        if not args.version:
            raise MemoloopError("adapters activate needs a VERSION (see: memoloop adapters list)")
        a = registry.activate(mem, args.version)
        emit(args, adapter_json(a), f"{a.version} is now the active adapter")
    elif args.action == "rollback":
        a = registry.rollback(mem)
        emit(args, adapter_json(a), f"rolled back: {a.version} is the active adapter again")
    else:
        rows = registry.adapters(mem)
        lines = [f"{a.version:<8} {a.status:<9} {a.path}" for a in rows]
        emit(args, [adapter_json(a) for a in rows], "\n".join(lines) or "no adapters yet")


def schedule_json(mem) -> dict:
    from retrain import runs, schedule

    pol = schedule.policy(mem)
    latest = runs.recent(mem, 1)
    last = None
    if latest:
        r = latest[0]
        last = {"id": r.id, "status": r.status, "trigger": r.trigger, "reason": r.reason or r.error,
                "at": iso(r.finished_at or r.started_at or r.created_at)}
    return {"cron": pol.cron, "paused": pol.paused, "next_run": iso(schedule.next_run(mem)),
            "min_new_records": pol.min_new_records, "last_run": last}


def cmd_schedule(args):
    from retrain import schedule

    mem = open_memory(args)
    if args.action == "set":
        if not args.cron and args.min_new_records is None:
            raise MemoloopError("schedule set needs a CRON like '30 3 * * *' and/or --min-new-records N")
        schedule.set_policy(mem, cron=args.cron, min_new_records=args.min_new_records)
    elif args.action in ("pause", "resume"):
        schedule.set_policy(mem, paused=args.action == "pause")
    elif args.action == "run":
        return _run_scheduler(mem)
    doc = schedule_json(mem)
    when = f"next retrain {doc['next_run']}" if doc["next_run"] else "paused"
    emit(args, doc, f"{doc['cron']} (min {doc['min_new_records']} new records): {when}")


def _run_scheduler(mem) -> int:
    import time

    from retrain import schedule

    scheduler = schedule.start(mem)
    print(f"scheduler running for {mem.home.root}; next retrain: {schedule.next_run(mem) or 'paused'} "
          "(Ctrl-C to stop)", file=sys.stderr)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        scheduler.shutdown(wait=False)
        print("scheduler stopped", file=sys.stderr)
    return 0


def register(sub, common: argparse.ArgumentParser) -> None:
    """The learning loop's commands, on the parser ui/cli.py builds."""
    p = sub.add_parser("dataset", parents=[common], help="the Alpaca records the next retrain uses; import your own")
    p.add_argument("action", nargs="?", choices=["show", "import"], default="show")
    p.add_argument("file", nargs="?", help="with import: a .json Alpaca list or .csv with instruction,input,output")
    p.add_argument("--out", help="write the training list (Alpaca JSON) to this file")
    p.set_defaults(run=cmd_dataset)

    p = sub.add_parser("retrain", parents=[common], help="retrain the adapter on your approved answers")
    p.add_argument("--now", action="store_true", help="start a retrain now and wait for it")
    p.set_defaults(run=cmd_retrain)

    p = sub.add_parser("schedule", parents=[common], help="when retraining happens by itself")
    p.add_argument("action", nargs="?", choices=["show", "set", "pause", "resume", "run"], default="show")
    p.add_argument("cron", nargs="?", help="with set: 5-field cron in local time, e.g. '30 3 * * *'")
    p.add_argument("--min-new-records", type=int, help="with set: retrain only after this many new records")
    p.set_defaults(run=cmd_schedule)

    p = sub.add_parser("adapters", parents=[common], help="list, activate or roll back adapters")
    p.add_argument("action", nargs="?", choices=["list", "activate", "rollback"], default="list")
    p.add_argument("version", nargs="?", help="with activate: the version to make active")
    p.set_defaults(run=cmd_adapters)
