"""The one exception a user can cause; the CLI and UI show its message as is."""


class MemoloopError(Exception):
    """A user mistake or a missing resource, with a message that names the value and the fix."""
