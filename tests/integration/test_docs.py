"""The user docs run as printed.

Convention: a fenced block whose opening fence is directly preceded by the line `<!-- runnable -->`
is runnable.
- Runnable ```python blocks of one page are concatenated in page order into one script (later blocks
  use names from earlier ones, as a reader following the page top to bottom would), which runs in a
  fresh interpreter with the repository's `configs/` and `sweeps/` copied into its working folder
  (as if run from the repository root) and a fresh store (`MOTOOLS_STORE`). A line ending in `# -> TEXT`, or a
  comment line `# -> TEXT`, documents one printed line: the script's stdout must contain those
  lines, exactly and in order.
- Runnable ```bash blocks: every line that starts with `motools ` runs through the installed console
  script, after the page's Python samples, in the same folder and store, and must exit 0.
Unmarked blocks (the product page's `tinker`/`inspect` samples, the `local` run, fragments) are
shown, not run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = ["workflows.md", "zoo.md", "advanced_features.md", "hashing.md", "sweeps.md", "backends.md"]
MARKER = "<!-- runnable -->"
FENCE = re.compile(r"^```(\w*)\s*$")
EXPECT = re.compile(r"#\s*->\s?(.*)$")


def blocks(page: str) -> list[tuple[str, str, bool]]:
    """(language, code, runnable) of every fenced block of a docs page, in order."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    out: list[tuple[str, str, bool]] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang = m.group(1)
        runnable = i > 0 and lines[i - 1].strip() == MARKER
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        assert j < len(lines), f"{page}: unclosed code fence at line {i + 1}"
        out.append((lang, "\n".join(lines[i + 1 : j]) + "\n", runnable))
        i = j + 1
    return out


def runnable(page: str, lang: str) -> list[str]:
    return [code for block_lang, code, ok in blocks(page) if ok and block_lang == lang]


def expected_lines(code: str) -> list[str]:
    return [m.group(1).strip() for line in code.splitlines() if (m := EXPECT.search(line))]


def motools_exe() -> str:
    beside = Path(sys.executable).with_name("motools")
    found = str(beside) if beside.exists() else shutil.which("motools")
    assert found, "the motools console script is not installed (pip install -e .)"
    return found


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working folder that looks like the repository root: configs/ and sweeps/ are there."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(REPO / "configs", work / "configs")
    shutil.copytree(REPO / "sweeps", work / "sweeps")
    return work


