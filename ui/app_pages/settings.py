"""Settings: where the data lives (and where it is searched), and which model answers, on what, at
what length."""
from dataclasses import replace

import streamlit as st

from agent.settings import DEVICES, ENGINES, Settings
from memory.engines import CHROMA_ENV, DATABASE_ENV, Engines, redacted
from memory.errors import MemoloopError
from memory.home import Home
from memory.move import move_database
from ui import resources, widgets

DEVICE_LABELS = {"auto": "Automatic (a GPU if there is one)", "cpu": "CPU", "cuda": "NVIDIA GPU (CUDA)"}
ENGINE_LABELS = {"auto": "Automatic (llama.cpp where it can, else transformers)", "llama.cpp": "llama.cpp (fast on a CPU)",
                 "transformers": "transformers (as trained)"}

st.title(":material/settings: Settings")
if not resources.signed_in()[1]:
    st.caption("These apply to this data home. Changing the model reloads it before the next answer.")
widgets.show_notice()

if resources.signed_in()[1]:  # several households share this server: its settings are its keeper's
    home = Home.open(resources.home_dir())
    engines, settings = Engines.of(home.root), Settings.load(home)
    st.info("This memoloop serves several households; whoever runs it changes these settings on the "
            "server, with `memoloop settings`.", icon=":material/lock:")
    st.markdown("\n".join([
        f"- **Database:** PostgreSQL, {redacted(engines.database_url)}",
        f"- **Search index:** {f'the Chroma server {engines.chroma_url}' if engines.chroma_url else 'in the data home'}",
        f"- **Base model:** {settings.base_model or 'the built-in Gemma 3 270M'}",
        f"- **Device:** {DEVICE_LABELS.get(settings.device, settings.device)}; "
        f"**engine:** {ENGINE_LABELS.get(settings.engine, settings.engine)}; "
        f"**longest answer:** {settings.max_new_tokens} tokens"]))
    st.stop()

# The database first: when its server does not answer, this is where the user points elsewhere.
st.subheader("Database")
st.caption("Every note, question, rating and correction is kept in the database: a file in the data "
           "home, or a PostgreSQL server that the computers of a household, shelter or clinic share.")
home = Home.open(resources.home_dir())
try:
    saved_engines = Engines.saved(home.root)
except MemoloopError as exc:
    st.error(widgets.sentence(exc), icon=":material/error:")
    saved_engines = Engines()
db_url, switch = widgets.engine_form(
    "database", "PostgreSQL database", redacted(saved_engines.database_url or ""), DATABASE_ENV,
    placeholder="empty: the SQLite file in the data home",
    help="postgresql+psycopg://USER:PASSWORD@HOST/DATABASE (a Unix socket: "
         "postgresql+psycopg://USER@/DATABASE?host=/run/postgresql). An empty "
         "database receives this home's records; one already in use is joined.",
    button=("Use this database", ":material/database:", "save_database"), url_key="database_url")
if switch:
    with widgets.user_errors():
        wanted = Engines(database_url=db_url.strip() or None).database_url
        if db_url.strip() == redacted(saved_engines.database_url or "") and saved_engines.database_url:
            wanted = saved_engines.database_url  # shown without its password, unchanged
        with st.spinner("Opening the database and carrying your records over…"):
            moved = move_database(home, wanted)
        resources.reopen_memory()
        widgets.notify(moved.line()[:1].upper() + moved.line()[1:] + ".")
        st.rerun()

mem = resources.memory()

try:
    current = Settings.load(home)
except MemoloopError as exc:
    st.error(widgets.sentence(exc), icon=":material/error:")
    st.caption("The form below shows the defaults; saving it replaces the broken file.")
    current = Settings()

st.text_input("Data home", value=str(home.root), disabled=True, key="data_home",
              help="Everything memoloop keeps is in this folder. To use another one, start with "
                   "`memoloop up --home DIR`.")

with st.form("settings"):
    base = st.text_input("Base model folder", value=current.base_model or "", key="base_model",
                         placeholder="empty: the built-in Gemma 3 270M",
                         help="A local folder with a Gemma model (config.json and .safetensors files), "
                              "e.g. a larger gemma-2-2b-it. Leave empty for the built-in one.")
    device = st.selectbox("Device", DEVICES, index=DEVICES.index(current.device) if current.device in DEVICES else 0,
                          format_func=DEVICE_LABELS.get)
    engine = st.selectbox("Answering engine", ENGINES,
                          index=ENGINES.index(current.engine) if current.engine in ENGINES else 0,
                          format_func=ENGINE_LABELS.get,
                          help="llama.cpp serves the same model and adapter several times faster on a CPU; "
                               "transformers is what training uses.")
    length = st.number_input("Longest answer (tokens)", min_value=min(32, int(current.max_new_tokens)),
                             max_value=max(1024, int(current.max_new_tokens)), step=16,
                             value=int(current.max_new_tokens),  # a settings.json edited by hand may be outside
                             help="A token is about three quarters of a word. Shorter answers come sooner.")
    saved = st.form_submit_button("Save settings", type="primary", icon=":material/save:", key="save_settings")
if saved:
    with widgets.user_errors():
        Settings(base_model=base.strip() or None, device=device, quantize=current.quantize,
                 adapter=current.adapter, max_new_tokens=int(length), engine=engine).save(home)
        resources.reload_companion()
        widgets.notify("Settings saved. The next answer uses them.")
        st.rerun()

st.subheader("Search index")
st.caption("Your notes always stay in the database; the search index holds what finds them by "
           "meaning. A clinic or shelter can share one Chroma server between computers.")
url, moved = widgets.engine_form(
    "index", "Chroma server", mem.engines.chroma_url or "", CHROMA_ENV,
    placeholder="empty: the index in the data home",
    help="A Chroma server started with `chroma run --path DIR --port 8000`, as "
         "http://HOST:PORT. Memoloop computes the vectors and sends them: the "
         "server needs no model.",
    button=("Use this index", ":material/travel_explore:", "save_index"), url_key="chroma_url")
if moved:
    with widgets.user_errors():
        engines = replace(mem.engines, chroma_url=url.strip() or None)
        with st.spinner("Putting your notes in the index…"):
            mem.move_index(engines)
        widgets.notify(f"Notes are now searched in {engines.chroma_url or 'the data home'}.")
        st.rerun()
