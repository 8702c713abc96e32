"""The one check of model text against the notes and facts it was given (no torch here).

The 270M model, given the right notes, still writes false things: a number no note has, a
vet who "removed his ears" from a note about ear mites, junk characters, the same line nine
times. So every sentence it writes is checked before anyone sees it:

    verdicts = check(answer, block)            # one Verdict per sentence, with its problems
    shown = guard(answer, block)               # what the user reads; shown.cut says what was cut

A sentence passes when its dates, numbers and names are all in the block (the dated notes and
the pack's facts the model saw) and most of its content words are too; it is in the Latin
script; it repeats no earlier sentence; its pronouns fit the pet. A failed sentence is replaced
by the note (or fact) it came from, in plain words with its date, or dropped. The answer guard,
the dataset builder and the retrain gate all judge text with this module.
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field

from memory.keywords import STOPWORDS
from memory.timewords import HISTORY

DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?!\d)")
MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m and m.lower() != "may"})
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\b|\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b",
                       re.I)
MONTH_WORD = re.compile(rf"\b(?:{'|'.join(m for m in MONTHS if len(m) > 3)})\b", re.I)
NOTE_LINE = re.compile(r"^- (\d{4}-\d{2}-\d{2}) \(([^,()]+), ([^()]+)\): (.*)$")
PET_LINE = re.compile(r"^- (\w[\w' -]*) is an? (female|male)\b")
NO_RECORD = "- no record about this"
LAYOUT = re.compile(r"\b(?:History|Pets|Facts|Measured|Question):|(?:^|\s)- \d{4}-\d{2}-\d{2} \(|\s-\s+[A-Z]")
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
# Words an answer may use whatever the notes say: the answer's own glue, not facts about the cat.
ANSWER_WORDS = frozenset("""
yes no record records journal note notes noted wrote logged log entry entries cat cats vet vets
time times day days week weeks month months year years again ago
had has have was were got get also then today yesterday since once twice before after back came
come happened went around about because though keep kept watch check call ask help more less
household home date dates there here ok okay well good fine please should could
recent latest last first earliest
might may can will would shall one two three four five six seven eight nine ten new old same
""".split())
PRONOUNS = {"female": ("he", "him", "his", "himself"), "male": ("she", "her", "hers", "herself")}
LATIN_EXTRA = set("\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u00b0\u00b7\u00d7\u00bd\u00bc\u00be\u00b5")  # \u00b5: "\u00b5mol/L"
MIN_SUPPORTED = 1.0  # share of a sentence's content words that must be in its sources: a 270M model
# garbles facts exactly where it paraphrases, so a sentence either keeps to its note's words or the note is shown


@dataclass
class Source:
    """One line the model saw: a dated note or a fact; `said` is how an answer states it plainly."""
    text: str
    day: str | None = None
    header: str = ""  # "Mochi vet visit": whose note, of what kind

    @property
    def said(self) -> str:
        text = self.text.rstrip()
        text = text if text.endswith((".", "!", "?")) else text + "."
        return f"On {self.day}: {text}" if self.day else text


@dataclass
class Block:
    """What the model was given, read back from the block text (agent.prompt.context_block)."""
    text: str
    notes: list[Source] = field(default_factory=list)
    facts: list[Source] = field(default_factory=list)
    sexes: dict[str, str] = field(default_factory=dict)
    context: list[str] = field(default_factory=list)  # the pets and measured lines: true of every note

    @property
    def no_record(self) -> bool:
        return NO_RECORD in self.text


@dataclass
class Verdict:
    sentence: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Guarded:
    shown: list[str]  # the sentences the user reads, in order
    cut: list[dict]  # [{"sentence", "problems", "shown_instead"}] what the model wrote and was not shown

    @property
    def text(self) -> str:
        return " ".join(self.shown)


def read_block(block: str) -> Block:
    b = Block(block)
    section = None
    for line in block.splitlines():
        if line.endswith(":") and not line.startswith("-"):
            section = line[:-1].lower()
            continue
        m = NOTE_LINE.match(line)
        if section == "history" and m:
            b.notes.append(Source(m.group(4), m.group(1), f"{m.group(2)} {m.group(3).replace('_', ' ')}"))
        elif section == "pets" and line.startswith("- "):
            b.context.append(line[2:])
            if p := PET_LINE.match(line):
                b.sexes[p.group(1).lower()] = p.group(2)
        elif section == "measured" and line.startswith("- "):
            b.context.append(line[2:])  # shown by the code above the answer: never shown again
        elif line.startswith("- ") and section == "facts":
            b.facts.append(Source(line[2:]))
    return b


def sentences(text: str) -> list[str]:
    """Split into sentences, and clauses joined by ";" (the model lists notes that way), but not
    inside "Dr. Tanaka", "4.2 kg" or "e.g."."""
    text = re.sub(r"\s+", " ", text or "").strip()
    parts = re.split(r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bvs\.)(?<!\be\.g\.)(?<!\bi\.e\.)"
                     r"(?:(?<=[.!?])\s+(?=[^a-z])|(?<=;)\s+)", text)
    return [p.strip() for p in parts if p.strip()]


def stem(word: str) -> str:
    word = word.lower().replace("'s", "")
    for suffix in ("ing", "ed", "es", "ly", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word[:5]


def content_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOPWORDS and w not in ANSWER_WORDS and len(w) > 2]


def numbers(text: str) -> set[str]:
    """The numbers in `text` outside ISO dates, normalised ("4,5" -> "4.5", "4.50" -> "4.5")."""
    return {_norm_number(n) for n in NUMBER.findall(DATE.sub(" ", text))}


def _norm_number(n: str) -> str:
    n = n.replace(",", ".")
    return n.rstrip("0").rstrip(".") if "." in n else n.lstrip("0") or "0"


def _month_days(text: str) -> set[tuple[int, int]]:
    found = set()
    for m in DAY_MONTH.finditer(text):
        day, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        found.add((MONTHS[month.lower()], int(day)))
    return found


def is_latin(text: str) -> bool:
    """Only Latin letters (with accents), digits, punctuation and spaces: no junk from other scripts."""
    for ch in text:
        if ch.isascii() or ch in LATIN_EXTRA:
            continue
        if ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
            continue
        if unicodedata.category(ch)[0] in "LMSCN" or ord(ch) > 0x2000:
            return False
    return True


@dataclass
class _Scope:
    """What one sentence may draw on: its dates, numbers, names and words."""
    text: str

    def __post_init__(self):
        self.lower = self.text.lower()
        self.dates = set(DATE.findall(self.text))
        self.day_months = {(int(m), int(d)) for _y, m, d in self.dates} | _month_days(self.text)
        self.numbers = _all_numbers(self.text) | {str(int(d)) for _y, _m, d in self.dates}
        self.words = {stem(w) for w in WORD.findall(self.lower)}


def check(answer: str, block: str | Block, trusted: tuple[str, ...] = (), no_numbers: bool = False,
          question: str = "", order: str | None = None) -> list[Verdict]:
    """One verdict per sentence of `answer` against what the model was given.

    A sentence that names a note's date is checked against that note alone (and the pets and
    measurements): "On 2023-02-11 Dr. Fairley..." must be what the note of 2023-02-11 says, not a
    mix of several notes. `no_numbers`: the numbers were computed in code and shown already.
    `question`: given by the answer path, a bare "Yes." or "No." is cut (the notes shown answer). `order` ("latest" or "earliest"): the
    question asks for the last or first time, and the block's first note is it (the code sorted
    them): the first note the answer names must be that one.
    """
    b = block if isinstance(block, Block) else read_block(block)
    everything = _Scope(" ".join([b.text, *trusted]))
    context = " ".join([*b.context, *trusted])
    facts = " ".join(f.text for f in b.facts)
    said: list[set[str]] = []
    verdicts, told = [], []  # told: the notes the answer has named by date so far
    for s in sentences(answer):
        problems = []
        if not is_latin(s):
            problems.append("characters outside the Latin script")
        days = _days(s, b)
        dated = [n for n in b.notes if n.day in days]
        if order and not HISTORY.search(question) and dated and not told and b.notes and b.notes[0] not in dated:
            problems.append(f"opens with {dated[0].day}, but the {ORDER_WORDS[order]} is {b.notes[0].day}")
        told += [n for n in dated if n not in told]
        # An undated sentence after dated ones goes on about those notes ("On D: ... He was 5.6 kg"):
        # it may draw on them and the facts, not on a note it never named.
        about = dated or told
        scope = _Scope(" ".join([n.header + " " + n.text for n in about] + [context, facts])) if about else everything
        for d in DATE.findall(s):
            if d not in everything.dates:
                problems.append(f"date {'-'.join(d)} is not in the notes")
        problems += [f"date {m}/{d} is not in the notes" for m, d in _month_days(s) if (m, d) not in everything.day_months]
        if b.no_record and (DATE.search(s) or MONTH_WORD.search(s)):
            problems.append("dated history after 'no record'")
        if b.notes and "no record" in s.lower():
            problems.append("says 'no record' but notes were found")
        if no_numbers and re.search(r"\d", s) and not any(_flat(s) in _flat(f.text) for f in b.facts):
            problems.append("numbers come from the measurements, computed in code")
        problems += _order_problems(s, dated, b.notes)
        problems += [f"number {n} is not in the notes" for n in sorted(_all_numbers(s) - scope.numbers)]
        problems += [f"name {n} is not in the notes" for n in names(s) if n.lower() not in scope.lower]
        words = content_words(s)
        missing = [w for w in words if stem(w) not in scope.words]
        if words and (len(words) - len(missing)) / len(words) < MIN_SUPPORTED:
            problems.append(f"words not in the notes: {', '.join(missing)}")
        if _flat(s) not in _flat(everything.text):  # the owner's own words may say "he" of the vet
            problems += _pronoun_problems(s, b.sexes)
        if question and BARE_YES_NO.match(s):  # whether the notes say so is the code's call, not the model's:
            # read in fresh4, "has she ever had a problem with her claws?" -> "Yes." over a weight note
            problems.append(BARE_CUT)
        if LAYOUT.search(s):
            problems.append("copies the prompt's layout")
        if _loops(s):
            problems.append("repeats itself")
        bag = _bag(s, days)
        if _said_before(bag, said):
            problems.append("repeats an earlier sentence")
        said.append(bag)
        verdicts.append(Verdict(s, problems))
    return verdicts


def _bag(sentence: str, days: list[str]) -> set[str]:
    """What a sentence says, for telling a repeat: its content words and the days it names."""
    return set(content_words(sentence)) | set(days)


def _said_before(bag: set[str], said: list[set[str]]) -> bool:
    return bool(bag) and any(len(bag & prev) >= 0.8 * len(bag) for prev in said)


def repeats(answer: str) -> bool:
    """Whether the last sentence of `answer` repeats itself or an earlier one: what `check` finds of
    it, for decoding to stop at (once per finished sentence, without reading the notes)."""
    parts = sentences(answer)
    if not parts:
        return False
    nothing = Block("")  # no notes: only its ISO dates tell a sentence's days
    bags = [_bag(s, _days(s, nothing)) for s in parts]
    return _loops(parts[-1]) or _said_before(bags[-1], bags[:-1])


# With memory.timewords.HISTORY in the question ("...again, what did the vet give last time?") the
# answer is the last time it happened, which need not be the newest note the code chose; only
# "when did she last...", "her latest T4" must open with the newest one.
ORDER_WORDS = {"latest": "most recent", "earliest": "first"}
BARE_CUT = "a bare yes or no: the notes shown are the answer"
BARE_YES_NO = re.compile(r"^(?:yes|no)\b[\s.,!]*$", re.I)
LEAD_CLAIM = re.compile(r"(?:(?<=^)|(?<=[.;!?] ))(?:the (?:most recent|latest|last|first|earliest)(?: time| one| note)? "
                        r"(?:was|is) (?:on |from )?|before that, on )(?=\d{4}-\d{2}-\d{2})", re.I)
LATEST_CLAIM = re.compile(r"\b(?:most recent|latest|last time|the last|most recently)\b", re.I)
FIRST_CLAIM = re.compile(r"\b(?:first time|earliest|the first|at first)\b", re.I)


def _order_problems(sentence: str, dated: list[Source], notes: list[Source]) -> list[str]:
    """"The most recent was on D" must name the newest note of its pet and kind, "the first" the
    oldest (words quoted from the note itself do not count as the claim)."""
    if len(dated) != 1:
        return []
    note = dated[0]
    claim = _flat(sentence).replace(_flat(note.text), " ")
    same = [n.day for n in notes if n.header == note.header]
    if LATEST_CLAIM.search(claim) and max(same) > note.day:
        return [f"calls {note.day} the most recent, but {max(same)} is newer"]
    if FIRST_CLAIM.search(claim) and min(same) < note.day:
        return [f"calls {note.day} the first, but {min(same)} is older"]
    return []


def _loops(sentence: str, span: int = 6) -> bool:
    """The same run of `span` words twice in one sentence, or of three straight after itself
    ("Bravecto all 3: Bravecto all 3"): the model went round in a loop."""
    words = re.findall(r"[a-z0-9]+", sentence.lower())
    runs = [tuple(words[i:i + span]) for i in range(len(words) - span + 1)]
    if len(runs) != len(set(runs)):
        return True
    return any(words[i:i + k] == words[i + k:i + 2 * k]
               for k in range(3, span) for i in range(len(words) - 2 * k + 1))


NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split()) if i >= 2}


def _all_numbers(sentence: str) -> set[str]:
    """Digits, and number words from two to twelve ("two teeth" is a count like "2 teeth")."""
    return numbers(sentence) | {NUMBER_WORDS[w] for w in WORD.findall(sentence.lower()) if w in NUMBER_WORDS}


def names(sentence: str) -> list[str]:
    """Capitalised words after the first: vets, clinics, drugs, brands (months and pets are checked apart)."""
    words = re.findall(r"\b[A-Z][a-zA-Z-]+", sentence)[1:] if sentence[:1].isupper() else re.findall(
        r"\b[A-Z][a-zA-Z-]+", sentence)
    return [w for w in words if w.lower() not in MONTHS and w not in ("I", "Dr", "Mr", "Mrs", "Ms", "Yes", "No")
            and w.lower() not in STOPWORDS and w.lower() not in ANSWER_WORDS]


def _pronoun_problems(sentence: str, sexes: dict[str, str]) -> list[str]:
    """With one pet in the block, a pronoun of the other sex is wrong ("he" for a female cat)."""
    if len(set(sexes.values())) != 1 or len(sexes) != 1:
        return []
    sex = next(iter(sexes.values()))
    wrong = [w for w in WORD.findall(sentence.lower()) if w in PRONOUNS[sex]]
    return [f"'{wrong[0]}' for a {sex} cat"] if wrong else []


def guard(answer: str, block: str | Block, trusted: tuple[str, ...] = (), no_numbers: bool = False,
          question: str = "", order: str | None = None, final: bool = True) -> Guarded:
    """What the user reads: the sentences that pass; each that fails is replaced by its source (a
    sentence that opened with the wrong note, by the note asked for). `final`: the answer is
    finished, so a last clause ending in ";" ends in "." (not while more of it is coming)."""
    b = block if isinstance(block, Block) else read_block(block)
    if question and not order:  # "The most recent was on D:" answers a question that asked for no order
        answer = LEAD_CLAIM.sub("On ", answer)
    shown, cut, used = [], [], set()
    orphan = False  # the last dated sentence was not shown: what goes on from it is not shown either
    for v in check(answer, b, trusted, no_numbers, question, order):
        if _days(v.sentence, b):
            orphan = not v.ok
        elif orphan and v.ok:
            v = Verdict(v.sentence, ["goes on from a sentence that was not shown"])
        if v.ok and not said_in(v.sentence, " ".join(shown)):
            shown.append(v.sentence)
            continue
        if v.ok:  # already said, inside a note shown in place of an earlier sentence
            cut.append({"sentence": v.sentence, "problems": ["repeats an earlier sentence"], "shown_instead": None})
            continue
        instead = None
        if not any(p.startswith("repeats") for p in v.problems):
            source = b.notes[0] if any(p.startswith("opens with") for p in v.problems) else _source_of(v.sentence, b)
            stated = source is not None and source.day and any(source.day in x for x in shown)
            if source is not None and source.said not in used and not stated:
                instead = source.said
                used.add(instead)
                shown.append(instead)
        cut.append({"sentence": v.sentence, "problems": v.problems, "shown_instead": instead})
    if final and shown and shown[-1].endswith(";"):
        shown[-1] = shown[-1][:-1] + "."
    return Guarded(shown, cut)


def note_forms(note: Source) -> list[str]:
    """How answers state a dated note word for word: the guard's own form first."""
    return [note.said, f"On {note.day} you noted: {note.said.split(': ', 1)[1]}"]


