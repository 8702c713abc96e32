"""The `memoloop` command: parse, call the packages, print. Contract in ../shared/DESIGN.md."""
from __future__ import annotations

import argparse
import errno
import os
import sys

from memory.errors import MemoloopError, MissingResource
from memory.offline import offline_environment
from ui.arguments import HOME_HELP, HOUSEHOLD_HELP, PERSON_HELP, common_options


class UsageError(MemoloopError):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        raise UsageError(f"{message} (see: {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    """One registry: each module of commands adds its own to the same parser (none imports this one)."""
    from ui import care_commands, commands, household_commands, learning_commands, settings_commands

    p = Parser(prog="memoloop", description="A companion that remembers what happened and learns from your corrections.")
    p.add_argument("--home", help=HOME_HELP)
    p.add_argument("--household", help=HOUSEHOLD_HELP)
    p.add_argument("--person", help=PERSON_HELP)
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    common = common_options()
    for module in (commands, care_commands, learning_commands, settings_commands, household_commands):
        module.register(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    offline_environment()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return args.run(args) or 0
    except MissingResource as exc:  # nothing the user typed was wrong
        print(f"memoloop: error: {exc}", file=sys.stderr)
        return 1
    except MemoloopError as exc:
        print(f"memoloop: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("memoloop: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`memoloop due --json | head`): nothing to say
        sys.stderr.close()
        return 0
    except Exception as exc:  # a bug or a broken environment, not the user's mistake
        if os.environ.get("MEMOLOOP_DEBUG"):
            raise
        if disk_full(exc):  # SQLite rolled the transaction back: nothing half-written
            print(f"memoloop: error: the disk is full or a file size limit was reached ({str(exc).splitlines()[0][:120]});"
                  " free some space and run the command again: nothing was stored", file=sys.stderr)
            return 1  # a failure of the machine, not bad input (DESIGN.md: 2 is for bad input)
        print(f"memoloop: failed: {type(exc).__name__}: {exc} (set MEMOLOOP_DEBUG=1 for details)", file=sys.stderr)
        return 1


def disk_full(exc: BaseException) -> bool:
    """A write refused for lack of space: ENOSPC, EFBIG, EDQUOT, or SQLite saying so."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return True
    text = str(exc)
    return "database or disk is full" in text or "disk I/O error" in text


if __name__ == "__main__":
    sys.exit(main())
