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
    # Spinning OpenMP threads starve each other on 2 shared cores (generation fell to 1-3 tok/s);
    # this only takes effect if set before torch loads, so processes call this first.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    for name in ("bitsandbytes", "transformers", "sentence_transformers", "chromadb", "peft"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
