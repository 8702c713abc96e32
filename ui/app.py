"""memoloop in the browser. Started by `memoloop up`; by hand: streamlit run ui/app.py."""
from pathlib import Path

import streamlit as st

from memory.engines import Engines, redacted
from memory.errors import MemoloopError
from ui import resources, sign_in

# Not "pages/": Streamlit treats a pages/ folder beside the entry script as an old-style multipage
# app, and a server whose first visitor opens a deep link (/history) then never runs this file.
PAGES = Path(__file__).parent / "app_pages"

st.set_page_config(page_title="memoloop", page_icon="🐾", layout="centered")
page = st.navigation([
    st.Page(PAGES / "today.py", title="Today", icon=":material/today:", default=True),
    st.Page(PAGES / "journal.py", title="Journal", icon=":material/edit_note:"),
    st.Page(PAGES / "ask.py", title="Ask", icon=":material/forum:"),
    st.Page(PAGES / "history.py", title="History", icon=":material/timeline:"),
    st.Page(PAGES / "learning.py", title="Learning", icon=":material/school:"),
    st.Page(PAGES / "pets.py", title="Pets", icon=":material/pets:"),
    st.Page(PAGES / "vet_summary.py", title="Vet summary", icon=":material/medical_information:"),
    st.Page(PAGES / "settings.py", title="Settings", icon=":material/settings:"),
])
try:
    engines = Engines.of(Path(resources.home_dir()))
except MemoloopError:
    engines = Engines()  # the pages say what is wrong
servers = [f"the records on the PostgreSQL server {redacted(engines.database_url)}" if engines.database_url else "",
           f"the search index on the Chroma server {engines.chroma_url}" if engines.chroma_url else ""]
with st.sidebar:
    st.markdown("### :material/pets: memoloop")
    st.caption("Your cats' story. It answers from your own notes and learns from your corrections. " +
               (f"It keeps {' and '.join(filter(None, servers))}." if any(servers)
                else "Everything stays on this computer."))
sign_in.gate()
resources.warm_up()


@st.fragment(run_every="60s")
def care_toasts() -> None:
    """Care that has come due since the app last said so (found by the scheduler): a toast."""
    from memory import care

    try:
        mem = resources.open_memory()
    except MemoloopError:  # the page says what is wrong
        return
    for reminder, item, whose in care.unshown_reminders(mem):
        st.toast(f"{whose}: {item.name} is {'overdue' if reminder.status == 'overdue' else 'due today'} "
                 f"(due {reminder.due_on}). See **Today**.", icon=":material/notifications_active:")


with st.sidebar:
    care_toasts()
page.run()
