"""A retrain of 200 user records on the real 270M model, under named run configs, side by side.

    .venv/bin/python -m bench.retrain_speed                        # today's defaults, ~15 min on 2 cores
    .venv/bin/python -m bench.retrain_speed --variants base,now,dropout --records 60

The 200 records are starter-format records the shipped starter adapter never trained on (its
held-out tenth, minus the gate's probe), imported as the user's own. Each variant goes through
the real run path (worker subprocess, measure, gate) in its own home holding the same records:
- "base": a fresh LoRA on the bare base with 600 starter records replayed (the first retrain on
  another base model, and every retrain before continuing existed);
- "now": today's defaults, continuing the active adapter (the starter);
- "dropout": the same with the LoRA dropout of the previous sessions (0.05).
Reported: wall time, steps, held-out loss and the starter probe (forgetting), active -> candidate,
and the seconds of each phase.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.common import table


def home_with_records(root: Path, records: list[dict]):
    from agent.settings import Settings
    from memory.store import Memory
    from retrain import registry
    from retrain.dataset_import import import_records

    mem = Memory.open(root)
    base = Path(__file__).resolve().parent.parent / ".cache" / "models" / "gemma-3-270m"
    Settings(base_model=str(base)).save(mem.home)
    registry.ensure_starter(mem)
    path = root.parent / f"{root.name}-records.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    import_records(mem, path)
    return mem


def user_records(n: int) -> list[dict]:
    from retrain.dataset import PROBE_SIZE, STARTER, starter_held_out

    rows = json.loads(STARTER.read_text(encoding="utf-8"))
    unseen = sorted((r for r in rows if starter_held_out(r)),
                    key=lambda r: json.dumps(r, sort_keys=True))
    from retrain.dataset import Record

    probe = {r.key for r in sorted((Record.of(r) for r in unseen), key=lambda r: r.key)[:PROBE_SIZE]}
    return [r for r in unseen if Record.of(r).key not in probe][:n]


# Each variant is a run config (TrainConfig fields) on top of today's defaults.
VARIANTS = {
    "base": ("from the base (the first retrains)", {"start": "base"}),
    "now": ("continuing, today's defaults", {}),
    "dropout": ("continuing, LoRA dropout 0.05 (as before)", {"dropout": 0.05}),
}


def main() -> None:
    from retrain import runs

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--variants", default="now", help=f"comma-separated, of {', '.join(VARIANTS)}")
    args = parser.parse_args()
    records = user_records(args.records)
    rows = []
    with tempfile.TemporaryDirectory(prefix="memoloop-speed-") as tmp:
        for key in args.variants.split(","):
            label, config = VARIANTS[key]
            mem = home_with_records(Path(tmp) / key, records)
            run = runs.wait(mem, runs.spawn(mem, runs.create(mem, "manual", config)).id, poll_s=5)
            minutes = (run.finished_at - run.started_at).total_seconds() / 60
            loss, probe = run.eval_loss or {}, (run.metrics or {}).get("probe_loss") or {}
            rows.append([label, f"{minutes:.1f}", run.progress.get("total"), f"{run.train_records}/{run.eval_records}",
                         f"{loss.get('active', 0):.3f} -> {loss.get('candidate', 0):.3f}",
                         f"{probe.get('active', 0):.3f} -> {probe.get('candidate', 0):.3f}",
                         f"{run.status}: {run.reason or run.error}"])
            print(rows[-1], (run.metrics or {}).get("seconds"), flush=True)
    print(table(["retrain of " + str(len(records)) + " user records", "minutes", "steps", "train/held-out",
                 "held-out loss", "starter probe", "verdict"], rows))


if __name__ == "__main__":
    main()
