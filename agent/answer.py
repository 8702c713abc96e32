"""Answering: the code decides (notes, no record, red flags, facts), the model phrases.

    companion = Companion(Memory.open())
    turn = companion.ask_stream("Mochi is sneezing again, has this happened before?")
    for piece in turn: print(piece, end="")      # streamed (UI); companion.ask(...) blocks (CLI)
    turn.answer.to_json()                         # stored as an Interaction
"""
from __future__ import annotations

import copy
import time
from itertools import chain
from pathlib import Path
from dataclasses import dataclass, field

from agent import guard
from agent.decoding import Constraint
from agent.draft import Draft, draft_answer
from agent.adapters import adapter_base
from agent.convert import is_gguf_only, prepare_default_gguf, prepare_default_model, read_base_id
from agent.model import LoadedModel, Usage, generate, load_model
from agent.prompt import STOP_TOKEN_IDS
from agent.pack import Pack, load_pack
from agent.settings import Settings
from agent.knowledge import Knowledge
from memory.errors import MemoloopError
from memory.interactions import save_interaction
from memory.models import Interaction
from memory.store import Memory


@dataclass
class Answer:
    interaction_id: int
    answer: str
    citations: list[dict]
    red_flag: str | None
    no_record: bool
    adapter: str | None
    unsupported_dates: list[str] = field(default_factory=list)  # dates the model wrote that were cut
    cut: list[dict] = field(default_factory=list)  # the model's sentences that were not shown, and why
    trend: object = None  # memory.series.Trend for a measured quantity, shown as a table
    body: str = ""  # the answer's words without the red flag and the disclaimer
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

    def for_memory(self, mem: Memory) -> "Companion":
        """This companion (its model and facts, loaded once) answering into `mem`: the app's view of
        the household's memory for the person signed in (memory.store.Memory.written_by)."""
        view = copy.copy(self)
        view.mem = mem
        return view

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

        base = self.settings.base_model or self._default_base()
        choices = self.adapters if self.adapters is not None else adapter_choices(self.mem, self.settings)
        base_id = read_base_id(Path(base))
        for adapter in choices:
            trained_on = adapter_base(adapter)
            if trained_on and trained_on != base_id:
                self.warnings.append(f"adapter '{adapter}' was trained on {trained_on}, not {base_id}: skipped")
                continue
            try:
                return self._load(Path(base), adapter)
            except MemoloopError as exc:  # fall back to the previous good adapter, never crash
                self.warnings.append(str(exc))
        return self._load(Path(base), None)

    def _default_base(self) -> Path:
        """The default model: its GGUF where llama.cpp will answer (ready in a second on a first
        start), else the converted transformers folder (a minute, once)."""
        from agent import llama

        s = self.settings
        if s.engine != "transformers" and s.device != "cuda" and not s.quantize and llama.missing() is None:
            return prepare_default_gguf(self.mem.home.models_dir, self.progress)
        return prepare_default_model(self.mem.home.models_dir, self.progress)

    def _load(self, base: Path, adapter: Path | None) -> LoadedModel:
        """llama.cpp where it can serve this base and adapter (agent.llama), else transformers. With
        engine "auto", a base folder without a GGUF (a user's own transformers folder) or a GPU
        setting means transformers without a word; anything else that stops llama.cpp is said."""
        from agent import llama

        s = self.settings
        if s.engine == "llama.cpp" or (s.engine == "auto" and s.device != "cuda" and not s.quantize
                                       and llama.base_gguf(base, assemble=False)):
            try:
                return llama.load(base, adapter, self.mem.home.models_dir)
            except MemoloopError as exc:
                line = f"{exc}: answering with transformers instead (slower)"
                if line not in self.warnings:
                    self.warnings.append(line)
        if is_gguf_only(base):  # the default model's GGUF: transformers needs the converted folder
            base = prepare_default_model(self.mem.home.models_dir, self.progress)
        return load_model(base, adapter, s.device, s.quantize)

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
        self.raw, self.guarded = "", guard.Guarded([], [])  # the model's own words, and what the guard made of them

    def __iter__(self):
        for _kind, text in self.parts():
            yield text

    def body(self):
        """The answer without the flag, the check line and the disclaimer (the page shows those
        apart), streamed."""
        for kind, text in self.parts():
            if kind in ("measured", "body"):
                yield text

    def parts(self):
        d, pack, texts = self.draft, self.companion.pack, []

        def part(kind: str, text: str):
            texts.append(text)
            return kind, text

        if d.red_flag:
            yield part("flag", f"See a vet now: {d.red_flag}\n\n")
        measured = "".join(f"{line}.\n\n" for line in d.measured)  # computed in code: the data first
        if measured:
            yield part("measured", measured)
        said: list[str] = []  # the body's sentences; streamed, they read the same as " ".join(said)
        streamed = ""

        def sentence(text: str, begun: str = ""):  # `begun`: its first words, streamed already
            nonlocal streamed
            said.append(text)
            piece = text[len(begun):] if begun else ("" if not streamed or streamed.endswith(" ") else " ") + text
            streamed += piece
            return "body", piece

        if d.no_record:
            yield sentence(self._no_record_line())
        usage, model = Usage(), self.companion.model
        early = ""  # the opening words shown before their sentence was finished: a note's own words
        for kind, text in self._checked_sentences(model, usage, quote_first=not said):
            if kind == "early":
                early += text
                streamed += text
                yield "body", text
                continue
            yield sentence(text, early)
            early = ""
        for note in ([] if d.no_record or d.trend else guard.uncovered_notes(" ".join(said), d.block)):
            rest = guard.unsaid(note, " ".join(said))  # every note the code chose is stated, with its date
            if rest:
                yield sentence(rest)
        if len(said) == d.no_record:  # the model said nothing that holds: the vetted facts speak for themselves
            instead = " ".join(f.text for f in d.facts) or (  # a measured series has said it already
                "" if d.no_record or d.trend else "I could not phrase an answer this time.")
            if instead:  # after "no record" with no facts, the no-record line is the whole answer
                yield sentence(instead)
        body = " ".join(said)
        texts.append(body)
        guarded = self.guarded
        summary = guard.cut_summary(guarded.cut)
        if summary:
            yield part("check", f"\n\n({summary})")
        disclaimer = None
        if pack.needs_disclaimer(red_flag=bool(d.red_flag), no_record=d.no_record,
                                 kinds=[n.kind for n in d.notes]):
            disclaimer = pack.disclaimer
            yield part("disclaimer", f"\n\n{disclaimer}")
        self.answer = self._store("".join(texts).strip(), body, usage, model, guarded)
        self.answer.body, self.answer.disclaimer = measured + body, disclaimer

    def _checked_sentences(self, model: LoadedModel, usage: Usage, quote_first: bool = False):
        """The model's sentences as it finishes each, checked (`checked_sentences`); sets .raw and .guarded."""
        d = self.draft
        constraint = Constraint(model.tokenizer, f"{d.block}\n{d.question}", d.no_record, STOP_TOKEN_IDS)
        pieces = generate(model, d.prompt, self.companion.settings.max_new_tokens, usage, constraint)
        self.raw, self.guarded = yield from checked_sentences(pieces, d, usage, quote_first)

    def _no_record_line(self) -> str:
        """No record is decided in code: the answer says so first, whatever the model says."""
        who = f" for {self.draft.scope_label}" if self.draft.scope_label else ""
        return f"There is no record of this{who} in your journal."

    def _store(self, text: str, said: str, usage: Usage, model: LoadedModel, guarded: guard.Guarded) -> Answer:
        d = self.draft
        row = save_interaction(self.companion.mem, Interaction(
            question=d.question, subject_id=d.subject_id,
            retrieved=[{"id": h.id, "score": round(h.score, 4)} for h in d.recall.hits],
            citations=d.citations, prompt=d.prompt, history_block=d.block, answer=text, model_answer=said,
            cut=guarded.cut,
            no_record=d.no_record, red_flag=d.red_flag, base_model=model.base_id,
            adapter_version=model.adapter_version,
            latency_ms=int((time.perf_counter() - self.started) * 1000),
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens))
        return Answer(row.id, text, d.citations, d.red_flag, d.no_record, model.adapter_version,
                      guard.unsupported_dates(self.raw, d.block), cut=guarded.cut,
                      trend=d.trend)


