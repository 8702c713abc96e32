"""The exceptions a user meets; the CLI and UI show their message as is."""


class MemoloopError(Exception):
    """A user mistake, with a message that names the value and the fix (the CLI exits 2)."""


class MissingResource(MemoloopError):
    """Something the command needs is missing or damaged: the model folder, an adapter's files
    (the CLI exits 1, as DESIGN.md says: the user typed nothing wrong)."""
