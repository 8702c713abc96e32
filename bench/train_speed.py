"""Training speed: our trainer vs a plain peft + transformers.Trainer script, same records and settings.

    .venv/bin/python -m bench.train_speed [--records 64] [--steps 8] [--retrain-200]

Both train LoRA r=16 on all 7 projections of the real Gemma 3 270M, 8 examples per optimizer
step, completion-only loss, same base dtype. The plain script is what a fine-tuning tutorial
writes: padded batches of 8 and full-vocabulary logits. Each variant runs in a child process
of this run (so each peak RSS is its own) and the table puts them side by side.
With --retrain-200, also the wall time of our trainer on 200 records (1.5 epochs).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.common import table

REPO = Path(__file__).resolve().parent.parent
STARTER = REPO / "agent" / "packs" / "cat_care" / "starter.json"


def base_dir() -> Path:
    from agent.convert import prepare_default_model

    return prepare_default_model(REPO / ".cache" / "models", progress=lambda m: print(m, file=sys.stderr))


def records(n: int) -> list[dict]:
    return json.loads(STARTER.read_text())[:n]


def ours(n: int, steps: int | None, epochs: float = 1.5) -> dict:
    from retrain import trainer
    from retrain.config import TrainConfig
    from retrain.dataset import Dataset, Record

    cfg = TrainConfig(max_steps=steps, epochs=epochs)
    base = trainer.load(base_dir(), cfg)
    started = time.perf_counter()
    stats = trainer.train(Dataset([Record.of(r) for r in records(n)], [], []), cfg, base).manifest.training
    seconds = time.perf_counter() - started
    return {"examples": stats["samples_seen"], "seconds": seconds, "loss": stats["train_loss"]["last10_mean"]}


def plain(n: int, steps: int) -> dict:
    """A tutorial-style script: tokenize, pad to the batch, Trainer with use_cpu."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from agent.model import compute_dtype
    from agent.prompt import render_prompt, render_target
    from retrain.config import PROJECTIONS

    path = base_dir()
    tok = AutoTokenizer.from_pretrained(path)
    tok.padding_side = "right"
    model = AutoModelForCausalLM.from_pretrained(path, dtype=compute_dtype("cpu"), attn_implementation="eager")
    torch.manual_seed(0)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=list(PROJECTIONS),
                                             task_type="CAUSAL_LM"), autocast_adapter_dtype=True)
    rows = []
    for r in records(n):
        prompt = tok(render_prompt(r["instruction"], r.get("input", ""))).input_ids
        answer = tok(render_target(r["output"]), add_special_tokens=False).input_ids
        rows.append({"input_ids": prompt + answer, "labels": [-100] * len(prompt) + answer})
    args = TrainingArguments(output_dir="/tmp/memoloop-bench-plain", per_device_train_batch_size=8, max_steps=steps,
                             learning_rate=2e-4, use_cpu=True, report_to="none", logging_steps=1, save_strategy="no",
                             seed=0, dataloader_num_workers=0, bf16=compute_dtype("cpu") == torch.bfloat16)
    trainer = Trainer(model=model, args=args, train_dataset=rows,
                      data_collator=DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100))
    started = time.perf_counter()
    out = trainer.train()
    seconds = time.perf_counter() - started
    return {"examples": steps * 8, "seconds": seconds, "loss": out.training_loss}


def child(variant: str, n: int, steps: int | None) -> dict:
    result = {"ours": ours, "plain": plain}[variant](n, steps)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return result


def run_child(variant: str, n: int, steps: int | None) -> dict:
    cmd = [sys.executable, "-m", "bench.train_speed", "--child", variant, "--records", str(n), "--steps", str(steps or 0)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=64, help="starter records to train on")
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps of 8 examples each (0: 1.5 epochs)")
    parser.add_argument("--retrain-200", action="store_true", help="also time our trainer on 200 records")
    parser.add_argument("--child", choices=["ours", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.records, args.steps or None)))
        return
    base_dir()  # convert once before timing anything
    results = {v: run_child(v, args.records, args.steps) for v in ("plain", "ours")}
    rows = [[v, r["examples"], r["seconds"], r["examples"] / r["seconds"], r["peak_rss_mb"], r["loss"]]
            for v, r in results.items()]
    print(table(["trainer", "examples", "seconds", "examples/s", "peak RSS MB", "final loss"], rows))
    ratio = (rows[1][3]) / rows[0][3]
    print(f"\nours / plain examples/s: {ratio:.2f}x (target >= 1.0x, goal 1.5x)")
    if args.retrain_200:
        r = run_child("ours", 200, None)
        print(f"retrain on 200 records (1.5 epochs, {r['examples']} examples): {r['seconds'] / 60:.1f} min, "
              f"peak RSS {r['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
