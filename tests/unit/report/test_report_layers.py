"""motools.report sits between the CLI and sweeps: it uses public names only, nothing below imports
it, and importing it stays cheap (plotly and inspect load when a report is built)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_public_api import REPO, private_imports

REPORT = REPO / "motools" / "report"


@pytest.mark.parametrize("path", sorted(REPORT.glob("*.py")), ids=lambda p: p.name)
def test_the_report_imports_only_public_modules_of_other_packages(path):
    assert private_imports(path, allowed_prefix="motools.report.") == []


def test_nothing_below_the_cli_imports_the_report():
    below = [p for p in (REPO / "motools").rglob("*.py")
             if not p.is_relative_to(REPORT) and not p.is_relative_to(REPO / "motools" / "cli")]
    assert below
    assert [str(p) for p in below if "motools.report" in p.read_text()] == []


def test_importing_the_report_loads_no_plotting_or_eval_library():
    code = ("import sys, motools.report; "
            "print(sorted(m for m in ('plotly', 'inspect_ai', 'pandas') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(REPO))
    assert result.stdout.strip() == "[]"