def as_shown(text: str, order: str | None = None) -> str:
    """The start of an answer as `guard` will show it, read while it is written: a bare "Yes." or
    "No." opening goes, and "The last time was on D" becomes "On D" unless the question asked for
    an order. ("" while the opening could still be a bare yes or no.)"""
    parts = sentences(text)
    if parts and BARE_YES_NO.match(parts[0]):
        if len(parts) == 1:
            return ""
        text = text.lstrip()[len(parts[0]):]
    text = text.lstrip()
    return text if order else LEAD_CLAIM.sub("On ", text)


def _days(sentence: str, b: Block) -> list[str]:
    """The days a sentence names: ISO dates, and "14 August" for a note of that day."""
    return (["-".join(d) for d in DATE.findall(sentence)]
            + [n.day for n in b.notes if (int(n.day[5:7]), int(n.day[8:10])) in _month_days(sentence)])


def _flat(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def said_in(sentence: str, text: str) -> bool:
    """Whether `text` already says `sentence` word for word, numbers included ("Weight 3.7 kg." is
    not said by "Weight 4.1 kg."), whatever the punctuation between; a note stated in one form
    ("On D: ...") is said by the other ("On D you noted: ...") or by its words and its date."""
    plain = f" {_plain(text)} "
    lead = NOTE_LEAD.match(sentence)
    keys = [sentence] + ([sentence[lead.end():]] if lead and lead.group(1) in text else [])
    return any(_plain(k) and f" {_plain(k)} " in plain for k in keys)


NOTE_LEAD = re.compile(r"^On (\d{4}-\d{2}-\d{2})(?: you noted)?:\s*")  # how note_forms open


def _plain(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def cut_summary(cut: list[dict]) -> str:
    """The line under an answer that says the model's words were checked and some left out ("" when
    only a bare "Yes." was: that is no fact about the cat)."""
    cut = [c for c in cut if c["problems"] != [BARE_CUT]]
    if not cut:
        return ""
    n = len(cut)
    replaced = any(c["shown_instead"] for c in cut)
    return (f"memoloop left out {n} sentence{'s' if n > 1 else ''} of the model's that did not match "
            f"your notes" + ("; the notes themselves are shown instead." if replaced else "."))


def _source_of(sentence: str, b: Block) -> Source | None:
    """The note (or fact) a sentence was made from: its date, else the most shared content words."""
    lines = b.notes + b.facts
    dated = [n for n in b.notes if n.day and n.day in sentence]
    if len(dated) == 1:
        return dated[0]
    words = {stem(w) for w in content_words(sentence)}
    best, overlap = None, 0
    for line in dated or lines:
        shared = len(words & {stem(w) for w in content_words(line.text)})
        if shared > overlap:
            best, overlap = line, shared
    return best


def uncovered_notes(text: str, block: str | Block) -> list[Source]:
    """The notes of the block that the text does not state: its date, numbers and names, and most
    of its words. The code adds each after the answer, in the note's own words."""
    b = block if isinstance(block, Block) else read_block(block)
    said = {stem(w) for w in WORD.findall(text.lower())}
    missing = []
    for n in b.notes:
        words = content_words(n.text)
        covered = (n.day in text and numbers(n.text) <= numbers(text)
                   and all(stem(x) in said for x in names(n.text))
                   and (not words or sum(stem(w) in said for w in words) >= 0.6 * len(words)))
        if not covered:
            missing.append(n)
    return missing


def unsaid(note: Source, text: str) -> str | None:
    """How to state `note` after `text`: only the note's sentences the text lacks, so that the owner
    never reads one sentence twice; with its date, unless the text goes straight on from the note's
    own first words. When the text has every sentence but not the date, a line that gives the date.
    None: nothing left to say."""
    rest = [s for s in sentences(note.text) if not said_in(s, text)]
    if not note.day or note.day not in text:  # the model told the note, or some of it, without its date
        if not rest:
            return f"(That is your note of {note.day}.)" if note.day else None
        return Source(" ".join(rest), note.day, note.header).said
    if not rest:
        return None
    last = sentences(text)[-1]
    lead = NOTE_LEAD.match(last)
    rest_of_last = last[lead.end():] if lead else last  # the text's last sentence is one of this note's:
    begun = said_in(sentences(note.text)[0], last) or (
        (not lead or lead.group(1) == note.day) and len(_plain(rest_of_last).split()) >= 3
        and said_in(rest_of_last, note.text))
    if begun:  # it goes straight on from the note's own words (not another note of that day)
        return Source(" ".join(rest)).said
    return Source(" ".join(rest), note.day, note.header).said


def unsupported_dates(answer: str, block: str) -> list[str]:
    """ISO dates the answer states that are not in the block the model saw (it must not invent any)."""
    allowed = {"-".join(d) for d in DATE.findall(block)}
    return [d for d in dict.fromkeys("-".join(x) for x in DATE.findall(answer)) if d not in allowed]


def against_notes(answer: str, notes: str) -> bool:
    """The answer cites dates and its notes have dates, but not one of the answer's (a swapped answer)."""
    cited = {"-".join(d) for d in DATE.findall(answer)}
    noted = {"-".join(d) for d in DATE.findall(notes)}
    return bool(cited and noted and not cited & noted)


def facts_stated(answer: str, block: str | Block) -> tuple[frozenset, frozenset, frozenset]:
    """What an answer states, read as the guard reads it: the days it names, its numbers, and the
    words it takes from the notes and facts. Two answers with the same facts differ only in
    phrasing ("You wrote on 2025-01-15: ..." / "On 2025-01-15 you noted: ..."); the fast path is
    measured against the trained adapter with it (agent.llama, bench/answer.py)."""
    b = block if isinstance(block, Block) else read_block(block)
    source = {stem(w) for s in b.notes + b.facts for w in content_words(s.text)}
    return (frozenset(d for s in sentences(answer) for d in _days(s, b)), frozenset(numbers(answer)),
            frozenset(w for w in map(stem, content_words(answer)) if w in source))
