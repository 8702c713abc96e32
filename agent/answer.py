"""Answering: the code decides (notes, no record, red flags, facts), the model phrases.

    companion = Companion(Memory.open())
    turn = companion.ask_stream("Mochi is sneezing again, has this happened before?")
    for piece in turn: print(piece, end="")      # streamed (UI); companion.ask(...) blocks (CLI)
    turn.answer.to_json()                         # stored as an Interaction
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import timedelta

from agent.draft import Draft, draft_answer
from agent.model import LoadedModel, Usage, generate, load_model, prepare_default_model
from agent.pack import Pack, load_pack
from agent.settings import Settings
from agent.knowledge import Knowledge
from memory.errors import MemoloopError
from memory.interactions import save_interaction
from memory.models import Interaction
from memory.store import Memory

NO_RECORD_HOLD_CHARS = 80  # how much of the model's start is held back to see if it says "no record"


@dataclass
class Answer:
    interaction_id: int
    answer: str
    citations: list[dict]
    red_flag: str | None
    no_record: bool
    adapter: str | None
    unsupported_dates: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"interaction_id": self.interaction_id, "answer": self.answer, "citations": self.citations,
                "red_flag": self.red_flag, "no_record": self.no_record, "adapter": self.adapter}


class Companion:
    """Everything answering needs, each loaded once and only when first used."""

    def __init__(self, mem: Memory, pack: Pack | None = None, settings: Settings | None = None,
                 progress=print, adapters=None):
        self.mem = mem
        self.pack = pack or load_pack()
        self.settings = settings or Settings.load(mem.home)
        self.progress = progress
        # Adapter folders in order of preference; the first that loads is used.
        self.adapters = adapters
        self.warnings: list[str] = []
        self._knowledge: Knowledge | None = None
        self._model: LoadedModel | None = None

    @property
    def knowledge(self) -> Knowledge:
        if self._knowledge is None:
            self._knowledge = Knowledge(self.mem, self.pack)
        return self._knowledge

    @property
    def model(self) -> LoadedModel:
        if self._model is None:
            self._model = self._load_model()
        return self._model

    def _load_model(self) -> LoadedModel:
        from agent.adapters import adapter_choices

        base = self.settings.base_model or prepare_default_model(self.mem.home.models_dir, self.progress)
        choices = self.adapters if self.adapters is not None else adapter_choices(self.mem.home, self.settings)
        for adapter in choices:
            try:
                return load_model(base, adapter, self.settings.device, self.settings.quantize)
            except MemoloopError as exc:  # fall back to the previous good adapter, never crash
                self.warnings.append(str(exc))
        return load_model(base, None, self.settings.device, self.settings.quantize)

    def draft(self, question: str, subject: str | None = None) -> Draft:
        return draft_answer(self.mem, self.pack, self.knowledge, question, subject)

    def ask_stream(self, question: str, subject: str | None = None) -> "Turn":
        return Turn(self, self.draft(question, subject))

    def ask(self, question: str, subject: str | None = None) -> Answer:
        turn = self.ask_stream(question, subject)
        for _ in turn:
            pass
        return turn.answer


class Turn:
    """One answer being written: iterate for text pieces; afterwards `.answer` is stored."""

    def __init__(self, companion: Companion, draft: Draft):
        self.companion, self.draft = companion, draft
        self.answer: Answer | None = None
        self.started = time.perf_counter()

    def __iter__(self):
        d, parts = self.draft, []

        def say(piece: str):
            parts.append(piece)
            return piece

        if d.red_flag:
            yield say(f"See a vet now: {d.red_flag}\n\n")
        usage = Usage()
        model = self.companion.model
        pieces = generate(model, d.prompt, self.companion.settings.max_new_tokens, usage)
        held = ""
        for piece in pieces:
            if held is not None and d.no_record:
                held += piece
                if len(held) < NO_RECORD_HOLD_CHARS:
                    continue
                piece, held = self._open_no_record(held), None
            yield say(piece)
        if held:
            yield say(self._open_no_record(held))
        text = "".join(parts)
        if not text.strip() or (d.red_flag and text.strip() == f"See a vet now: {d.red_flag}"):
            yield say(" ".join(f.text for f in d.facts) or "I could not phrase an answer this time.")
        body = "".join(parts)
        unsupported = unsupported_dates(body, d.block)
        if unsupported:
            yield say(f"\n\n(Check: {', '.join(unsupported)} is not in your notes.)")
        if self.companion.pack.needs_disclaimer(red_flag=bool(d.red_flag), no_record=d.no_record,
                                                kinds=[n.kind for n in d.notes]):
            yield say(f"\n\n{self.companion.pack.disclaimer}")
        self.answer = self._store("".join(parts).strip(), usage, model, unsupported)

    def _open_no_record(self, start: str) -> str:
        """No record is decided in code: the answer says so first, whatever the model began with."""
        if "no record" in start.lower():
            return start
        who = f" for {self.draft.scope_label}" if self.draft.scope_label else ""
        return f"There is no record of this{who} in your journal. " + start.lstrip()

    def _store(self, text: str, usage: Usage, model: LoadedModel, unsupported: list[str]) -> Answer:
        d = self.draft
        row = save_interaction(self.companion.mem, Interaction(
            question=d.question, subject_id=d.subject_id,
            retrieved=[{"id": h.id, "score": round(h.score, 4)} for h in d.recall.hits],
            citations=d.citations, prompt=d.prompt, history_block=d.block, answer=text,
            no_record=d.no_record, red_flag=d.red_flag, base_model=model.base_id,
            adapter_version=model.adapter_version,
            latency_ms=int((time.perf_counter() - self.started) * 1000),
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens))
        return Answer(row.id, text, d.citations, d.red_flag, d.no_record, model.adapter_version, unsupported)


_ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def unsupported_dates(answer: str, block: str) -> list[str]:
    """Dates the answer states that are not in the block the model saw (it must not invent any)."""
    allowed = set(_ISO.findall(block))
    return [d for d in dict.fromkeys(_ISO.findall(answer)) if d not in allowed]
