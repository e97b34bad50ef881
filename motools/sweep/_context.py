"""What a point's numbers are about: its model and backends, read from the atoms it produced.

Read from atoms, not from the config, so any workflow that produces `training_job`, `model` or
`eval` atoms gets the columns, and a cached point says exactly what its cached results came from.
"""

from __future__ import annotations

from typing import Any

from motools.atom._atom import Atom, EvalAtom
from motools.engine._result import WorkflowResult
from motools.registry import is_synthetic


def point_context(result: WorkflowResult) -> dict[str, Any]:
    """`model`, `train_backend`, `eval_backend` and `synthetic` of one point's run.

    A value stays None when no atom of the point says it (a point that failed before training).
    """
    out: dict[str, Any] = {"model": None, "train_backend": None, "eval_backend": None}
    for state in result.step_states:
        for atom_id in state.output_atoms.values():
            kind = atom_id.partition("-")[0]
            if kind not in ("training_job", "model", "eval"):
                continue
            atom = Atom.load(atom_id, store=result.store)
            meta = atom.metadata
            if kind in ("training_job", "model"):
                out["model"] = out["model"] or meta.get("base_model")
                out["train_backend"] = out["train_backend"] or meta.get("backend")
            elif isinstance(atom, EvalAtom):
                out["eval_backend"] = atom.load().backend
    out["synthetic"] = is_synthetic("training_backend", out["train_backend"]) or is_synthetic(
        "eval_backend", out["eval_backend"])
    return out
