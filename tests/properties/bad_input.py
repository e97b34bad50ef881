"""Generators of genuinely bad input for the `motools` CLI, and the one rule every case must obey.

The rule (DESIGN.md, invariants): bad input gets exit code 2, exactly one line on stderr that
says what and where, no traceback, and nothing written to the store.

Every strategy yields a `Bad`: the bytes (or argument) to feed, and, where the mistake has one,
a fragment the error line must contain (the YAML path of the bad key, the bad name). Each starts
from input that is valid and breaks it in exactly one way, so exit 2 is the only right answer.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cli_runner import Cli
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from motools._hashing import is_secret_name
from motools.workflow._yaml import _FLOAT_RE

REPO = Path(__file__).resolve().parents[2]
BASE_CONFIG = REPO / "configs" / "hello_world.yaml"
LR = "submit_training.hyperparameters.learning_rate"
SECTIONS = ("prepare_dataset", "submit_training", "wait_for_training", "evaluate_model")
FIELDS = {
    "": SECTIONS,
    "prepare_dataset": ("dataset_loader", "loader_kwargs"),
    "submit_training": ("model", "hyperparameters", "suffix", "backend_name"),
    "submit_training.hyperparameters": (
        "n_epochs", "learning_rate", "batch_size", "seed", "lora_rank",
    ),
    "wait_for_training": (),
    "evaluate_model": ("eval_task", "backend_name", "eval_kwargs"),
}
SWEEP_KEYS = ("name", "workflow", "user", "base", "config", "grid", "zip", "points",
              "sample", "max_parallel", "resources")
RANK = "submit_training.hyperparameters.lora_rank"
DISTRIBUTIONS = ("choice", "uniform", "loguniform", "randint")

# Property tests call the CLI in-process (milliseconds an example); the store fixture is
# per test, which is right here: nothing may be written by any example, so one store that must
# stay absent covers them all. No example database: a failure prints its example and the blob
# that replays it (`@reproduce_failure`), and the tests leave no `.hypothesis/` folder behind.
PROPERTY = settings(
    max_examples=40,
    # CI sees the same examples every run (a red CI must mean a change broke something); a
    # developer's run explores new ones.
    derandomize=os.environ.get("CI") == "true",
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# ---- running the CLI and checking the rule ----------------------------------------------------


def store_is_untouched(store: Path) -> bool:
    return not store.exists() or not any(store.iterdir())


def normalized(text: str) -> str:
    """Whitespace as the CLI prints it: every run of it one space (messages are one line)."""
    return " ".join(text.split())


def assert_rejected(result: Cli, store: Path, *fragments: str) -> str:
    """Exit 2, one `error: ...` line on stderr holding every fragment, no traceback, no store."""
    lines = result.err.splitlines()
    assert result.code == 2, (result.code, result.err)
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: "), result.err
    assert "Traceback" not in result.err + result.out
    for fragment in fragments:
        assert normalized(fragment) in lines[0], (fragment, lines[0])
    assert store_is_untouched(store), sorted(p.name for p in store.iterdir())
    return lines[0]


@dataclass(frozen=True)
class Bad:
    """One bad input: what to feed, and what the one error line must name (may be empty)."""

    data: bytes
    names: tuple[str, ...] = ()
    category: str = ""


class _Dumper(yaml.SafeDumper):
    """Quotes strings that motools' YAML 1.2 loader would read as floats (`1e5`)."""


_Dumper.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_RE, list("-+0123456789."))


def dump(data: Any) -> bytes:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True).encode("utf-8")


def good_config() -> dict[str, Any]:
    return yaml.safe_load(BASE_CONFIG.read_text())


# ---- building blocks --------------------------------------------------------------------------

# Keys a YAML file can spell, unicode included. `<<` (merge) and `=` (value) are YAML syntax,
# not names, so they are left out.
_KEY_CHARS = st.characters(categories=["L", "N", "Pd", "Pc"]) | st.sampled_from(" .~")
# Secret-looking names are a category of their own (`secret_names`), with their own message.
names = st.text(_KEY_CHARS, min_size=1, max_size=12).filter(
    lambda s: s.strip() and s != "<<" and not any(map(is_secret_name, s.split(".")))
)
identifiers = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)
secret_names = st.sampled_from(
    ["api_key", "apikey", "API_KEY", "openai_api_key", "hf_token", "token", "client_secret",
     "password", "db_passwd", "credentials", "aws_secret_access_key", "private_key"]
)
secret_values = st.from_regex(r"(sk|tml|hf)-[A-Za-z0-9]{8,20}", fullmatch=True)


