"""`memoloop households` and `memoloop people`: who may sign in to the app, and which household's
records they see (server mode; memory/households.py)."""
from __future__ import annotations

import argparse
import getpass
import sys

from memory.errors import MemoloopError
from ui.arguments import emit, home_arg, household_arg


def _accounts(args):
    """The database's engine, opened as the first household (the accounts are the database's)."""
    from memory.store import Memory

    return Memory.open(home_arg(args))


def cmd_households(args):
    from memory import households

    with _accounts(args) as mem:
        if args.action == "add":
            if not args.name:
                raise MemoloopError("households add needs a NAME, e.g. memoloop households add 'Shelter A'")
            added = households.add_household(mem.engine, args.name)
            emit(args, {"name": added.name}, f"added household '{added.name}'"
                 + (" (it keeps the records this database already has)" if added.schema == "public" else ""))
            return
        found = households.households(mem.engine)
        lines = [f"{h.name}" for h in found] or ["no households yet: memoloop households add NAME"]
        emit(args, [{"name": h.name} for h in found], "\n".join(lines))


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise MemoloopError("no password: type it at a terminal, or pass --password-stdin and give it on stdin")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise MemoloopError("the two passwords differ; nothing was saved")
    return first


def cmd_people(args):
    from memory import households

    with _accounts(args) as mem:
        if args.action in ("add", "join"):
            if not args.login:
                raise MemoloopError(f"people {args.action} needs a LOGIN, e.g. memoloop people {args.action} alice "
                                    "--household 'Shelter A'")
            household = household_arg(args)
            if not household:
                raise MemoloopError(f"people {args.action} needs --household NAME (memoloop households list)")
            if args.action == "add":
                households.server_only(mem.engine)
                households.schema_of(mem.engine, household)  # checked before a password is asked
                found = households.add_person(mem.engine, args.login, _password(args), [household], args.name or "")
            else:
                found = households.join(mem.engine, args.login, household)
            emit(args, _json(found), f"{found.login} can sign in; households: {', '.join(found.households)}")
            return
        if args.action in ("password", "remove"):
            if not args.login:
                raise MemoloopError(f"people {args.action} needs a LOGIN (memoloop people lists them)")
            households.server_only(mem.engine)
            if args.action == "remove":
                households.remove(mem.engine, args.login)
                emit(args, {"login": args.login, "removed": True},
                     f"{args.login} can no longer sign in; what they wrote stays, marked with their login")
                return
            if households.person(mem.engine, args.login) is None:  # said before a password is asked
                raise MemoloopError(f"person '{args.login}' does not exist; memoloop people lists who does")
            found = households.set_password(mem.engine, args.login, _password(args))
            emit(args, _json(found), f"{found.login} has a new password")
            return
        found = households.people(mem.engine)
        lines = [f"{p.login}{f' ({p.name})' if p.name else ''}: {', '.join(p.households)}" for p in found]
        emit(args, [_json(p) for p in found], "\n".join(lines) or "no one yet: memoloop people add LOGIN --household NAME")


def _json(person) -> dict:
    return {"login": person.login, "name": person.name, "households": person.households}


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("households", parents=[common], help="server mode: list or add households")
    p.add_argument("action", nargs="?", choices=["list", "add"], default="list")
    p.add_argument("name", nargs="?", help="the new household's name")
    p.set_defaults(run=cmd_households)
    p = sub.add_parser("people", parents=[common], help="server mode: who can sign in to the app, and where")
    p.add_argument("action", nargs="?", choices=["list", "add", "join", "password", "remove"], default="list")
    p.add_argument("login", nargs="?", help="a login: lower-case letters, digits, '.', '_' or '-'")
    p.add_argument("--name", help="the name the app shows (default: the login)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin (one line)")
    p.set_defaults(run=cmd_people)
