"""memoloop in the browser. Started by `memoloop up`; by hand: streamlit run ui/app.py."""
from pathlib import Path

import streamlit as st

from ui import resources

# Not "pages/": Streamlit treats a pages/ folder beside the entry script as an old-style multipage
# app, and a server whose first visitor opens a deep link (/history) then never runs this file.
PAGES = Path(__file__).parent / "app_pages"

st.set_page_config(page_title="memoloop", page_icon="🐾", layout="centered")
page = st.navigation([
    st.Page(PAGES / "journal.py", title="Journal", icon=":material/edit_note:", default=True),
    st.Page(PAGES / "ask.py", title="Ask", icon=":material/forum:"),
    st.Page(PAGES / "history.py", title="History", icon=":material/timeline:"),
    st.Page(PAGES / "learning.py", title="Learning", icon=":material/school:"),
    st.Page(PAGES / "pets.py", title="Pets", icon=":material/pets:"),
    st.Page(PAGES / "settings.py", title="Settings", icon=":material/settings:"),
])
with st.sidebar:
    st.markdown("### :material/pets: memoloop")
    st.caption("Your cats' story, kept on this computer. It answers from your own notes "
               "and learns from your corrections. Nothing leaves this machine.")
resources.warm_up()
page.run()
