"""Training on another machine: with `memoloop settings --trainer worker` a retrain waits, queued,
until `python -m retrain.worker --watch` (on a machine sharing the database and the data home) takes
it; the adapter it hands back is verified by its manifest before it can be promoted. A training
machine that goes silent, or never comes, fails the run with what to do, and nothing else changes."""
import subprocess
import sys
import time
from datetime import timedelta

from agent.settings import Settings
from memory.dates import now
from retrain import registry, runs
from retrain.config import TrainConfig
from retrain.worker import training_mode
from tests.test_retrain import FAST, correct_twelve
from ui.cli import main


def test_a_run_waits_for_the_training_machine_which_trains_and_hands_back_a_verified_adapter(mem, home_dir,
                                                                                              tiny_gemma_dir, capsys):
    Settings(base_model=str(tiny_gemma_dir), max_new_tokens=24).save(mem.home)
    correct_twelve(mem)
    assert main(["settings", "--trainer", "worker", "--home", str(home_dir)]) == 0
    run = runs.spawn(mem, runs.create(mem, "manual", FAST))
    assert (run.status, run.host, run.pid) == ("queued", runs.ANY_TRAINER, None)
    assert run.progress["phase"] == "waiting for a training machine"
    time.sleep(1)
    assert runs.get(mem, run.id).status == "queued" and runs.reap(mem) == []  # waiting is not dying
    watcher = subprocess.Popen([sys.executable, "-m", "retrain.worker", "--watch", "--home", str(home_dir)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        done = runs.wait(mem, run.id, poll_s=0.5)
    finally:
        watcher.terminate()
        said = watcher.communicate(timeout=60)[0]
    assert f"training run {run.id} on {runs.HERE}" in said, said
    assert done.status == "succeeded" and done.host == runs.HERE, done.error or done.reason
    assert registry.active(mem).version == done.adapter_version  # registered: its weights matched the manifest
    assert (mem.home.logs_dir / f"retrain-{run.id}.log").read_text().strip()


def test_a_training_machine_that_stops_answering_or_never_comes_fails_the_run(mem, home_dir, capsys):
    assert main(["settings", "--trainer", "worker", "--home", str(home_dir)]) == 0
    before = registry.active(mem).version
    run = runs.spawn(mem, runs.create(mem, "manual", {}))
    runs.update(mem, run.id, heartbeat_at=now() - runs.TRAINER_WAIT - timedelta(minutes=1))
    assert runs.reap(mem) == [run.id]
    assert "no training machine took this run" in runs.get(mem, run.id).error
    assert "retrain.worker --watch" in runs.get(mem, run.id).error
    run = runs.create(mem, "manual", {})
    # taken by another machine, whose process number means nothing here (it is not ours to stop)
    runs.update(mem, run.id, status="running", host="gpu-box", pid=1, heartbeat_at=now())
    assert runs.reap(mem) == []
    runs.update(mem, run.id, heartbeat_at=now() - runs.STALE_AFTER - timedelta(seconds=5))
    assert runs.reap(mem) == [run.id]
    assert runs.get(mem, run.id).error.startswith("the trainer on gpu-box stopped answering")
    assert registry.active(mem).version == before
    assert main(["settings", "--trainer", "elsewhere", "--home", str(home_dir)]) == 2
    assert "trainer 'elsewhere' is not valid" in capsys.readouterr().err


def test_a_gpu_trains_qlora_and_a_cpu_lora_unless_the_run_asks():
    assert training_mode(TrainConfig(), {}, device="cuda").mode == "qlora"
    assert training_mode(TrainConfig(), {}, device="cpu").mode == "lora"
    assert training_mode(TrainConfig(mode="lora"), {"mode": "lora"}, device="cuda").mode == "lora"
    assert training_mode(TrainConfig(mode="qlora"), {"mode": "qlora"}, device="cpu").mode == "qlora"
