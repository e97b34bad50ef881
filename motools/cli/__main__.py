"""`python -m motools.cli` runs the CLI."""

from motools.cli import main

main()
