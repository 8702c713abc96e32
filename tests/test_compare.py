"""Before/after comparison on the tiny Gemma: the answering prompt, each adapter applied, nothing stored."""
from __future__ import annotations

import pytest

from agent.convert import read_base_id
from agent.draft import draft_answer
from agent.knowledge import Knowledge
from agent.model import load_model
from tests.test_model import complete
from agent.pack import load_pack
from agent.settings import Settings
from memory import journal
from memory.errors import MemoloopError
from memory.interactions import recent_interactions, save_interaction
from memory.models import Interaction
from retrain import registry, trainer
from retrain.compare import Question, compare, recent_questions
from retrain.config import TrainConfig
from retrain.dataset import Dataset, Record

TOKENS = 12
# Two adapters that learned different answers, so their words differ from each other and the base's.
LESSONS = {"v1": "Mochi Mochi Mochi sneezed on 2024-02-10.", "v2": "Luna Luna Luna is fine, no record."}


@pytest.fixture(scope="module")
def trained(tiny_gemma_dir, tmp_path_factory):
    folders = {}
    for seed, (version, output) in enumerate(LESSONS.items()):
        records = [{"instruction": q, "input": "History:\n- no record about this", "output": output}
                   for q in ("Has Mochi sneezed before?", "Is Luna okay?", "When was the last vet visit?")]
        folders[version] = tmp_path_factory.mktemp(version) / version
        cfg = TrainConfig(max_steps=20, grad_accum=1, learning_rate=5e-2, warmup_steps=0, seed=seed, device="cpu")
        data = Dataset([Record.of(r) for r in records], [], [])
        candidate = trainer.train(data, cfg, trainer.load(tiny_gemma_dir, cfg))
        candidate.manifest.version = version
        candidate.save(folders[version])
    return folders


@pytest.fixture
def asked(mem, cats):
    """A home where the user asked four questions (two the same but for case and spaces)."""
    ids = {name: i for i, name in journal.subject_names(mem).items()}
    for question, subject in (("Has she sneezed before?", "Mochi"), ("Has Mochi sneezed before?", None),
                              ("has mochi  sneezed before?", None), ("Did Luna get her booster?", None)):
        save_interaction(mem, Interaction(question=question, subject_id=ids.get(subject)))
    return mem


@pytest.fixture
def home(asked, tiny_gemma_dir, trained):
    Settings(base_model=str(tiny_gemma_dir), device="cpu").save(asked.home)
    for version, folder in trained.items():
        registry.register(asked, version, folder, run_id=None, base_model=read_base_id(tiny_gemma_dir),
                          metrics={})
    return asked


def references(mem, base, adapter, questions: list[Question]) -> list[tuple[str, int]]:
    """What answering itself makes the model say (words, tokens): its draft and prompt, this adapter."""
    pack = load_pack()
    knowledge, model = Knowledge(mem, pack), load_model(base, adapter, "cpu")
    answers = [complete(model, draft_answer(mem, pack, knowledge, q.question, q.subject).prompt, TOKENS)
               for q in questions]
    return [(text, tokens) for text, _, tokens in answers]


def said(rows, side: str) -> list[tuple[str, int]]:
    return [(r.answers[side].text, r.answers[side].tokens) for r in rows]


def test_recent_questions_are_distinct_newest_first_with_their_pet(asked):
    assert recent_questions(asked) == [Question("Did Luna get her booster?"), Question("has mochi  sneezed before?"),
                                      Question("Has she sneezed before?", "Mochi")]
    assert recent_questions(asked, limit=1) == [Question("Did Luna get her booster?")]


def test_two_adapters_answer_the_same_drafted_prompt_and_nothing_is_stored(home, tiny_gemma_dir, trained):
    questions = recent_questions(home)
    before = len(recent_interactions(home, 100))
    messages = []
    rows = compare(home, "v1", "v2", questions, TOKENS, progress=messages.append)
    assert len(recent_interactions(home, 100)) == before  # a comparison is not a conversation
    assert [r.question for r in rows] == [q.question for q in questions]
    scoped = rows[2]
    assert scoped.subject == "Mochi" and scoped.citations and not scoped.no_record
    cited = [c["text"] for c in scoped.citations]
    assert "Mochi sneezed twice this morning" in cited and not [t for t in cited if "Luna" in t]
    assert said(rows, "a") == references(home, tiny_gemma_dir, trained["v1"], questions)
    assert said(rows, "b") == references(home, tiny_gemma_dir, trained["v2"], questions)
    for row in rows:
        assert row.answers["a"].text != row.answers["b"].text
        assert 0 < row.answers["a"].tokens <= TOKENS
    assert "Adapter v2: question 3 of 3…" in messages


def test_the_base_model_alone_against_an_adapter(home, tiny_gemma_dir, trained):
    questions = ["Has Mochi sneezed before?", "Is Luna okay?", "When was the last vet visit?"]
    rows = compare(home, "v1", None, questions + ["a fourth question is left out"], TOKENS)
    assert [r.question for r in rows] == questions
    plain = [Question(q) for q in questions]
    assert said(rows, "b") == references(home, tiny_gemma_dir, None, plain)
    assert said(rows, "a") == references(home, tiny_gemma_dir, trained["v1"], plain)
    assert all(r.answers["a"].text != r.answers["b"].text for r in rows)


def test_bad_choices_are_errors_that_name_the_fix(home, tmp_path):
    with pytest.raises(MemoloopError, match="pick two different adapters"):
        compare(home, "v1", "v1", ["Is Luna okay?"])
    with pytest.raises(MemoloopError, match="adapter 'v9' does not exist; known versions: v1, v2"):
        compare(home, "v1", "v9", ["Is Luna okay?"])
    with pytest.raises(MemoloopError, match="no questions to compare"):
        compare(home, "v1", None, [])
    from tests.test_registry import adapter_folder

    registry.register(home, "v3", adapter_folder(tmp_path, "v3"), run_id=None, base_model="google/gemma-7b",
                      metrics={})
    with pytest.raises(MemoloopError, match="was trained on 'google/gemma-7b'"):
        compare(home, "v3", None, ["Is Luna okay?"])
