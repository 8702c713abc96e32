"""Before/after: two adapters answer the user's own recent questions, side by side.

Each question is drafted once, exactly as answering drafts it (agent.draft + agent.prompt), so both
sides see the same notes and facts. The base model loads once; each adapter is put on it once.
Nothing is stored: a comparison is not a conversation.

    rows = compare(mem, "v3", "v4", recent_questions(mem))    # None for a side = the base model alone
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from agent.adapters import adapter_files_ok
from agent.convert import read_base_id
from agent.draft import draft_answer
from agent.convert import prepare_default_model
from agent.model import LoadedModel, Usage, generate, load_base
from agent.settings import Settings
from memory import journal
from memory.errors import MemoloopError
from memory.interactions import recent_interactions
from memory.store import Memory
from retrain import registry

MAX_QUESTIONS = 3
MAX_NEW_TOKENS = 80
BASE_LABEL = "the base model alone"


@dataclass(frozen=True)
class Question:
    """A question as the user asked it, with the pet it was about (None: whichever it names)."""
    question: str
    subject: str | None = None


@dataclass
class Side:
    text: str
    tokens: int
    seconds: float
    ended: str  # "stop": the model ended the answer; "length": out of tokens; "loop": it repeated itself


@dataclass
class Comparison:
    question: str
    subject: str | None
    citations: list[dict]
    no_record: bool
    red_flag: str | None
    answers: dict[str, Side] = field(default_factory=dict)  # "a" and "b"


def recent_questions(mem: Memory, limit: int = MAX_QUESTIONS) -> list[Question]:
    """The user's latest distinct questions, newest first, each with the pet it was scoped to."""
    names = journal.subject_names(mem)
    seen: dict[str, Question] = {}
    for it in recent_interactions(mem, 200):
        key = " ".join(it.question.lower().split())
        if key not in seen:
            seen[key] = Question(it.question, names.get(it.subject_id))
        if len(seen) == limit:
            break
    return list(seen.values())


def label(version: str | None) -> str:
    return BASE_LABEL if version is None else f"adapter {version}"


def compare(mem: Memory, version_a: str | None, version_b: str | None, questions: list[Question | str],
            max_new_tokens: int = MAX_NEW_TOKENS, *, settings: Settings | None = None,
            pack=None, knowledge=None, progress=None) -> list[Comparison]:
    """Answers of `version_a` and `version_b` (registry versions; None = no adapter) to `questions`."""
    if version_a == version_b:
        raise MemoloopError(f"both sides are {label(version_a)}; pick two different adapters to compare")
    asked = [q if isinstance(q, Question) else Question(q) for q in questions][:MAX_QUESTIONS]
    if not asked:
        raise MemoloopError("there are no questions to compare on; ask memoloop something first")
    say = progress or (lambda message: None)
    settings = settings or Settings.load(mem.home)
    base = Path(settings.base_model) if settings.base_model else prepare_default_model(mem.home.models_dir, say)
    versions = {"a": version_a, "b": version_b}
    folders = {side: _adapter_folder(mem, v, read_base_id(base)) for side, v in versions.items()}
    drafted = _drafts(mem, asked, pack, knowledge)
    say("Loading the model…")
    model, tokenizer, device, dtype = load_base(base, settings.device, settings.quantize)
    model.eval()
    # The bare base answers before any adapter is injected into it (injection changes it in place).
    for side in sorted(folders, key=lambda s: folders[s] is not None):
        model = _put_on(model, folders[side], side)
        loaded = LoadedModel(model, tokenizer, read_base_id(base), None, device, dtype)
        for n, (prompt, row) in enumerate(drafted, 1):
            say(f"{label(versions[side]).capitalize()}: question {n} of {len(drafted)}…")
            row.answers[side] = _answer(loaded, prompt, max_new_tokens)
    return [row for _, row in drafted]


def _adapter_folder(mem: Memory, version: str | None, base_id: str) -> Path | None:
    if version is None:
        return None
    found = {a.version: a for a in registry.adapters(mem)}
    adapter = found.get(version)
    if adapter is None:
        raise MemoloopError(f"adapter '{version}' does not exist; known versions: {', '.join(found) or 'none'}")
    if not adapter_files_ok(Path(adapter.path)):
        raise MemoloopError(f"adapter '{version}' has no loadable files at '{adapter.path}'; pick another one")
    if adapter.base_model and adapter.base_model != base_id:
        raise MemoloopError(f"adapter '{version}' was trained on '{adapter.base_model}', not on the "
                            f"current base model '{base_id}'; compare adapters of this base")
    return Path(adapter.path)


def _put_on(model, folder: Path | None, name: str):
    """The model with adapter `name` from `folder` switched on (a PeftModel holds several)."""
    from peft import PeftModel

    if folder is None:
        return model
    try:
        if isinstance(model, PeftModel):
            model.load_adapter(str(folder), adapter_name=name, is_trainable=False)
            model.set_adapter(name)
            return model
        return PeftModel.from_pretrained(model, str(folder), adapter_name=name, is_trainable=False)
    except Exception as exc:  # a corrupt file fails in many ways; all mean "this one cannot be used"
        raise MemoloopError(f"adapter '{folder}' could not be loaded ({type(exc).__name__}: "
                            f"{str(exc)[:200]}); pick another one") from exc


def _drafts(mem: Memory, asked: list[Question], pack, knowledge) -> list[tuple[str, Comparison]]:
    """(prompt, row to fill) per question: drafted once, the same for both sides."""
    from agent.knowledge import Knowledge
    from agent.pack import load_pack

    pack = pack or load_pack()
    knowledge = knowledge or Knowledge(mem, pack)
    drafted = []
    for q in asked:
        d = draft_answer(mem, pack, knowledge, q.question, q.subject)
        drafted.append((d.prompt, Comparison(q.question, q.subject, d.citations, d.no_record, d.red_flag)))
    return drafted


def _answer(loaded: LoadedModel, prompt: str, max_new_tokens: int) -> Side:
    usage, started = Usage(), time.perf_counter()
    text = "".join(generate(loaded, prompt, max_new_tokens, usage)).strip()
    ended = "stop" if usage.stopped else "length" if usage.completion_tokens >= max_new_tokens else "loop"
    return Side(text, usage.completion_tokens, round(time.perf_counter() - started, 1), ended)
