"""Signing in, in server mode: once a PostgreSQL database has people (memoloop people add), every
browser session signs in and sees only its households' records (memory/households.py scopes them
in the database; ui/resources.py opens the household chosen here). The embedded journal, and a
server database nobody was added to, need no sign-in."""
from __future__ import annotations

import time

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from memory import households
from memory.db import postgres
from memory.errors import MemoloopError
from ui import resources
from ui.resources import HOUSEHOLD_KEY, LOGIN_KEY

PERSON_KEY = "memoloop-person"
FAILED_WAIT_S = 1.0


def gate() -> None:
    """Stop the page at a sign-in form until someone signs in; then the sidebar says who and where."""
    try:
        engine = resources.database_memory().engine
    except MemoloopError:
        return  # the pages say what is wrong (and Settings can point elsewhere)
    try:
        someone = households.anyone(engine)
    except SQLAlchemyError:
        return  # the server stopped answering: nothing can be read, and the pages say so
    if not someone:
        if not postgres(engine):
            return
        st.sidebar.warning("Anyone who opens this app sees every record: add people with "
                           "`memoloop people add LOGIN --household NAME` and it asks them to sign in.",
                           icon=":material/lock_open:")
        return
    person = st.session_state.get(PERSON_KEY)
    if person is None:
        _form(engine)
        st.stop()
    _sidebar(person)


def _form(engine) -> None:
    st.title("Sign in")
    st.caption("This memoloop keeps the records of several households; sign in to see yours. "
               "You stay signed in until this tab is closed or reloaded.")
    with st.form("sign-in"):
        login = st.text_input("Login", key="sign-in-login")
        password = st.text_input("Password", type="password", key="sign-in-password")
        if not st.form_submit_button("Sign in", type="primary"):
            return
    person = households.sign_in(engine, login, password)
    if person is None:
        time.sleep(FAILED_WAIT_S)  # guessing passwords through the form stays slow
        st.error("That login and password do not match; try again, or ask whoever runs this memoloop.",
                 icon=":material/lock:")
        return
    if not person.households:
        st.error(f"{person.shown} is not in any household yet; ask whoever runs this memoloop to add you "
                 f"(memoloop people join {person.login} --household NAME).", icon=":material/lock:")
        return
    st.session_state[PERSON_KEY] = person
    st.session_state[LOGIN_KEY] = person.login
    st.session_state[HOUSEHOLD_KEY] = person.households[0]
    st.rerun()


def _sidebar(person) -> None:
    with st.sidebar:
        if len(person.households) > 1:
            st.selectbox("Household", person.households, key=HOUSEHOLD_KEY)
        st.caption(f":material/person: {person.shown} · {st.session_state[HOUSEHOLD_KEY]}")
        if st.button("Sign out", key="sign-out", icon=":material/logout:"):
            for key in (PERSON_KEY, LOGIN_KEY, HOUSEHOLD_KEY):
                st.session_state.pop(key, None)
            st.rerun()
