"""One function per CLI command; each parses nothing and prints little: the packages do the work."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from memory.errors import MemoloopError
from ui.arguments import HOME_HELP, emit, home_arg, open_memory


def _kinds():
    from agent.pack import load_pack

    return load_pack().kinds


def _pack():
    from agent.pack import load_pack

    return load_pack()


def cmd_subjects(args):
    from memory import journal

    mem = open_memory(args)
    if args.action == "add":
        if not args.name:
            raise MemoloopError("subjects add needs a NAME, e.g. memoloop subjects add Mochi")
        s = journal.add_subject(mem, args.name, species=args.species, birth_date=args.birth_date, notes=args.notes or "",
                                sex=args.sex, neutered=args.neutered)
        fixed = {True: "neutered", False: "not neutered"}.get(s.neutered)
        emit(args, _subject_json(s), f"added {s.name} ({' '.join(filter(None, [s.sex, s.species]))}"
                                     f"{', ' + fixed if fixed else ''})")
    elif args.action == "rename":
        if not args.name or not args.new_name:
            raise MemoloopError("subjects rename needs NAME and NEW_NAME")
        s = journal.update_subject(mem, args.name, new_name=args.new_name)
        emit(args, _subject_json(s), f"renamed to {s.name}")
    else:
        subjects = journal.list_subjects(mem)
        lines = [f"{s.name}\t{s.species}" + (f"\t{s.sex}" if s.sex else "")
                 + ({True: "\tneutered", False: "\tnot neutered"}.get(s.neutered, ""))
                 + (f"\tborn {s.birth_date}" if s.birth_date else "") for s in subjects]
        emit(args, [_subject_json(s) for s in subjects], "\n".join(lines) or "no subjects yet: memoloop subjects add NAME")


def _subject_json(s) -> dict:
    return {"id": s.id, "name": s.name, "species": s.species, "sex": s.sex, "neutered": s.neutered,
            "birth_date": s.birth_date.isoformat() if s.birth_date else None, "notes": s.notes}


def cmd_log(args):
    from memory import journal
    from memory.dates import day_label

    from memory import photos

    metrics = {}
    if args.weight is not None:
        metrics["weight_kg"] = journal.check_weight(args.weight, "--weight ")
    checked = [photos.check(Path(f)) for f in args.photo or []]  # before anything is stored
    mem = open_memory(args)
    obs = journal.log(mem, args.text, subject=args.subject, at=args.at, kind=args.kind,
                      metrics=metrics, tags=args.tag or [], allow_future=args.allow_future, kinds=_kinds())
    stored = [photos.attach(mem, obs.id, photo) for photo in checked]
    emit(args, {**observation_json(obs, args.subject), "photos": [p.file_name for p in stored]},
         f"logged #{obs.id} on {day_label(obs.happened_at)}" + (f" for {args.subject}" if args.subject else "")
         + (f" with {len(stored)} photo{'s' if len(stored) > 1 else ''}" if stored else ""))


def observation_json(obs, subject_name=None) -> dict:
    from memory.dates import iso

    return {"id": obs.id, "subject": subject_name, "at": iso(obs.happened_at), "kind": obs.kind,
            "text": obs.text, "metrics": obs.metrics, "tags": obs.tags, "logged_at": iso(obs.logged_at)}


def cmd_import(args):
    from memory.transfer import import_file

    report = import_file(open_memory(args), Path(args.file), kinds=_kinds(), allow_future=args.allow_future)
    r = report.to_json()
    counts = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in r.items()
                       if isinstance(n, int) and n and name not in ("duplicates", "observations", "files"))
    emit(args, r, f"imported {r['observations']} observations" + (f", {counts}" if counts else "")
         + (f" (skipped {r['duplicates']} already stored)" if r["duplicates"] else "")
         + "".join(f"\nkept {kept}" for kept in r.get("kept", [])))


def cmd_recall(args):
    from memory.dates import day_label
    from memory.recall import recall

    pack = _pack()
    result = recall(open_memory(args), args.question, subject=args.subject, k=args.k, vocabulary=pack.vocabulary,
                    specific=pack.specific)
    hits = result.relevant
    lines = [f"{h.score:.2f}  {day_label(h.at)}  {h.subject:<10} {h.kind:<10} {h.text}" for h in hits]
    emit(args, [h.to_json() for h in hits], "\n".join(lines) or "no record about this")


def cmd_export(args):
    from memory.backup import export_backup

    mem = open_memory(args)
    if not args.out:
        sys.stdout.write(export_backup(mem))
        return
    out = export_backup(mem, Path(args.out))
    extra = "" if out.endswith(".zip") else " (records only: --out FILE.zip adds the adapter weights)"
    print(f"backed up everything to {out}{extra}", file=sys.stderr)


def cmd_edit(args):
    from memory import journal
    from memory.dates import day_label

    if args.text is None and args.at is None and args.kind is None:
        raise MemoloopError("edit needs the new TEXT, --at or --kind, e.g. memoloop edit 12 'Mochi weighs 4.3 kg'")
    obs = journal.correct(open_memory(args), args.id, text=args.text, at=args.at, kind=args.kind, kinds=_kinds())
    emit(args, observation_json(obs), f"#{args.id} is now #{obs.id} on {day_label(obs.happened_at)} "
                                      f"(undo with: memoloop undo {obs.id})")


def cmd_delete(args):
    from memory import journal

    obs = journal.delete(open_memory(args), args.id)
    emit(args, observation_json(obs), f"deleted #{obs.id} (undo with: memoloop undo {obs.id})")


def cmd_undo(args):
    from memory import journal

    obs, what = journal.undo(open_memory(args), args.id)
    emit(args, {**observation_json(obs), "undone": what}, f"undid the {what}: #{obs.id} is back")


def cmd_ask(args):
    from agent.answer import Companion

    companion = Companion(open_memory(args), progress=lambda msg: print(msg, file=sys.stderr))
    answer = companion.ask(args.question, subject=args.subject)
    for warning in companion.warnings:
        print(f"memoloop: warning: {warning}", file=sys.stderr)
    if args.json:
        emit(args, answer.to_json(), "")
        return
    print(answer.answer)
    if answer.citations:
        print("\nFrom your notes:")
        for c in answer.citations:
            print(f"  [{c['id']}] {c['at'][:10]}  {c['text']}")
    print(f"\n(interaction {answer.interaction_id}: memoloop feedback {answer.interaction_id} --up | --down "
          "[--correction TEXT])")


def cmd_feedback(args):
    from memory.interactions import add_feedback

    rating = 1 if args.up else -1 if args.down else 0
    fb = add_feedback(open_memory(args), args.interaction_id, rating=rating, correction=args.correction,
                      note=args.note or "")
    emit(args, {"id": fb.id, "interaction_id": fb.interaction_id, "rating": fb.rating,
                "correction": fb.correction}, f"thanks: feedback #{fb.id} saved")


def cmd_reindex(args):
    n = open_memory(args).reindex()
    emit(args, {"indexed": n}, f"reindexed {n} observations")


def cmd_up(args):
    from ui.up import up

    return up(home_arg(args), args.port)


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"'{value}' is not an interaction id (a whole number from ask --json)")
    return int(value)


def _count(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 50:
        raise MemoloopError(f"-k {value} is not valid; give 1 to 50")
    return int(value)


def _port(value: str) -> int:
    if not value.strip().isdigit() or not 1024 <= int(value) <= 65535:
        raise MemoloopError(f"--port {value} is not valid; use 1024 to 65535")
    return int(value)


def _note_id(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"'{value}' is not a note id (a whole number, as log --json prints)")
    return int(value)


def register(sub, common: argparse.ArgumentParser) -> None:
    """The journal's commands, on the parser ui/cli.py builds."""
    p = sub.add_parser("subjects", parents=[common], help="add, rename or list pets")
    p.add_argument("action", nargs="?", default="list", choices=["add", "list", "rename"])
    p.add_argument("name", nargs="?", help="the pet's name")
    p.add_argument("new_name", nargs="?", help="with rename: the new name")
    p.add_argument("--species", default="cat", help="species (default cat)")
    p.add_argument("--birth-date", help="YYYY-MM-DD")
    p.add_argument("--sex", help="female or male (answers use she/he; some red flags depend on it)")
    p.add_argument("--neutered", action=argparse.BooleanOptionalAction, default=None,
                   help="spayed/neutered (--no-neutered: intact)")
    p.add_argument("--notes", help="free-text profile notes")
    p.set_defaults(run=cmd_subjects)

    p = sub.add_parser("log", parents=[common], help="log an observation")
    p.add_argument("text", help="what happened, in your words")
    p.add_argument("--subject", help="the pet (default: the household)")
    p.add_argument("--at", help="when it happened: YYYY-MM-DD, an ISO datetime, today or yesterday (default now)")
    p.add_argument("--kind", default="note", help="kind from the domain pack: note, symptom, weight, ...")
    p.add_argument("--weight", type=float, help="weight in kg, stored as a metric")
    p.add_argument("--tag", action="append", help="a tag (repeatable)")
    p.add_argument("--photo", action="append", help="a photo to attach: JPEG, PNG, WebP or GIF, at most 15 MB (repeatable)")
    p.add_argument("--allow-future", action="store_true", help="accept a date in the future (a planned event)")
    p.set_defaults(run=cmd_log)

    p = sub.add_parser("import", parents=[common], help="import notes (.jsonl, .csv) or restore a backup (.zip)")
    p.add_argument("file", help="notes with fields subject, at, text, kind?, metrics?, tags?; or a backup from export")
    p.add_argument("--allow-future", action="store_true", help="accept dates in the future")
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("recall", parents=[common], help="find the notes that answer a question")
    p.add_argument("question")
    p.add_argument("--subject", help="only this pet (plus household notes)")
    p.add_argument("-k", type=_count, default=5, help="at most this many notes (1 to 50, default 5)")
    p.set_defaults(run=cmd_recall)

    p = sub.add_parser("ask", parents=[common], help="ask for advice grounded in your notes")
    p.add_argument("question")
    p.add_argument("--subject", help="the pet the question is about (default: the one it names)")
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser("feedback", parents=[common], help="rate an answer and optionally correct it")
    p.add_argument("interaction_id", type=_positive_int, help="the interaction id that ask printed")
    vote = p.add_mutually_exclusive_group()
    vote.add_argument("--up", action="store_true", help="the answer was good")
    vote.add_argument("--down", action="store_true", help="the answer was wrong or unhelpful")
    p.add_argument("--correction", help="the right answer, in your words (it will be learned)")
    p.add_argument("--note", help="a private note about this answer")
    p.set_defaults(run=cmd_feedback)

    p = sub.add_parser("export", parents=[common], help="back up everything, lossless and re-importable")
    p.add_argument("--out", help="FILE.zip (everything, with adapter weights) or FILE.jsonl (records only); "
                                 "default: the records on standard output")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("edit", parents=[common], help="correct a note (the old version is kept as history)")
    p.add_argument("id", type=_note_id, help="the note's id (from log, recall or history)")
    p.add_argument("text", nargs="?", help="the corrected text")
    p.add_argument("--at", help="the corrected date: YYYY-MM-DD or an ISO datetime")
    p.add_argument("--kind", help="the corrected kind")
    p.set_defaults(run=cmd_edit)

    p = sub.add_parser("delete", parents=[common], help="delete a note (memoloop undo ID brings it back)")
    p.add_argument("id", type=_note_id, help="the note's id")
    p.set_defaults(run=cmd_delete)

    p = sub.add_parser("undo", parents=[common], help="undo a delete or a correction")
    p.add_argument("id", type=_note_id, help="the id that delete or edit printed")
    p.set_defaults(run=cmd_undo)

    p = sub.add_parser("reindex", parents=[common], help="rebuild the vector index from the database")
    p.set_defaults(run=cmd_reindex)

    p = sub.add_parser("up", help="open memoloop in your browser (on this computer only)")
    p.add_argument("--home", default=argparse.SUPPRESS, help=HOME_HELP)
    p.add_argument("--port", type=_port, default=8501, help="port on 127.0.0.1 (1024 to 65535, default 8501)")
    p.set_defaults(run=cmd_up)
