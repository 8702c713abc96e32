"""Pets' names in text: finding them, and masking them before a rule or a search reads the text.

A question may call a pet by a short form no other pet shares ("clem" for Clementine) and with a
possessive ("mochis dose", "clem's chin"): recall matches those. Red-flag rules mask names case-
sensitively, so a cat called Lily is not the plant in "she ate a lily".
"""
from __future__ import annotations

import re

from memory.keywords import STOPWORDS


def name_pattern(name: str, names=(), nicknames: bool = True) -> str:
    """A regex for the pet's name; with `nicknames`, also for short forms (at least four letters)
    no other pet's name starts with, and for a trailing possessive."""
    if not nicknames:
        return rf"\b{re.escape(name)}\b"
    short = [w for w in (name[:n].lower() for n in range(4, len(name)))
             if w not in STOPWORDS and sum(other.lower().startswith(w) for other in names) == 1]
    return rf"\b({'|'.join(map(re.escape, [name, *short]))})(?:'?s)?\b"


def names_in(text: str, name: str, names=()) -> re.Match | None:
    """Where the text calls the pet by its name or a short form of it (case-insensitive)."""
    return re.search(name_pattern(name, names), text, flags=re.I)


def mask_names(text: str, names, by: str, ignore_case: bool = True, nicknames: bool = False) -> str:
    """The text with each pet's name replaced by `by`."""
    names = [n for n in names if n]
    for name in names:
        text = re.sub(name_pattern(name, names, nicknames), by, text, flags=re.I if ignore_case else 0)
    return text


def is_about(text: str, name: str, names) -> bool:
    """Whether a note not filed under a pet is about this one: it names it, or names no pet at all
    ("did the flea drops on both cats")."""
    return bool(names_in(text, name, names)) or not any(
        names_in(text, other, names) for other in names if other.lower() != name.lower())
