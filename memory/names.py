"""Pets' names in text: finding them, and masking them before a rule or a search reads the text.

A question may call a pet by a short form no other pet shares ("clem" for Clementine) and with a
possessive ("mochis dose", "clem's chin"): recall matches those. Red-flag rules mask names case-
sensitively, so a cat called Lily is not the plant in "she ate a lily".
"""
from __future__ import annotations

import re

from memory.keywords import STOPWORDS


def name_pattern(name: str, names=(), nicknames: bool = True, known=()) -> str:
    """A regex for the pet's name; with `nicknames`, also for short forms (at least four letters)
    no other pet's name starts with, the `known` ones (`used_short_form`), and a trailing possessive."""
    if not nicknames:
        return rf"\b{re.escape(name)}\b"
    short = [w for w in (name[:n].lower() for n in range(4, len(name)))
             if w not in STOPWORDS and sum(other.lower().startswith(w) for other in names) == 1]
    return rf"\b({'|'.join(map(re.escape, [name, *short, *known]))})(?:'?s)?\b"


def names_in(text: str, name: str, names=(), known=()) -> re.Match | None:
    """Where the text calls the pet by its name or a short form of it (case-insensitive)."""
    return re.search(name_pattern(name, names, known=known), text, flags=re.I)


def mask_names(text: str, names, by: str, ignore_case: bool = True, nicknames: bool = False,
               known: dict | None = None) -> str:
    """The text with each pet's name replaced by `by`."""
    names = [n for n in names if n]
    for name in names:
        pattern = name_pattern(name, names, nicknames, (known or {}).get(name, ()))
        text = re.sub(pattern, by, text, flags=re.I if ignore_case else 0)
    return text


SHORT = 3  # letters of a short form learned from the notes ("giz" for Gizmo, "pip" for Pippin)
OWN_SHARE = 3  # its notes use it at least this many times as often as any other pet's do


def short_form(name: str, names) -> str | None:
    """The three-letter form of a name a journal may call the pet by, if no other pet's name starts
    with it and it is not a word questions are made of."""
    form = name[:SHORT].lower()
    if len(name) <= SHORT or not form.isalpha() or form in STOPWORDS:
        return None
    return form if sum(other.lower().startswith(form) for other in names) == 1 else None


def used_short_form(own: int, others: list[int]) -> bool:
    """Whether the owner calls the pet by its short form: it is a word in at least two of the notes
    filed under the pet, and in OWN_SHARE times as many of them as of any other pet's ("giz" for
    Gizmo in 18 of his notes and 2 of Biscuit's; "cat" for Catalina would be in every pet's)."""
    return own >= 2 and own >= OWN_SHARE * max(others, default=0)


def is_about(text: str, name: str, names) -> bool:
    """Whether a note not filed under a pet is about this one: it names it, or names no pet at all
    ("did the flea drops on both cats")."""
    return bool(names_in(text, name, names)) or not any(
        names_in(text, other, names) for other in names if other.lower() != name.lower())
