"""The `memoloop` command: parse, call the packages, print. Contract in ../shared/DESIGN.md."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from memory.errors import MemoloopError


class UsageError(MemoloopError):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        raise UsageError(f"{message} (see: {self.prog} --help)")


def quiet_libraries() -> None:
    """Keep library chatter (weight-loading bars, an optional-kernel warning) off the terminal."""
    import logging

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("bitsandbytes", "transformers", "sentence_transformers", "chromadb"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def build_parser() -> argparse.ArgumentParser:
    from ui import commands

    p = Parser(prog="memoloop", description="A companion that remembers what happened and learns from your corrections.")
    p.add_argument("--home", help="data home folder (default: $MEMOLOOP_HOME or ~/.local/share/memoloop)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    commands.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    quiet_libraries()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return args.run(args) or 0
    except MemoloopError as exc:
        print(f"memoloop: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("memoloop: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or a broken environment, not the user's mistake
        if os.environ.get("MEMOLOOP_DEBUG"):
            raise
        print(f"memoloop: failed: {type(exc).__name__}: {exc} (set MEMOLOOP_DEBUG=1 for details)", file=sys.stderr)
        return 1


def emit(args, data, human: str) -> None:
    """--json prints one JSON document; otherwise the human line(s)."""
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=None))
    else:
        print(human)


def home_arg(args) -> Path | None:
    return Path(args.home) if args.home else None


if __name__ == "__main__":
    sys.exit(main())
