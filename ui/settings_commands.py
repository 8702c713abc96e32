"""`memoloop settings` (the home's settings, shown or changed) and `memoloop doctor` (the engines
they point to, and whether they answer)."""
from __future__ import annotations

import argparse
from dataclasses import asdict, replace

from memory.errors import MemoloopError
from ui.arguments import emit, home_arg, open_memory, progress_bar


def cmd_settings(args):
    from agent.settings import Settings
    from memory.engines import CHROMA_ENV, DATABASE_ENV, Engines, redacted
    from memory.home import Home
    from memory.move import move_database
    from memory.store import Memory

    home = Home.open(home_arg(args))
    settings = Settings.load(home)
    changes = {k: getattr(args, k) for k in ("base_model", "device", "engine", "max_new_tokens", "trainer")
               if getattr(args, k) is not None}
    if "base_model" in changes:
        changes["base_model"] = changes["base_model"].strip() or None
    settings = replace(settings, **changes)
    settings.check()  # nothing is saved unless every value is valid
    if args.database_url is not None:  # a URL that is not one is the user's mistake: nothing moves
        database_url = Engines(database_url=args.database_url.strip() or None).database_url
    progress = None if args.json else progress_bar
    if args.chroma_url is not None:
        with Memory(home, progress) as mem:
            mem.move_index(replace(mem.engines, chroma_url=args.chroma_url.strip() or None))  # saved once filled
    moved = move_database(home, database_url, progress) if args.database_url is not None else None
    if changes:
        settings.save(home)
    engines = Engines.saved(home.root)
    data = {**asdict(settings), "chroma_url": engines.chroma_url,
            "database_url": engines.database_url and redacted(engines.database_url)}
    lines = [f"{k}: {'(default)' if v is None else v}" for k, v in data.items()]
    if moved is not None:
        data["moved"] = asdict(moved)
        lines.append(moved.line())
    in_use = Engines.of(home.root)
    for field, env in (("chroma_url", CHROMA_ENV), ("database_url", DATABASE_ENV)):
        if getattr(in_use, field) != getattr(engines, field):
            lines.append(f"(the environment's ${env} wins: {redacted(getattr(in_use, field) or '') or 'embedded'})")
    emit(args, data, "\n".join(lines))


def cmd_doctor(args):
    from memory.db import DatabaseUnavailable
    from memory.doctor import check, unreachable
    from memory.engines import Engines
    from memory.home import Home

    try:
        checks = check(open_memory(args))
    except DatabaseUnavailable as exc:  # said as the report's line, not as an error
        home = Home.open(home_arg(args))
        checks = unreachable(Engines.of(home.root).database_url or home.database_url, exc)
    emit(args, [c.to_json() for c in checks], "\n".join(c.line() for c in checks))
    return 0 if all(c.answers for c in checks) else 2


def _tokens(value: str) -> int:
    if not value.strip().isdigit() or not 16 <= int(value) <= 4096:
        raise MemoloopError(f"--max-new-tokens {value} is not valid; give 16 to 4096")
    return int(value)


def register(sub, common: argparse.ArgumentParser) -> None:
    """The settings' commands, on the parser ui/cli.py builds."""
    p = sub.add_parser("settings", parents=[common], help="show or change this home's settings")
    p.add_argument("--base-model", help="a local Gemma folder ('' for the built-in Gemma 3 270M)")
    p.add_argument("--device", help="auto, cpu or cuda")
    p.add_argument("--engine", help="answering engine: auto, llama.cpp or transformers")
    p.add_argument("--trainer", help="where retrains run: here, or worker (a training machine that shares the "
                                     "database and this data home runs python -m retrain.worker --watch)")
    p.add_argument("--max-new-tokens", type=_tokens, help="the longest answer, in tokens (16 to 4096)")
    p.add_argument("--chroma-url", help="a Chroma server for the search index, http://HOST:PORT "
                                        "('' for the index in the data home); it must answer")
    p.add_argument("--database-url", help="a PostgreSQL database for the records, postgresql+psycopg://USER@HOST/DB "
                                          "('' for the SQLite file in the data home); it must answer, and an "
                                          "empty one receives this home's records")
    p.set_defaults(run=cmd_settings)

    p = sub.add_parser("doctor", parents=[common], help="which engines hold your notes, and whether they answer")
    p.set_defaults(run=cmd_doctor)
