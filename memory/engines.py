"""Which engines hold a data home's notes: embedded by default (the SQLite file and the Chroma folder
in the home), or servers that several processes and machines share: PostgreSQL for the database,
a Chroma server (`chroma run`, from the chromadb package) for the search index.

Set by $MEMOLOOP_DATABASE_URL and $MEMOLOOP_CHROMA_URL (which win; empty means embedded) or saved
in the home's `engines.json` (`memoloop settings --database-url URL --chroma-url URL`, or the
Settings page).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from memory.errors import MemoloopError
from memory.files import write_atomic

CHROMA_ENV = "MEMOLOOP_CHROMA_URL"
DATABASE_ENV = "MEMOLOOP_DATABASE_URL"
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


def database_address(url: str) -> str:
    """'postgresql+psycopg://USER[:PASSWORD]@HOST[:PORT]/DB' (postgresql://... is read as psycopg 3),
    checked; anything else is one clear error."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = url.strip()
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        parsed = None
    if parsed is None or parsed.drivername not in ("postgresql", "postgresql+psycopg") or not parsed.database:
        raise MemoloopError(f"database URL '{redacted(url)}' is not valid; use postgresql+psycopg://USER@HOST/DATABASE "
                            "(a Unix socket: postgresql+psycopg://USER@/DATABASE?host=/run/postgresql), "
                            "or leave it empty for the SQLite file in the data home")
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def redacted(url: str) -> str:
    """`url` without its password, to show."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


@dataclass(frozen=True)
class Engines:
    chroma_url: str | None = None  # None: the embedded Chroma folder in the data home
    database_url: str | None = None  # None: the SQLite file in the data home

    def __post_init__(self) -> None:
        if self.chroma_url:
            chroma_address(self.chroma_url)
        if self.database_url:
            object.__setattr__(self, "database_url", database_address(self.database_url))

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
            return cls(chroma_url=data.get("chroma_url") or None, database_url=data.get("database_url") or None)
        except (OSError, ValueError, AttributeError) as exc:
            raise MemoloopError(f"engines file '{path}' is unreadable ({exc}); fix it, or delete it "
                                "for the embedded defaults") from None

    @classmethod
    def of(cls, root: Path) -> "Engines":
        """The engines in use: each the environment's, else the home's file, else embedded."""
        engines = cls.saved(root)
        for field, env in (("chroma_url", CHROMA_ENV), ("database_url", DATABASE_ENV)):
            if env in os.environ:
                try:
                    engines = cls(**{**asdict(engines), field: os.environ[env].strip() or None})
                except MemoloopError as exc:
                    raise MemoloopError(f"{exc} (it comes from ${env})") from None
        return engines

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


@contextmanager
def postgres_server(path: Path, durable: bool = True):
    """A throwaway PostgreSQL cluster in `path` (`initdb` + `pg_ctl` from Debian's postgresql), on a
    Unix socket in that folder and no network: the URL of its `postgres` database while it runs. For
    the tests and the benches; a real install points memoloop at its own server. The user
    `memoloop` signs in with a password made here (in the URL). As root the
    cluster runs as the `postgres` user (PostgreSQL refuses to run as root). `durable=False` skips
    fsync, for tests only."""
    initdb = shutil.which("initdb") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None)
    if initdb is None:
        raise MemoloopError("PostgreSQL is not installed (no initdb); on Debian: apt-get install postgresql")
    bin_dir = Path(initdb).resolve().parent
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)  # its parents must let the postgres user through
    as_user = []
    if os.geteuid() == 0:
        shutil.chown(path, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*cmd):
        done = subprocess.run([*as_user, *cmd], capture_output=True, text=True)
        if done.returncode != 0:
            raise MemoloopError(f"{Path(cmd[0]).name} failed: {(done.stderr or done.stdout).strip()[-300:]}")

    data, password = path / "data", secrets.token_hex(12)
    (path / "password").write_text(password)  # read once by initdb, then gone
    (path / "password").chmod(0o600)
    if as_user:
        shutil.chown(path / "password", "postgres")
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "memoloop", "--auth=scram-sha-256",
        f"--pwfile={path / 'password'}", "-E", "UTF8", "--no-sync")
    (path / "password").unlink()
    options = f"-k {path} -c listen_addresses='' -c max_connections=300" + ("" if durable else " -c fsync=off")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(path / "log"), "-w", "start", "-o", options)
    try:
        yield f"postgresql+psycopg://memoloop:{password}@/postgres?host={path}"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")


def create_database(server_url: str, name: str) -> str:
    """A new, empty database `name` on the server of `server_url`: its URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))  # as written (a socket's path stays readable)