def checked_sentences(pieces, d: Draft, usage: Usage, quote_first: bool = False):
    """The model's sentences as it finishes each, checked before it is shown: a sentence that
    fails comes back as the note it was made from (agent.guard). Returns (raw, guarded): the
    model's own words and what the guard made of them.

    Yields ("sentence", text), and with `quote_first` also ("early", words): while the answer's
    first words are, word for word, the first note stated the way answers state a note ("On
    2026-12-04: Mochi sneezed...", agent.guard.note_forms), they are shown as they come, a third
    of a second in instead of a whole sentence later. They are the note's own date and words, so
    they hold whatever comes next: the finished sentence starts with them or, if it does not
    (the guard cut it), the note is stated in full in the form they began. Nothing is yielded
    twice: a sentence already said word for word (inside that note, say) is not said again.
    `usage.stopped` tells, once `pieces` ends, whether the model stopped or ran out of tokens."""
    raw, shown, checked, guarded = "", 0, 0, guard.Guarded([], [])
    notes = guard.read_block(d.block).notes if quote_first and not d.no_record else []
    forms = guard.note_forms(notes[0]) if notes and notes[0].day else []
    order = None if d.trend else d.recall.time.order
    early, begun, told = "", "", ""  # begun: the note form the early words are the start of; told: all yielded
    for piece in chain(pieces, [None]):  # None: the model has finished
        raw = raw + piece if piece is not None else raw
        if forms and not shown:
            words = guard.as_shown(raw, order)  # the bare "Yes." and a "The last time was" lead go
            words = words[:words.rfind(" ") + 1]  # whole words only: never "sneez"
            if not words.startswith(early):
                forms = []  # the model went its own way: the rest waits for its sentence
            elif len(words) > len(early) and any(f.startswith(words) for f in forms):
                yield "early", words[len(early):]
                early = words
                forms = [f for f in forms if f.startswith(early)]
                begun = forms[0]
        finished = guard.sentences(raw) if piece is None else guard.sentences(raw)[:-1]
        unfinished = piece is None and not usage.stopped and not raw.rstrip().endswith((".", "!", "?"))
        if unfinished:  # out of tokens mid-sentence: "...from about 6 to 8 weeks of age until"
            finished = finished[:-1]
        if len(finished) == checked:
            continue  # no new sentence finished: nothing to check yet
        checked = len(finished)
        guarded = guard.guard(" ".join(finished), d.block, tuple(d.measured), no_numbers=d.trend is not None,
                              question=d.question, order=order, final=piece is None)
        for sentence in guarded.shown[shown:]:
            if early and not (sentence + " ").startswith(early):  # the note the early words began, in full
                told += " " + begun
                yield "sentence", begun
            early = ""
            if not (d.no_record and "no record" in sentence.lower()) and not guard.said_in(sentence, told):
                told += " " + sentence
                yield "sentence", sentence
        shown = len(guarded.shown)
    if early:  # nothing of the model's was shown after the early words: the note they began
        yield "sentence", begun
    if unfinished and raw.strip():
        guarded.cut.append({"sentence": guard.sentences(raw)[-1], "problems": ["unfinished: the model ran out of words"],
                            "shown_instead": None})
    return raw.strip(), guarded
