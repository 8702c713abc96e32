"""Answering: the code decides (notes, no record, red flags, facts), the model phrases.

    companion = Companion(Memory.open())
    turn = companion.ask_stream("Mochi is sneezing again, has this happened before?")
    for piece in turn: print(piece, end="")      # streamed (UI); companion.ask(...) blocks (CLI)
    turn.answer.to_json()                         # stored as an Interaction
"""
from __future__ import annotations

import time
from pathlib import Path
from dataclasses import dataclass, field

from agent.draft import Draft, draft_answer
from agent.adapters import adapter_base
from agent.model import LoadedModel, Usage, generate, load_model, prepare_default_model, read_base_id
from agent.pack import Pack, load_pack
from agent.settings import Settings
from agent.knowledge import Knowledge
from memory.dates import unsupported_dates
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
    body: str = ""  # the model's words alone
    disclaimer: str | None = None

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
        choices = self.adapters if self.adapters is not None else adapter_choices(self.mem, self.settings)
        base_id = read_base_id(Path(base))
        for adapter in choices:
            trained_on = adapter_base(adapter)
            if trained_on and trained_on != base_id:
                self.warnings.append(f"adapter '{adapter}' was trained on {trained_on}, not {base_id}: skipped")
                continue
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
    """One answer being written: iterate for text pieces; afterwards `.answer` is stored.

    The answer has parts: an optional red-flag line (decided in code, first), the model's body,
    an optional date check, an optional disclaimer. `parts()` yields them tagged, so a page can
    show the flag as a banner and the disclaimer as a caption; iterating yields plain text.
    """

    def __init__(self, companion: Companion, draft: Draft):
        self.companion, self.draft = companion, draft
        self.answer: Answer | None = None
        self.started = time.perf_counter()

    def __iter__(self):
        for _kind, text in self.parts():
            yield text

    def body(self):
        """Only the model's words (and the date check), streamed."""
        for kind, text in self.parts():
            if kind in ("body", "check"):
                yield text

    def parts(self):
        d, pack, texts = self.draft, self.companion.pack, []

        def part(kind: str, text: str):
            texts.append(text)
            return kind, text

        if d.red_flag:
            yield part("flag", f"See a vet now: {d.red_flag}\n\n")
        usage, model = Usage(), self.companion.model
        spoken = []
        for piece in self._model_pieces(model, usage):
            spoken.append(piece)
            yield "body", piece
        said = "".join(spoken).strip()
        if not said:  # the model said nothing useful: the vetted facts speak for themselves
            said = " ".join(f.text for f in d.facts) or "I could not phrase an answer this time."
            yield "body", said
        texts.append(said)
        unsupported = unsupported_dates(said, d.block)
        if unsupported:
            yield part("check", f"\n\n(Check: {', '.join(unsupported)} is not in your notes.)")
        disclaimer = None
        if pack.needs_disclaimer(red_flag=bool(d.red_flag), no_record=d.no_record,
                                 kinds=[n.kind for n in d.notes]):
            disclaimer = pack.disclaimer
            yield part("disclaimer", f"\n\n{disclaimer}")
        self.answer = self._store("".join(texts).strip(), said, usage, model, unsupported)
        self.answer.body, self.answer.disclaimer = said, disclaimer

    def _model_pieces(self, model: LoadedModel, usage: Usage):
        """The model's words; with no record, its start is held back until it is known to say so."""
        pieces = generate(model, self.draft.prompt, self.companion.settings.max_new_tokens, usage)
        if not self.draft.no_record:
            yield from pieces
            return
        held = ""
        for piece in pieces:
            if held is None:
                yield piece
                continue
            held += piece
            if len(held) >= NO_RECORD_HOLD_CHARS:
                yield self._open_no_record(held)
                held = None
        if held is not None:
            yield self._open_no_record(held)

    def _open_no_record(self, start: str) -> str:
        """No record is decided in code: the answer says so first, whatever the model began with."""
        if "no record" in start.lower():
            return start
        who = f" for {self.draft.scope_label}" if self.draft.scope_label else ""
        start = start.lstrip()
        joint = "\n" if start.startswith(("-", "*", "1.")) else " "
        return f"There is no record of this{who} in your journal.{joint}{start}"

    def _store(self, text: str, said: str, usage: Usage, model: LoadedModel, unsupported: list[str]) -> Answer:
        d = self.draft
        row = save_interaction(self.companion.mem, Interaction(
            question=d.question, subject_id=d.subject_id,
            retrieved=[{"id": h.id, "score": round(h.score, 4)} for h in d.recall.hits],
            citations=d.citations, prompt=d.prompt, history_block=d.block, answer=text, model_answer=said,
            no_record=d.no_record, red_flag=d.red_flag, base_model=model.base_id,
            adapter_version=model.adapter_version,
            latency_ms=int((time.perf_counter() - self.started) * 1000),
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens))
        return Answer(row.id, text, d.citations, d.red_flag, d.no_record, model.adapter_version, unsupported)


