"""The care plan on the command line: `memoloop due` and `memoloop care ...`."""
from __future__ import annotations

import argparse
from pathlib import Path

from memory.errors import MemoloopError
from ui.arguments import emit, open_memory


def plan(mem):
    """The memory with every pet holding the domain pack's default care items."""
    from agent.pack import load_pack
    from memory import care

    care.ensure_defaults(mem, list(load_pack().care))
    return mem


def cmd_due(args):
    from memory import care

    soon = care.SOON_DAYS if args.soon is None else args.soon
    if soon < 0:
        raise MemoloopError(f"--soon {soon} is negative; give 0 or more days")
    mem = plan(open_memory(args))
    found = care.due(mem, args.subject, soon=soon)
    shown = [d for d in found if args.all or d.status in ("overdue", "due", "soon", "done")]
    lines = [f"{d.status.upper():8} {d.label}" for d in shown]
    if not lines:
        lines = ["nothing is due" + ("" if found else ": add a pet first, e.g. memoloop subjects add Mochi")]
    emit(args, [d.to_json() for d in shown], "\n".join(lines))


def cmd_care(args):
    from memory import care

    mem = open_memory(args)  # the pack's defaults are added after a change that held: bad input changes nothing
    if args.action == "add":
        every = 1 if args.every is None and args.times else args.every
        if not args.name or not args.subject or every is None:
            raise MemoloopError('care add needs NAME, --subject and --every DAYS, e.g. memoloop care add '
                                '"Felimazole" --subject Mochi --every 1 --dose "2.5 mg" --times 08:00,20:00')
        from agent.pack import load_pack
        from memory.journal import check_kind

        kind = check_kind(args.kind, load_pack().kinds) if args.kind else None
        item = care.add(mem, args.subject, args.name, every, kind=kind, dose=args.dose, times=args.times,
                        words=args.match)
        plan(mem)
        emit(args, _item_json(item, args.subject), f"added to the care plan: {item.name} (id {item.id})")
    elif args.action == "done":
        from memory.dates import day_label

        obs = care.log_done(mem, _item_id(args), at=args.at)
        plan(mem)
        emit(args, {"id": obs.id, "at": obs.happened_at.isoformat(), "kind": obs.kind, "text": obs.text},
             f"logged #{obs.id} ({day_label(obs.happened_at)}): {obs.text}")
    elif args.action in ("set", "stop"):
        item_id = _item_id(args)
        item = care.update(mem, item_id, every_days=args.every, dose=args.dose, times=args.times, words=args.match,
                           active=False if args.action == "stop" else None)
        plan(mem)
        emit(args, _item_json(item, None), f"{'stopped' if args.action == 'stop' else 'changed'}: {item.name} (id {item.id})")
    else:
        rows = care.items(plan(mem), args.subject)
        lines = [f"{i.id}\t{pet}\t{i.name}" + (f" {i.dose}" if i.dose else "")
                 + f"\tevery {i.every_days} d" + (f" at {', '.join(i.times)}" if i.times else "")
                 + (f"\t({i.source})" if i.source else "") for i, pet in rows]
        emit(args, [_item_json(i, pet) for i, pet in rows], "\n".join(lines) or "no care items: add a pet first")


def cmd_alerts(args):
    from agent.pack import load_pack
    from memory import alerts, journal

    mem = open_memory(args)
    found = alerts.check(mem, list(load_pack().trends))
    names = journal.subject_names(mem)
    rows = [_alert_json(mem, a, names) for a in found]
    lines = [f"{'SEE A VET' if r['level'] == 'vet' else 'WATCH':9} {r['message']}\n"
             + "".join(f"          {e['at'][:10]}: {e['text'][:100]}\n" for e in r["evidence"]) for r in rows]
    emit(args, rows, "".join(lines).rstrip() or "no alerts: nothing in the notes is changing more than usual")


def _alert_json(mem, a, names) -> dict:
    from memory import journal

    evidence = []
    for note_id in a.evidence:
        try:
            note = journal.get(mem, note_id)
        except MemoloopError:
            continue
        if not note.live:  # deleted or corrected since
            continue
        evidence.append({"id": note.id, "at": note.happened_at.isoformat(), "text": note.text})
    return {"id": a.id, "subject": names.get(a.subject_id), "rule": a.rule, "level": a.level, "message": a.message,
            "since": a.first_seen.isoformat(), "evidence": evidence}


def cmd_summary(args):
    from memory import summary
    from memory.files import write_atomic

    mem = open_memory(args)
    built = summary.build(mem, args.pet, _day(args.since, "--since"), _day(args.until, "--until"))
    page = summary.html(built)
    if args.out:
        write_atomic(Path(args.out), page, 0o644)
    if args.json:
        emit(args, {**summary.to_json(built), "out": args.out}, "")
    elif args.out:
        print(f"wrote {args.out}: {built.pet.name}, {len(built.medications)} medication lines, "
              f"{len(built.vaccines)} vaccines, {len(built.weights)} weights, {len(built.events)} events "
              "(open it in a browser and print it for a PDF)")
    else:
        print(page)


def _day(value: str | None, flag: str):
    from datetime import date

    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise MemoloopError(f"{flag} {value!r} is not a date; give YYYY-MM-DD, e.g. {flag} 2025-01-01") from None


def _item_id(args) -> int:
    try:
        return int(args.name)
    except (TypeError, ValueError):
        raise MemoloopError(f"care {args.action} needs the item's ID, not {args.name!r}; see: memoloop care list") from None


def _item_json(i, pet) -> dict:
    return {"id": i.id, "subject": pet, "name": i.name, "kind": i.kind, "every_days": i.every_days,
            "dose": i.dose or None, "times": i.times, "words": i.words, "source": i.source, "active": i.active}


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("due", parents=[common], help="what care is overdue, due soon or done today")
    p.add_argument("--subject", help="one pet only")
    p.add_argument("--soon", type=int, help="days ahead that count as due soon (default 2)")
    p.add_argument("--all", action="store_true", help="also the items not due yet")
    p.set_defaults(run=cmd_due)

    p = sub.add_parser("summary", parents=[common], help="a printable summary of one pet for the vet (HTML)")
    p.add_argument("pet", help="the pet's name")
    p.add_argument("--since", help="first day, YYYY-MM-DD (default: everything)")
    p.add_argument("--until", help="last day, YYYY-MM-DD (default: today)")
    p.add_argument("--out", help="write the page to this .html file (default: print it)")
    p.set_defaults(run=cmd_summary)

    p = sub.add_parser("alerts", parents=[common], help="trends the code notices: weight change, vomiting more often...")
    p.set_defaults(run=cmd_alerts)

    p = sub.add_parser("care", parents=[common], help="the care plan: vaccines, treatments, medications, checks")
    p.add_argument("action", nargs="?", choices=["list", "add", "set", "stop", "done"], default="list")
    p.add_argument("name", nargs="?", help="add: the item's name; set, stop, done: its ID")
    p.add_argument("--at", help="done: when (ISO date or datetime; default now)")
    p.add_argument("--subject", help="the pet")
    p.add_argument("--every", help="days between two (1 for a daily medication)")
    p.add_argument("--kind", help="the kind of note it is (medication, vaccine, grooming...)")
    p.add_argument("--dose", help='a medication\'s dose with its unit, e.g. "2.5 mg"')
    p.add_argument("--times", help="times of day for a daily medication, e.g. 08:00,20:00")
    p.add_argument("--match", help="words a note says when it was done (comma-separated; default: the name)")
    p.set_defaults(run=cmd_care)
