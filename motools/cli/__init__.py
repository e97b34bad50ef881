"""The `motools` command line. It calls only the public API."""

import sys

from motools.cli._app import app
from motools.cli._app import main as _main


def main() -> None:
    """Console-script entry point."""
    sys.exit(_main())


__all__ = ["app", "main"]
