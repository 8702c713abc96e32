"""The data home: one folder that holds everything memoloop stores."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from memory.errors import MemoloopError

ENV_VAR = "MEMOLOOP_HOME"


def default_home() -> Path:
    """$MEMOLOOP_HOME, else $XDG_DATA_HOME/memoloop, else ~/.local/share/memoloop."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "memoloop"


def _private(path: Path, mode: int) -> None:
    if path.stat().st_mode & 0o077:
        path.chmod(mode)


@dataclass(frozen=True)
class Home:
    root: Path
    # A household's schema in server mode (memory.households): its index, adapters, datasets, logs
    # and photos live in households/<schema>/; the base models, settings and engines are shared.
    household: str = ""

    @classmethod
    def open(cls, path: str | os.PathLike | None = None) -> "Home":
        """Resolve, create and check the data home; a read-only folder is a clear error."""
        root = Path(path).expanduser() if path else default_home()
        try:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
            if root.stat().st_uid == os.getuid():  # a pet's health record: nobody else on this computer reads it
                _private(root, 0o700)
                for path in root.iterdir():  # the database and settings of a home made before this rule
                    if path.is_file():
                        _private(path, 0o600)
            # a probe of its own: two processes may open the same home at once
            fd, probe = tempfile.mkstemp(dir=root, prefix=".write-test-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise MemoloopError(
                f"data home '{root}' is not writable ({exc.strerror or exc}); "
                f"pass --home DIR or set {ENV_VAR} to a folder you can write to"
            ) from None
        return cls(root.resolve())._made()

    def of(self, household: str) -> "Home":
        """This home as household `household` (its schema) keeps it; "public" is the home itself."""
        return replace(self, household="" if household == "public" else household)._made()

    def _made(self) -> "Home":
        for sub in (self.chroma_dir, self.models_dir, self.adapters_dir, self.datasets_dir, self.logs_dir):
            sub.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self

    @property
    def own(self) -> Path:
        """Where this household's own files are: the root, or households/<schema>/."""
        return self.root / "households" / self.household if self.household else self.root

    @property
    def db_path(self) -> Path:
        return self.root / "memoloop.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    @property
    def chroma_dir(self) -> Path:
        return self.own / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def adapters_dir(self) -> Path:
        return self.own / "adapters"

    @property
    def datasets_dir(self) -> Path:
        return self.own / "datasets"

    @property
    def logs_dir(self) -> Path:
        return self.own / "logs"

    @property
    def photos_dir(self) -> Path:
        return self.own / "photos"
