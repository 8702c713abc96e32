"""The domain pack: kinds, red-flag rules, disclaimer and curated facts, read from agent/packs/<name>/.

Red flags are decided here, by rules, never by the model: a flag fires when one of its patterns
matches a question or a recent observation without a nearby negation ("no straining", "not
vomiting anymore"), its optional `with` patterns match too, and none of its `unless` patterns do.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from agent.prompt import Fact
from memory.errors import MemoloopError
from memory.names import mask_names

PACKS_DIR = Path(__file__).parent / "packs"
# A question no rule catches is flagged when its nearest labelled question is an emergency at least
# this similar (MiniLM cosine). Chosen leave-one-set-out on the five triage sets the rules were
# tuned on: 0.68 flagged 133 of 198 emergencies by meaning alone with 3 false alarms in 199 calm ones.
SIMILAR = 0.68

# A cue in the few words before a match cancels it; "won't stop" / "hasn't stopped" are double
# negatives ("bleeding that won't stop") and keep it.
_NEGATION = re.compile(
    r"(?:\b(?:no|not|never|without|none|nor|cannot)\b|n't\b)(?!\s+(?:stop|end|quit))", re.I)
# Words after a match, in the same clause, that say it is over: "the vomiting has stopped".
_RESOLVED = re.compile(r"\b(?:stopped|resolved|cleared|gone|any ?more|no longer|settled down)\b")
# Negation does not reach past punctuation or a joining word: "no fever, but vomiting".
_CLAUSE_BREAK = re.compile(
    r"[.;:!?,()\n]|\b(?:but|and|then|so|although|though|however|yet|while|because)\b")
_WINDOW_WORDS = 4
# People type "hasnt" and curly apostrophes; rules are written for "hasn't".
_CONTRACTION = re.compile(r"\b(has|have|had|is|was|are|were|does|do|did|could|would|should|ca|wo)nt\b")


def normalize(text: str) -> str:
    """Lower case, straight apostrophes, "hasnt"/"cant" -> "hasn't"/"can't", single spaces."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = _CONTRACTION.sub(r"\1n't", text)
    return re.sub(r"[ \t]+", " ", text)


def _negated(text: str, m: re.Match) -> bool:
    before = _CLAUSE_BREAK.split(text[: m.start()])[-1]
    window = " ".join(before.split()[-_WINDOW_WORDS:])
    after = _CLAUSE_BREAK.split(text[m.end():])[0]
    return bool(_NEGATION.search(window) or _RESOLVED.search(after))


def _affirmed(patterns: tuple[re.Pattern, ...], text: str) -> bool:
    return any(not _negated(text, m) for p in patterns for m in p.finditer(text))


@dataclass(frozen=True)
class KnowledgeFact(Fact):
    """A curated fact: a prompt `Fact` (text, source) plus the id and topic it is indexed by."""

    id: str = ""
    topic: str = ""


@dataclass(frozen=True)
class RedFlag:
    id: str
    reason: str
    patterns: tuple[re.Pattern, ...]
    unless: tuple[re.Pattern, ...] = ()
    with_: tuple[re.Pattern, ...] = ()  # all-of: e.g. vomiting *and* lethargy
    sex: tuple[tuple[str, str], ...] = ()  # (sex, sentence added for a pet of that sex)

    def matches(self, text: str) -> bool:
        t = normalize(text)
        if not _affirmed(self.patterns, t) or (self.with_ and not _affirmed(self.with_, t)):
            return False
        return not any(p.search(t) for p in self.unless)


@dataclass(frozen=True)
class Examples:
    """Owners' questions labelled emergency (with the flag that fits) or calm (None), and their
    MiniLM vectors: what red flags are matched by meaning (make_triage_examples.py)."""
    texts: tuple[str, ...]
    flags: tuple[str | None, ...]
    vectors: np.ndarray = field(compare=False, repr=False)

    def nearest(self, vector: np.ndarray) -> tuple[str | None, float]:
        sims = self.vectors @ np.asarray(vector, dtype=np.float32)
        i = int(np.argmax(sims))
        return self.flags[i], float(sims[i])


