"""The one prompt format, shared by answering and training (Gemma turns, no system role).

An Alpaca record maps onto it directly: instruction = the question, input = the block built
by `context_block` (the dated notes and the knowledge facts the model saw), output = the answer.
"""
from __future__ import annotations

from dataclasses import dataclass

START, END = "<start_of_turn>", "<end_of_turn>"
# Gemma 3's token ids (its tokenizer; checked by the tests): generation stops on <eos> and
# <end_of_turn>, the token every trained answer ends with; <start_of_turn> is a guard.
EOS_ID, END_OF_TURN_ID, START_OF_TURN_ID = 1, 106, 105
STOP_TOKEN_IDS = (EOS_ID, END_OF_TURN_ID, START_OF_TURN_ID)

INSTRUCTIONS = (
    "You are memoloop, a cat-care companion. Answer in two or three kind, specific sentences. "
    "Use only the notes and facts below and copy dates exactly as written. "
    "If there is no record, say so plainly, then give the general guidance."
)
NO_RECORD_LINE = "- no record about this"


@dataclass(frozen=True)
class Note:
    day: str  # YYYY-MM-DD, as the user would say it
    subject: str  # pet name, or "household"
    kind: str
    text: str


@dataclass(frozen=True)
class Fact:
    text: str
    source: str = ""


def context_block(notes: list[Note], facts: list[Fact] = (), pets: list[str] = (),
                  measured: list[str] = ()) -> str:
    """The dated history block (newest first, as recall orders it), the pets asked about
    ("Mochi is a female cat (she/her), spayed"), measured series computed in code, and the facts."""
    lines = ["History:"]
    lines += [f"- {n.day} ({n.subject}, {n.kind}): {n.text}" for n in notes] or ([] if measured else [NO_RECORD_LINE])
    for title, rows in (("Measured", measured), ("Pets", pets)):
        if rows:
            lines.append(f"{title}:")
            lines += [f"- {r}" for r in rows]
    if facts:
        lines.append("Facts:")
        lines += [f"- {f.text}" for f in facts]
    return "\n".join(lines)


def render_prompt(question: str, block: str) -> str:
    """The user turn and the opening of the model turn; the tokenizer adds <bos>."""
    return f"{START}user\n{INSTRUCTIONS}\n\n{block}\n\nQuestion: {question.strip()}{END}\n{START}model\n"


def render_target(answer: str) -> str:
    """What training teaches the model to write: the answer, then the token generation stops on."""
    return f"{answer.strip()}{END}"