def _not_a_number_text() -> st.SearchStrategy[str]:
    return st.text(st.characters(categories=["L"]), min_size=1, max_size=8).filter(
        lambda s: s.strip().lower() not in {"inf", "nan", "infinity", "true", "false", "null"}
    )


not_a_mapping = st.one_of(
    st.lists(st.integers(), max_size=3), st.integers(), _not_a_number_text(), st.booleans(),
)
not_a_string = st.one_of(
    st.integers(), st.lists(names, max_size=2), st.dictionaries(identifiers, st.integers(),
                                                                max_size=2), st.booleans(),
)
not_an_int = st.one_of(
    _not_a_number_text(), st.lists(st.integers(), min_size=1, max_size=2),
    st.dictionaries(identifiers, st.integers(), min_size=1, max_size=2),
    st.floats(allow_nan=False).filter(lambda f: not math.isfinite(f) or f != int(f)),
)
# Out of the documented bounds (Hyperparameters): far too big, zero, negative, non-finite.
OUT_OF_RANGE = {
    "n_epochs": st.one_of(st.integers(min_value=10_001), st.integers(max_value=-1)),
    "learning_rate": st.one_of(st.floats(min_value=10, exclude_min=True),
                               st.floats(max_value=0), st.just(math.nan)),
    "batch_size": st.one_of(st.integers(min_value=1_000_001), st.integers(max_value=-1)),
    "seed": st.one_of(st.integers(min_value=2**32), st.integers(max_value=-1)),
    "lora_rank": st.one_of(st.integers(min_value=1025), st.integers(max_value=-1)),
}


def nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for i in range(depth):
        value = {"a": value} if i % 2 else [value]
    return value


# ---- whole documents that are bad whatever they configure ------------------------------------

_BROKEN_YAML = [
    b"prepare_dataset:\n  dataset_loader: [1,\n",  # unclosed flow sequence
    b"a: 1\n b: 2\n",  # bad indentation
    b"a:\n\tb: 1\n",  # tab indentation
    b"a: *nowhere\n",  # undefined alias
    b"a: !!python/object:os.system ls\n",  # unsafe tag
    b"a: 1\na: 2\n",  # duplicate key
    b"a: 1\n---\nb: 2\n",  # two documents
    b"{a: 1",  # unclosed flow mapping
    b"a: 'unterminated\n",
    b"? [a, b]\n: 1\n",  # unhashable key
    b"a: !custom 1\n",  # unknown local tag
]


