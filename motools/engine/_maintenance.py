"""Store maintenance behind `motools cache ...`: inventory, verify, rebuild, gc, pins, explain.

Plain functions over an AtomStore and its Ledger, returning dataclasses; the CLI only prints.
The store stays the source of truth: `rebuild_index` recreates the Ledger's cache index and atom
producers from `steps/*.json`; `collect_garbage` removes atoms no kept run (or pin) can reach, the
blobs only they used, and the cache entries and step records that pointed at them.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from typing import Any

import pyarrow.fs as pafs

from motools._errors import AtomNotFoundError, CorruptAtomError, MotoolsError, UserError
from motools.atom._ids import check_atom_id
from motools.atom._store import AtomRecord, AtomStore, get_store
from motools.engine._access import get_ledger
from motools.engine._ledger import Ledger
from motools.engine._records import StepRun

_KEY_RE = re.compile(r"[0-9a-f]{64}")


# ---- helpers ---------------------------------------------------------------------------------
def _resolve(store: str | AtomStore | None) -> tuple[AtomStore, Ledger]:
    st = get_store(store)
    return st, get_ledger(st)


def _list_files(store: AtomStore, *parts: str, recursive: bool = False) -> list[pafs.FileInfo]:
    selector = pafs.FileSelector(store._path(*parts), allow_not_found=True, recursive=recursive)
    return [i for i in store.fs.get_file_info(selector) if i.type == pafs.FileType.File]


def _blob_infos(store: AtomStore) -> dict[str, int]:
    """Every blob file in the store: sha -> size on disk."""
    return {i.base_name: int(i.size or 0) for i in _list_files(store, "blobs", recursive=True)
            if not i.base_name.startswith(".")}


def _records(store: AtomStore) -> tuple[dict[str, AtomRecord], dict[str, str]]:
    """Readable atom records by id, and id -> error for those that are not."""
    good: dict[str, AtomRecord] = {}
    bad: dict[str, str] = {}
    for atom_id in store.iter_atom_ids():
        try:
            good[atom_id] = store.get_atom_record(atom_id)
        except (MotoolsError, ValueError, OSError) as exc:
            bad[atom_id] = " ".join(str(exc).split())
    return good, bad


def _delete(store: AtomStore, path: str) -> None:
    try:
        store.fs.delete_file(path)
    except FileNotFoundError:
        pass


# ---- ls --------------------------------------------------------------------------------------
@dataclass
class Tally:
    """A count of atoms and the bytes of their files."""

    atoms: int = 0
    bytes: int = 0


@dataclass
class CacheInventory:
    """What a store holds."""

    atoms: int
    atom_bytes: int
    by_type: dict[str, Tally]
    by_step: dict[str, Tally]
    cache_entries: int
    blobs: int
    blob_bytes: int
    unreadable_atoms: list[str] = field(default_factory=list)


def cache_inventory(store: str | AtomStore | None = None) -> CacheInventory:
    """Atoms by type and by producing step (`-` for atoms made by hand), cache entries, blob bytes."""
    st, ledger = _resolve(store)
    records, bad = _records(st)
    by_type: dict[str, Tally] = {}
    by_step: dict[str, Tally] = {}
    total = 0
    for rec in records.values():
        size = sum(f.size for f in rec.files.values())
        total += size
        for table, name in ((by_type, rec.type), (by_step, rec.provenance.step or "-")):
            tally = table.setdefault(name, Tally())
            tally.atoms += 1
            tally.bytes += size
    blobs = _blob_infos(st)
    entries = len(ledger.cache_entries())
    return CacheInventory(
        atoms=len(records), atom_bytes=total, by_type=dict(sorted(by_type.items())),
        by_step=dict(sorted(by_step.items())), cache_entries=int(entries), blobs=len(blobs),
        blob_bytes=sum(blobs.values()), unreadable_atoms=sorted(bad),
    )


# ---- verify ----------------------------------------------------------------------------------
@dataclass
class VerifyProblem:
    """One atom that failed verification."""

    atom_id: str
    kind: str  # "corrupt" | "missing"
    detail: str


@dataclass
class VerifyReport:
    """Outcome of `verify_store`."""

    atoms: int
    blobs: int
    problems: list[VerifyProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_store(store: str | AtomStore | None = None) -> VerifyReport:
    """Check each atom record against its id and re-hash every blob any record references."""
    st = get_store(store)
    ids = st.iter_atom_ids()
    checked: dict[str, str | None] = {}  # sha -> None if good, else "missing"/"corrupt: ..."
    problems: list[VerifyProblem] = []
    for atom_id in ids:
        try:
            rec = st.get_atom_record(atom_id)
        except (MotoolsError, ValueError, OSError) as exc:
            problems.append(VerifyProblem(atom_id, "corrupt", " ".join(str(exc).split())))
            continue
        for rel, entry in sorted(rec.files.items()):
            if entry.sha256 not in checked:
                if not st._exists(st._blob_path(entry.sha256)):
                    checked[entry.sha256] = "missing"
                else:
                    try:
                        data = st.get_blob(entry.sha256)
                        checked[entry.sha256] = (
                            None if len(data) == entry.size else
                            f"corrupt: size {len(data)}, expected {entry.size}"
                        )
                    except CorruptAtomError as exc:
                        checked[entry.sha256] = "corrupt: " + " ".join(str(exc).split())
            problem = checked[entry.sha256]
            if problem is not None:
                kind = "missing" if problem == "missing" else "corrupt"
                detail = f"file {rel} (blob {entry.sha256}) is {problem}"
                problems.append(VerifyProblem(atom_id, kind, detail))
    return VerifyReport(atoms=len(ids), blobs=len(checked), problems=problems)


# ---- rebuild ---------------------------------------------------------------------------------
@dataclass
class RebuildReport:
    """Outcome of `rebuild_index`."""

    entries: int
    skipped: list[str] = field(default_factory=list)  # "path: why", one per unreadable record


def rebuild_index(store: str | AtomStore | None = None) -> RebuildReport:
    """Recreate the Ledger's cache index and atom producers from the store's step records.

    Unreadable or invalid records are skipped and reported; the rest are re-indexed.
    """
    st, ledger = _resolve(store)
    runs: list[StepRun] = []
    skipped: list[str] = []
    for info in sorted(_list_files(st, "steps"), key=lambda i: i.base_name):
        if not info.base_name.endswith(".json"):
            continue
        try:
            sr = StepRun.model_validate(json.loads(st._read(info.path)))
            if sr.status != "succeeded" or sr.key != info.base_name[: -len(".json")]:
                raise ValueError("not a successful step run under its own cache key")
        except (ValueError, OSError) as exc:
            skipped.append(f"{info.base_name}: {' '.join(str(exc).split())[:200]}")
            continue
        runs.append(sr)
    entries = ledger.rebuild_from_store(r.model_dump(mode="json") for r in runs)
    return RebuildReport(entries=entries, skipped=skipped)


# ---- pins ------------------------------------------------------------------------------------
def pin_atom(atom_id: str, store: str | AtomStore | None = None) -> None:
    """Keep an atom (and its lineage) through every `cache gc`."""
    st = get_store(store)
    if not st.has_atom(check_atom_id(atom_id)):
        raise AtomNotFoundError(f"atom {atom_id} not found in store {st.uri}")
    path = st._path("pins", atom_id)
    if not st._exists(path):
        st._write_atomic(path, b"")


def unpin_atom(atom_id: str, store: str | AtomStore | None = None) -> bool:
    """Remove a pin; returns False if the atom was not pinned."""
    st = get_store(store)
    path = st._path("pins", check_atom_id(atom_id))
    if not st._exists(path):
        return False
    _delete(st, path)
    return True


def list_pins(store: str | AtomStore | None = None) -> list[str]:
    """Every pinned atom id."""
    return sorted(i.base_name for i in _list_files(get_store(store), "pins"))


# ---- gc --------------------------------------------------------------------------------------
@dataclass
class GcReport:
    """Outcome of `collect_garbage` (with `dry_run`, what it would do)."""

    dry_run: bool
    kept_runs: int
    kept_atoms: int
    removed_atoms: list[str] = field(default_factory=list)
    removed_blobs: list[str] = field(default_factory=list)
    bytes_freed: int = 0
    forgotten_keys: list[str] = field(default_factory=list)


def reachable_atoms(
    store: str | AtomStore | None = None, keep_runs: int | None = None
) -> tuple[set[str], int]:
    """Atoms reachable from kept runs (all, or the `keep_runs` newest) and pins; and #runs kept."""
    st, ledger = _resolve(store)
    run_ids = [run.id for run in ledger.list_runs(limit=keep_runs)]
    roots: set[str] = set(list_pins(st))
    for run_id in run_ids:
        for sr in ledger.step_runs_of(run_id):
            roots.update(sr.outputs.values())
            roots.update(sr.inputs.values())
    reachable: set[str] = set()
    frontier = list(roots)
    while frontier:
        atom_id = frontier.pop()
        if atom_id in reachable:
            continue
        reachable.add(atom_id)
        producer = ledger.producer_of(atom_id)
        if producer is not None:
            frontier.extend(producer.inputs.values())
        try:  # atoms whose producer the Ledger lost still name their inputs in provenance
            frontier.extend(st.get_atom_record(atom_id).provenance.made_from.values())
        except (MotoolsError, ValueError, OSError):
            pass
    return reachable, len(run_ids)


