"""Ask: a chat grounded in the journal, with red flags first, citations, ratings and corrections."""
import streamlit as st

from memory import alerts, journal
from memory.errors import MemoloopError
from memory.interactions import add_feedback
from ui import conversation, resources, widgets

ANY_PET = "Whichever pet I name"
MEMOLOOP_AVATAR = ":material/pets:"

mem = resources.memory()
chat: list[dict] = st.session_state.setdefault(conversation.KEY, [])


def rate(item: dict) -> None:
    value = st.session_state.get(f"rate_{item['interaction_id']}")
    if value is None:
        return  # un-clicking keeps the rating already given; there is no "unrate" to store
    rating = conversation.rating_from_thumbs(value)
    try:
        add_feedback(mem, item["interaction_id"], rating=rating)
    except MemoloopError as exc:
        widgets.notify(widgets.sentence(exc), error=True)
        return
    item["rating"] = rating
    st.toast("Thanks! memoloop learns from your ratings.", icon=":material/school:")


def save_correction(item: dict) -> None:
    text = st.session_state.get(f"fix_{item['interaction_id']}", "")
    try:
        add_feedback(mem, item["interaction_id"], correction=text)
    except MemoloopError as exc:
        widgets.notify(widgets.sentence(exc), error=True)
        return
    item["correction"] = text.strip()
    st.toast("Correction saved: it becomes training data for the next retrain.", icon=":material/school:")


def show_answer(item: dict) -> None:
    if item["red_flag"]:
        st.error(f"**See a vet now:** {item['red_flag']}", icon=":material/emergency:")
    body = conversation.markdown_safe(item["body"])
    st.markdown(body)
    if len(item.get("series") or []) > 1:
        show_series(item["series"])
    if item.get("cut"):
        show_cut(item["cut"])
    for message in item.get("alerts") or []:  # a trend the code noticed for this pet (memory.alerts)
        st.warning(f"**Alert:** {conversation.markdown_safe(message)} (see **Today**)", icon=":material/trending_down:")
    if item["disclaimer"]:
        st.caption(item["disclaimer"])
    show_sources(item)
    if item["correction"]:
        st.info(f"**Your correction:** {conversation.markdown_safe(item['correction'])}", icon=":material/edit:")
    iid = item["interaction_id"]
    with st.container(horizontal=True, vertical_alignment="center"):
        st.feedback("thumbs", key=f"rate_{iid}", default=conversation.thumbs_from_rating(item["rating"]),
                    on_change=rate, args=(item,))
        with st.popover("Correct this answer", icon=":material/edit:", type="tertiary"):
            with st.form(f"fix_form_{iid}", border=False):
                st.text_area("The right answer, in your words", value=item["correction"] or body,
                             key=f"fix_{iid}", height=150,
                             help="memoloop learns from corrected answers at its next retrain.")
                st.form_submit_button("Save correction", type="primary", key=f"save_fix_{iid}",
                                      on_click=save_correction, args=(item,))


def show_series(rows: list[dict]) -> None:
    name = [k for k in rows[0] if k != "date"][0]
    st.line_chart(rows, x="date", y=name, height=180)


def show_cut(cut: list[dict]) -> None:
    n = len(cut)
    with st.expander(f"Checked against your notes: {n} sentence{'s' if n > 1 else ''} left out",
                     icon=":material/rule:"):
        st.caption("The model wrote these, but your notes do not say so; where a note was behind it, "
                   "the note is shown in the answer instead.")
        for c in cut:
            st.markdown(f"- ~~{conversation.markdown_safe(c['sentence'])}~~ ({'; '.join(c['problems'])})")


def show_sources(item: dict) -> None:
    if item["citations"]:
        n = len(item["citations"])
        with st.expander(f"From your notes ({n} entr{'y' if n == 1 else 'ies'})", icon=":material/menu_book:"):
            for line in conversation.citation_lines(item["citations"]):
                st.markdown(f"- {line}")
    elif item["no_record"]:
        st.caption(":material/search_off: Nothing in your journal matched, so this is general guidance.")


top = st.columns([4, 1], vertical_alignment="bottom")
top[0].title(":material/forum: Ask")
if chat and top[1].button("New chat", icon=":material/add_comment:", type="tertiary"):
    chat.clear()
    st.rerun()
st.caption("Ask about your cats. Answers come from your own notes, with the dates they are based on; "
           "when there is no record, memoloop says so. Rate answers and correct the wrong ones: it learns.")
pets = sorted(journal.subject_names(mem).values(), key=str.lower)
scope = st.selectbox("About", [ANY_PET] + pets, help="Pick a pet to search only their notes "
                     "(and household notes). Otherwise memoloop looks for the names in your question.")
widgets.show_notice()
if not chat:
    name = pets[0] if pets else "my cat"
    st.info(f"Try: *Has {name} sneezed like this before?* or *When was {name}'s last vaccine?*",
            icon=":material/lightbulb:")

for item in chat:
    with st.chat_message("user"):
        st.markdown(conversation.markdown_safe(item["question"]))
    with st.chat_message("assistant", avatar=MEMOLOOP_AVATAR):
        show_answer(item)

question = st.chat_input("Ask about your cat…", max_chars=1000)
if question:
    with st.chat_message("user"):
        st.markdown(conversation.markdown_safe(question))
    with st.chat_message("assistant", avatar=MEMOLOOP_AVATAR):
        try:
            companion = resources.companion()
            turn = companion.ask_stream(question, subject=None if scope == ANY_PET else scope)
            if turn.draft.red_flag:
                st.error(f"**See a vet now:** {turn.draft.red_flag}", icon=":material/emergency:")
            st.caption(conversation.decided_line(turn.draft))  # decided in code: shown before the model writes
            with resources.generation_lock():
                st.write_stream(conversation.shown_pieces(turn))
        except MemoloopError as exc:
            st.error(widgets.sentence(exc), icon=":material/error:")
            st.stop()
    live = alerts.open_alerts(mem, turn.draft.subject_id) if turn.draft.subject_id else []
    chat.append({**conversation.exchange(question, turn.answer), "alerts": [a.message for a in live]})
    st.rerun()
