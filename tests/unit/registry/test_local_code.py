"""Local code files named `path.py@function`: resolved, imported by file, keyed by content."""

from __future__ import annotations

from pathlib import Path

from motools.registry import file_refs_by_content, import_string, is_file_ref
from motools.workflow import rebase_code_paths
from mozoo.workflows.train_and_evaluate import TrainAndEvaluateConfig


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_file_references_are_told_apart_from_module_strings() -> None:
    assert is_file_ref("tasks/my_task.py@my_task")
    assert is_file_ref("/abs/t.py@a.b")
    assert not is_file_ref("mozoo.tasks.hello_world:hello_world")
    assert not is_file_ref("tasks/my_task.py")


def test_a_file_is_imported_by_path_with_its_folder_importable(tmp_path: Path) -> None:
    write(tmp_path / "lib" / "helper.py", "VALUE = 41\n")
    path = write(tmp_path / "lib" / "t.py",
                 "from helper import VALUE\ndef f():\n    return VALUE + 1\n")
    assert import_string(f"{path}@f")() == 42


def test_an_edited_file_is_imported_again(tmp_path: Path) -> None:
    path = write(tmp_path / "t.py", "def f():\n    return 1\n")
    assert import_string(f"{path}@f")() == 1
    path.write_text("def f():\n    return 2\n")
    assert import_string(f"{path}@f")() == 2


def test_the_key_payload_holds_the_content_digest_not_the_path(tmp_path: Path) -> None:
    one = write(tmp_path / "a" / "t.py", "def f(): ...\n")
    two = write(tmp_path / "b" / "t.py", "def f(): ...\n")
    three = write(tmp_path / "c" / "t.py", "def f(): return 3\n")
    keyed = [file_refs_by_content({"eval_task": f"{p}@f", "n": 1}) for p in (one, two, three)]
    assert keyed[0] == keyed[1] != keyed[2]
    assert keyed[0]["eval_task"].startswith("file-sha256:") and str(tmp_path) not in str(keyed[0])
    assert file_refs_by_content({"eval_task": "hello_world"}) == {"eval_task": "hello_world"}


def test_relative_paths_in_a_config_are_rebased_on_its_folder_only_in_code_fields(
        tmp_path: Path) -> None:
    data = {"prepare_dataset": {"dataset_loader": "l.py@load",
                                "loader_kwargs": {"path": "data.py@x"}},
            "evaluate_model": {"eval_task": "tasks/t.py@t"}}
    out = rebase_code_paths(TrainAndEvaluateConfig, data, tmp_path)
    assert out["prepare_dataset"]["dataset_loader"] == f"{tmp_path}/l.py@load"
    assert out["evaluate_model"]["eval_task"] == f"{tmp_path}/tasks/t.py@t"
    assert out["prepare_dataset"]["loader_kwargs"] == {"path": "data.py@x"}  # not code: kept
    assert data["evaluate_model"]["eval_task"] == "tasks/t.py@t"