def collect_garbage(
    store: str | AtomStore | None = None, *, keep_runs: int | None = None, dry_run: bool = False
) -> GcReport:
    """Delete atoms unreachable from kept runs and pins, blobs no remaining atom uses, and the
    cache entries / step records whose outputs are gone.

    Only run it while nothing else writes to the store: a run in flight may hold blobs and atoms
    that no run record reaches yet.
    """
    if keep_runs is not None and keep_runs < 0:
        raise UserError(f"--keep-runs must be 0 or more, not {keep_runs}")
    st, ledger = _resolve(store)
    if not dry_run:
        live = [r.id for r in ledger.list_runs(limit=None) if r.observed_status() == "running"]
        if live:
            raise UserError(
                f"run {live[0]} is still running; run `motools cache gc` when nothing uses the "
                "store (or use --dry-run)"
            )
    keep, kept_runs = reachable_atoms(st, keep_runs)
    records, unreadable = _records(st)
    doomed = sorted(a for a in records if a not in keep)
    remaining = {a for a in [*records, *unreadable] if a not in set(doomed)}
    used: set[str] = set()
    for atom_id in remaining:
        if atom_id in records:
            used.update(f.sha256 for f in records[atom_id].files.values())
    blobs = _blob_infos(st)
    blob_paths = {i.base_name: i.path for i in _list_files(st, "blobs", recursive=True)}
    # An unreadable atom record may still need its blobs: keep every blob while any exist.
    dead_blobs = [] if unreadable else sorted(b for b in blobs if b not in used)
    gone = set(doomed)
    stale_keys = sorted(
        {k for k, _, outs in ledger.cache_entries() if gone & set(outs.values())}
        | {
            i.base_name[: -len(".json")]
            for i in _list_files(st, "steps")
            if i.base_name.endswith(".json") and _step_record_uses(st, i.path, gone)
        }
    )
    report = GcReport(
        dry_run=dry_run, kept_runs=kept_runs, kept_atoms=len(remaining), removed_atoms=doomed,
        removed_blobs=dead_blobs, bytes_freed=sum(blobs[b] for b in dead_blobs),
        forgotten_keys=stale_keys,
    )
    if dry_run:
        return report
    # Order: index and step records first (nothing serves a half-deleted result), then atoms, blobs.
    ledger.forget(stale_keys)
    for key in stale_keys:
        if _KEY_RE.fullmatch(key):
            _delete(st, st._step_path(key))
    for atom_id in doomed:
        _delete(st, st._atom_path(atom_id))
        if st.local_root is not None:
            shutil.rmtree(st.local_root / "materialized" / atom_id, ignore_errors=True)
    for sha in dead_blobs:
        _delete(st, blob_paths[sha])
    return report


