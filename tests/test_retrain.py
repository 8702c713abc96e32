"""The feedback loop end to end on a tiny random Gemma: runs, gate, promotion, faults."""

import pytest

from agent.settings import Settings
from memory.interactions import add_feedback, save_interaction
from memory.models import Interaction
from retrain import manifest as manifests
from retrain import registry, runs
from retrain.gate import Agreement, Behaviour, GatePolicy, decide

# A random two-layer model learns slowly: a small margin lets its real (~1%) improvement count.
FAST = {"max_steps": 12, "grad_accum": 4, "learning_rate": 3e-2, "max_len": 256, "gate": {"margin": 0.005}}


def correct_twelve(mem, shift: int = 0) -> None:
    """Twelve answers corrected; with a `shift`, each gets the correction of another question."""
    for i in range(12):
        iid = save_interaction(mem, Interaction(
            question=f"When did Mochi get her vaccine number {i}?",
            history_block=f"History:\n- 2024-0{1 + i % 9}-1{i % 10} (Mochi, vaccine): FVRCP booster {i}",
            answer="I am not sure.", model_answer="I am not sure.")).id
        j = (i + shift) % 12
        add_feedback(mem, iid, rating=-1, correction=f"Mochi had FVRCP booster {j} on 2024-0{1 + j % 9}-1{j % 10}.")


@pytest.fixture
def learner(mem, tiny_gemma_dir):
    """A home on the tiny base with a dozen corrected answers."""
    Settings(base_model=str(tiny_gemma_dir), max_new_tokens=24).save(mem.home)
    correct_twelve(mem)
    return mem


def run_to_end(mem, config):
    run = runs.spawn(mem, runs.create(mem, "manual", config))
    return runs.wait(mem, run.id, poll_s=0.5)


def test_a_better_candidate_is_promoted_and_a_worse_one_rejected(learner):
    first = run_to_end(learner, FAST)
    assert first.status == "succeeded", first.error or first.reason
    assert first.promoted and first.eval_loss["candidate"] < first.eval_loss["active"]
    assert registry.active(learner).version == first.adapter_version
    assert (learner.home.adapters_dir / first.adapter_version / "meta.json").exists()
    assert (learner.home.datasets_dir / f"run-{first.id}" / "manifest.json").exists()
    assert first.metrics["started_from"] is None  # the starter was trained on another base: a fresh adapter
    kept = manifests.read(learner.home.adapters_dir / first.adapter_version)
    assert first.eval_records == 4 and "judged_twin" in kept.training  # 12 records: the 4 held out learned too
    assert kept.training["records"] == {"train": first.train_records + 2 * 4, "eval": 0}

    # a candidate that learns nothing (learning rate 0) cannot beat the adapter that did
    second = run_to_end(learner, {**FAST, "learning_rate": 0.0, "continue_learning_rate": 0.0})
    assert second.status == "rejected" and not second.promoted
    assert "does not beat the active adapter" in second.reason
    assert second.metrics["started_from"] == first.adapter_version  # training went on from the active adapter
    saved = manifests.read(learner.home.adapters_dir / second.adapter_version)
    assert (saved.version, saved.run, saved.started_from) == (second.adapter_version, second.id, first.adapter_version)
    assert saved.losses == {"base": second.eval_loss["base"], "active": second.eval_loss["active"],
                            "adapter": second.eval_loss["candidate"]}
    assert registry.active(learner).version == first.adapter_version
    rejected = [a for a in registry.adapters(learner) if a.version == second.adapter_version]
    assert rejected[0].status == "rejected"


def test_corrections_swapped_between_questions_are_trained_but_not_promoted(mem, tiny_gemma_dir):
    Settings(base_model=str(tiny_gemma_dir), max_new_tokens=24).save(mem.home)
    correct_twelve(mem, shift=5)
    before = registry.active(mem)
    run = run_to_end(mem, FAST)
    assert run.status == "rejected" and not run.promoted
    assert registry.active(mem).version == before.version
    assert run.reason.startswith("12 of your 12 training answers cite dates that are not in the notes")
    assert len(run.metrics["against_notes"]["questions"]) == 12
    registry.activate(mem, run.adapter_version)  # the user can still overrule the gate
    assert registry.active(mem).version == run.adapter_version


def test_too_little_data_is_skipped(mem, tiny_gemma_dir):
    Settings(base_model=str(tiny_gemma_dir), max_new_tokens=24).save(mem.home)
    run = run_to_end(mem, FAST)
    assert run.status == "skipped" and "only 0 approved records" in run.reason
    assert not [a for a in registry.adapters(mem) if a.version != "starter"]


def test_gate_rules():
    policy = GatePolicy(margin=0.02, probe_tolerance=0.05)
    good = Behaviour(stopped=1.0, facts=0.8)
    ok, why = decide(policy, {"active": 1.0, "candidate": 0.7}, {"active": 1.0, "candidate": 1.04},
                     {"active": good, "candidate": good})
    assert ok and "1.000 -> 0.700" in why
    # measured on the real model: probe 0.129 -> 0.151 is +17% but 0.022 nats, noise for a retrain
    ok, _ = decide(policy, {"active": 0.749, "candidate": 0.427}, {"active": 0.129, "candidate": 0.151},
                   {"active": good, "candidate": good})
    assert ok
    ok, why = decide(policy, {"active": 1.0, "candidate": 0.99}, {"active": 1, "candidate": 1},
                     {"active": good, "candidate": good})
    assert not ok and "does not beat" in why
    ok, why = decide(policy, {"active": 1.0, "candidate": 0.7}, {"active": 1.0, "candidate": 1.2},
                     {"active": good, "candidate": good})
    assert not ok and "probe loss regressed" in why
    ok, why = decide(policy, {"active": 1.0, "candidate": 0.7}, {"active": 1.0, "candidate": 1.0},
                     {"active": good, "candidate": Behaviour(stopped=0.5, facts=0.8)})
    assert not ok and "behaviour probe" in why
    # on six answers, one answer's worth is noise: one more that runs on, or carries fewer facts
    six = Behaviour(stopped=5 / 6, facts=0.8 - 1 / 6, grounded=5 / 6, answers=6)
    ok, _ = decide(policy, {"active": 1.0, "candidate": 0.7}, {"active": 1.0, "candidate": 1.0},
                   {"active": Behaviour(1.0, 0.8, 1.0, 6), "candidate": six})
    assert ok
    two_worse = Behaviour(stopped=4 / 6, facts=0.8, grounded=1.0, answers=6)
    ok, why = decide(policy, {"active": 1.0, "candidate": 0.7}, {"active": 1.0, "candidate": 1.0},
                     {"active": Behaviour(1.0, 0.8, 1.0, 6), "candidate": two_worse})
    assert not ok and "behaviour probe" in why
    # the user's answers disagree with their own notes: swapped corrections poison the held-out split
    # too (measured on the real model: held-out 1.689 -> 0.939 on swapped answers), so the data decides
    swapped = Agreement(records=30, against=["How heavy is Luna?"] * 17)
    ok, why = decide(policy, {"active": 1.689, "candidate": 0.939}, {"active": 0.129, "candidate": 0.149},
                     {"active": good, "candidate": good}, swapped)
    assert not ok and why.startswith("17 of your 30 training answers cite dates") and "How heavy is Luna?" in why
    ok, _ = decide(policy, {"active": 1.0, "candidate": 0.7}, {"active": 1.0, "candidate": 1.0},
                   {"active": good, "candidate": good}, Agreement(records=4, against=["one"]))
    assert ok  # a quarter is allowed: a correction may cite what recall did not find
