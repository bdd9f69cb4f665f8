"""Failures whose message is the whole story: the command line shows them as one line.

Each module defines its own error (``CheckpointError``, ``IdxError``, ...) on top of
:class:`KnownError`, so the command line recognises them all without importing the
modules that raise them: a job runs only the code its command needs.
"""


class KnownError(Exception):
    """A failure whose message names the file or setting, the cause and the fix."""
