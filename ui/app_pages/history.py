"""History: every entry, filtered and searchable, a chart of each measurement, and export."""
import base64
from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from memory import journal, photos
from memory.recall import recall
from memory.backup import backup_zip
from ui import entries, resources, widgets

ALL_PETS, ALL_KINDS = "All pets", "All kinds"
SEARCH_HITS = 30

mem = resources.memory()
pack = widgets.pack()
names = journal.subject_names(mem)
today = date.today()

st.title(":material/timeline: History")
st.caption("Everything you have logged, newest first. Filter it, search it in your own words, "
           "and take a copy with you.")

span = entries.day_span(mem)
if span is None:
    st.info("No notes yet — log the first one on the **Journal** page.", icon=":material/edit_note:")
    st.page_link("app_pages/journal.py", label="Open the Journal", icon=":material/arrow_forward:")
    st.stop()

c1, c2, c3 = st.columns([1, 1, 1.4])
pet = c1.selectbox("Pet", [ALL_PETS] + sorted(names.values(), key=str.lower))
kind = c2.selectbox("Kind", [ALL_KINDS] + list(pack.kinds),
                    format_func=lambda k: k if k == ALL_KINDS else widgets.kind_label(k))
first, last = span[0], max(span[1], today)  # planned entries (--allow-future) lie after today
picked = c3.date_input("Dates", value=(first, last), min_value=first, max_value=last, format="YYYY-MM-DD")
start, end = (picked[0], picked[-1]) if picked else (first, last)
query = st.text_input("Search", placeholder="e.g. sneezing after the move",
                      help="Finds notes by meaning as well as by words; best matches first.",
                      icon=":material/search:")

subject = None if pet == ALL_PETS else pet
kind_filter = None if kind == ALL_KINDS else kind
scores: dict[int, float] = {}
with widgets.user_errors():
    if query.strip():
        found = recall(mem, query, subject=subject, k=SEARCH_HITS, vocabulary=pack.vocabulary,
                       specific=pack.specific)
        scores = {h.id: h.score for h in found.relevant}
        shown = [journal.get(mem, i) for i in scores]
        shown = [o for o in entries.in_days(shown, start, end) if kind_filter in (None, o.kind)]
    else:
        since, until = entries.period_bounds(start, end)
        shown = journal.timeline(mem, subject=subject, kind=kind_filter, since=since, until=until)

    rows = entries.entry_rows(shown, names)
    attached = photos.of(mem, [r["id"] for r in rows])
    for row in rows:
        first = attached.get(row["id"], [None])[0]
        row["photo"] = (f"data:image/jpeg;base64,{base64.b64encode(widgets.thumbnail(mem, first, 96)).decode()}"
                        if first else None)
        row["match"] = scores.get(row["id"])
        row["kind"] = widgets.kind_label(row["kind"])
        row["weight"] = f"{row['weight_kg']:g} kg" if row["weight_kg"] is not None else ""
    if rows:
        st.caption(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}"
                   + (" matching your search, best first" if scores else ""))
        columns = ["match"] if scores else []
        columns += ["day", "subject", "kind", "text"]
        columns += [c for c in ("weight", "tags", "by", "photo") if any(r[c] for r in rows)]
        st.dataframe(
            pd.DataFrame(rows), hide_index=True, width="stretch", column_order=columns,
            column_config={
                "match": st.column_config.ProgressColumn("Match", min_value=0.0, max_value=1.0, format="%.2f",
                                                         width="small"),
                "day": st.column_config.TextColumn("Date", width="small"),
                "subject": st.column_config.TextColumn("Pet", width="small"),
                "kind": st.column_config.TextColumn("Kind", width="small"),
                "text": st.column_config.TextColumn("Note", width="large"),
                "weight": st.column_config.TextColumn("Weight", width="small"),
                "tags": st.column_config.TextColumn("Tags", width="small"),
                "by": st.column_config.TextColumn("By", width="small", help="who wrote it"),
                "photo": st.column_config.ImageColumn("Photo", width="small"),
            })
    elif scores or query.strip():
        st.info(f"Nothing in your notes matches “{query.strip()}” with these filters.", icon=":material/search_off:")
    else:
        st.info("No entries match these filters.", icon=":material/filter_alt_off:")

    st.subheader("Measurements")
    since, until = entries.period_bounds(start, end)
    period = journal.timeline(mem, subject=subject, since=since, until=until)
    keys = entries.metrics_in(period)
    if keys:
        key = st.selectbox("Measurement", keys, format_func=entries.metric_label, label_visibility="collapsed")
        label = entries.metric_label(key)
        chart = alt.Chart(pd.DataFrame(entries.metric_points(period, names, key))).mark_line(point=True).encode(
            x=alt.X("Date:T", title=None),
            y=alt.Y(f"{label}:Q", scale=alt.Scale(zero=False)),
            color=alt.Color("Pet:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["Pet", alt.Tooltip("Date:T", format="%Y-%m-%d"), label])
        st.altair_chart(chart, width="stretch")
    else:
        st.caption("No measurements logged in these dates. Log a weight on the **Journal** page (One tap, or "
                   "More detail → Weight) and the chart appears here.")

    st.subheader("Export")
    stamp = today.strftime("%Y%m%d")
    with st.container(horizontal=True):
        st.download_button("These entries (CSV)", entries.entries_csv(shown, names),
                           file_name=f"memoloop-entries-{stamp}.csv", mime="text/csv",
                           icon=":material/table_view:", disabled=not shown)
        st.download_button("Full backup (.zip)", lambda: backup_zip(mem),
                           file_name=f"memoloop-backup-{stamp}.zip", mime="application/zip",
                           icon=":material/backup:")
    st.caption("The CSV opens in any spreadsheet. The backup holds everything (pets, every version of "
               "every note, questions, ratings, corrections, trained adapters, schedule, settings) and restores "
               "with `memoloop import FILE`.")
