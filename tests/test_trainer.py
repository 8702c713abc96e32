"""The training code path on a tiny random Gemma3 with the real tokenizer (fast, no mocks)."""
from __future__ import annotations

import copy
import json

import pytest
import torch
from safetensors import safe_open

from agent.model import compute_dtype, load_model
from agent.prompt import END, context_block, Note, render_prompt, render_target
from memory.errors import MemoloopError
from retrain import manifest as manifests
from retrain import trainer
from retrain.manifest import Manifest
from retrain.config import TrainConfig
from retrain.trainer import (add_lora, answer_loss, encode_record, eval_loss, fit, load_for_training,
                             round_adapter_to_bf16, save_adapter)

RECORDS = [
    {"instruction": "When did Mochi last see the vet?",
     "input": context_block([Note("2024-02-13", "Mochi", "vet_visit", "Checkup with Dr. Tanaka, all fine.")]),
     "output": "Mochi last saw Dr. Tanaka on 2024-02-13 for a checkup, and all was fine."},
    {"instruction": "Has Luna vomited before?", "input": context_block([]),
     "output": "There is no record of vomiting for Luna. Call your vet if she vomits more than once."},
    {"instruction": "How much does Mochi weigh?",
     "input": context_block([Note("2025-07-01", "Mochi", "weight", "4.2 kg at the clinic.")]),
     "output": "On 2025-07-01 Mochi weighed 4.2 kg."},
]
FAST = dict(grad_accum=2, learning_rate=2e-2, warmup_steps=0, seed=1, device="cpu")


