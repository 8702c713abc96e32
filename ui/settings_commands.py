"""`memoloop settings` (the home's settings, shown or changed) and `memoloop doctor` (the engines
they point to, and whether they answer)."""
from __future__ import annotations

import argparse
from dataclasses import asdict, replace

from memory.errors import MemoloopError
from ui.arguments import emit, home_arg, open_memory, progress_bar


def cmd_settings(args):
    from agent.settings import Settings
    from memory.engines import Engines
    from memory.home import Home
    from memory.store import Memory

    home = Home.open(home_arg(args))
    settings, engines = Settings.load(home), Engines.saved(home.root)
    changes = {k: getattr(args, k) for k in ("base_model", "device", "engine", "max_new_tokens")
               if getattr(args, k) is not None}
    if "base_model" in changes:
        changes["base_model"] = changes["base_model"].strip() or None
    settings = replace(settings, **changes)
    settings.check()  # nothing is saved unless every value is valid
    if args.chroma_url is not None:
        engines = Engines(chroma_url=args.chroma_url.strip() or None)
        with Memory.open(home.root, progress=None if args.json else progress_bar) as mem:
            mem.move_index(engines)  # saved once it answers and holds every note
    if changes:
        settings.save(home)
    data = {**asdict(settings), "chroma_url": engines.chroma_url}
    lines = [f"{k}: {'(default)' if v is None else v}" for k, v in data.items()]
    in_use = Engines.of(home.root)
    if in_use != engines:
        lines.append(f"(the environment's $MEMOLOOP_CHROMA_URL wins: {in_use.chroma_url or 'embedded'})")
    emit(args, data, "\n".join(lines))


def cmd_doctor(args):
    from memory.doctor import check

    checks = check(open_memory(args))
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
    p.add_argument("--max-new-tokens", type=_tokens, help="the longest answer, in tokens (16 to 4096)")
    p.add_argument("--chroma-url", help="a Chroma server for the search index, http://HOST:PORT "
                                        "('' for the index in the data home); it must answer")
    p.set_defaults(run=cmd_settings)

    p = sub.add_parser("doctor", parents=[common], help="which engines hold your notes, and whether they answer")
    p.set_defaults(run=cmd_doctor)
