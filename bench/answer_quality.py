"""Answer quality on labelled journals that no threshold or prompt was tuned on, side by side with a baseline.

    .venv/bin/python -m bench.answer_quality --data fresh5            # the journals nobody tuned on
    .venv/bin/python -m bench.answer_quality                          # held-out journals, this code vs main before
    .venv/bin/python -m bench.answer_quality --data dev --no-baseline # the tuning journal, this code only
    .venv/bin/python -m bench.answer_quality --triage --data fresh5   # red flags: emergency vs calm questions
    .venv/bin/python -m bench.answer_quality --triage --data dev      # ... on a set the rules were tuned on
    .venv/bin/python -m bench.answer_quality --recall                 # recall only: must-cite notes found

bench/data/heldout_journals.json was written by a helper who never saw the project's code, rules or
tuning data; bench/data/dev_journal.json by another, for tuning. Each later set was written by a new
helper that saw nothing of the project, run once before anything in it was read (README: "first
run"), then tuned on: fresh_journals.json, fresh2_journals.json, fresh3_journals.json and
fresh4_journals.json; fresh5_journals.json is the newest, run once and not tuned on: the report set
until the next one. Red flags the same way: triage_dev.json and triage_questions.json (tuned on
from the start), triage_heldout2.json, triage_fresh.json ... triage_fresh4.json, each run once
before reading, then added to the pack's labelled examples; triage_fresh5.json is not (red flags by
meaning: agent/packs/cat_care/make_triage_examples.py). Each journal becomes a data home
(pets, dated notes with metrics); each question is asked through the real answering path (recall,
red flags, the default Gemma model + starter adapter, the guard) at the journal's "now". Per answer:
- facts: every key fact stated and every must-cite note's date stated;
- unsupported: a sentence with a date, number or name that is not in the notes and facts the model
  was given, or fewer than 80% of its content words there (this bench's own reviewer, stricter than
  agent.guard, and the same for both sides);
- wrong no record / missed no record; junk (non-Latin letters); repetition (a repeated sentence);
- clean = facts and none of the others.
The baseline is the code of another commit (default d54f47a, main before this bench), run from a
git worktree in a child process with the same script, so both sides meet the same questions.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = {"fresh6": REPO / "bench" / "data" / "fresh6_journals.json",  # pets called by short forms; not tuned on
        "fresh5": REPO / "bench" / "data" / "fresh5_journals.json",  # nobody tuned on it: the report set
        "fresh4": REPO / "bench" / "data" / "fresh4_journals.json",  # tuned on after its first run
        "fresh3": REPO / "bench" / "data" / "fresh3_journals.json",  # tuned on after its first run
        "fresh2": REPO / "bench" / "data" / "fresh2_journals.json",
        "fresh": REPO / "bench" / "data" / "fresh_journals.json",
        "heldout": REPO / "bench" / "data" / "heldout_journals.json",
        "dev": REPO / "bench" / "data" / "dev_journal.json"}
TRIAGE = {"fresh5": REPO / "bench" / "data" / "triage_fresh5.json",  # nobody tuned on it: the report set
          "fresh4": REPO / "bench" / "data" / "triage_fresh4.json",  # tuned on after its first run
          "fresh3": REPO / "bench" / "data" / "triage_fresh3.json",  # tuned on after its first run
          "fresh2": REPO / "bench" / "data" / "triage_fresh2.json",  # tuned on after its first run
          "fresh": REPO / "bench" / "data" / "triage_fresh.json",  # tuned on after its first run
          "heldout": REPO / "bench" / "data" / "triage_heldout2.json",  # tuned on after its first run
          "first": REPO / "bench" / "data" / "triage_questions.json",  # the rules were tuned on these two
          "dev": REPO / "bench" / "data" / "triage_dev.json"}
BASELINE = "d54f47a"
STOP = set("""a an the and or but if of to in on at by for with from as is was were be been being it its this that
these those there here he she his her him they them their we you your i my me our us do did does done has have had
not no yes so than then too very can could would should will may might just also about into over after before when
what which who how why where all any some more most other such only own same again once up out off""".split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="heldout", help="heldout | dev | a JSON file of journals")
    parser.add_argument("--baseline", default=BASELINE, help="the commit to compare with (default %(default)s)")
    parser.add_argument("--no-baseline", action="store_true", help="run this code only")
    parser.add_argument("--baseline-results", type=Path,
                        help="the baseline's answers: read from this file if it exists, else run and save them")
    parser.add_argument("--triage", action="store_true", help="red flags on bench/data/triage_heldout2.json")
    parser.add_argument("--recall", action="store_true", help="recall only (no model): must-cite notes in the top 5")
    parser.add_argument("--examples", type=int, default=10, help="print this many answers, in order")
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions of each journal")
    parser.add_argument("--out", type=Path, help="write every answer and its scores here (JSON)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # run the questions with the code in this folder
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(args.child))
        from memory.offline import offline_environment

        offline_environment()
        journals = [] if args.triage else load(args.data)
        for j in journals:
            j["questions"] = j["questions"][: args.limit or None]
        results = (triage_questions(TRIAGE[args.data]) if args.triage else recall_all(journals) if args.recall
                   else ask_all(journals))
        args.result.write_text(json.dumps(results, ensure_ascii=False))
        return
    sides = {"this code": run_side(REPO, args)}
    if not args.no_baseline:
        sides = {f"main {args.baseline}": baseline(args), **sides}
    report_triage(sides) if args.triage else report_recall(sides) if args.recall else report(sides, args.examples)
    if args.out:
        args.out.write_text(json.dumps(sides, ensure_ascii=False, indent=1))


def baseline(args) -> list[dict]:
    """The baseline commit's answers, from a clean worktree of it (or from --baseline-results)."""
    saved = args.baseline_results
    if saved and saved.exists():
        return json.loads(saved.read_text())
    with tempfile.TemporaryDirectory(prefix="memoloop-baseline-") as tmp:
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", tmp, args.baseline],
                       check=True, capture_output=True)
        try:
            results = run_side(Path(tmp), args)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", tmp], capture_output=True)
    if saved:
        saved.write_text(json.dumps(results, ensure_ascii=False))
    return results


