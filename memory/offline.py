"""The offline, quiet environment every memoloop process runs in (CLI, UI, trainer)."""
from __future__ import annotations

import logging
import os


def offline_environment() -> None:
    """No hub access, no telemetry, and no library chatter (weight-loading bars, optional-kernel warnings)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("bitsandbytes", "transformers", "sentence_transformers", "chromadb", "peft"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
