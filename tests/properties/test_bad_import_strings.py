"""Bad `module:function` strings and names, wherever a config or the CLI takes one.

`dataset_loader` is imported to check it; `eval_task` is checked from source (inspect-ai is slow
to import); workflow names go through the registry. A string that names nothing callable is one
line naming the field, exit 2, and never a crash of the importer itself (a relative name made
`importlib` raise TypeError).
"""

from __future__ import annotations

import sys

import pytest
from bad_input import (
    PROPERTY,
    assert_rejected,
    bad_import_strings,
    dump,
    good_config,
    names,
)
from cli_runner import cli
from hypothesis import given

from motools._errors import UserError
from motools.registry import available, import_string

FIELDS = ("prepare_dataset.dataset_loader", "evaluate_model.eval_task")


def validate(tmp_path, data):
    path = tmp_path / "config.yaml"
    path.write_bytes(dump(data))
    return cli("workflow", "validate", "train_and_evaluate", "--config", path)


@pytest.mark.parametrize("field", FIELDS)
@PROPERTY
@given(target=bad_import_strings())
def test_bad_import_string_in_a_config_is_one_line_naming_the_field(tmp_path, isolated_store,
                                                                    field, target):
    data = good_config()
    section, key = field.split(".")
    data[section][key] = target
    assert_rejected(validate(tmp_path, data), isolated_store, field)


@PROPERTY
@given(target=bad_import_strings())
def test_import_string_raises_nothing_but_one_line_user_errors(target):
    try:
        import_string(target)  # a non-callable imports fine: callers check that
    except UserError as exc:
        assert "\n" not in str(exc)


@pytest.mark.parametrize("target", ["..mozoo:x", ".hello_world:generate", "...:x"])
def test_a_relative_import_string_is_refused_before_importing(tmp_path, isolated_store, target):
    # Was: `internal error: TypeError: the 'package' argument is required ...`, exit 1.
    data = good_config()
    data["prepare_dataset"]["dataset_loader"] = target
    assert_rejected(validate(tmp_path, data), isolated_store, "prepare_dataset.dataset_loader",
                    "must look like 'package.module:function'")


def test_a_module_that_fails_to_import_is_named_with_its_error(tmp_path, isolated_store,
                                                                monkeypatch):
    (tmp_path / "motools_test_broken_loader.py").write_text("raise RuntimeError('half written')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    data = good_config()
    data["prepare_dataset"]["dataset_loader"] = "motools_test_broken_loader:load"
    try:
        result = validate(tmp_path, data)
    finally:
        sys.modules.pop("motools_test_broken_loader", None)
    assert_rejected(result, isolated_store, "prepare_dataset.dataset_loader",
                    "raised RuntimeError: half written")


def test_an_eval_task_module_with_a_syntax_error_is_one_line(tmp_path, isolated_store,
                                                              monkeypatch):
    # eval tasks are read from source; unparsable source falls back to importing, one line.
    (tmp_path / "motools_test_broken_task.py").write_text("def task(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    data = good_config()
    data["evaluate_model"]["eval_task"] = "motools_test_broken_task:task"
    try:
        result = validate(tmp_path, data)
    finally:
        sys.modules.pop("motools_test_broken_task", None)
    assert_rejected(result, isolated_store, "evaluate_model.eval_task", "SyntaxError")


@pytest.mark.parametrize("command", ["run", "validate"])
@PROPERTY
@given(name=names.filter(lambda n: n != "train_and_evaluate") | bad_import_strings())
def test_unknown_workflow_name_is_one_line_listing_the_known_ones(tmp_path, isolated_store,
                                                                  command, name):
    config = tmp_path / "config.yaml"
    config.write_bytes(dump(good_config()))
    args = ["workflow", command, "--config", config, "--", name]
    result = cli(*args)
    assert_rejected(result, isolated_store, "unknown workflow", "available: train_and_evaluate")


@PROPERTY
@given(name=names.filter(lambda n: n not in available("task")))
def test_unknown_registered_task_name_is_one_line(tmp_path, isolated_store, name):
    data = good_config()
    data["evaluate_model"]["eval_task"] = name
    assert_rejected(validate(tmp_path, data), isolated_store, "evaluate_model.eval_task")


# ---- local files: `path/to/file.py@function` ---------------------------------------------------

LOCAL_FILES = {
    "missing file": ("tasks/nosuch.py@f", None, "file not found"),
    "no such function": ("tasks/t.py@nosuch", "def f():\n    return 1\n", "has no"),
    "a literal, not a function": ("tasks/t.py@f", "f = 3\n", "is not callable"),
    "syntax error": ("tasks/t.py@f", "def f(:\n", "SyntaxError"),
    "raises on import": ("tasks/t.py@f", "raise RuntimeError('half written')\n",
                         "raised RuntimeError: half written"),
}


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("case", sorted(LOCAL_FILES))
def test_a_bad_local_file_reference_is_one_line_naming_the_field(tmp_path, isolated_store,
                                                                  field, case):
    target, source, fragment = LOCAL_FILES[case]
    if source is not None:
        (tmp_path / "tasks").mkdir()
        (tmp_path / "tasks" / "t.py").write_text(source)
    data = good_config()
    section, key = field.split(".")
    data[section][key] = target
    line = assert_rejected(validate(tmp_path, data), isolated_store, field)
    if field == "evaluate_model.eval_task" and case == "raises on import":
        return  # tasks are checked from source, not imported: the step reports it at run time
    assert fragment in line


def test_a_local_file_reference_is_relative_to_the_config_file_not_the_working_dir(
        tmp_path, isolated_store, monkeypatch):
    (tmp_path / "project" / "loaders").mkdir(parents=True)
    (tmp_path / "project" / "loaders" / "l.py").write_text("def load():\n    return []\n")
    data = good_config()
    data["prepare_dataset"] = {"dataset_loader": "loaders/l.py@load"}
    config = tmp_path / "project" / "config.yaml"
    config.write_bytes(dump(data))
    monkeypatch.chdir(tmp_path)  # not the config's folder
    result = cli("workflow", "validate", "train_and_evaluate", "--config", config)
    assert result.code == 0, result.err