def run_side(code: Path, args) -> list[dict]:
    """The questions answered by the code in `code`, in a child process of its own."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(code), "--result", out.name,
               "--data", args.data, "--limit", str(args.limit)] + (["--triage"] if args.triage else []) \
        + (["--recall"] if args.recall else [])
        env = dict(os.environ, PYTHONPATH=str(code))
        subprocess.run(cmd, check=True, env=env, cwd=str(code))
        return json.loads(Path(out.name).read_text())


def load(name: str) -> list[dict]:
    path = DATA.get(name, Path(name))
    return json.loads(path.read_text(encoding="utf-8"))["journals"]


# --- the child: ask every question with the code on sys.path[0] ---------------------------------

def ask_all(journals: list[dict]) -> list[dict]:
    from agent.answer import Companion, Turn
    from agent.convert import prepare_default_model
    from agent.draft import draft_answer
    from agent.settings import Settings
    from memory import journal as jr
    from memory.store import Memory

    import agent
    print(f"answering with the code in {Path(agent.__file__).parent.parent}", file=sys.stderr, flush=True)
    base = prepare_default_model(REPO / ".cache" / "models", progress=lambda m: None)
    results = []
    for j in journals:
        with tempfile.TemporaryDirectory(prefix="memoloop-quality-") as tmp, Memory.open(Path(tmp) / "home") as mem:
            ids = build_home(mem, jr, j)
            comp = Companion(mem, settings=Settings(base_model=str(base)), progress=lambda m: None)
            now = journal_now(j)
            for q in j["questions"]:
                started = time.perf_counter()
                draft = draft_answer(mem, comp.pack, comp.knowledge, q["q"], q.get("subject"), now=now)
                turn = Turn(comp, draft)
                for _ in turn:
                    pass
                a = turn.answer
                results.append({
                    "journal": j["name"], "q": q["q"], "class": q.get("class", ""), "no_record_expected": q["no_record"],
                    "must_cite": [{"id": ids[n], "at": note_day(j, n)} for n in q["must_cite"]],
                    "key_facts": q["key_facts"], "answer": a.answer, "body": a.body or a.answer,
                    "block": draft.block, "cited": [c["id"] for c in a.citations], "no_record": a.no_record,
                    "red_flag": a.red_flag, "seconds": round(time.perf_counter() - started, 2)})
                print(f"{len(results)}: {q['q'][:70]} ({results[-1]['seconds']} s)", file=sys.stderr, flush=True)
    return results


def recall_all(journals: list[dict]) -> list[dict]:
    """Only the code's choice of notes (no model): the relevant hits among the top 5."""
    from agent.answer import Companion
    from agent.draft import draft_answer
    from memory import journal as jr
    from memory.store import Memory

    out = []
    for j in journals:
        with tempfile.TemporaryDirectory(prefix="memoloop-recall-") as tmp, Memory.open(Path(tmp) / "home") as mem:
            ids = build_home(mem, jr, j)
            comp = Companion(mem, progress=lambda m: None)
            now = journal_now(j)
            for q in j["questions"]:
                d = draft_answer(mem, comp.pack, comp.knowledge, q["q"], q.get("subject"), now=now)
                found = [h.id for h in d.recall.hits[:5] if h.relevant] + [c["id"] for c in d.citations]
                out.append({"journal": j["name"], "q": q["q"], "must": [ids[n] for n in q["must_cite"]],
                            "found": found, "no_record": d.no_record, "red_flag": d.red_flag,
                            "missed": [n for n in q["must_cite"] if ids[n] not in found]})
    return out


