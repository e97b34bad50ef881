"""The plan compiler: workflow + configs -> a deduplicated graph of keyed step nodes.

A node's *plan identity* hashes what is known before anything runs: step name, code version,
config, and the plan identities of its possible producers (or the ids of given input atoms). Equal
identities are one node, so a 50-point learning-rate sweep has one `prepare_dataset` node.

A node's *cache key* hashes the same step facts with the content ids of the inputs it actually
got; it is known only once the inputs exist, which gives early cutoff: an upstream step that re-runs
and reproduces the same content leaves everything downstream cached. See docs/hashing.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from motools import _hashing
from motools._errors import UserError, WorkflowDefinitionError
from motools.atom._ids import atom_type_of, check_atom_id
from motools.registry import file_refs_by_content
from motools.workflow._config import config_section, config_to_dict, validate_config
from motools.workflow._spec import Step, Workflow


@dataclass(frozen=True)
class InputSource:
    """Where one input of a node comes from: producer nodes (latest first), else a given atom."""

    producers: tuple[str, ...] = ()
    atom_id: str | None = None


@dataclass
class PlanNode:
    """One unit of execution: a step with one config and one set of input sources."""

    plan_id: str
    step: Step
    config: Any
    config_data: dict[str, Any]
    version: str
    inputs: dict[str, InputSource]
    upstream: tuple[str, ...]
    run: bool = True
    level: int = 0

    @property
    def name(self) -> str:
        """The step name."""
        return self.step.name

    def resolve_inputs(self, outputs: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
        """Input name -> atom id, given the outputs of finished upstream nodes (by plan id).

        Raises:
            UserError: an input that no upstream node produced and no given atom supplies.
        """
        resolved: dict[str, str] = {}
        for name, source in self.inputs.items():
            atom_id = next(
                (outputs[p][name] for p in source.producers if name in outputs.get(p, {})),
                source.atom_id,
            )
            if atom_id is None:
                raise UserError(
                    f"step {self.name!r} needs input {name!r}, but no upstream step produced it"
                )
            resolved[name] = atom_id
        return resolved

    def cache_key(self, inputs: Mapping[str, str]) -> str:
        """The cache key for this node given its actual input atom ids."""
        return cache_key(self.name, self.version, self.config_data, inputs)


def cache_key(step: str, version: str, config_data: Any, inputs: Mapping[str, str]) -> str:
    """sha256 over step name, code version, redacted config and input atom ids."""
    payload = {"step": step, "version": version, "config": config_data, "inputs": dict(inputs)}
    return _hashing.digest(_hashing.KEY_TAG, payload)


@dataclass
class Plan:
    """Nodes in topological order, and for each config point which node runs each step."""

    workflow: Workflow
    nodes: dict[str, PlanNode] = field(default_factory=dict)
    points: list[dict[str, str]] = field(default_factory=list)

    def levels(self) -> list[list[PlanNode]]:
        """Nodes grouped by depth: every node's upstream lies in earlier levels."""
        grouped: dict[int, list[PlanNode]] = {}
        for node in self.nodes.values():
            grouped.setdefault(node.level, []).append(node)
        return [grouped[k] for k in sorted(grouped)]

    def downstream(self) -> dict[str, list[str]]:
        """Plan id -> plan ids of the nodes that consume it."""
        out: dict[str, list[str]] = {pid: [] for pid in self.nodes}
        for node in self.nodes.values():
            for up in node.upstream:
                out[up].append(node.plan_id)
        return out


@dataclass(frozen=True)
class _Wiring:
    """Static, config-independent wiring of one workflow: step order and input sources."""

    order: tuple[str, ...]
    # step -> input -> (producer step names latest first, fallback given-input name or None)
    sources: dict[str, dict[str, tuple[tuple[str, ...], str | None]]]


def _wire(workflow: Workflow, given: Mapping[str, str]) -> _Wiring:
    where = f"workflow {workflow.name!r}"
    declared: dict[str, tuple[str, str]] = {}
    for step in workflow.steps:
        for out_name, out_type in (step.output_atom_types or {}).items():
            if out_name in declared:
                raise WorkflowDefinitionError(
                    f"{where}: output {out_name!r} is produced by both "
                    f"{declared[out_name][0]!r} and {step.name!r}"
                )
            declared[out_name] = (step.name, out_type)

    sources: dict[str, dict[str, tuple[tuple[str, ...], str | None]]] = {}
    deps: dict[str, set[str]] = {}
    for index, step in enumerate(workflow.steps):
        undeclared_before = tuple(
            s.name for s in reversed(workflow.steps[:index]) if s.output_atom_types is None
        )
        sources[step.name] = {}
        deps[step.name] = set()
        for in_name, in_type in step.input_atom_types.items():
            if in_name in declared and declared[in_name][0] != step.name:
                producer, out_type = declared[in_name]
                if out_type != in_type:
                    raise WorkflowDefinitionError(
                        f"{where}: step {step.name!r} input {in_name!r} expects {in_type!r}, "
                        f"but step {producer!r} produces a {out_type!r}"
                    )
                sources[step.name][in_name] = ((producer,), None)
                deps[step.name].add(producer)
                continue
            fallback = in_name if in_name in given else None
            if fallback is not None and given[in_name] != in_type:
                raise WorkflowDefinitionError(
                    f"{where}: step {step.name!r} input {in_name!r} expects {in_type!r}, "
                    f"but the given atom is a {given[in_name]!r}"
                )
            if not undeclared_before and fallback is None:
                raise WorkflowDefinitionError(
                    f"{where}: step {step.name!r} needs input {in_name!r} ({in_type}), which no "
                    f"step produces; pass input_atoms={{{in_name!r}: <{in_type} atom id>}}"
                )
            sources[step.name][in_name] = (undeclared_before, fallback)
            deps[step.name].update(undeclared_before)

    order: list[str] = []
    remaining = {name: set(d) for name, d in deps.items()}
    while remaining:
        ready = [s.name for s in workflow.steps if s.name in remaining and not remaining[s.name]]
        if not ready:
            raise WorkflowDefinitionError(f"{where}: steps form a cycle: {sorted(remaining)}")
        for name in ready:
            order.append(name)
            del remaining[name]
        for d in remaining.values():
            d.difference_update(ready)
    return _Wiring(order=tuple(order), sources=sources)


