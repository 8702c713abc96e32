"""What every `memoloop` command shares: the --home and --json options, opening the home's memory,
and printing one JSON document or a line in words. ui/cli.py builds the parser from these."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HOME_HELP = "data home folder (default: $MEMOLOOP_HOME or ~/.local/share/memoloop)"
HOUSEHOLD_ENV = "MEMOLOOP_HOUSEHOLD"
HOUSEHOLD_HELP = f"server mode: the household whose records these are (default: ${HOUSEHOLD_ENV}, else the first)"
PERSON_ENV = "MEMOLOOP_PERSON"
PERSON_HELP = f"server mode: the login of the person writing (default: ${PERSON_ENV}); notes, questions and ratings say so"


def common_options() -> argparse.ArgumentParser:
    """The parent parser of every command: --home (also accepted before the command) and --json."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", default=argparse.SUPPRESS, help=HOME_HELP)
    common.add_argument("--household", default=argparse.SUPPRESS, help=HOUSEHOLD_HELP)
    common.add_argument("--person", default=argparse.SUPPRESS, help=PERSON_HELP)
    common.add_argument("--json", action="store_true", help="print one JSON document")
    return common


def home_arg(args) -> Path | None:
    return Path(args.home) if getattr(args, "home", None) else None


def household_arg(args) -> str | None:
    return getattr(args, "household", None) or os.environ.get(HOUSEHOLD_ENV) or None


def open_memory(args):
    """The home's memory (the household's, in server mode); embedding many notes (an import, catching
    up after a crash) shows a bar."""
    from memory import households
    from memory.store import Memory

    mem = Memory.open(home_arg(args), progress=None if getattr(args, "json", False) else progress_bar,
                      household=household_arg(args))
    login = getattr(args, "person", None) or os.environ.get(PERSON_ENV)
    if login:
        try:
            mem.author = households.member(mem.engine, login, mem.household)
        except BaseException:
            mem.close()
            raise
    return mem


def progress_bar(total: int):
    from tqdm import tqdm

    bar = tqdm(total=total, desc="indexing notes for search", unit="note", file=sys.stderr, leave=False)

    def tick(n: int):
        bar.update(n)
        if bar.n >= total:
            bar.close()
    return tick


def emit(args, data, human: str) -> None:
    """--json prints one JSON document; otherwise the human line(s)."""
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=None))
    else:
        print(human)
