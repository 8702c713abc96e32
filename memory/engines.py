"""Which engines hold a data home's notes: embedded by default (the Chroma folder in the home), or a
Chroma server (`chroma run`, from the chromadb package) that several processes and machines share.

Set by $MEMOLOOP_CHROMA_URL (which wins; empty means embedded) or saved in the home's
`engines.json` (`memoloop settings --chroma-url URL`, or the Settings page).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from memory.errors import MemoloopError
from memory.files import write_atomic

CHROMA_ENV = "MEMOLOOP_CHROMA_URL"
FILE = "engines.json"


@dataclass(frozen=True)
class Address:
    host: str
    port: int
    ssl: bool

    def __str__(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"


def chroma_address(url: str) -> Address:
    """'http://HOST:PORT' (or https) -> its parts; anything else is one clear error."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is not a number
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or port is None \
            or parts.path not in ("", "/") or parts.query or parts.username:
        raise MemoloopError(f"Chroma server URL '{url}' is not valid; use http://HOST:PORT "
                            "(e.g. http://127.0.0.1:8000), or leave it empty for the index in the data home")
    return Address(parts.hostname, port, parts.scheme == "https")


@dataclass(frozen=True)
class Engines:
    chroma_url: str | None = None  # None: the embedded Chroma folder in the data home

    def __post_init__(self) -> None:
        if self.chroma_url:
            chroma_address(self.chroma_url)

    @property
    def chroma(self) -> Address | None:
        return chroma_address(self.chroma_url) if self.chroma_url else None

    @classmethod
    def saved(cls, root: Path) -> "Engines":
        """What the home's file says (the environment not applied)."""
        path = Path(root) / FILE
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(chroma_url=data.get("chroma_url") or None)
        except (OSError, ValueError, AttributeError) as exc:
            raise MemoloopError(f"engines file '{path}' is unreadable ({exc}); fix it, or delete it "
                                "for the embedded defaults") from None

    @classmethod
    def of(cls, root: Path) -> "Engines":
        """The engines in use: the environment's, else the home's file, else embedded."""
        if CHROMA_ENV in os.environ:
            try:
                return cls(chroma_url=os.environ[CHROMA_ENV].strip() or None)
            except MemoloopError as exc:
                raise MemoloopError(f"{exc} (it comes from ${CHROMA_ENV})") from None
        return cls.saved(root)

    def save(self, root: Path) -> None:
        write_atomic(Path(root) / FILE, json.dumps(asdict(self), indent=2))


@contextmanager
def chroma_server(path: Path, port: int | None = None, wait: float = 60):
    """A Chroma server (`chroma run`, from the chromadb package) on loopback, storing in `path`, on
    `port` (a free one unless given): its URL while it runs. For the tests, the benches, and trying
    server mode on one machine; a real install runs `chroma run` as a service of its own."""
    path = Path(path)
    if port is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    log_path = path.parent / f"{path.name}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("chroma")), "run", "--path", str(path),
                                 "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise MemoloopError(f"chroma run did not start on port {port}: "
                                        f"{log_path.read_text(errors='replace')[-300:]}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