def parse_stages(workflow: Workflow, stages: str | Sequence[str] | None) -> list[str] | None:
    """`"a,b"`, `"a:c"` (a range in step order) or a list of names -> step names; None = all."""
    if stages is None:
        return None
    names = workflow.step_names
    items = stages.split(",") if isinstance(stages, str) else list(stages)
    selected: list[str] = []
    for item in (i.strip() for i in items):
        if ":" in item:
            start, _, end = item.partition(":")
            for part in (start, end):
                if part and part not in names:
                    raise UserError(f"unknown stage {part!r}; stages: {', '.join(names)}")
            lo = names.index(start) if start else 0
            hi = names.index(end) if end else len(names) - 1
            selected.extend(names[lo : hi + 1])
        elif item not in names:
            raise UserError(f"unknown stage {item!r}; stages: {', '.join(names)}")
        else:
            selected.append(item)
    if not selected:
        raise UserError(f"no stages selected; stages: {', '.join(names)}")
    return selected


def compile_plan(
    workflow: Workflow,
    configs: Sequence[Any],
    input_atoms: Mapping[str, str],
    selected_stages: Sequence[str] | None = None,
    *,
    validated: bool = False,
) -> Plan:
    """Compile one or more configs of a workflow into one deduplicated plan.

    Args:
        workflow: The workflow.
        configs: Workflow config instances or plain dicts (validated here).
        input_atoms: Input name -> atom id given by the caller.
        selected_stages: Step names to execute; their upstream steps must then be cached.
        validated: The configs are instances `validate_config` returned (a sweep's points):
            they are not validated a second time.

    Raises:
        UserError: invalid configs, ids, missing inputs, type mismatches, cycles.
    """
    for atom_id in input_atoms.values():
        check_atom_id(atom_id)
    given_types = {name: atom_type_of(atom_id) for name, atom_id in input_atoms.items()}
    missing = [n for n in workflow.input_atom_types if n not in input_atoms]
    if missing:
        raise WorkflowDefinitionError(
            f"workflow {workflow.name!r} needs input atoms {missing}; pass them in input_atoms"
        )
    for name, expected in workflow.input_atom_types.items():
        if given_types[name] != expected:
            raise WorkflowDefinitionError(
                f"input atom {name!r} must be a {expected!r} atom, got {input_atoms[name]}"
            )
    wiring = _wire(workflow, given_types)
    steps = {s.name: s for s in workflow.steps}

    wanted = set(wiring.order)
    if selected_stages is not None:
        wanted = set(selected_stages)
        for name in reversed(wiring.order):
            if name in wanted:
                for producers, _ in wiring.sources[name].values():
                    wanted.update(producers)

    plan = Plan(workflow=workflow)
    for point_index, raw in enumerate(configs):
        source = f"config[{point_index}]" if len(configs) > 1 else "config"
        config = raw if validated else validate_config(workflow.config_class, raw, source=source)
        point: dict[str, str] = {}
        for name in wiring.order:
            if name not in wanted:
                continue
            step = steps[name]
            section = config_section(config, name)
            # Local code files (`/abs/tasks/t.py@t`) enter the key by content, not by path.
            config_data = file_refs_by_content(_hashing.redact_secrets(config_to_dict(section)))
            version = step.code_version
            inputs = {
                in_name: InputSource(
                    producers=tuple(point[p] for p in producers if p in point),
                    atom_id=input_atoms.get(fallback) if fallback else None,
                )
                for in_name, (producers, fallback) in wiring.sources[name].items()
            }
            upstream = tuple(dict.fromkeys(p for src in inputs.values() for p in src.producers))
            plan_id = _hashing.digest(
                _hashing.PLAN_TAG,
                {
                    "step": name,
                    "version": version,
                    "config": config_data,
                    "inputs": {
                        k: {"producers": list(v.producers), "atom": v.atom_id}
                        for k, v in inputs.items()
                    },
                },
            )
            if plan_id not in plan.nodes:
                plan.nodes[plan_id] = PlanNode(
                    plan_id=plan_id,
                    step=step,
                    config=section,
                    config_data=config_data,
                    version=version,
                    inputs=inputs,
                    upstream=upstream,
                    run=selected_stages is None or name in selected_stages,
                    level=1 + max((plan.nodes[u].level for u in upstream), default=-1),
                )
            point[name] = plan_id
        plan.points.append(point)
    return plan
