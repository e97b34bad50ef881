"""The root typer app and the error policy: user mistakes are one line and exit 2."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated, Any

import typer
from typer.exceptions import TyperException

from motools.errors import MotoolsError, UserError

app = typer.Typer(
    name="motools",
    help="Model-organism experiments: fine-tune, evaluate, sweep, with caching and provenance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

StoreOption = Annotated[
    str | None,
    typer.Option("--store", envvar="MOTOOLS_STORE", help="Store root: a folder or s3://bucket/prefix."),
]
AddressOption = Annotated[
    str | None,
    typer.Option("--address", envvar="RAY_ADDRESS",
                 help="Ray cluster to join (default: a private local Ray)."),
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]


@app.callback()
def _root(debug: DebugOption = False) -> None:
    # `--debug` is handled by `main`, wherever it appears on the line; declared here for --help.
    return None


def check_text(value: str, what: str) -> str:
    """Refuse an argument no store can hold: a NUL byte, or bytes that are not UTF-8.

    Arguments that are not UTF-8 reach Python as lone surrogates (PEP 383); SQLite and paths
    would fail on them with an encoding error instead of saying what is wrong.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"invalid {what} {value!r}: not valid UTF-8") from None
    if "\0" in value:
        raise UserError(f"invalid {what} {value!r}: contains a NUL byte")
    return value




def _fail(message: str, code: int) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 1 failures, 2 bad input, 130 interrupted)."""
    from motools.cli import (  # noqa: F401  (sub-commands)
        _atom,
        _cache,
        _runs,
        _sweep,
        _sweep_logs,
        _workflow,
        _zoo,
    )

    args = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere on the line, not only before the sub-command.
    debug = "--debug" in args or os.environ.get("MOTOOLS_DEBUG") == "1"
    args = [a for a in args if a != "--debug"]
    command = typer.main.get_command(app)
    try:
        result: Any = command.main(args=args, prog_name="motools", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        return _fail("interrupted", 130)
    except UserError as exc:
        if debug:
            traceback.print_exc()
        return _fail(str(exc), 2)
    except MotoolsError as exc:
        if debug:
            traceback.print_exc()
        return _fail(str(exc), 1)
    except TyperException as exc:
        # Usage errors (missing argument, bad option value) from typer's own parser.
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return _fail(message, int(getattr(exc, "exit_code", 2)))
    except Exception as exc:  # a bug, not bad input: one line unless --debug
        if debug:
            traceback.print_exc()
            return 1
        return _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)", 1)
    return result if isinstance(result, int) else 0
