"""Shared fixtures: every test gets its own data home; nothing touches the user's real one."""
from __future__ import annotations

import itertools
import os
import selectors
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from memory.engines import CHROMA_ENV, DATABASE_ENV, Engines, chroma_server, create_database, postgres_server
from memory.errors import MemoloopError
from memory.offline import offline_environment

REPO = Path(__file__).resolve().parent.parent
offline_environment()  # as every memoloop process does first: offline, quiet, torch threads that sleep
# MEMOLOOP_TEST_INDEX=server runs the tests on a Chroma server and a PostgreSQL cluster started for
# the session, each test in a database of its own (`make test` runs the memory, recall, transfer and
# schedule tests so, after the whole suite on the embedded engines).
SERVER_MODE = os.environ.get("MEMOLOOP_TEST_INDEX") == "server"
_databases = itertools.count()


@pytest.fixture(scope="session")
def _session_index(tmp_path_factory):
    """The Chroma server every test's home uses in server mode; None on the embedded index."""
    if not SERVER_MODE:
        yield None
        return
    with chroma_server(tmp_path_factory.mktemp("chroma-server") / "data") as url:
        yield url


@pytest.fixture(scope="session")
def _session_database(tmp_path_factory):
    """The PostgreSQL cluster in server mode (its `postgres` database's URL); None on SQLite."""
    if not SERVER_MODE:
        yield None
        return
    yield from _cluster("memoloop-pg", "server mode needs PostgreSQL: ")


@pytest.fixture(scope="session")
def pg_server(_session_database):
    """A PostgreSQL cluster for the tests that need one in either mode (its `postgres` database's URL)."""
    if _session_database:
        yield _session_database
        return
    yield from _cluster("memoloop-pgt")


def _cluster(name: str, why: str = ""):
    """A throwaway PostgreSQL cluster's URL while the fixture lasts; without PostgreSQL, a skip."""
    folder = Path(f"/tmp/{name}-{os.getpid()}")  # short: a Unix socket's path has at most 107 bytes
    try:
        with postgres_server(folder, durable=False) as url:
            yield url
    except MemoloopError as exc:
        pytest.skip(f"{why}{exc}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch, _session_index, _session_database):
    """Point MEMOLOOP_HOME at a temp dir so a forgotten --home never writes to ~/.local/share, and
    the engines at the session's: a database of the test's own on its PostgreSQL cluster (saved in
    the home's engines.json), its Chroma server (the user's own $MEMOLOOP_DATABASE_URL and
    $MEMOLOOP_CHROMA_URL are never used)."""
    monkeypatch.setenv("MEMOLOOP_HOME", str(tmp_path / "home"))
    if _session_index is None:
        monkeypatch.delenv(CHROMA_ENV, raising=False)
    else:
        monkeypatch.setenv(CHROMA_ENV, _session_index)
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    if _session_database is not None:  # the test's home keeps its notes there; any other home it makes, in SQLite
        (tmp_path / "home").mkdir(mode=0o700)
        Engines(database_url=create_database(_session_database, f"test{next(_databases)}")).save(tmp_path / "home")
    yield
    resources = sys.modules.get("ui.resources")  # a UI test opened this home's journal in the page cache
    if resources is not None:
        resources._memory.clear()  # closes it, as the app's "Clear cache" would


@pytest.fixture
def home_dir(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def mem(home_dir):
    from memory.store import Memory

    with Memory.open(home_dir) as mem:
        yield mem


@pytest.fixture
def cats(mem):
    """Two cats and a few dated notes each, plus household notes."""
    from memory import journal

    journal.add_subject(mem, "Mochi")
    journal.add_subject(mem, "Luna")
    notes = [
        ("Mochi", "2024-02-10", "symptom", "Mochi sneezed twice this morning"),
        ("Mochi", "2024-02-13", "vet_visit", "Dr. Tanaka diagnosed a herpesvirus flare and prescribed L-lysine"),
        (None, "2025-01-10", "note", "We moved to the new flat on Elm Street"),
        ("Mochi", "2025-01-15", "symptom", "Sneezing came back after the move, clear discharge from the nose"),
        ("Luna", "2025-03-01", "symptom", "Luna sneezing a lot, watery eyes"),
        ("Mochi", "2025-06-01", "appetite", "Mochi ate all her breakfast"),
        ("Mochi", "2025-07-01", "weight", "Mochi weighs 4.2 kg"),
        ("Luna", "2025-08-01", "vaccine", "Luna got her FVRCP booster at the clinic"),
        ("Luna", "2025-09-20", "litter", "Luna peed outside the litter box on the bathmat"),
    ]
    ids = {}
    for subject, at, kind, text in notes:
        ids[text] = journal.log(mem, text, subject=subject, at=at, kind=kind).id
    return ids


def run_cli(*args: str, home: Path, input: str | None = None) -> subprocess.CompletedProcess:
    """The installed console script, as a user would run it."""
    exe = Path(sys.executable).with_name("memoloop")
    return subprocess.run([str(exe), *args, "--home", str(home)], capture_output=True, text=True,
                          input=input, timeout=300)


def first_line(stream, timeout: float) -> str:
    """The first line a child process prints, waiting at most `timeout` seconds for it.

    With epoll, not select(): after a few hundred tests the pipe's descriptor may be >= 1024.
    """
    with selectors.DefaultSelector() as waiting:
        waiting.register(stream, selectors.EVENT_READ)
        assert waiting.select(timeout=timeout), f"the process printed nothing within {timeout:.0f} s"
    return stream.readline()


MODEL_CACHE = REPO / ".cache" / "models"  # git-ignored; the real model is converted once per checkout


@pytest.fixture(scope="session")
def gemma_dir() -> Path:
    """The real Gemma 3 270M, assembled from its PyPI package and converted once."""
    from agent.convert import prepare_default_model

    return prepare_default_model(MODEL_CACHE, progress=lambda msg: None)


@pytest.fixture(scope="session")
def tiny_gemma_dir(gemma_dir, tmp_path_factory) -> Path:
    """A randomly initialised two-layer Gemma3 with the real tokenizer: the training code's test model."""
    import torch
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    folder = tmp_path_factory.mktemp("tiny-gemma")
    config = Gemma3TextConfig(vocab_size=262144, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                              max_position_embeddings=2048, sliding_window=64, pad_token_id=0,
                              bos_token_id=2, eos_token_id=[1, 106])
    torch.manual_seed(0)
    Gemma3ForCausalLM(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(gemma_dir).save_pretrained(folder)
    return folder


STARTER_ADAPTER = REPO / "agent" / "starter_adapter"  # committed; built by `python -m retrain.starter`


@pytest.fixture(scope="session")
def starter_model(gemma_dir):
    """The real Gemma 3 270M with the shipped starter adapter, loaded once for the session."""
    from agent.model import load_model

    if not (STARTER_ADAPTER / "adapter_config.json").is_file():
        pytest.fail(f"{STARTER_ADAPTER} is missing: build it with `python -m retrain.starter`")
    import torch

    # fp32 whatever the CPU: with AVX512-BF16 the default is bf16, and greedy words then differ by machine
    return load_model(gemma_dir, STARTER_ADAPTER, device="cpu", dtype=torch.float32)
