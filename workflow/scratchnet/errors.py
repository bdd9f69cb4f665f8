"""Failures whose message is the whole story: the command line shows them as one line.

Each module defines its own error (``CheckpointError``, ``IdxError``, ...) on top of
:class:`KnownError`, so the command line recognises them all without importing the
modules that raise them: a job runs only the code its command needs.
"""


class KnownError(Exception):
    """A failure whose message names the file or setting, the cause and the fix."""


# What to do about a folder the workflow cannot write to (said before any job runs, and by
# a job that finds one).
WRITABLE_FIX = "make it writable (chmod u+w, or chattr -i) or work in another folder"