def env_for(tmp_path: Path) -> dict[str, str]:
    # A fresh store, a private local Ray, no debug output: the reader's situation.
    dropped = ("MOTOOLS_DEBUG", "MOTOOLS_LEDGER", "RAY_ADDRESS")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["MOTOOLS_STORE"] = str(tmp_path / "store")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [motools_exe(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


# --- the convention finds what it should ------------------------------------------------------


def test_workflows_page_has_runnable_samples_and_keeps_the_product_samples_unmarked() -> None:
    all_blocks = blocks("workflows.md")
    python = runnable("workflows.md", "python")
    assert len(python) >= 8
    # What runs in the test uses only the offline, instant (dummy) backends.
    assert not any(re.search(r"backend_name\W+(tinker|inspect)", code) for code in python)
    # The product page's samples are shown as written, but not run.
    shown = [code for lang, code, ok in all_blocks if not ok]
    assert any('"backend_name": "tinker"' in code for code in shown)
    assert any("backend_name: inspect" in code for lang, code, _ in all_blocks if lang == "yaml")
    assert any("def my_step(" in code for code in python)
    assert any("input_atoms={\"input_dataset\": dataset.id}" in code for code in python)


# --- runnable blocks --------------------------------------------------------------------------


def cli_lines(page: str) -> list[str]:
    return [
        line.strip()
        for code in runnable(page, "bash")
        for line in code.splitlines()
        if line.strip().startswith("motools ")
    ]


@pytest.mark.parametrize(
    "page", [p for p in PAGES if runnable(p, "python") or runnable(p, "bash")]
)
def test_runnable_blocks_run_and_print_what_the_page_says(
    page: str, tmp_path: Path, workdir: Path
) -> None:
    env = env_for(tmp_path)
    code = "\n".join(runnable(page, "python"))
    if code:
        script = tmp_path / f"{Path(page).stem}_samples.py"
        script.write_text(code, encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, str(script)],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert proc.returncode == 0, f"{page} samples failed:\n{proc.stdout}\n{proc.stderr}"

        wanted = expected_lines(code)
        assert wanted, f"{page}: runnable samples document no printed output (# -> ...)"
        printed = [line.strip() for line in proc.stdout.splitlines()]
        at = 0
        for line in wanted:
            try:
                at = printed.index(line, at) + 1
            except ValueError:
                pytest.fail(f"{page}: expected line {line!r} (in order) not in:\n{proc.stdout}")
        if "DatasetAtom" in code or "run_workflow(" in code:
            # The samples wrote to the store they were given.
            assert any((tmp_path / "store" / "atoms").iterdir())

    # CLI lines run after the page's Python, in the same folder and store (so an atom id a page
    # shows was made by the samples above it).
    for line in cli_lines(page):
        proc = run_cli(shlex.split(line)[1:], workdir, env)
        assert proc.returncode == 0, f"{page}: {line!r} exited {proc.returncode}:\n{proc.stderr}"
        assert proc.stdout.strip(), f"{page}: {line!r} printed nothing"
    # Nothing went to a default store in the working folder.
    assert not (workdir / ".motools").exists()


def test_documented_cli_lines_cover_the_workflow_commands(tmp_path: Path, workdir: Path) -> None:
    lines = cli_lines("workflows.md")
    for command in ("run train_and_evaluate", "validate train_and_evaluate", "schema", "list"):
        assert any(line.startswith(f"motools workflow {command}") for line in lines), command
    env = env_for(tmp_path)
    run_line = next(line for line in lines if line.startswith("motools workflow run"))
    first = run_cli(shlex.split(run_line)[1:], workdir, env)
    second = run_cli(shlex.split(run_line)[1:], workdir, env)
    assert first.returncode == second.returncode == 0
    assert re.search(r"evaluate_model\s.*succeeded", first.stdout)
    assert re.search(r"hello_world\s.*accuracy", first.stdout)
    # "Run it twice: the second time every step is cached."
    assert len(re.findall(r"\bcached\b", second.stdout)) == 4
    assert "succeeded" not in second.stdout
    schema_line = next(line for line in lines if line.startswith("motools workflow schema"))
    schema = json.loads(run_cli(shlex.split(schema_line)[1:], workdir, env).stdout)
    assert set(schema["properties"]) == {
        "prepare_dataset", "submit_training", "wait_for_training", "evaluate_model"
    }


# --- YAML and CLI -----------------------------------------------------------------------------


def yaml_block() -> str:
    found = [code for lang, code, _ in blocks("workflows.md") if lang == "yaml"]
    assert len(found) == 1
    return found[0]


def dummy_yaml() -> str:
    text = yaml_block()
    return text.replace("backend_name: tinker", "backend_name: dummy").replace(
        "backend_name: inspect", "backend_name: dummy"
    )


def test_yaml_block_on_dummy_backends_validates(tmp_path: Path, workdir: Path) -> None:
    config = workdir / "hello_world.yaml"
    config.write_text(dummy_yaml(), encoding="utf-8")
    proc = run_cli(
        ["workflow", "validate", "train_and_evaluate", "--config", str(config)],
        workdir,
        env_for(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert "is a valid train_and_evaluate config (4 steps)" in proc.stdout
    assert proc.stderr == ""


def test_shipped_config_is_the_yaml_block_on_dummy_backends() -> None:
    shipped = yaml.safe_load((REPO / "configs" / "hello_world.yaml").read_text())
    documented = yaml.safe_load(dummy_yaml())
    # configs/ writes 1e-4 (a float by the YAML 1.2 rule motools reads with); PyYAML alone reads a
    # string, so compare the numbers as numbers.
    lr = "learning_rate"
    shipped["submit_training"]["hyperparameters"][lr] = float(
        shipped["submit_training"]["hyperparameters"][lr]
    )
    assert shipped == documented


def test_documented_bad_input_error_is_one_line_and_exit_2(tmp_path: Path, workdir: Path) -> None:
    page = (DOCS / "workflows.md").read_text(encoding="utf-8")
    typo = workdir / "typo.yaml"
    typo.write_text(dummy_yaml().replace("n_epochs:", "n_epoch:"), encoding="utf-8")
    proc = run_cli(
        ["workflow", "validate", "train_and_evaluate", "--config", "typo.yaml"],
        workdir,
        env_for(tmp_path),
    )
    assert proc.returncode == 2
    err = proc.stderr.splitlines()
    assert len(err) == 1 and "Traceback" not in proc.stderr
    assert err[0].startswith("error: typo.yaml: submit_training.hyperparameters.n_epoch")
    assert err[0] in page, "docs/workflows.md shows a different error line than the CLI prints"


def test_product_yaml_validates_now_that_tinker_and_inspect_are_registered(
    tmp_path: Path, workdir: Path
) -> None:
    """The docs say the tinker/inspect config validates as written (running it needs a key)."""
    from motools.registry import available

    assert "tinker" in available("training_backend") and "inspect" in available("eval_backend")
    config = workdir / "product.yaml"
    config.write_text(yaml_block(), encoding="utf-8")
    proc = run_cli(
        ["workflow", "validate", "train_and_evaluate", "--config", str(config)],
        workdir,
        env_for(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert "This config validates as written." in (DOCS / "workflows.md").read_text(
        encoding="utf-8"
    )


# --- links ------------------------------------------------------------------------------------


def slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_and_anchors_resolve(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links or page in ("hashing.md", "sweeps.md", "backends.md")
    for link in links:
        if re.match(r"https?://", link):
            continue
        target, _, anchor = link.partition("#")
        path = (DOCS / target) if target else DOCS / page
        assert path.exists(), f"{page}: broken link {link}"
        if anchor and path.suffix == ".md":
            headings = re.findall(r"^#+\s+(.*)$", path.read_text(encoding="utf-8"), re.M)
            assert anchor in {slug(h) for h in headings}, f"{page}: no anchor #{anchor} in {target}"


def test_workflows_page_keeps_the_product_page_links() -> None:
    text = (DOCS / "workflows.md").read_text(encoding="utf-8")
    assert "[Zoo](zoo.md)" in text
    assert "[Advanced Features](advanced_features.md)" in text


def test_sweeps_and_backends_pages_have_runnable_samples() -> None:
    assert "motools sweep run sweeps/random_search_dummy.yaml --dry-run" in cli_lines("sweeps.md")
    assert runnable("sweeps.md", "python") and runnable("backends.md", "python")
    assert "motools zoo list" in cli_lines("backends.md")


def test_the_documented_bad_distribution_error_is_what_the_cli_prints(
    tmp_path: Path, workdir: Path
) -> None:
    page = (DOCS / "sweeps.md").read_text(encoding="utf-8")
    shown = next(line for lang, code, _ in blocks("sweeps.md") if lang == "text"
                 for line in code.splitlines() if "unknown distribution" in line)
    sweep = workdir / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({
        "workflow": "train_and_evaluate", "base": "configs/hello_world.yaml",
        "sample": {"num_samples": 2, "params": {
            "submit_training.hyperparameters.learning_rate": {"normal": [0, 1]}}}}))
    proc = run_cli(["sweep", "run", "sweep.yaml", "--dry-run"], workdir, env_for(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip() == shown.strip() and shown in page