@dataclass(frozen=True)
class Pack:
    name: str
    subject_species: str
    kinds: dict[str, str]
    red_flags: tuple[RedFlag, ...]
    disclaimer: str
    disclaimer_when: dict
    knowledge: tuple[KnowledgeFact, ...]
    vocabulary: dict  # concept -> words a cat owner uses for it (recall's query vocabulary)
    specific: tuple = ()  # terms (or groups of words) that name one thing: a note must say one to answer it
    examples: Examples | None = None  # labelled questions: red flags matched by meaning too
    care: tuple = ()  # default care items: {id, name, kind, every_days, words, source, household} (memory.care)
    trends: tuple = ()  # trend rules: {id, type, ...} (memory.alerts)
    quick_log: tuple = ()  # one-tap entries: {id, label, kind, text, metrics? | value?} (ui.entries.quick_entry)

    def matching_rule(self, question: str, recent_texts: list[str] = (), names: list[str] = ()) -> RedFlag | None:
        """The first flag, in pack order, matched by the question, else by a recent observation.

        `names` are the pets' names, masked case-sensitively first so a cat called Lily is not a lily.
        """
        for text in [question, *recent_texts]:
            text = mask_names(text or "", names, "the cat", ignore_case=False)
            for flag in self.red_flags:
                if flag.matches(text):
                    return flag
        return None

    def like_an_emergency(self, question: str, embed: Callable[[str], np.ndarray]) -> RedFlag | None:
        """The flag of the labelled question this one is most like, if that is an emergency and at
        least SIMILAR: "hes wee-ing nothing, just drops of blood" is a blockage no rule's words catch."""
        if self.examples is None or not question.strip():
            return None
        flag_id, similarity = self.examples.nearest(embed(question))  # names as written: the examples have theirs
        if flag_id is None or similarity < SIMILAR:
            return None
        return next(f for f in self.red_flags if f.id == flag_id)

    def triage(self, question: str, recent_texts: list[str] = (), names: list[str] = (),
               sexes: list[str] = (), embed: Callable[[str], np.ndarray] | None = None) -> str | None:
        """The reason to show first, or None: see `matching_rule`, then, given `embed` (text -> unit
        vector), `like_an_emergency`. `sexes`: of the pets asked about; a rule may say more for one
        sex ("a blocked urethra is mostly a male cat's emergency")."""
        flag = self.matching_rule(question, recent_texts, names)
        if flag is None and embed is not None:
            flag = self.like_an_emergency(question, embed)
        if flag is None:
            return None
        extra = [text for sex, text in flag.sex if sexes and set(sexes) == {sex}]
        return " ".join([flag.reason, *extra])

    def needs_disclaimer(self, *, red_flag: bool = False, no_record: bool = False, kinds=()) -> bool:
        """Whether an answer with this red flag / no-record state / cited note kinds shows the disclaimer."""
        when = self.disclaimer_when
        if (red_flag and when.get("red_flag")) or (no_record and when.get("no_record")):
            return True
        return bool(set(kinds) & set(when.get("kinds", ())))


def load_pack(name: str = "cat_care", packs_dir: Path | None = None) -> Pack:
    """Read and check a pack; any problem is a MemoloopError naming the file and what is wrong."""
    root = Path(packs_dir) if packs_dir else PACKS_DIR
    if not re.fullmatch(r"[a-z0-9_]+", name or "") or not (root / name).is_dir():
        known = sorted(p.name for p in root.glob("*") if (p / "pack.json").exists()) if root.is_dir() else []
        raise MemoloopError(f"unknown domain pack {name!r} in {root}; available: {', '.join(known) or 'none'}")
    path = root / name / "pack.json"
    data = _read_json(path)
    try:
        kinds = {k["name"]: k["description"] for k in data["kinds"]}
        flags = tuple(_red_flag(f, path) for f in data["red_flags"])
        return Pack(name=data["name"], subject_species=data["subject_species"], kinds=kinds,
                    red_flags=flags, disclaimer=data["disclaimer"],
                    disclaimer_when=dict(data.get("disclaimer_when") or {}),
                    knowledge=_read_knowledge(root / name / "knowledge.jsonl"),
                    vocabulary=_read_vocabulary(root / name / "vocabulary.json"),
                    specific=tuple(_read_json(root / name / "vocabulary.json").get("_specific", ()))
                    if (root / name / "vocabulary.json").exists() else (),
                    examples=_read_examples(root / name / "triage_examples.json", {f.id for f in flags}),
                    care=tuple(_care_item(c, path) for c in data.get("care", ())),
                    trends=tuple(_trend(t, path) for t in data.get("trends", ())),
                    quick_log=tuple(data.get("quick_log", ())))
    except (KeyError, TypeError) as e:
        raise MemoloopError(f"domain pack file {path} is missing the field {e}; "
                            f"see {path.parent / 'README.md'}") from None


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MemoloopError(f"domain pack file {path} is missing; restore it or reinstall memoloop") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise MemoloopError(f"domain pack file {path} is not valid JSON: {e}") from None


