"""The `motools` command run in this process, its output captured as a user would see it."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from motools.cli._app import main


@dataclass(frozen=True)
class Cli:
    code: int
    out: str
    err: str


def cli(*args: object) -> Cli:
    """`motools ARGS` in this process: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return Cli(code, out.getvalue(), err.getvalue())
