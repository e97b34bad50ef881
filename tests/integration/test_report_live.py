"""A report made while its sweep runs (issue #19, item 5): finished points with their numbers, the
others marked pending; made again after the run, it is the final report.

The sweep runs in a real `motools` driver process joined to the test session's Ray, with the
gated dataset loader of test_live_results: the test decides when each point may finish.
"""

from __future__ import annotations

import re
from pathlib import Path

from cli_runner import cli
from fault_drivers import wait_until
from test_live_results import first_point_done, gated_sweep, ray_address, start  # noqa: F401


def statuses(site: Path) -> list[str]:
    return re.findall(r'<tr [^>]*data-status="(\w+)"', (site / "index.html").read_text())


def test_a_report_made_mid_run_shows_finished_points_and_pending_ones(
        gated_sweep, isolated_store, ray_address, tmp_path):  # noqa: F811 (imported fixtures)
    sweep, gates = gated_sweep
    site = tmp_path / "site"
    driver = start(sweep, isolated_store, ray_address)
    try:
        (gates / "a").touch()
        wait_until(lambda: first_point_done(sweep, tmp_path / "live.parquet"), 120,
                   "point 0 to finish")
        made = cli("sweep", "report", sweep, "-o", site)
        assert made.code == 0, made.err
        assert driver.proc.poll() is None  # still running while the report was made
        assert statuses(site) == ["succeeded", "pending", "pending"]
        page = (site / "index.html").read_text()
        assert "Live report" in page and "still running" in page
        assert (site / "points" / "point-0002.html").is_file()  # pending points have pages too

        (gates / "b").touch()
        (gates / "c").touch()
        assert driver.wait(timeout=180) == 0, driver.output()
    finally:
        for tag in "abc":
            (gates / tag).touch()
        driver.stop()

    again = cli("sweep", "report", sweep, "-o", site)  # re-running refreshes it
    assert again.code == 0, again.err
    assert statuses(site) == ["succeeded"] * 3
    assert "Live report" not in (site / "index.html").read_text()
