"""The one error a source raises: its file could not be had, from the network or from a copy.

It lives in `motools.errors`, with every error a user catches; re-exported here for readers of the
zoo.
"""

from motools.errors import SourceUnavailableError

__all__ = ["SourceUnavailableError"]