@pytest.fixture(scope="module")
def tiny_dir(gemma_dir, tmp_path_factory):
    """Two random Gemma3 layers, wide enough for NF4 blocks (64) and with logits big enough to learn."""
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    folder = tmp_path_factory.mktemp("tiny-gemma-64")
    config = Gemma3TextConfig(vocab_size=262144, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=32, sliding_window=64,
                              initializer_range=0.2, pad_token_id=0, bos_token_id=2, eos_token_id=[1, 106])
    torch.manual_seed(0)
    Gemma3ForCausalLM(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(gemma_dir).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tokenizer(tiny_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_dir)


def test_labels_mask_the_prompt_and_end_with_end_of_turn(tokenizer):
    record = RECORDS[0]
    example = encode_record(tokenizer, record)
    prompt, answer = example.ids[:example.n_prompt], example.ids[example.n_prompt:]
    assert example.ids[0] == 2 and example.ids.count(2) == 1  # <bos> once, added by the tokenizer
    assert example.labels[:example.n_prompt] == [-100] * example.n_prompt
    assert example.labels[example.n_prompt:] == answer
    assert answer[-1] == 106 and answer.count(106) == 1
    assert prompt[-3:] == [105, tokenizer.convert_tokens_to_ids("model"), 107]  # "<start_of_turn>model\n"
    assert tokenizer.decode(prompt) == "<bos>" + render_prompt(record["instruction"], record["input"])
    assert tokenizer.decode(answer) == render_target(record["output"]) and render_target("x").endswith(END)


def test_encoding_skips_long_records_and_rejects_broken_ones(tokenizer):
    example = encode_record(tokenizer, RECORDS[0])
    assert encode_record(tokenizer, RECORDS[0], max_len=len(example.ids)) == example
    assert encode_record(tokenizer, RECORDS[0], max_len=len(example.ids) - 1) is None
    with pytest.raises(MemoloopError, match="not an Alpaca record"):
        encode_record(tokenizer, {"instruction": "no output field"})


def test_answer_position_logits_give_the_full_logits_loss(tiny_dir, tokenizer):
    model, _ = load_for_training(tiny_dir, TrainConfig(device="cpu"))
    model.float()
    example = encode_record(tokenizer, RECORDS[0])
    with torch.no_grad():
        full = model(input_ids=torch.tensor([example.ids]), labels=torch.tensor([example.labels])).loss
        rows, n = answer_loss(model, example)
    assert n == len(example.ids) - example.n_prompt
    assert rows.item() / n == pytest.approx(full.item(), rel=1e-5)


def test_lora_steps_reduce_the_answer_loss(tiny_dir, tokenizer):
    cfg = TrainConfig(max_steps=8, **FAST)
    model, _ = load_for_training(tiny_dir, cfg)
    model = add_lora(model, cfg)
    trainable = {p.dtype for p in model.parameters() if p.requires_grad}
    frozen = {p.dtype for p in model.parameters() if not p.requires_grad}
    assert trainable == {torch.float32} and frozen == {compute_dtype("cpu")}  # bf16 base, fp32 LoRA
    before = eval_loss(model, tokenizer, RECORDS)
    seen = []
    stats = fit(model, tokenizer, RECORDS, cfg, lambda step, total, loss, eta: seen.append((step, total)))
    after = eval_loss(model, tokenizer, RECORDS)
    assert seen[-1] == (8, 8) and stats["steps"] == 8 and stats["samples_seen"] == 16
    assert after < before - 2.0, (before, after)


def test_lora_init_is_seeded(tiny_dir):
    base, _ = load_for_training(tiny_dir, TrainConfig(device="cpu"))

    def lora_a(seed: int) -> torch.Tensor:
        model = add_lora(copy.deepcopy(base), TrainConfig(seed=seed))
        return torch.cat([p.detach().flatten() for n, p in model.named_parameters() if "lora_A" in n])

    assert torch.equal(lora_a(5), lora_a(5)) and not torch.equal(lora_a(5), lora_a(6))


def test_qlora_nf4_on_cpu_trains_after_an_eval_pass(tiny_dir, tokenizer):
    import bitsandbytes as bnb

    cfg = TrainConfig(mode="qlora", max_steps=6, **FAST)
    model, _ = load_for_training(tiny_dir, cfg)
    nf4 = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(nf4) == 14 and nf4[0].weight.quant_state.quant_type == "nf4"
    model = add_lora(model, cfg)
    before = eval_loss(model, tokenizer, RECORDS)  # an eval pass must not repack weights for inference
    fit(model, tokenizer, RECORDS, cfg)
    assert not any(getattr(m.weight.quant_state, "packing_format_for_cpu", False) for m in nf4)
    assert eval_loss(model, tokenizer, RECORDS) < before - 1.0


def test_saved_adapter_is_bf16_and_reloads_with_the_same_outputs(tiny_dir, tokenizer, tmp_path):
    cfg = TrainConfig(max_steps=6, **FAST)
    model, _ = load_for_training(tiny_dir, cfg)
    model = add_lora(model, cfg)
    fit(model, tokenizer, RECORDS, cfg)
    round_adapter_to_bf16(model)
    out = tmp_path / "adapter"
    save_adapter(model, out, Manifest(version="t1", base_model="tiny", dataset_digest="", config={}, losses={}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter"]  # no temp folder left behind
    with safe_open(out / "adapter_model.safetensors", "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.bfloat16}
    assert {p.dtype for p in model.parameters() if p.requires_grad} == {torch.float32}

    loaded = load_model(tiny_dir, out, device="cpu")
    assert loaded.adapter_version == "t1"
    assert eval_loss(loaded.model, tokenizer, RECORDS) == pytest.approx(eval_loss(model, tokenizer, RECORDS),
                                                                        abs=1e-2)
    # Same weights on both sides (bf16 values); compare in fp32 so bf16 near-ties cannot flip argmax.
    ids = torch.tensor([encode_record(tokenizer, RECORDS[1]).ids])
    model.eval().float()
    loaded.model.float()
    with torch.no_grad():
        mine, theirs = model(input_ids=ids).logits, loaded.model(input_ids=ids).logits
    assert torch.allclose(mine, theirs, atol=1e-4) and torch.equal(mine.argmax(-1), theirs.argmax(-1))

    merged = load_model(tiny_dir, out, device="cpu", merge=True)
    assert not hasattr(merged.model, "peft_config") and merged.adapter_version == "t1"
    assert eval_loss(merged.model, tokenizer, RECORDS) == pytest.approx(eval_loss(model, tokenizer, RECORDS),
                                                                        abs=0.05)


def test_continuing_an_adapter_keeps_its_shape_and_takes_this_runs_dropout(tiny_dir, tmp_path):
    """An adapter saved with dropout 0.05 (as the shipped starter was) trains on without it: the
    random masks cost a third of a CPU step."""
    from retrain.dataset import Dataset, Record

    data = Dataset([Record.of(r) for r in RECORDS], [], [])
    first = TrainConfig(max_steps=2, dropout=0.05, r=8, alpha=16, **FAST)
    base = trainer.load(tiny_dir, first)
    candidate = trainer.train(data, first, base)
    candidate.manifest.version = "v1"
    candidate.save(tmp_path / "v1")
    candidate.release()
    assert json.loads((tmp_path / "v1" / "adapter_config.json").read_text())["lora_dropout"] == 0.05

    on = trainer.train(data, TrainConfig(max_steps=2, **FAST), base, start_from=tmp_path / "v1")
    dropouts = {type(m).__name__ for n, m in on.model.named_modules() if n.endswith("lora_dropout.default")}
    assert dropouts == {"Identity"} and on.manifest.started_from == "v1"
    on.manifest.version = "v2"
    on.save(tmp_path / "v2")
    saved = json.loads((tmp_path / "v2" / "adapter_config.json").read_text())
    assert saved["lora_dropout"] == 0.0 and saved["r"] == 8  # the rank it was trained with, not the config's 16


def test_cli_trains_and_writes_adapter_with_manifest(tiny_dir, tmp_path, capsys):
    data = tmp_path / "records.json"
    data.write_text(json.dumps({"train": RECORDS, "eval": RECORDS[:1]}))
    out = tmp_path / "run" / "adapter"
    code = trainer.main(["--records", str(data), "--out", str(out), "--base", str(tiny_dir),
                         "--steps", "3", "--seed", "3", "--device", "cpu"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    meta = manifests.read(out)
    assert printed == meta.to_json() and printed["format"] == manifests.FORMAT
    assert {"adapter_model.safetensors", "adapter_config.json", "meta.json"} <= {p.name for p in out.iterdir()}
    assert meta.version == "adapter" and meta.started_from is None
    assert meta.training["steps"] == 3 and meta.config["seed"] == 3 and meta.config["r"] == 16
    assert meta.training["records"] == {"train": 3, "eval": 1} and len(meta.dataset_digest) == 64
    assert meta.losses["base"] > 0 and meta.losses["adapter"] > 0
    assert meta.weights_sha256 == manifests.weights_sha256(out)
    adapter_config = json.loads((out / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == meta.base_model == tiny_dir.name


def test_cli_names_a_bad_records_file(tmp_path, capsys):
    bad = tmp_path / "records.json"
    bad.write_text('{"rows": []}')
    assert trainer.main(["--records", str(bad), "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and err.count("\n") == 1 and not (tmp_path / "a").exists()