def _step_record_uses(store: AtomStore, path: str, gone: set[str]) -> bool:
    try:
        outputs = json.loads(store._read(path)).get("outputs") or {}
    except (ValueError, OSError):
        return False
    return bool(gone & set(outputs.values()))


# ---- explain ---------------------------------------------------------------------------------
@dataclass
class ConfigChange:
    """One config path whose value differs between two step runs."""

    path: str
    old: Any
    new: Any


@dataclass
class Explanation:
    """Why a step run executed instead of being served from the cache."""

    subject: str  # the atom id or cache key asked about
    step_run: StepRun | None  # the producing step run (None: the atom was made by hand)
    previous: StepRun | None = None  # the nearest earlier successful run of the same step
    version_change: tuple[str, str] | None = None
    config_changes: list[ConfigChange] = field(default_factory=list)
    input_changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    same_key: bool = False  # the previous run had the same key: forced, or its result was gone


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix or "(config)": value}


def config_diff(old: Any, new: Any) -> list[ConfigChange]:
    """Dotted config paths whose values differ (`<absent>` where a path exists on one side only)."""
    a, b = _flatten(old), _flatten(new)
    missing = "<absent>"
    return [
        ConfigChange(p, a.get(p, missing), b.get(p, missing))
        for p in sorted(set(a) | set(b))
        if a.get(p, missing) != b.get(p, missing)
    ]


def explain_cache(subject: str, store: str | AtomStore | None = None) -> Explanation:
    """Explain an atom id or a cache key: which step run made it and what changed since the
    nearest earlier successful run of the same step (version, config paths, or inputs)."""
    st, ledger = _resolve(store)
    subject = subject.strip()
    step_run: StepRun | None
    if _KEY_RE.fullmatch(subject):
        step_run = ledger.latest_success(key=subject)
        if step_run is None:
            stored = st.get_step_record(subject)
            if stored is None:
                raise UserError(f"no step run with cache key {subject} in store {st.uri}")
            step_run = StepRun.model_validate(stored)
    else:
        record = st.get_atom_record(check_atom_id(subject))
        step_run = ledger.producer_of(subject)
        if step_run is None and record.provenance.cache_key:
            step_run = ledger.latest_success(key=record.provenance.cache_key)
            if step_run is None and (stored := st.get_step_record(record.provenance.cache_key)):
                step_run = StepRun.model_validate(stored)
        if step_run is None:
            return Explanation(subject=subject, step_run=None)
    previous = ledger.latest_success(step=step_run.step, before=step_run.started_at,
                                     exclude=step_run.id)
    out = Explanation(subject=subject, step_run=step_run, previous=previous)
    if previous is None:
        return out
    if previous.version != step_run.version:
        out.version_change = (previous.version, step_run.version)
    out.config_changes = config_diff(previous.config, step_run.config)
    for name in sorted(set(previous.inputs) | set(step_run.inputs)):
        old, new = previous.inputs.get(name), step_run.inputs.get(name)
        if old != new:
            out.input_changes[name] = (old, new)
    out.same_key = previous.key == step_run.key
    return out