def build_home(mem, jr, j: dict) -> dict:
    """Pets and notes of a journal in a data home; note id in the file -> row id."""
    import inspect

    profile = "sex" in inspect.signature(jr.add_subject).parameters  # main before the profiles had none
    for pet in j["pets"]:
        extra = {"sex": pet.get("sex"), "neutered": pet.get("neutered")} if profile else {}
        jr.add_subject(mem, pet["name"], species=pet.get("species", "cat"), **extra)
    ids = {}
    for n in j["notes"]:
        ids[n["id"]] = jr.log(mem, n["text"], subject=n["subject"], at=n["at"], kind=n["kind"],
                              metrics=n.get("metrics") or None).id
    return ids


def journal_now(j: dict):
    """The journal's "now": a day alone is 18:00 UTC that day, like the other sets' evenings."""
    from datetime import datetime, timezone

    now = datetime.fromisoformat(j["now"].replace("Z", "+00:00"))
    return now if now.tzinfo else (now.replace(hour=18, tzinfo=timezone.utc) if len(j["now"]) == 10
                                   else now.replace(tzinfo=timezone.utc))


def note_day(j: dict, note_id: str) -> str:
    return next(n["at"] for n in j["notes"] if n["id"] == note_id)


def triage_questions(path: Path) -> list[dict]:
    """Only the code's decision (no model): does the question get a red flag?"""
    from agent.answer import Companion
    from agent.draft import draft_answer
    from memory import journal as jr
    from memory.store import Memory

    if not path.exists():  # the third set, nobody tuned on, was asked for and not yet written
        raise SystemExit(f"{path} is missing; run --triage --data first or --data dev (both tuned on)")
    rows = json.loads(path.read_text(encoding="utf-8"))["questions"]
    out = []
    with tempfile.TemporaryDirectory(prefix="memoloop-triage-") as tmp, Memory.open(Path(tmp) / "home") as mem:
        jr.add_subject(mem, "Pip")
        comp = Companion(mem, progress=lambda m: None)
        for r in rows:
            draft = draft_answer(mem, comp.pack, comp.knowledge, r["q"])
            out.append({"q": r["q"], "emergency": r["emergency"], "flag": draft.red_flag})
    return out


# --- the parent: score both sides with the same reviewer ----------------------------------------

