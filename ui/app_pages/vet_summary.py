"""Vet summary: one pet, one period, every line a dated note; the browser's print makes the PDF."""
from datetime import date

import streamlit as st

from memory import journal, summary
from ui import resources, widgets

mem = resources.memory()
# Printing this page prints the summary, not the app around it.
st.html("<style>@media print{[data-testid=stSidebar],[data-testid=stHeader],[data-testid=stToolbar],"
        "[data-testid=stHeading],[data-testid=stHorizontalBlock],[data-testid=stDownloadButton],"
        "[data-testid=stCaption]{display:none!important}}</style>")
st.title(":material/medical_information: Vet summary")
pets = sorted(journal.subject_names(mem).values(), key=str.lower)
if not pets:
    st.info("Add your cat on the **Pets** page first.", icon=":material/pets:")
    st.stop()
c1, c2, c3 = st.columns(3)
pet = c1.selectbox("Pet", pets)
since = c2.date_input("From", value=None, max_value="today", format="YYYY-MM-DD", help="Empty: everything")
until = c3.date_input("To", value="today", max_value="today", format="YYYY-MM-DD")
with widgets.user_errors():
    built = summary.build(mem, pet, since, until or date.today())
    page = summary.html(built)
    st.caption("Print this page from the browser (Ctrl+P) for a PDF, or download it to send.")
    st.download_button("Download the page (HTML)", page, file_name=f"{pet.lower()}-summary.html",
                       mime="text/html", icon=":material/download:")
    body = page[page.index("<body>") + len("<body>"):page.index("</body>")]
    style = page[page.index("<style>"):page.index("</style>") + len("</style>")]
    st.html(f"{style.replace('body{', '.vet-summary{')}<div class='vet-summary'>{body}</div>")