@st.composite
def bad_documents(draw: st.DrawFn) -> Bad:
    """A file no config can be: empty, not UTF-8, not YAML, not a mapping, runaway nesting."""
    kind = draw(st.sampled_from(
        ["empty", "not utf-8", "syntax", "not a mapping", "too deep", "alias bomb"]))
    if kind == "empty":
        return Bad(draw(st.sampled_from([b"", b"\n", b"   \n", b"# only a comment\n", b"~\n",
                                         b"---\n", b"\xef\xbb\xbf"])), (), kind)
    if kind == "not utf-8":
        text = draw(st.binary(max_size=40))
        cut = draw(st.integers(0, len(text)))
        # 0xff and 0xfe never occur in UTF-8; a lone continuation byte 0x80 never starts a char
        bad = draw(st.sampled_from([b"\xff", b"\xfe", b"\x80", b"\xc3\x28"]))
        data = text[:cut] + bad + text[cut:]
        try:  # a 0x80 after a lead byte (b"\xc2\x80") is a valid character after all
            data.decode("utf-8")
            data = text[:cut] + b"\xff" + text[cut:]
        except UnicodeDecodeError:
            pass
        return Bad(data, ("not valid UTF-8",), kind)
    if kind == "syntax":
        prefix = draw(st.sampled_from([b"", b"# comment\n", b"x: 1\n"]))
        return Bad(prefix + draw(st.sampled_from(_BROKEN_YAML)), ("invalid YAML",), kind)
    if kind == "not a mapping":
        return Bad(dump(draw(not_a_mapping)), ("expected a mapping",), kind)
    if kind == "too deep":
        # Shallow enough for PyYAML's own recursive dumper, or raw text far deeper than that.
        depth = draw(st.integers(65, 1000))
        return Bad(dump({"prepare_dataset": {"loader_kwargs": nested(depth, 1)}})
                   if depth <= 120 else b"a: " + b"[" * depth + b"]" * depth,
                   ("nested more than",), kind)
    # 10 aliases of 10 aliases of ...: a few hundred bytes that expand to 10**9 values
    lines = [b"l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(b"l%d: &l%d [" % (i, i) + b", ".join([b"*l%d" % (i - 1)] * 10) + b"]")
    return Bad(b"\n".join(lines) + b"\n", ("values once YAML aliases are expanded",), kind)


# ---- bad workflow configs (train_and_evaluate) -----------------------------------------------


def _at(data: dict[str, Any], path: str) -> dict[str, Any]:
    node = data
    for part in filter(None, path.split(".")):
        node = node.setdefault(part, {})
    return node


@st.composite
def bad_configs(draw: st.DrawFn) -> Bad:
    """The shipped hello_world config, broken in exactly one way (or a bad document)."""
    data = good_config()
    kind = draw(st.sampled_from([
        "document", "unknown key", "secret key", "wrong type", "out of range", "missing",
        "list for a map", "bad backend", "too deep",
    ]))
    if kind == "document":
        return draw(bad_documents())
    if kind in ("unknown key", "secret key"):
        where = draw(st.sampled_from(list(FIELDS)))
        key = draw(secret_names if kind == "secret key" else names.filter(
            lambda k: k not in FIELDS[where]))
        _at(data, where)[key] = draw(st.one_of(st.integers(), names, st.none()))
        return Bad(dump(data), (f"{where}.{key}" if where else key,), kind)
    if kind == "wrong type":
        path, value = draw(st.sampled_from([
            ("submit_training.model", not_a_string),
            ("submit_training.suffix", not_a_string),
            ("submit_training.backend_name", not_a_string),
            ("prepare_dataset.dataset_loader", not_a_string),
            ("evaluate_model.eval_task", not_a_string),
            ("submit_training.hyperparameters.n_epochs", not_an_int),
            ("submit_training.hyperparameters.seed", not_an_int),
            ("submit_training.hyperparameters.learning_rate", _not_a_number_text()),
            ("prepare_dataset.loader_kwargs", not_a_mapping),
            ("evaluate_model.eval_kwargs", not_a_mapping),
        ]))
        parent, _, leaf = path.rpartition(".")
        _at(data, parent)[leaf] = draw(value)
        return Bad(dump(data), (path,), kind)
    if kind == "out of range":
        leaf = draw(st.sampled_from(sorted(OUT_OF_RANGE)))
        _at(data, "submit_training.hyperparameters")[leaf] = draw(OUT_OF_RANGE[leaf])
        return Bad(dump(data), (f"submit_training.hyperparameters.{leaf}",), kind)
    if kind == "missing":
        path = draw(st.sampled_from(["prepare_dataset", "submit_training", "evaluate_model",
                                     "prepare_dataset.dataset_loader", "submit_training.model",
                                     "evaluate_model.eval_task"]))
        parent, _, leaf = path.rpartition(".")
        del _at(data, parent)[leaf]
        return Bad(dump(data), (path, "required field missing"), kind)
    if kind == "list for a map":
        path = draw(st.sampled_from(["prepare_dataset", "submit_training", "evaluate_model",
                                     "wait_for_training", "submit_training.hyperparameters"]))
        parent, _, leaf = path.rpartition(".")
        _at(data, parent)[leaf] = draw(st.lists(st.integers() | names, max_size=3))
        return Bad(dump(data), (path,), kind)
    if kind == "bad backend":
        section = draw(st.sampled_from(["submit_training", "evaluate_model"]))
        name = draw(names.filter(lambda n: n not in ("dummy", "local", "tinker", "openai",
                                                           "inspect")))
        data[section]["backend_name"] = name
        return Bad(dump(data), (f"{section}.backend_name", "backend"), kind)
    data["prepare_dataset"]["loader_kwargs"] = nested(draw(st.integers(65, 120)), 1)
    return Bad(dump(data), ("prepare_dataset.loader_kwargs", "nested more than"), kind)


# ---- bad import strings ----------------------------------------------------------------------

_NO_SUCH = "motools_no_such_module_"


@st.composite
def bad_import_strings(draw: st.DrawFn) -> str:
    """`module:function` strings that name nothing callable, without importing anything real.

    Module parts that could exist are always under a prefix no installed module has, so no
    example imports an arbitrary real module (some run code on import).
    """
    ident = draw(identifiers)
    other = draw(identifiers)
    kind = draw(st.sampled_from([
        "relative", "not identifiers", "no such module", "no such attribute", "not callable",
        "empty part", "no such nested attribute",
    ]))
    if kind == "relative":
        return "." * draw(st.integers(1, 3)) + ident + ":" + other
    if kind == "not identifiers":
        junk = draw(st.text(st.characters(categories=["P", "S", "Zs"]), min_size=1, max_size=4)
                    .filter(lambda s: s.strip(".:") and ":" not in s))
        return draw(st.sampled_from([f"{_NO_SUCH}{ident}{junk}:{other}",
                                     f"{junk}{ident}:{other}", f"{_NO_SUCH}{ident}:{junk}"]))
    if kind == "no such module":
        return f"{_NO_SUCH}{ident}:{other}"
    if kind == "no such attribute":
        return f"mozoo.datasets.hello_world:{_NO_SUCH}{other}"
    if kind == "not callable":
        return draw(st.sampled_from(["mozoo.datasets.hello_world:RESPONSE",
                                     "mozoo.tasks.hello_world:__doc__"]))
    if kind == "empty part":
        return draw(st.sampled_from([f":{ident}", f"{ident}:", ":", f"{ident}::{other}",
                                     f"mozoo..datasets:{ident}", "", " "]))
    return f"mozoo.datasets.hello_world:{ident}.{_NO_SUCH}{other}"


# ---- bad sweep files -------------------------------------------------------------------------


def good_sweep() -> dict[str, Any]:
    return {"workflow": "train_and_evaluate", "base": str(BASE_CONFIG), "grid": {LR: [1e-4]}}


@st.composite
def bad_sweeps(draw: st.DrawFn) -> Bad:
    """A valid one-point sweep file, broken in exactly one way (or a bad document)."""
    data = good_sweep()
    kind = draw(st.sampled_from([
        "document", "unknown key", "wrong type", "unknown workflow", "unknown dot path",
        "empty axis", "zip lengths", "bad point value", "bad resources", "secret",
        "bad inline config", "set twice", "no base file", "bad sample",
    ]))
    if kind == "document":
        return draw(bad_documents())
    if kind == "bad sample":
        return draw(bad_samples())
    if kind == "unknown key":
        key = draw(names.filter(lambda k: k not in SWEEP_KEYS))
        data[key] = draw(st.integers() | names)
        return Bad(dump(data), (key, "unknown key"), kind)
    if kind == "wrong type":
        key, value = draw(st.sampled_from([
            ("workflow", not_a_string), ("base", not_a_string), ("user", not_a_string),
            ("grid", st.lists(st.integers(), max_size=2) | st.integers()),
            ("zip", st.lists(st.integers(), max_size=2) | st.integers()),
            ("config", st.lists(st.integers(), max_size=2) | st.integers()),
            ("points", st.integers() | names),
            ("max_parallel", st.one_of(st.integers(max_value=0), _not_a_number_text(),
                                       st.floats(allow_nan=False), st.booleans())),
            ("name", st.just("") | st.lists(names, min_size=1, max_size=2)),
        ]))
        data[key] = draw(value)
        return Bad(dump(data), (key,), kind)
    if kind == "unknown workflow":
        data["workflow"] = draw(names.filter(lambda n: n != "train_and_evaluate"))
        return Bad(dump(data), ("unknown workflow",), kind)
    if kind == "unknown dot path":
        head = draw(names.filter(lambda n: n.split(".")[0] not in SECTIONS))
        axis = draw(st.sampled_from(["grid", "zip", "points"]))
        if axis == "points":
            data["points"] = [{head: 1}]
        else:
            data[axis] = {head: [1]}
        return Bad(dump(data), ("unknown config path",), kind)
    if kind == "empty axis":
        data[draw(st.sampled_from(["grid", "zip"]))] = {LR: []}
        return Bad(dump(data), (LR, "empty list"), kind)
    if kind == "zip lengths":
        n = draw(st.integers(1, 4))
        data["zip"] = {LR: [1e-4] * n, "submit_training.suffix": ["s"] * (n + draw(
            st.integers(1, 3)))}
        return Bad(dump(data), ("zip: lists differ in length",), kind)
    if kind == "bad point value":
        leaf = draw(st.sampled_from(sorted(OUT_OF_RANGE)))
        data["grid"] = {f"submit_training.hyperparameters.{leaf}": [draw(OUT_OF_RANGE[leaf])]}
        return Bad(dump(data), ("point 0", f"submit_training.hyperparameters.{leaf}"), kind)
    if kind == "bad resources":
        step, fields, fragment = draw(st.sampled_from([
            ("nosuch_step", {"num_cpus": 1}, "nosuch_step"),
            ("submit_training", {"num_cpuz": 1}, "num_cpuz"),
            ("submit_training", {"num_cpus": -1}, "num_cpus"),
            ("submit_training", {"num_cpus": math.inf}, "num_cpus"),
            ("submit_training", {"num_gpus": math.nan}, "num_gpus"),
            ("submit_training", {"num_cpus": "lots"}, "num_cpus"),
            ("evaluate_model", {"concurrency_limit": 0}, "concurrency_limit"),
            ("evaluate_model", {"max_retries": "x"}, "max_retries"),
        ]))
        data["resources"] = {step: fields}
        return Bad(dump(data), ("resources", fragment), kind)
    if kind == "secret":
        key = draw(secret_names)
        where = draw(st.sampled_from(["config", "grid", "points"]))
        path = f"evaluate_model.eval_kwargs.{key}"
        value = draw(secret_values)
        if where == "config":
            data["config"] = {"evaluate_model": {"eval_kwargs": {key: value}}}
        elif where == "grid":
            data["grid"] = {path: [value]}
        else:
            data["points"] = [{path: value}]
        return Bad(dump(data), (key, "credential"), kind)
    if kind == "bad inline config":
        section = draw(names.filter(lambda n: n not in SECTIONS))
        data["config"] = {section: {}}
        return Bad(dump(data), (f"config.{section}", "unknown key"), kind)
    if kind == "set twice":
        data["zip"] = {LR: [1e-3]}
        return Bad(dump(data), ("set twice",), kind)
    data["base"] = draw(st.sampled_from([
        f"{_NO_SUCH}.yaml", "a" * 300, "~motools_no_such_user/x.yaml", "/", str(REPO),
    ]))
    return Bad(dump(data), ("base",), kind)


def good_sample() -> dict[str, Any]:
    return {"num_samples": 2, "seed": 0, "params": {RANK: {"choice": [4, 8]}}}


_finite = st.floats(allow_nan=False, allow_infinity=False, width=32)


@st.composite
def bad_samples(draw: st.DrawFn) -> Bad:
    """A valid sweep with a valid `sample:` section, broken in exactly one way in the section."""
    data = {**good_sweep(), "sample": good_sample()}
    sample = data["sample"]
    where = f"sample.params.{RANK}"
    kind = draw(st.sampled_from([
        "unknown distribution", "not a one-key mapping", "bad bounds", "bad choice",
        "bad num_samples", "bad seed", "unknown key", "unknown path", "set twice", "no params",
    ]))
    if kind == "unknown distribution":
        name = draw(names.filter(lambda n: n not in DISTRIBUTIONS))
        sample["params"][RANK] = {name: [1, 2]}
        return Bad(dump(data), (where, "unknown distribution", "allowed: choice"), kind)
    if kind == "not a one-key mapping":
        sample["params"][RANK] = draw(st.one_of(
            st.integers(), st.lists(st.integers(), max_size=3), st.just({}),
            st.just({"choice": [1], "uniform": [0, 1]}), _not_a_number_text()))
        return Bad(dump(data), (where, "distributions: choice"), kind)
    if kind == "bad bounds":
        law = draw(st.sampled_from(["uniform", "loguniform", "randint"]))
        low = draw(_finite)
        arg = draw(st.sampled_from([
            [low, low - abs(low) - 1],                        # high below low
            [low],                                            # one bound
            [low, low + 1, low + 2],                          # three
            ["a", 1],                                         # not numbers
            [0.5, 1.5] if law == "randint" else [-1.0, 1.0],  # not ints / loguniform low <= 0
        ]).filter(lambda a: law == "loguniform" or a != [-1.0, 1.0]))
        sample["params"][RANK] = {law: arg}
        return Bad(dump(data), (f"{where}.{law}",), kind)
    if kind == "bad choice":
        sample["params"][RANK] = {"choice": draw(st.sampled_from([[], 3, "x", {"a": 1}]))}
        return Bad(dump(data), (f"{where}.choice", "non-empty list"), kind)
    if kind == "bad num_samples":
        sample["num_samples"] = draw(st.one_of(
            st.integers(max_value=0), st.integers(min_value=100_001), st.booleans(),
            _not_a_number_text(), st.floats(allow_nan=False)))
        return Bad(dump(data), ("sample.num_samples",), kind)
    if kind == "bad seed":
        sample["seed"] = draw(st.one_of(_not_a_number_text(), st.floats(allow_nan=False),
                                        st.lists(st.integers(), min_size=1, max_size=2)))
        return Bad(dump(data), ("sample.seed",), kind)
    if kind == "unknown key":
        key = draw(names.filter(lambda k: k not in ("num_samples", "seed", "params")))
        sample[key] = 1
        return Bad(dump(data), (f"sample.{key}", "unknown key"), kind)
    if kind == "unknown path":
        head = draw(names.filter(lambda n: n.split(".")[0] not in SECTIONS))
        sample["params"] = {head: {"choice": [1]}}
        return Bad(dump(data), ("sample.params.", "unknown config path"), kind)
    if kind == "set twice":
        sample["params"] = {LR: {"uniform": [1e-4, 1e-3]}}
        return Bad(dump(data), ("set twice",), kind)
    del sample["params"]
    return Bad(dump(data), ("sample.params", "required field missing"), kind)


# ---- bad atom ids ----------------------------------------------------------------------------

HEX = st.text("0123456789abcdef", min_size=64, max_size=64)


@st.composite
def bad_atom_ids(draw: st.DrawFn) -> str:
    """Strings that are no atom id: near misses of the pattern, paths, unicode, junk."""
    digest = draw(HEX)
    kind = draw(st.sampled_from(["junk", "near miss", "path", "unicode", "absent"]))
    if kind == "junk":
        return draw(st.text(st.characters(codec="utf-8"), max_size=80).filter(
            lambda s: not _could_be_an_id(s)))
    if kind == "absent":  # well-formed, but this (empty) store holds no such atom or key
        return draw(st.sampled_from([f"dataset-{digest}", f"eval-{digest}", digest]))
    if kind == "near miss":
        return draw(st.sampled_from([
            f"dataset-{digest[:-1]}", f"dataset-{digest}0", f"dataset-{digest.upper()}",
            f"Dataset-{digest}", f"data-set-{digest}", f"dataset{digest}", f"-{digest}",
            f"{'a' * 33}-{digest}", f"1dataset-{digest}", f"dataset_-{digest[:32]}",
            f"dataset-{digest}\n", f" dataset-{digest}", f"dataset-{digest[:-1]}g",
        ]))
    if kind == "path":
        return draw(st.sampled_from([
            f"../dataset-{digest}", f"dataset-{digest}/../../etc/passwd", "/etc/passwd",
            f"atoms/dataset-{digest}.json", ".", "..", "~", f"dataset-{digest}.json",
        ]))
    # digits of other scripts are digits to `str.isdigit`, never to the id pattern
    return draw(st.sampled_from([
        f"dataset-{'٣' * 64}", f"datäset-{digest}", f"dataset-{digest[:63]}\u0660",
        f"dataset\u2010{digest}", f"ｄataset-{digest}",
    ]))


def _could_be_an_id(text: str) -> bool:
    import re

    return bool(re.fullmatch(r"[a-z][a-z0-9_]{0,31}-[0-9a-f]{64}|[0-9a-f]{64}", text.strip()))


def env_without_store() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("MOTOOLS_STORE", "RAY_ADDRESS")}
