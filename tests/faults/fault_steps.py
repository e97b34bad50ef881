"""The `faults` workflow: two tiny steps that leave a trace any process can count.

`work` takes `seconds`, can crash on its first attempt, and returns a folder atom; `report` turns
that folder into an `eval` atom, so a sweep of `faults` has a results table with a metric per point.
Both append one JSON line per start and per end to the file named in their config, from whichever
process runs them (the driver, a Ray worker), with a single O_APPEND write, so lines from
concurrent processes never interleave.

Ray workers import this module by name: the test conftest puts this folder on their PYTHONPATH, and
`faults_plugin` lets a `motools` subprocess resolve the workflow name `faults` too.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motools.workflow import AtomConstructor, Resources, Step, Workflow


@dataclass
class WorkConfig:
    tag: str = ""
    seconds: float = 0.0  # how long the step runs after writing its first file
    log: str = ""  # the executions log: one line per start and per end
    crash: str = ""  # "raise" or "exit": crash once, after writing part of the workspace
    marker: str = ""  # the crash happens while this file does not exist; the crash creates it
    source: str = ""  # publish this existing file instead of writing one (a big blob, prebuilt)


@dataclass
class ReportConfig:
    log: str = ""


@dataclass
class FaultsConfig:
    work: WorkConfig = field(default_factory=WorkConfig)
    report: ReportConfig = field(default_factory=ReportConfig)


def log_event(path: str, **event: Any) -> None:
    if not path:
        return
    line = (json.dumps({**event, "pid": os.getpid(), "t": time.time()}) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_events(path: Path, event: str | None = None, step: str | None = None) -> list[dict]:
    """The events of an executions log, optionally only one kind and one step."""
    if not path.exists():
        return []
    events = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [e for e in events
            if (event is None or e["event"] == event) and (step is None or e["step"] == step)]


def work(config: WorkConfig, input_atoms: dict, temp_workspace: Path) -> list[AtomConstructor]:
    log_event(config.log, event="start", step="work", tag=config.tag)
    (temp_workspace / "part.txt").write_text(f"first half of {config.tag}\n")
    time.sleep(config.seconds)
    if config.crash and not Path(config.marker).exists():
        Path(config.marker).write_text("crashed once\n")
        if config.crash == "exit":
            os._exit(3)  # the worker process dies mid-step, as on an OOM kill
        raise RuntimeError(f"work {config.tag} crashed after writing part of its workspace")
    if config.source:
        output: Path = Path(config.source)
    else:
        (temp_workspace / "rest.txt").write_text(f"second half of {config.tag}\n")
        output = temp_workspace
    log_event(config.log, event="end", step="work", tag=config.tag)
    return [AtomConstructor(name="result", path=output, type="blob")]


def report(config: ReportConfig, input_atoms: dict, temp_workspace: Path) -> list[AtomConstructor]:
    atom = input_atoms["result"]
    log_event(config.log, event="start", step="report", tag=atom.id)
    size = sum(entry.size for entry in atom.files.values())
    path = temp_workspace / "results.json"
    path.write_text(json.dumps({"metrics": {"faults": {"bytes": size}},
                                "samples": [{"input": atom.id}]}))
    log_event(config.log, event="end", step="report", tag=atom.id)
    return [AtomConstructor(name="summary", path=path, type="eval")]


def faults_workflow_with(resources: Resources | None = None) -> Workflow:
    """The workflow, with `work` run under `resources` (e.g. max_retries=0 for a hard crash)."""
    resources = resources or Resources()
    return Workflow(
        name="faults", input_atom_types={}, config_class=FaultsConfig,
        steps=[
            Step(name="work", function=work, input_atom_types={}, config_class=WorkConfig,
                 output_atom_types={"result": "blob"}, resources=resources),
            Step(name="report", function=report, input_atom_types={"result": "blob"},
                 config_class=ReportConfig, output_atom_types={"summary": "eval"}),
        ],
    )


faults_workflow = faults_workflow_with()
