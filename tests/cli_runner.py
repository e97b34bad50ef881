"""The `motools` command run in this process, its output captured as a user would see it, and
the small file and output helpers the CLI tests share."""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

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


def write(path: Path, data: Any) -> Path:
    """`data` as a YAML file at `path` (folders made as needed), keys in their order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_id_of(out: str) -> str:
    """The run id a `sweep run` printed on its `run run-...; results: ...` line."""
    match = re.search(r"^run (run-[\w-]+)", out, re.M)
    assert match, out
    return match.group(1)
