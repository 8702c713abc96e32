"""Small Streamlit pieces every page uses: user errors as messages, notices that survive a rerun."""
from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager

import streamlit as st

from memory.errors import MemoloopError

NOTICE = "memoloop_notice"


@st.cache_resource(show_spinner=False)
def pack():
    """The domain pack (kinds, disclaimer, vocabulary), read once per server."""
    from agent.pack import load_pack

    return load_pack()


@st.cache_data(show_spinner=False, max_entries=1000)
def _thumbnail(sha256: str, size: int, _mem, _photo) -> bytes:  # by content: the same photo is made small once
    from memory import photos

    return photos.thumbnail(_mem, _photo, size)


def thumbnail(mem, photo, size: int = 160) -> bytes:
    """A small JPEG of a note's photo, for the Journal and History."""
    return _thumbnail(photo.sha256, size, mem, photo)


@contextmanager
def user_errors():
    """A mistake the user can fix is shown as a message, never as a traceback."""
    try:
        yield
    except MemoloopError as exc:
        st.error(sentence(exc), icon=":material/error:")


def sentence(exc: Exception) -> str:
    """The package's message, starting with a capital as a sentence on a page should."""
    text = str(exc)
    return text[:1].upper() + text[1:]


def notify(message: str, *, error: bool = False, undo: dict | None = None) -> None:
    """Leave a message (and optionally an undo) for the next run of the page to show."""
    st.session_state[NOTICE] = {"message": message, "error": error, "undo": undo}


def action(fn, *args, done: str | None = None, undo=None, **kwargs):
    """A button callback: run `fn`, then leave `done` (or the error) as the notice.

    `undo` is what the Undo button passes back: a dict, or a function of `fn`'s result giving one.
    """
    try:
        result = fn(*args, **kwargs)
    except MemoloopError as exc:
        notify(sentence(exc), error=True)
        return
    if done:
        notify(done, undo=undo(result) if callable(undo) else undo)


def show_notice(undo_fn=None) -> None:
    """The notice left by the last action; an Undo button when it can be undone."""
    notice = st.session_state.pop(NOTICE, None)
    if not notice:
        return
    if notice["error"]:
        st.error(notice["message"], icon=":material/error:")
        return
    with st.container(border=True, horizontal=True, vertical_alignment="center"):
        st.markdown(f":material/check_circle: {notice['message']}", width="stretch")
        if notice["undo"] and undo_fn is not None:
            st.button("Undo", icon=":material/undo:", key="undo_last", on_click=action,
                      args=(undo_fn, notice["undo"]), kwargs={"done": "Undone."})


KIND_COLOURS = {"symptom": "red", "vet_visit": "violet", "medication": "blue", "vaccine": "blue",
                "weight": "green", "appetite": "orange", "litter": "orange", "dental": "violet"}


def kind_label(kind: str) -> str:
    return kind.replace("_", " ").capitalize()


def kind_badge(kind: str) -> str:
    """Markdown for a small coloured label of an entry's kind."""
    return f":{KIND_COLOURS.get(kind, 'gray')}-badge[{kind_label(kind)}]"


def engine_form(key: str, label: str, value: str, env: str, *, placeholder: str, help: str,
                button: tuple[str, str, str], url_key: str) -> tuple[str, bool]:
    """A form for one engine's URL (`button`: label, icon, key); read-only, with a caption saying
    why, when the environment variable `env` decides. Returns the URL typed and whether it was sent.
    The field's key carries the value shown, so once a new URL is saved the field shows it as saved
    (a password typed in it does not stay on screen); `url_key` starts the key (engine_field finds it)."""
    in_env = env in os.environ
    shown = hashlib.sha256(value.encode()).hexdigest()[:8]
    with st.form(key, clear_on_submit=True):
        url = st.text_input(label, value=value, disabled=in_env, key=f"{url_key}-{shown}", placeholder=placeholder,
                            help=help)
        if in_env:
            st.caption(f"${env} is set where memoloop was started, and it decides.")
        sent = st.form_submit_button(button[0], icon=button[1], disabled=in_env, key=button[2])
    return url, sent
