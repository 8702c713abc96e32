"""Decoding constraints (agent.decoding): what the guard would cut is not written in the first place."""
import re

import pytest
import torch
from transformers import AutoTokenizer

from agent import guard
from agent.decoding import Constraint
from agent.model import Usage, generate, load_model
from agent.prompt import STOP_TOKEN_IDS, context_block, render_prompt, Note

NOTES = [Note("2024-02-13", "Mochi", "vet_visit", "Dr. Tanaka prescribed L-lysine 500 mg daily"),
         Note("2025-07-01", "Mochi", "weight", "Mochi weighs 4.2 kg")]


@pytest.fixture(scope="module")
def tokenizer(gemma_dir):
    return AutoTokenizer.from_pretrained(gemma_dir)


@pytest.fixture(scope="module")
def constraint(tokenizer):
    return Constraint(tokenizer, context_block(NOTES), stop_ids=STOP_TOKEN_IDS)


def test_only_numbers_from_the_prompt_can_be_written(constraint):
    ok = constraint.numbers_ok
    assert ok("She weighs 4.2 kg") and ok("On 2024-02-13 she") and ok("500 mg") and ok("on 13 February")
    assert ok("She weighs 4.") and ok("On 2024-0")  # unfinished, can still become 4.2 / 2024-02-13
    assert not ok("She weighs 4.3 kg") and not ok("a blood pressure of 2.6") and not ok("On 2024-03 ")
    assert ok("She weighs 4.2.") and not ok("On 2025-02-13 ")


def test_the_best_allowed_token_wins(tokenizer, constraint):
    logits = torch.zeros(len(tokenizer))
    three, four = tokenizer.convert_tokens_to_ids("3"), tokenizer.convert_tokens_to_ids("4")
    logits[three], logits[four] = 10.0, 9.0
    assert constraint.pick(logits, "She weighs ") == four  # "3" starts no number in the notes


def test_tokens_of_another_script_are_masked(tokenizer, constraint):
    cyrillic = tokenizer("привет", add_special_tokens=False).input_ids
    thai = tokenizer("สวัสดี", add_special_tokens=False).input_ids
    assert all(constraint.blocked[i] for i in cyrillic + thai)
    latin = tokenizer(" Mochi weighs", add_special_tokens=False).input_ids
    assert not any(constraint.blocked[i] for i in latin)
    for i in STOP_TOKEN_IDS:
        assert not constraint.blocked[i]


def test_after_no_record_month_names_are_masked(tokenizer):
    c = Constraint(tokenizer, context_block([]), no_record=True, stop_ids=STOP_TOKEN_IDS)
    july = tokenizer(" July", add_special_tokens=False).input_ids
    assert len(july) == 1 and c.blocked[july[0]]
    assert not c.numbers_ok("on 24")  # and no day numbers: the block has none


def test_a_repeated_sentence_stops_the_model(constraint):
    assert not constraint.done("Mochi weighs 4.2 kg.")
    assert constraint.done("Mochi weighs 4.2 kg. Mochi weighs 4.2 kg.")
    assert not constraint.done("Mochi weighs 4.2 kg. Mochi weighs")


class Pushy(torch.nn.Module):
    """The tiny random Gemma, pushed towards junk: Cyrillic, Thai and digits the notes do not have."""

    def __init__(self, model, tokenizer):
        super().__init__()
        self.model, self.config = model, model.config
        self.bias = torch.zeros(len(tokenizer))
        for text, push in (("привет мир", 30.0), ("สวัสดี", 29.0), ("398", 28.0)):
            self.bias[tokenizer(text, add_special_tokens=False).input_ids] = push

    def forward(self, **kw):
        out = self.model(**kw)
        out.logits = out.logits + self.bias
        return out


def test_a_model_pushed_to_junk_writes_no_foreign_number_or_script(tiny_gemma_dir):
    loaded = load_model(tiny_gemma_dir, device="cpu")
    loaded.model = Pushy(loaded.model, loaded.tokenizer)
    block = context_block(NOTES)
    prompt = render_prompt("How much does Mochi weigh?", block)
    free = "".join(generate(loaded, prompt, 40))
    assert not guard.is_latin(free), free  # without the constraint, the junk wins
    c = Constraint(loaded.tokenizer, block, stop_ids=STOP_TOKEN_IDS)
    text = "".join(generate(loaded, prompt, 40, Usage(), c))
    assert text.strip() and guard.is_latin(text), text
    allowed = {"2024", "02", "13", "2", "500", "2025", "07", "01", "7", "1", "4.2", "4", "2024-02-13", "2025-07-01"}
    for run in re.findall(r"\d[\d.,:-]*\d|\d", text):
        assert run in allowed, (run, text)
