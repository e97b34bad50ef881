"""Running one plan node: load inputs, call the step function, store its outputs as atoms.

This is what runs inside an executor's worker (in-process for the inline executor, in a Ray worker
for the Ray executor). It never raises for a failing step: the failure is returned as data.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import time
import traceback
from collections.abc import Mapping
from typing import Any

from motools._errors import StepOutputError
from motools.atom._atom import Atom, DatasetAtom, atom_class, create_record, store_dataset
from motools.atom._dataset import Dataset
from motools.atom._store import AtomRecord, AtomStore, Provenance
from motools.engine._records import StepRun
from motools.engine._workspace import Workspace, remove_workspace
from motools.workflow._plan import PlanNode
from motools.workflow._spec import AtomConstructor


def _call(function: Any, *args: Any) -> Any:
    result = function(*args)
    if not inspect.isawaitable(result):
        return result
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(result))
    # Called from inside a running event loop (a notebook): run the coroutine on its own thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _await(result)).result()


async def _await(awaitable: Any) -> Any:
    return await awaitable


def one_line(exc: BaseException) -> str:
    """`ExcType: first line of the message`, for tables and logs."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _check_outputs(node: PlanNode, returned: Any) -> list[AtomConstructor]:
    where = f"step {node.name!r}"
    if isinstance(returned, AtomConstructor):
        returned = [returned]
    if not isinstance(returned, (list, tuple)) or not all(
        isinstance(c, AtomConstructor) for c in returned
    ):
        raise StepOutputError(f"{where} must return a list of AtomConstructor, got {returned!r:.80}")
    names = [c.name for c in returned]
    if len(set(names)) != len(names):
        raise StepOutputError(f"{where} returned duplicate output names {names}")
    declared = node.step.output_atom_types
    if declared is not None:
        got = {c.name: c.type for c in returned}
        if got != dict(declared):
            raise StepOutputError(f"{where} declared outputs {dict(declared)} but returned {got}")
    return list(returned)


def execute_node(
    node: PlanNode,
    inputs: Mapping[str, str],
    key: str,
    store: AtomStore,
    *,
    run_id: str,
    user: str | None,
    write_cache: bool = True,
    preloaded: Mapping[str, Dataset] | None = None,
    datasets_out: dict[str, Dataset] | None = None,
    known_atoms: dict[str, AtomRecord] | None = None,
) -> StepRun:
    """Run one node and store its outputs. Failures come back as a StepRun with status failed.

    Args:
        node: The plan node.
        inputs: Input name -> atom id.
        key: The node's cache key for these inputs.
        store: Where inputs are read and outputs written.
        run_id: The run this execution belongs to.
        user: Recorded in provenance.
        write_cache: Write the store's step record (False for `no_cache` runs).
        preloaded: Input name -> Dataset already in memory (skips reading it from the store).
        datasets_out: If given, filled with output name -> Dataset for every dataset output,
            so an executor can hand them to downstream steps without a store round trip.
        known_atoms: Atom id -> record of atoms this task already holds: inputs found here are
            not read back from the store, and the outputs are added.
    """
    record = StepRun(
        run_id=run_id,
        plan_id=node.plan_id,
        key=key,
        step=node.name,
        version=node.version,
        config=node.config_data,
        inputs=dict(inputs),
        status="failed",
        user=user,
    )
    # Made on first use: most steps never write to it (see _workspace).
    workspace = Workspace.for_step(node.name)
    try:
        known = known_atoms if known_atoms is not None else {}
        input_atoms = {
            name: atom_class(known[atom_id].type)(known[atom_id], store) if atom_id in known
            else Atom.load(atom_id, store=store)
            for name, atom_id in inputs.items()
        }
        for name, dataset in (preloaded or {}).items():
            atom = input_atoms.get(name)
            if isinstance(atom, DatasetAtom):
                atom.preload(dataset)
        returned = _call(node.step.function, node.config, input_atoms, workspace)
        outputs: dict[str, str] = {}
        for constructor in _check_outputs(node, returned):
            provenance = Provenance(
                user=user,
                made_from=dict(inputs),
                step=node.name,
                cache_key=key,
                run_id=run_id,
                output_name=constructor.name,
            )
            metadata = dict(constructor.metadata or {})
            if constructor.type == "dataset" and constructor.path is not None:
                dataset = Dataset.from_path(constructor.path)
                atom = store_dataset(store, dataset, metadata, provenance)
                if datasets_out is not None:
                    datasets_out[constructor.name] = dataset
            else:
                atom = create_record(store, constructor.type, constructor.path, metadata, provenance)
            outputs[constructor.name] = atom.id
            known[atom.id] = atom
        record.outputs = outputs
        record.status = "succeeded"
        record.ended_at = time.time()
        if write_cache:
            # The store's step record is what `cache rebuild` re-indexes from.
            store.put_step_record(key, record.model_dump_json().encode())
    except Exception as exc:  # a failing step is data, not a crash of the run
        record.status = "failed"
        record.error = one_line(exc)
        record.traceback = traceback.format_exc()
        record.ended_at = time.time()
    finally:
        remove_workspace(workspace)
    return record
