"""Workflow, Step and AtomConstructor: the specs users write. Frozen dataclasses, no behaviour."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import textwrap
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from motools import _hashing
from motools._errors import WorkflowDefinitionError
from motools.atom._ids import ATOM_TYPE_PATTERN
from motools.workflow._config import config_fields


@dataclass(frozen=True)
class AtomConstructor:
    """What a step returns for each output: a name, a type, and where its content is.

    Args:
        name: The output name; later steps take it as an input of the same name.
        path: A file or folder in the step's workspace (a JSONL/Parquet file or folder for
            datasets); None for atoms that are pure metadata (e.g. a training job handle).
        type: The atom type (`dataset`, `model`, `eval`, `training_job`, `task`, ...).
        metadata: Content metadata; part of the atom id, so only put content-defining values here.
    """

    name: str
    path: Path | str | None
    type: str
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Resources:
    """Execution options of a step. They never enter a cache key.

    Args:
        num_cpus: CPU slots the step's task holds (0 for steps that only wait on a remote service).
        num_gpus: GPUs the step's task needs.
        memory: Bytes of memory to reserve, or None.
        concurrency_group: Steps sharing a group name share the group's limit, cluster-wide.
        concurrency_limit: At most this many tasks of the group run at once.
        max_retries: Retries when the worker process dies (Ray's max_retries).
        retry_exceptions: Also retry when the step function raises.
    """

    num_cpus: float = 1.0
    num_gpus: float = 0.0
    memory: int | None = None
    concurrency_group: str | None = None
    concurrency_limit: int | None = None
    max_retries: int = 3
    retry_exceptions: bool = False

    def __post_init__(self) -> None:
        def fail(name: str, rule: str) -> None:
            raise WorkflowDefinitionError(f"{name}: must be {rule}, got {getattr(self, name)!r}")

        def number(v: object) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool)

        for name in ("num_cpus", "num_gpus"):
            if not number(getattr(self, name)) or getattr(self, name) < 0:
                fail(name, "a number >= 0")
        if self.memory is not None and (not isinstance(self.memory, int) or self.memory <= 0):
            fail("memory", "a positive number of bytes or null")
        if self.concurrency_limit is not None and (
            not isinstance(self.concurrency_limit, int) or self.concurrency_limit < 1
        ):
            fail("concurrency_limit", "an integer >= 1 or null")
        if self.concurrency_group is not None and not isinstance(self.concurrency_group, str):
            fail("concurrency_group", "a string or null")
        if not isinstance(self.max_retries, int) or self.max_retries < -1:
            fail("max_retries", "an integer >= -1")
        if not isinstance(self.retry_exceptions, bool):
            fail("retry_exceptions", "true or false")


def _is_config_class(obj: Any) -> bool:
    return isinstance(obj, type) and (issubclass(obj, BaseModel) or dataclasses.is_dataclass(obj))


@dataclass(frozen=True)
class Step:
    """One step of a workflow: `function(config, input_atoms, temp_workspace) -> [AtomConstructor]`.

    Args:
        name: Unique within the workflow; also the workflow config's section name.
        function: A plain or `async def` function returning a list of AtomConstructor.
        input_atom_types: Input name -> atom type the function reads from `input_atoms`.
        config_class: A pydantic model or dataclass for this step's config section.
        output_atom_types: Output name -> atom type. Optional; declaring it lets independent
            steps run in parallel and lets the engine check what the function returns.
        version: Pin the step's code version (e.g. "2"). By default it is a hash of the
            function's source, so editing the function re-runs the step.
        resources: Execution options (CPUs, GPUs, concurrency group, retries).
    """

    name: str
    function: Callable[..., Any]
    input_atom_types: Mapping[str, str]
    config_class: type
    output_atom_types: Mapping[str, str] | None = None
    version: str | None = None
    resources: Resources = field(default_factory=Resources)

    def __post_init__(self) -> None:
        where = f"step {self.name!r}"
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise WorkflowDefinitionError(f"{where}: the name must be a Python identifier")
        if not callable(self.function):
            raise WorkflowDefinitionError(f"{where}: function is not callable")
        if not _is_config_class(self.config_class):
            raise WorkflowDefinitionError(
                f"{where}: config_class must be a pydantic model or a dataclass"
            )
        _check_types(where, "input", self.input_atom_types)
        if self.output_atom_types is not None:
            _check_types(where, "output", self.output_atom_types)

    @property
    def code_version(self) -> str:
        """The pinned version, or a digest of the function's source code."""
        return self.version if self.version is not None else source_version(self.function)


def _check_types(where: str, kind: str, types: Any) -> None:
    if not isinstance(types, Mapping):
        raise WorkflowDefinitionError(
            f"{where}: {kind}_atom_types must be a mapping of name to atom type, "
            f"got {type(types).__name__}"
        )
    for name, atom_type in types.items():
        if not isinstance(atom_type, str) or not ATOM_TYPE_PATTERN.fullmatch(atom_type):
            raise WorkflowDefinitionError(
                f"{where}: {kind} {name!r} has invalid atom type {atom_type!r} "
                "(lower-case letters, digits and '_', e.g. dataset)"
            )


def _code_fingerprint(code: types.CodeType) -> Any:
    """What a code object computes, without its file name or line numbers."""
    consts = [_code_fingerprint(c) if isinstance(c, types.CodeType) else repr(c)
              for c in code.co_consts]
    return [code.co_code.hex(), consts, list(code.co_names), list(code.co_varnames)]


def _version_payload(function: Any) -> Any:
    if isinstance(function, functools.partial):
        return {"partial": _version_payload(function.func), "args": repr(function.args),
                "keywords": repr(sorted(function.keywords.items()))}
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        pass
    code = getattr(function, "__code__", None)
    if code is None and callable(function) and not inspect.isroutine(function):
        code = getattr(type(function).__call__, "__code__", None)  # a callable instance
    if code is not None:  # defined by exec or in a REPL: hash the compiled code instead
        return {"code": _code_fingerprint(code), "defaults": repr(getattr(function, "__defaults__", None))}
    return f"{getattr(function, '__module__', '?')}:{getattr(function, '__qualname__', '?')}"


_source_versions: dict[Any, str] = {}


def source_version(function: Callable[..., Any]) -> str:
    """Digest of a function's source (or compiled code, where the source is not available)."""
    try:
        cached = _source_versions.get(function)
    except TypeError:  # unhashable callable
        cached = None
    if cached is None:
        cached = _hashing.digest(_hashing.SOURCE_TAG, _version_payload(function))[:32]
        try:
            _source_versions[function] = cached
        except TypeError:
            pass
    return cached


@dataclass(frozen=True)
class Workflow:
    """A DAG of steps. Steps connect by matching output names to input names.

    Args:
        name: The name it is registered and run by.
        input_atom_types: Inputs the caller must pass to `run_workflow` (name -> atom type).
        steps: The steps, in an order where producers come before consumers.
        config_class: The workflow config: one field per step name.
        description: One line shown by `motools workflow list`.
    """

    name: str
    input_atom_types: Mapping[str, str]
    steps: Sequence[Step]
    config_class: type
    description: str = ""

    def __post_init__(self) -> None:
        where = f"workflow {self.name!r}"
        if not self.steps:
            raise WorkflowDefinitionError(f"{where}: has no steps")
        for s in self.steps:
            if not isinstance(s, Step):
                raise WorkflowDefinitionError(f"{where}: steps must be Step objects, got {s!r:.60}")
        _check_types(where, "input", self.input_atom_types)
        names = [s.name for s in self.steps]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise WorkflowDefinitionError(f"{where}: duplicate step names {dupes}")
        if not _is_config_class(self.config_class):
            raise WorkflowDefinitionError(
                f"{where}: config_class must be a pydantic model or a dataclass"
            )
        missing = [n for n in names if n not in config_fields(self.config_class)]
        if missing:
            raise WorkflowDefinitionError(
                f"{where}: config class {self.config_class.__name__} has no section for "
                f"steps {missing}; it needs one field per step name"
            )

    def step(self, name: str) -> Step:
        """The step called `name`."""
        for s in self.steps:
            if s.name == name:
                return s
        raise WorkflowDefinitionError(
            f"workflow {self.name!r} has no step {name!r}; steps: {[s.name for s in self.steps]}"
        )

    @property
    def step_names(self) -> list[str]:
        """Step names in declaration order."""
        return [s.name for s in self.steps]


def with_resources(workflow: Workflow, overrides: Mapping[str, Mapping[str, Any]] | None) -> Workflow:
    """The workflow with some steps' Resources fields replaced (execution options only)."""
    if not overrides:
        return workflow
    allowed = [f.name for f in dataclasses.fields(Resources)]
    steps = []
    for step in workflow.steps:
        fields = dict(overrides.get(step.name, {}))
        unknown = sorted(set(fields) - set(allowed))
        if unknown:
            raise WorkflowDefinitionError(
                f"resources.{step.name}: unknown field(s) {unknown}; allowed: {', '.join(allowed)}"
            )
        try:
            resources = dataclasses.replace(step.resources, **fields)
        except WorkflowDefinitionError as exc:
            raise WorkflowDefinitionError(f"resources.{step.name}.{exc}") from None
        steps.append(dataclasses.replace(step, resources=resources) if fields else step)
    extra = sorted(set(overrides) - set(workflow.step_names))
    if extra:
        raise WorkflowDefinitionError(
            f"resources: no step(s) {extra} in workflow {workflow.name!r}; "
            f"steps: {', '.join(workflow.step_names)}"
        )
    return dataclasses.replace(workflow, steps=steps)
