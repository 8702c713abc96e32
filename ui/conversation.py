"""The Ask page's record of a conversation: one plain dict per exchange, kept in session_state.

The answer text as stored carries the red-flag line first and the disclaimer last; the page
shows those two apart from the model's words (a banner above, a caption below).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from memory.dates import day_label

KEY = "conversation"


def red_flag_line(reason: str) -> str:
    """The line agent.answer.Turn opens a red-flag answer with."""
    return f"See a vet now: {reason}\n\n"


def exchange(question: str, answer) -> dict:
    """What the page keeps of an answered question (an `agent.answer.Answer`)."""
    return {"question": question, "answer": answer.answer, "red_flag": answer.red_flag,
            "no_record": answer.no_record, "citations": answer.citations,
            "interaction_id": answer.interaction_id, "adapter": answer.adapter,
            "rating": None, "correction": None}


def split_answer(text: str, red_flag: str | None, disclaimer: str) -> tuple[str, str | None]:
    """(the words to show, the disclaimer if the answer carries one)."""
    text = text.strip()
    if red_flag and text.startswith(red_flag_line(red_flag).strip()):
        text = text[len(red_flag_line(red_flag).strip()):].strip()
    shown_disclaimer = None
    if disclaimer and text.endswith(disclaimer):
        text, shown_disclaimer = text[: -len(disclaimer)].strip(), disclaimer
    return markdown_safe(text), shown_disclaimer


def shown_pieces(pieces, red_flag: str | None, disclaimer: str) -> Iterator[str]:
    """The streamed answer without the pieces the page shows elsewhere (see `split_answer`)."""
    first = True
    for piece in pieces:
        if first and red_flag and piece == red_flag_line(red_flag):
            first = False
            continue
        first = False
        if disclaimer and piece.strip() == disclaimer:
            continue
        yield markdown_safe(piece)


def markdown_safe(text: str) -> str:
    """A '$' in an answer is money, not the start of a formula."""
    return text.replace("$", r"\$")


def citation_lines(citations: list[dict]) -> list[str]:
    """'**2024-02-13**: Dr. Tanaka diagnosed...' for each note the answer was given."""
    return [f"**{day_label(datetime.fromisoformat(c['at']))}**: {markdown_safe(c['text'])}" for c in citations]


def rating_from_thumbs(value: int | None) -> int:
    """st.feedback('thumbs') gives 1 for up and 0 for down; memory stores +1 / -1."""
    return 1 if value == 1 else -1


def thumbs_from_rating(rating: int | None) -> int | None:
    return None if rating is None else (1 if rating > 0 else 0)
