"""Step workspaces: made only when used, one folder per process, dead processes' folders removed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from motools.engine import RunOptions
from motools.engine._workspace import Workspace, remove_workspace, scratch_root, was_used
from motools.workflow import AtomConstructor, Step, Workflow, run_workflow


@pytest.fixture(autouse=True)
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MOTOOLS_SCRATCH", str(tmp_path / "scratch"))
    return tmp_path / "scratch"


@dataclass
class Note:
    text: str = ""
    write: bool = False


def note(config: Note, input_atoms, temp_workspace: Path) -> list[AtomConstructor]:
    if config.write:
        out = temp_workspace / "note.txt"
        out.write_text(config.text)
        return [AtomConstructor(name="note", path=out, type="blob")]
    return [AtomConstructor(name="note", path=None, type="blob", metadata={"text": config.text})]


@dataclass
class NoteConfig:
    note: Note


WORKFLOW = Workflow(name="note", input_atom_types={}, config_class=NoteConfig, steps=[
    Step(name="note", function=note, config_class=Note, input_atom_types={},
         output_atom_types={"note": "blob"})])


def _folders(scratch: Path) -> list[Path]:
    return sorted(p for p in scratch.rglob("*") if p.is_dir()) if scratch.exists() else []


def test_a_step_that_never_touches_its_workspace_creates_no_folder(scratch):
    result = run_workflow(WORKFLOW, {}, {"note": {"text": "hi"}}, "alice",
                          options=RunOptions(executor="inline"))
    assert result.ok
    assert not scratch.exists() or not any(scratch.rglob("note-*"))


def test_a_step_that_writes_to_its_workspace_gets_a_real_folder_removed_afterwards(scratch):
    result = run_workflow(WORKFLOW, {}, {"note": {"text": "hi", "write": True}}, "alice",
                          options=RunOptions(executor="inline"))
    assert result.ok
    assert result.get_atom("note").local_path().joinpath("note.txt").read_text() == "hi"
    assert not any(scratch.rglob("note-*")), "the workspace was left behind"


def test_the_workspace_is_a_path_made_on_first_use(scratch):
    workspace = Workspace.for_step("s")
    assert isinstance(workspace, Path) and not was_used(workspace)
    assert not any(scratch.rglob("s-*"))
    (workspace / "logs").mkdir()
    assert was_used(workspace) and (Path(str(workspace)) / "logs").is_dir()
    remove_workspace(workspace)
    assert not any(scratch.rglob("s-*"))


KILLED = """
import os, signal
from motools.engine._workspace import Workspace
ws = Workspace.for_step("killed")
(ws / "half-written.txt").write_text("x")
print(ws.parent, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_next_run_removes_the_workspace_of_a_killed_process(scratch):
    child = subprocess.run([sys.executable, "-c", KILLED], capture_output=True, text=True)
    assert child.returncode == -9
    left = Path(child.stdout.strip())
    assert left.parent == scratch_root() and any(left.rglob("half-written.txt"))
    alive = scratch / f"{socket.gethostname()}-{os.getppid()}"  # a live process's
    alive.mkdir()

    assert run_workflow(WORKFLOW, {}, {"note": {"text": "next"}}, "alice",
                        options=RunOptions(executor="inline")).ok
    assert not left.exists()
    assert alive.exists()
