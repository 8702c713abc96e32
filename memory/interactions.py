"""Questions asked, answers given, and the user's verdicts on them."""
from __future__ import annotations

from sqlmodel import select

from memory.errors import MemoloopError
from memory.journal import clean_text, optional_text
from memory.models import Feedback, Interaction
from memory.store import Memory


def save_interaction(mem: Memory, interaction: Interaction) -> Interaction:
    interaction.author = interaction.author or mem.author
    with mem.session() as s:
        s.add(interaction)
        s.commit()
        return interaction


def get_interaction(mem: Memory, interaction_id: int) -> Interaction:
    with mem.session() as s:
        found = s.get(Interaction, interaction_id)
    if found is None:
        raise MemoloopError(f"interaction {interaction_id} does not exist; "
                            "the id is in the output of: memoloop ask QUESTION --json")
    return found


def add_feedback(mem: Memory, interaction_id: int, *, rating: int = 0, correction: str | None = None,
                 note: str = "") -> Feedback:
    """A thumbs up (+1) or down (-1), optionally with the corrected answer (which always wins)."""
    if rating not in (-1, 0, 1):
        raise MemoloopError(f"rating {rating} is not valid; use +1 (up), -1 (down) or 0 (correction only)")
    if correction is not None:
        correction = clean_text(correction, "the correction")
    note = optional_text(note, "note")
    if rating == 0 and correction is None:
        raise MemoloopError("feedback needs --up, --down or --correction TEXT")
    get_interaction(mem, interaction_id)
    with mem.session() as s:
        fb = Feedback(interaction_id=interaction_id, rating=rating, correction=correction,
                      note=note, author=mem.author)
        s.add(fb)
        s.commit()
        return fb


def recent_interactions(mem: Memory, limit: int = 50) -> list[Interaction]:
    with mem.session() as s:
        return list(s.exec(select(Interaction).order_by(Interaction.id.desc()).limit(limit)))


def feedback_for(mem: Memory, interaction_id: int) -> list[Feedback]:
    with mem.session() as s:
        return list(s.exec(select(Feedback).where(Feedback.interaction_id == interaction_id)
                           .order_by(Feedback.id)))