def _care_item(raw: dict, path: Path) -> dict:
    item = {"id": raw["id"], "name": raw["name"], "kind": raw.get("kind", "note"),
            "every_days": int(raw["every_days"]), "words": list(raw["words"]), "source": raw["source"],
            "household": bool(raw.get("household", False))}
    for w in item["words"]:
        try:
            re.compile(w)
        except re.error as e:
            raise MemoloopError(f"domain pack file {path}: care item {item['id']!r} has a bad words regex: {e}") from None
    return item


TREND_FIELDS = {"change": ("metric", "days", "watch_pct", "vet_pct"),
                "more_often": ("what", "recent_days", "usual_days", "min_count", "times_usual"),
                "doses_stopped": ("days",)}


def _trend(raw: dict, path: Path) -> dict:
    if raw.get("type") not in TREND_FIELDS:
        raise MemoloopError(f"domain pack file {path}: trend {raw.get('id')!r} has type {raw.get('type')!r}; "
                            f"valid: {', '.join(TREND_FIELDS)}")
    missing = [name for name in ("id", "source", *TREND_FIELDS[raw["type"]]) if name not in raw]
    if missing:
        raise MemoloopError(f"domain pack file {path}: trend {raw.get('id')!r} is missing the field '{missing[0]}'")
    for w in raw.get("words", ()):
        try:
            re.compile(w)
        except re.error as e:
            raise MemoloopError(f"domain pack file {path}: trend {raw['id']!r} has a bad words regex: {e}") from None
    return dict(raw)


def _red_flag(raw: dict, path: Path) -> RedFlag:
    def compile_all(key: str) -> tuple[re.Pattern, ...]:
        try:
            return tuple(re.compile(p) for p in raw.get(key, ()))
        except re.error as e:
            raise MemoloopError(f"domain pack file {path}: red flag {raw.get('id')!r} "
                                f"has a bad {key} regex: {e}") from None
    if not raw["patterns"]:
        raise MemoloopError(f"domain pack file {path}: red flag {raw['id']!r} has no patterns")
    return RedFlag(id=raw["id"], reason=raw["reason"], patterns=compile_all("patterns"),
                   unless=compile_all("unless"), with_=compile_all("with"),
                   sex=tuple((raw.get("sex") or {}).items()))


def _read_examples(path: Path, flag_ids: set[str]) -> Examples | None:
    """Optional: labelled questions (triage_examples.json) and their vectors (the .npy beside it)."""
    if not path.exists():
        return None
    rows = _read_json(path).get("examples")
    vectors_path = path.with_suffix(".npy")
    try:
        vectors = np.load(vectors_path)
    except (OSError, ValueError) as e:
        raise MemoloopError(f"domain pack file {vectors_path} is missing or broken ({e}); "
                            f"run make_triage_examples.py in {path.parent}") from None
    if not isinstance(rows, list) or vectors.shape[0] != len(rows):
        raise MemoloopError(f"domain pack files {path.name} and {vectors_path.name} do not match; "
                            f"run make_triage_examples.py in {path.parent}")
    unknown = {r.get("flag") for r in rows} - flag_ids - {None}
    if unknown:
        raise MemoloopError(f"domain pack file {path}: unknown red flag {sorted(unknown)[0]!r}")
    return Examples(tuple(r["text"] for r in rows), tuple(r["flag"] for r in rows), vectors.astype(np.float32))


def _read_knowledge(path: Path) -> tuple[KnowledgeFact, ...]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise MemoloopError(f"domain pack file {path} is missing; restore it or reinstall memoloop") from None
    facts = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            fact = KnowledgeFact(text=row["text"], source=row["source"], id=row["id"], topic=row["topic"])
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise MemoloopError(f"domain pack file {path}, line {n}: "
                                f"not a fact with id, topic, text, source ({e})") from None
        if not all((fact.id, fact.topic, fact.text, fact.source)):
            raise MemoloopError(f"domain pack file {path}, line {n}: fact {fact.id!r} has an empty field")
        facts.append(fact)
    return tuple(facts)


def _read_vocabulary(path: Path) -> dict[str, list[str]]:
    """Optional: groups of words recall treats as one concept (keys starting with _ are comments,
    but for "_frames": the groups that frame a question rather than name its topic)."""
    if not path.exists():
        return {}
    data = _read_json(path)
    if not isinstance(data, dict):
        raise MemoloopError(f"domain pack file {path} must be a JSON object of word lists")
    return {k: list(v) for k, v in data.items() if not k.startswith("_") or k == "_frames"}
