"""`motools sweep report` (issue #19): a real offline sweep (the local tiny LM, two learning rates x
two seeds, a `n_epochs: 0` baseline and a point that fails) built into a report, served by a real
static HTTP server on 127.0.0.1 and opened in headless Chromium.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from cli_runner import cli, write
from report_browser import CHROMIUM, MISSING, chromium, open_page, serve

from motools.engine import RunOptions
from motools.report import build_report
from motools.sweep import load_results, run_sweep_file

REPO = Path(__file__).resolve().parents[2]
LR = "submit_training.hyperparameters.learning_rate"
SEED = "submit_training.hyperparameters.seed"
EPOCHS = "submit_training.hyperparameters.n_epochs"
LOADER = "prepare_dataset.dataset_loader"
BROKEN = f"{Path(__file__).stem}:broken_loader"
POINTS = 6  # 2 learning rates x 2 seeds, the baseline, the broken point


def broken_loader(num_samples: int = 0) -> Any:
    """A dataset loader that fails: the report shows the point's traceback."""
    raise ValueError("this loader is broken on purpose")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sweep, run once inline, and its report."""
    root = tmp_path_factory.mktemp("report")
    store = root / "store"
    sweep = write(root / "tiny.yaml", {
        "name": "tiny-report", "workflow": "train_and_evaluate",
        "base": str(REPO / "configs" / "hello_world_local.yaml"),
        "config": {"prepare_dataset": {"loader_kwargs": {"num_samples": 16}},
                   "submit_training": {"hyperparameters": {"n_epochs": 2, "batch_size": 8}},
                   "evaluate_model": {"eval_kwargs": {"limit": 4}}},
        "grid": {LR: [1e-3, 1e-2], SEED: [0, 1]},
        "points": [{EPOCHS: 0}, {LOADER: BROKEN}],
    })
    result = run_sweep_file(sweep, options=RunOptions(executor="inline", store=store))
    assert [f.index for f in result.failures] == [5], [(f.step, f.error) for f in result.failures]
    site = root / "site"
    build_report(sweep, site, store=store)
    return {"root": root, "store": store, "sweep": sweep, "site": site, "run": result.run_id}


@pytest.fixture(scope="module")
def browser(built: dict[str, Any]) -> Iterator[Any]:
    # After the sweep: playwright's sync API runs an event loop, inside which inspect's eval
    # (inline executor) could not run its own.
    if not CHROMIUM.exists():
        pytest.skip(MISSING)
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def url(built: dict[str, Any]) -> Iterator[str]:
    with serve(built["site"]) as base:
        yield base


def rows(page: Any) -> list[dict[str, Any]]:
    return page.eval_on_selector_all("#results tbody tr", """rows => rows.map(r => ({
        point: Number(r.dataset.point), status: r.dataset.status,
        classes: Array.from(r.classList), hidden: r.hidden}))""")


def column(page: Any, name: str) -> list[str]:
    index = page.eval_on_selector_all(
        "#results thead th", f"hs => hs.findIndex(h => h.dataset.metric === {name!r})")
    return page.eval_on_selector_all(
        "#results tbody tr", f"rs => rs.map(r => r.cells[{index}].dataset.v ?? '')")


def test_the_page_loads_with_no_console_error_and_no_failed_request(browser, url):
    page, problems = open_page(browser, url)
    assert page.title() == "tiny-report: sweep report"
    assert problems.console_errors == [] and problems.failed_requests == []


def test_the_header_says_what_ran_and_how_to_rerun_it(browser, url, built):
    page, _ = open_page(browser, url)
    about = page.inner_text("#about")
    assert built["run"] in about and "local/tiny-byte-lm" in about
    assert "train_and_evaluate" in about and "5 succeeded" in about and "1 failed" in about
    assert "prepare_dataset:" in about  # the code digest of each step
    assert page.inner_text("#command").startswith("motools sweep run ")
    assert "SYNTHETIC" not in about


def test_the_table_has_a_row_per_point_with_the_best_and_the_baseline_marked(browser, url):
    page, _ = open_page(browser, url)
    shown = rows(page)
    assert [r["point"] for r in shown] == list(range(POINTS))
    assert [r["point"] for r in shown if "reference" in r["classes"]] == [4]
    assert len([r for r in shown if "best" in r["classes"]]) == 1
    assert shown[5]["status"] == "failed"
    assert "this loader is broken on purpose" in page.inner_text("#results tbody tr:nth-child(6)")


def test_sorting_by_the_metric_puts_the_best_point_first(browser, url):
    page, _ = open_page(browser, url)
    page.click('#results th[data-metric="accuracy"]')
    shown = rows(page)
    assert "best" in shown[0]["classes"]
    values = [float(v) for v in column(page, "accuracy") if v]
    assert values == sorted(values, reverse=True)
    assert shown[-1]["status"] == "failed"  # no value: last, whichever way
    page.click('#results th[data-metric="train_loss"]')
    losses = [float(v) for v in column(page, "train_loss") if v]
    assert len(losses) == 4 and losses == sorted(losses)


def test_filtering_keeps_the_matching_rows(browser, url):
    page, _ = open_page(browser, url)
    page.select_option("#status-filter", "failed")
    assert [r["point"] for r in rows(page) if not r["hidden"]] == [5]
    page.select_option("#status-filter", "")
    page.fill("#filter", "0.01")
    assert [r["point"] for r in rows(page) if not r["hidden"]] == [2, 3]


def test_every_plot_has_drawn_its_data(browser, url):
    page, problems = open_page(browser, url)
    plots = {d.get_attribute("data-plot"): d for d in page.query_selector_all("div.plot")}
    metric = "plot-metric-submit-training-hyperparameters-learning-rate"
    assert sorted(plots) == sorted([metric, "plot-parallel", "plot-loss"])
    for div in plots.values():
        assert div.query_selector("svg.main-svg") is not None
    # two learning rates, each the mean of two seeds; the baseline as a dashed reference line
    assert len(plots[metric].query_selector_all(".scatterlayer path.point")) == 2
    assert "n_epochs=0" in plots[metric].inner_text()
    # one line per trained point (4), one axis per swept parameter and the metric (5)
    assert len(plots["plot-loss"].query_selector_all(".scatterlayer path.js-line")) == 4
    assert len(plots["plot-parallel"].query_selector_all("g.y-axis")) == 5
    assert len(plots["plot-parallel"].query_selector_all("canvas")) > 0
    assert problems.console_errors == []


def test_a_points_log_link_opens_inspect_viewer_on_its_samples(browser, url):
    page, problems = open_page(browser, url)
    link = page.query_selector('#results tr[data-point="1"] a.log')
    assert link.get_attribute("href").startswith("inspect/index.html#/logs/point-001_")
    link.click()
    page.wait_for_selector("text=Hello, World!", timeout=30_000)  # a sample's target
    assert "/logs/point-001_learning_rate=0.001_seed=1" in unquote(page.url)
    assert "hello_world" in page.inner_text("body")
    assert problems.console_errors == [] and problems.failed_requests == []


def test_a_points_page_shows_its_config_diff_atoms_and_steps(built):
    page = (built["site"] / "points" / "point-0004.html").read_text()
    assert "baseline" in page
    highlighted = re.findall(r'<tr class="set"><td>([^<]+)</td>', page)
    assert highlighted == [EPOCHS]  # the baseline's only difference from the base config
    assert "model-" in page and "eval-" in page and "dataset-" in page  # atoms in and out
    assert page.count("s-succeeded") >= 4
    failed = (built["site"] / "points" / "point-0005.html").read_text()
    assert "Traceback (most recent call last)" in failed
    assert "this loader is broken on purpose" in failed and "s-skipped" in failed


def test_the_folder_references_nothing_outside_itself(built):
    remote = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|@import|url\(\s*["']?https?:""",
                        re.IGNORECASE)
    pages = [p for p in built["site"].rglob("*") if p.suffix in (".html", ".css")]
    assert len(pages) > POINTS
    for path in pages:
        assert not remote.search(path.read_text(errors="replace")), path


