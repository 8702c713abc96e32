"""Everything decided before the model speaks: which notes, which facts, no record, red flag."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.knowledge import Knowledge
from agent.pack import KnowledgeFact, Pack
from agent.prompt import Note, context_block, render_prompt
from memory import journal
from memory.dates import day_label, iso, now as utcnow
from memory.recall import Hit, Recall, recall
from memory.store import Memory

MAX_NOTES = 4  # a 270M model gets dragged by long context: only the few relevant notes go in
RED_FLAG_DAYS = 3  # recent observations that can raise a red flag by themselves


@dataclass
class Draft:
    question: str
    recall: Recall
    chosen: list[Hit]
    facts: list[KnowledgeFact]
    red_flag: str | None
    subject_id: int | None
    scope_label: str | None

    @property
    def no_record(self) -> bool:
        return not self.chosen

    @property
    def notes(self) -> list[Note]:
        return [Note(day_label(h.at), h.subject, h.kind, h.text) for h in self.chosen]

    @property
    def block(self) -> str:
        return context_block(self.notes, self.facts)

    @property
    def prompt(self) -> str:
        return render_prompt(self.question, self.block)

    @property
    def citations(self) -> list[dict]:
        """The notes passed to the model, as data: never parsed out of its text."""
        return [{"id": h.id, "at": iso(h.at), "text": h.text} for h in self.chosen]


def draft_answer(mem: Memory, pack: Pack, knowledge: Knowledge, question: str,
                 subject: str | None = None, now: datetime | None = None) -> Draft:
    now = now or utcnow()
    found = recall(mem, question, subject=subject, k=MAX_NOTES * 2, now=now, vocabulary=pack.vocabulary)
    chosen = found.relevant[:MAX_NOTES]
    # "The latest" is computed in code: newest first, unless the question asks for the first time.
    chosen.sort(key=lambda h: h.at, reverse=found.time.order != "earliest")
    names = list(journal.subject_names(mem).values())
    in_scope = found.scope or []
    recent = [o.text for name in (in_scope or [None])
              for o in journal.timeline(mem, subject=name, since=now - timedelta(days=RED_FLAG_DAYS))]
    subject_id = None
    if in_scope:
        subject_id = {v: k for k, v in journal.subject_names(mem).items()}.get(in_scope[0])
    return Draft(
        question=found.question, recall=found, chosen=chosen,
        facts=knowledge.lookup(found.question, names),
        red_flag=pack.triage(found.question, recent, names),
        subject_id=subject_id, scope_label=", ".join(in_scope) or None,
    )
