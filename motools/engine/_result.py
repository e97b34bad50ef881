"""What a workflow run returns: per-step states, output atoms, failures as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import SupportsIndex, overload

from motools._errors import MotoolsError
from motools.atom._atom import Atom
from motools.atom._store import AtomStore
from motools.engine._records import StepRun, StepStatus


@dataclass(frozen=True)
class StepState:
    """The outcome of one step in one run.

    Attributes:
        name: The step name.
        status: `succeeded` (ran now), `cached` (served from cache), `failed`, or `skipped`
            (an upstream step did not succeed).
        output_atoms: Output name -> atom id.
        runtime_seconds: Wall time of the execution; 0 for cache hits.
        cache_key: The key the result is cached under (None if inputs never resolved).
        error: One-line error for failed or skipped steps.
        step_run_id: The id of the step run in the Ledger (`motools run show` prints the traceback).
    """

    name: str
    status: StepStatus
    output_atoms: dict[str, str]
    runtime_seconds: float
    cache_key: str | None
    error: str | None
    step_run_id: str

    @property
    def cached(self) -> bool:
        """True when the result came from the cache."""
        return self.status == "cached"

    @classmethod
    def from_step_run(cls, sr: StepRun) -> StepState:
        """Build from a Ledger step run."""
        runtime = sr.runtime_seconds if sr.status == "succeeded" else 0.0
        return cls(sr.step, sr.status, dict(sr.outputs), runtime, sr.key, sr.error, sr.id)


class StepStates(list[StepState]):
    """Step states in workflow order; index by position or by step name."""

    @overload
    def __getitem__(self, key: SupportsIndex) -> StepState: ...
    @overload
    def __getitem__(self, key: slice) -> list[StepState]: ...
    @overload
    def __getitem__(self, key: str) -> StepState: ...
    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        if isinstance(key, str):
            for state in self:
                if state.name == key:
                    return state
            raise KeyError(f"no step {key!r}; steps: {[s.name for s in self]}")
        return super().__getitem__(key)


@dataclass
class WorkflowResult:
    """The result of `run_workflow`.

    Example:
        >>> result.step_states["evaluate_model"].output_atoms["eval_results"]
        >>> result.get_atom("eval_results").load().metrics
    """

    run_id: str
    workflow: str
    step_states: StepStates
    store: AtomStore = field(repr=False)

    @property
    def ok(self) -> bool:
        """True when every step succeeded or was cached."""
        return all(s.status in ("succeeded", "cached") for s in self.step_states)

    @property
    def failures(self) -> list[StepState]:
        """Steps that failed or were skipped because an upstream step failed."""
        return [s for s in self.step_states if s.status in ("failed", "skipped")]

    @property
    def output_atoms(self) -> dict[str, str]:
        """Every output name -> atom id across steps (later steps win on name clashes)."""
        merged: dict[str, str] = {}
        for state in self.step_states:
            merged.update(state.output_atoms)
        return merged

    def get_atom(self, name: str) -> Atom:
        """Load an output atom by its output name."""
        try:
            atom: Atom = Atom.load(self.output_atoms[name], store=self.store)
            return atom
        except KeyError:
            raise KeyError(f"no output {name!r}; outputs: {sorted(self.output_atoms)}") from None

    def raise_for_failures(self) -> None:
        """Raise MotoolsError naming the failed steps, if any."""
        if self.failures:
            lines = "; ".join(f"{s.name}: {s.error}" for s in self.failures)
            raise MotoolsError(f"workflow {self.workflow!r} run {self.run_id} failed: {lines}")
