"""The one error a source raises: its file could not be had, from the network or from a copy."""

from __future__ import annotations

from motools.errors import UserError


class SourceUnavailableError(UserError):
    """A published file could not be read: not downloadable here, and no copy was given.

    The message is one line: the URL, why it failed, and how to provide a copy instead
    (`local_path=`, `mirror=` or `MOTOOLS_ZOO_MIRROR`). A `UserError`, so the CLI exits with 2.
    """