def test_rebuilding_an_unchanged_run_gives_the_same_files(built):
    def digest(folder: Path) -> dict[str, str]:
        return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file()}

    before = digest(built["site"])
    build_report(built["run"], built["site"], store=built["store"])
    assert digest(built["site"]) == before


def test_results_show_effective_values_and_what_each_point_set(built):
    table = load_results_of(built)
    rows_ = table.to_pylist()
    assert [r[EPOCHS] for r in rows_[:5]] == [2, 2, 2, 2, 0]  # trained points inherit 2
    assert rows_[4][LR] == 3e-3  # the baseline's learning rate is the base config's
    assert '"n_epochs' not in rows_[0]["overrides"] and EPOCHS in rows_[4]["overrides"]


def load_results_of(built: dict[str, Any]) -> Any:
    from motools.atom import get_store

    return load_results(get_store(built["store"]), built["run"])


def test_the_cli_writes_a_report_and_refuses_a_folder_of_other_files(built, tmp_path):
    out = tmp_path / "cli-site"
    result = cli("sweep", "report", built["run"], "-o", out, "--store", built["store"])
    assert result.code == 0, result.err
    assert (out / "index.html").is_file() and "python -m http.server -d" in result.out
    other = tmp_path / "other"
    (other / "notes.txt").parent.mkdir()
    (other / "notes.txt").write_text("mine")
    refused = cli("sweep", "report", built["run"], "-o", other, "--store", built["store"])
    assert refused.code == 2 and "not a sweep report" in refused.err
    assert (other / "notes.txt").read_text() == "mine"


def test_sweep_run_with_report_writes_it_when_the_run_ends(tmp_path):
    out = tmp_path / "dummy-site"
    result = cli("sweep", "run", REPO / "sweeps" / "hello_world_dummy.yaml", "--executor",
                 "inline", "--report", out)
    assert result.code == 0, result.err
    page = (out / "index.html").read_text()
    assert "SYNTHETIC: 8 of 8 points" in page
    assert not (out / "inspect").exists()  # the dummy eval backend writes no inspect log


def test_the_report_works_from_an_s3_style_bucket(built, browser, s3_endpoint):
    # Uploaded as `aws s3 sync DIR s3://BUCKET/PREFIX --acl public-read` would (types guessed
    # from names), then read over plain HTTP under a prefix.
    import mimetypes

    import boto3
    from s3_server import BUCKET

    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    for path in sorted(built["site"].rglob("*")):
        if path.is_file():
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            s3.put_object(Bucket=BUCKET, Key=f"sweeps/tiny/{path.relative_to(built['site'])}",
                          Body=path.read_bytes(), ContentType=kind, ACL="public-read")
    page, problems = open_page(browser, f"{s3_endpoint}/{BUCKET}/sweeps/tiny/index.html")
    assert len(rows(page)) == POINTS
    drawn = page.eval_on_selector_all("div.plot", "ds => ds.map(d => !!d.querySelector('svg'))")
    assert drawn == [True, True, True]
    page.click('#results tr[data-point="0"] a.log')
    page.wait_for_selector("text=Hello, World!", timeout=30_000)
    assert problems.console_errors == [] and problems.failed_requests == []
