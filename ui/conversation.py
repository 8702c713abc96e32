"""The Ask page's record of a conversation: one plain dict per exchange, kept in session_state.

The page shows an answer's parts apart: the red flag as a banner above, the model's words,
the disclaimer as a caption below.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterator

from memory.dates import day_label

KEY = "conversation"


def exchange(question: str, answer) -> dict:
    """What the page keeps of an answered question (an `agent.answer.Answer`)."""
    return {"question": question, "body": answer.body, "disclaimer": answer.disclaimer,
            "red_flag": answer.red_flag, "no_record": answer.no_record, "citations": answer.citations,
            "interaction_id": answer.interaction_id, "adapter": answer.adapter,
            "cut": answer.cut, "series": series_rows(answer.trend),
            "rating": None, "correction": None}


def series_rows(trend) -> list[dict]:
    """A measured quantity's points as table rows (date, value): shown beside the answer."""
    if trend is None:
        return []
    return [{"date": p.day, trend.name: p.value} for p in trend.points]


def shown_pieces(turn) -> Iterator[str]:
    """The model's words, streamed; the page shows the red flag and the disclaimer apart."""
    for piece in turn.body():
        yield markdown_safe(piece)


def decided_line(draft) -> str:
    """What the code decided before the model writes a word: which notes the answer rests on."""
    days = list(dict.fromkeys(day_label(datetime.fromisoformat(c["at"])) for c in draft.citations))
    if not days:
        return ":material/search_off: Nothing in your journal matched this question."
    more = f" and {len(days) - 4} more" if len(days) > 4 else ""
    return (f":material/menu_book: From your notes of {', '.join(days[:4])}{more}; "
            "each sentence is checked against them before it is shown.")


def markdown_safe(text: str) -> str:
    """User and model text shown as the words it is: the marks that start Markdown (images, links,
    HTML, emphasis, code, tables, headings, formulas) are escaped, so a note's `![](https://...)`
    is not an image the browser fetches, and a '$' is money."""
    return _MARKUP.sub(r"\\\1", text)


_MARKUP = re.compile(r"([\\`*_\[\]<>!$~|#])")


def citation_lines(citations: list[dict]) -> list[str]:
    """'**2024-02-13**: Dr. Tanaka diagnosed...' for each note the answer was given."""
    return [f"**{day_label(datetime.fromisoformat(c['at']))}**: {markdown_safe(c['text'])}" for c in citations]


def rating_from_thumbs(value: int | None) -> int:
    """st.feedback('thumbs') gives 1 for up and 0 for down; memory stores +1 / -1."""
    return 1 if value == 1 else -1


def thumbs_from_rating(rating: int | None) -> int | None:
    return None if rating is None else (1 if rating > 0 else 0)