def sentences(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", text).strip()
    return [s for s in re.split(r"(?<!\bDr\.)(?<=[.!?])\s+(?=[A-Z(])", text) if s.strip()]


def unsupported(body: str, block: str) -> list[str]:
    """Sentences with a date, number or name not in the block, or under 80% of content words in it."""
    source = block.lower()
    stems = {w[:5] for w in re.findall(r"[a-z]+", source)}
    bad = []
    for s in sentences(body):
        low = s.lower()
        tokens = re.findall(r"\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)?", s)
        names = re.findall(r"(?<=\s)[A-Z][a-z]+", s)
        words = [w for w in re.findall(r"[a-z]+", low) if w not in STOP and len(w) > 2]
        share = sum(w[:5] in stems for w in words) / len(words) if words else 1.0
        if any(t not in block for t in tokens) or any(n.lower() not in source for n in names) or share < 0.8:
            bad.append(s)
    return bad


def junk(text: str) -> bool:
    """A letter outside the Latin script (the micro sign of "\u00b5mol/L" is a unit, not junk)."""
    return any(ch.isalpha() and ch != "\u00b5" and not unicodedata.name(ch, "").startswith("LATIN") for ch in text)


def repeated(body: str) -> bool:
    seen = set()
    for s in sentences(body):
        key = " ".join(re.findall(r"[a-z0-9]+", s.lower()))
        if key in seen:
            return True
        seen.add(key)
    return False


def score(r: dict) -> dict:
    text = r["answer"].lower()
    facts = all(any(alt.lower() in text for alt in group) for group in r["key_facts"])
    dates = all(m["at"] in r["answer"] for m in r["must_cite"])
    body = r["body"]
    flag = r.get("red_flag")
    if flag:
        body = body.replace(f"See a vet now: {flag}", "")
    body = re.sub(r"There is no record of this(?: for [\w ,]+)? in your journal\.", "", body)  # the code's line
    s = {"facts": facts and dates, "unsupported": unsupported(body, r["block"] + "\n" + r["q"]),
         "wrong_no_record": r["no_record"] and not r["no_record_expected"],
         "missed_no_record": r["no_record_expected"] and not r["no_record"],
         "junk": junk(body), "repeated": repeated(body),
         "cited": all(m["id"] in r["cited"] for m in r["must_cite"])}
    s["clean"] = (s["facts"] and not s["unsupported"] and not s["wrong_no_record"] and not s["missed_no_record"]
                  and not s["junk"] and not s["repeated"])
    return s


def report(sides: dict[str, list[dict]], examples: int) -> None:
    from bench.common import percentile, table

    rows = []
    for name, results in sides.items():
        scores = [score(r) for r in results]
        n = len(scores)
        answerable = [s for s, r in zip(scores, results) if not r["no_record_expected"]]
        unanswerable = [s for s, r in zip(scores, results) if r["no_record_expected"]]
        secs = [r["seconds"] for r in results]
        rows.append([name, n, f"{sum(s['clean'] for s in scores) / n:.0%}",
                     f"{sum(s['facts'] for s in answerable) / len(answerable):.0%}",
                     f"{sum(s['cited'] for s in answerable) / len(answerable):.0%}",
                     sum(bool(s["unsupported"]) for s in scores),
                     f"{sum(s['wrong_no_record'] for s in answerable)}/{len(answerable)}",
                     f"{sum(not s['missed_no_record'] for s in unanswerable)}/{len(unanswerable)}",
                     sum(s["junk"] for s in scores), sum(s["repeated"] for s in scores),
                     f"{percentile(secs, 50):.1f}", f"{percentile(secs, 95):.1f}"])
    print(table(["code", "answers", "clean", "all key facts", "must-cite cited", "with unsupported",
                 "wrong no record", "no record kept", "junk", "repeated", "p50 s", "p95 s"], rows))
    for name, results in sides.items():
        print(f"\n## {name}: the first {examples} answers, in order")
        for r in results[:examples]:
            s = score(r)
            verdict = "clean" if s["clean"] else ", ".join(
                k for k in ("facts", "unsupported", "wrong_no_record", "missed_no_record", "junk", "repeated")
                if (not s[k] if k == "facts" else s[k]))
            print(f"\nQ ({r['journal']}, {r['class']}): {r['q']}\nA: {r['answer']}\n-> {verdict.replace('facts', 'missing key facts')}")
            for bad in s["unsupported"]:
                print(f"   unsupported: {bad}")


def report_recall(sides: dict[str, list[dict]]) -> None:
    from bench.common import table

    rows = []
    for name, results in sides.items():
        answerable = [r for r in results if r["must"]]
        whole = sum(set(r["must"]) <= set(r["found"]) for r in answerable)
        share = sum(len(set(r["must"]) & set(r["found"])) / len(r["must"]) for r in answerable) / len(answerable)
        kept = sum(r["no_record"] for r in results if not r["must"])
        rows.append([name, f"{whole}/{len(answerable)} ({whole / len(answerable):.0%})", f"{share:.3f}",
                     f"{sum(r['no_record'] for r in answerable)}/{len(answerable)}",
                     f"{kept}/{len(results) - len(answerable)}",
                     f"{sum(bool(r.get('red_flag')) for r in results)}/{len(results)}"])
    print(table(["code", "all must-cite notes found", "must-cite recall", "wrong no record", "no record kept",
                 "red flags"], rows))
    for name, results in sides.items():
        for r in results:
            if r.get("missed") or (r["no_record"] != (not r["must"])):
                print(f"{name}: {r['journal']}: {r['q']}  missed {', '.join(r.get('missed') or []) or '-'}"
                      f"{'  (said no record)' if r['no_record'] else ''}{'  (found notes)' if not r['must'] and not r['no_record'] else ''}")
    for name, results in sides.items():
        for r in results:
            if r.get("red_flag"):
                print(f"{name}: {r['journal']}: red flag on {r['q']!r}: {r['red_flag'][:60]}...")


def report_triage(sides: dict[str, list[dict]]) -> None:
    from bench.common import table

    rows = []
    for name, results in sides.items():
        em = [r for r in results if r["emergency"]]
        calm = [r for r in results if not r["emergency"]]
        rows.append([name, f"{sum(bool(r['flag']) for r in em)}/{len(em)}", f"{sum(bool(r['flag']) for r in calm)}/{len(calm)}"])
    print(table(["code", "emergencies flagged", "false alarms"], rows))
    for name, results in sides.items():
        for r in results:
            if bool(r["flag"]) != r["emergency"]:
                print(f"{name}: {'MISSED' if r['emergency'] else 'FALSE ALARM'}: {r['q']}")


if __name__ == "__main__":
    main()
