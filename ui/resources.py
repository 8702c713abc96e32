"""What the Streamlit server holds once (`st.cache_resource`): the journal and the local model.

The data home comes from $MEMOLOOP_HOME (set by `memoloop up --home DIR`). The model loads in a
background thread, so the first question waits only for what is left, with its progress shown.
"""
from __future__ import annotations

import os
import sys
import threading

import streamlit as st

from memory.errors import MemoloopError
from memory.home import default_home
from memory.index import IndexUnavailable
from memory.store import Memory
from ui.up import PRELOAD_ENV
from ui.widgets import sentence

HOUSEHOLD_KEY, LOGIN_KEY = "memoloop-household", "memoloop-login"


def home_dir() -> str:
    return str(default_home())


@st.cache_resource(show_spinner="Opening your journal…", on_release=Memory.close)  # e.g. "Clear cache"
def _memory(home: str, household: str | None = None) -> Memory:
    mem = Memory.open(home, household=household)
    try:
        mem.index  # opened here, once, so no two sessions race to create the vector index
    except IndexUnavailable:
        pass  # a Chroma server that does not answer: notes are still written; a search says so
    return mem


def signed_in() -> tuple[str | None, str]:
    """(household, login) of this browser session: (None, "") when nobody needs to sign in (ui/sign_in.py)."""
    return st.session_state.get(HOUSEHOLD_KEY), st.session_state.get(LOGIN_KEY, "")


def open_memory() -> Memory:
    """The journal this session sees (in server mode, its household's, written by the person signed
    in), or the MemoloopError that says why it does not open."""
    household, login = signed_in()
    mem = _memory(home_dir(), household)
    return mem.written_by(login) if login else mem


def database_memory() -> Memory:
    """The database's first household, whoever is signed in: where the accounts are asked."""
    return _memory(home_dir())


def reopen_memory() -> None:
    """After the home moved to another database: every page opens the new one."""
    _memory.clear()
    reload_companion()


def memory() -> Memory:
    """The journal of this server's data home; a problem with the home stops the page with its message."""
    try:
        return open_memory()
    except MemoloopError as exc:
        st.error(sentence(exc), icon=":material/error:")
        st.stop()


class Warmup:
    """The Companion with its model loading in a daemon thread; `messages` is the progress so far."""

    def __init__(self, mem: Memory):
        from agent.answer import Companion

        self.messages: list[str] = []
        self.error: str | None = None
        self.done = threading.Event()
        self.companion = Companion(mem, progress=self._progress)
        threading.Thread(target=self._load, name="memoloop-model", daemon=True).start()

    def _progress(self, message: str) -> None:
        self.messages.append(message)
        print(f"memoloop: {message}", file=sys.stderr)

    def _load(self) -> None:
        try:
            self.companion.knowledge
            self.companion.model
        except MemoloopError as exc:
            self.error = str(exc)
        except Exception as exc:  # a broken install: say what failed instead of hanging the page
            self.error = f"the local model could not be loaded ({type(exc).__name__}: {exc})"
        finally:
            self.done.set()


@st.cache_resource(show_spinner=False)
def _warmup(home: str, household: str | None = None) -> Warmup:
    return Warmup(_memory(home, household))  # each household answers with its own adapter


def warm_up() -> None:
    """Start loading the model now if the server asked for it (`memoloop up` does)."""
    if os.environ.get(PRELOAD_ENV) == "1":
        try:
            _warmup(home_dir(), signed_in()[0])
        except MemoloopError:
            pass  # the Ask page shows the problem when it is opened


def companion():
    """The ready Companion; while the model loads, a status box shows how far it got."""
    home, (household, login) = home_dir(), signed_in()
    warm = _warmup(home, household)
    if not warm.done.is_set():
        with st.status("Waking up the local model (the very first start takes about a minute)…",
                       expanded=True) as box:
            shown = 0
            while not warm.done.wait(0.5):
                for message in warm.messages[shown:]:
                    box.write(message)
                shown = len(warm.messages)
            box.update(label="The local model is ready", state="complete", expanded=False)
    if warm.error:
        _warmup.clear(home, household)  # let the next try start over, e.g. after fixing Settings
        raise MemoloopError(warm.error)
    return warm.companion.for_memory(open_memory()) if login else warm.companion


def reload_companion() -> None:
    """Settings changed: the next question loads the model again with them."""
    _warmup.clear()


@st.cache_resource(show_spinner=False)
def generation_lock() -> threading.Lock:
    """One answer at a time: two at once on a small CPU would only make both slow."""
    return threading.Lock()
