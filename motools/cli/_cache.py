"""`motools cache ...`: inventory, verify, rebuild the index, garbage-collect, pin, explain."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import typer

from motools.cli._app import StoreOption, app
from motools.cli._render import console

cache_app = typer.Typer(help="Inspect and maintain the store and its cache index.",
                        no_args_is_help=True)
app.add_typer(cache_app, name="cache")

_CACHE_KEY = re.compile(r"[0-9a-f]{64}")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _val(v: Any) -> str:
    return json.dumps(v, sort_keys=True) if not isinstance(v, str) or v == "<absent>" else repr(v)


@cache_app.command("ls")
def ls(store: StoreOption = None) -> None:
    """Atoms (count and bytes) by type and by producing step; cache entries; blob bytes."""
    from rich.table import Table

    from motools.engine import cache_inventory

    inv = cache_inventory(store)
    for title, tallies in (("type", inv.by_type), ("step", inv.by_step)):
        table = Table(title, "atoms", "bytes", box=None)
        for name, t in tallies.items():
            table.add_row(name, str(t.atoms), _size(t.bytes))
        console().print(table)
    console().print(
        f"atoms: {inv.atoms} ({_size(inv.atom_bytes)})  cache entries: {inv.cache_entries}  "
        f"blobs: {inv.blobs} ({_size(inv.blob_bytes)}, {inv.blob_bytes} bytes)",
        highlight=False,
    )
    for atom_id in inv.unreadable_atoms:
        typer.echo(f"warning: atom record {atom_id} is unreadable (see `motools cache verify`)")


@cache_app.command("verify")
def verify(store: StoreOption = None) -> None:
    """Re-hash every blob atoms use, check atom records against their ids; exit 1 on problems."""
    from motools.engine import verify_store

    report = verify_store(store)
    for p in report.problems:
        typer.echo(f"{p.kind}: atom {p.atom_id}: {p.detail}")
    if not report.ok:
        typer.echo(f"{len(report.problems)} problem(s) in {report.atoms} atoms, "
                   f"{report.blobs} blobs")
        raise typer.Exit(1)
    typer.echo(f"ok: {report.atoms} atoms, {report.blobs} blobs verified")


@cache_app.command("rebuild")
def rebuild(store: StoreOption = None) -> None:
    """Recreate the cache index and atom producers from the store's step records (steps/)."""
    from motools.engine import rebuild_index

    report = rebuild_index(store)
    for line in report.skipped:
        typer.echo(f"warning: skipped step record {line}")
    typer.echo(f"rebuilt: {report.entries} cache entries from steps/"
               + (f" ({len(report.skipped)} skipped)" if report.skipped else ""))


@cache_app.command("gc")
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would go; delete nothing.")] = False,
    keep_runs: Annotated[int | None, typer.Option(
        "--keep-runs", help="Keep only what the N newest runs reach (default: every run).")] = None,
    store: StoreOption = None,
) -> None:
    """Delete atoms no kept run or pin reaches, and blobs no remaining atom uses.

    Run it while nothing else uses the store.
    """
    from motools.engine import collect_garbage

    r = collect_garbage(store, keep_runs=keep_runs, dry_run=dry_run)
    verb = "would remove" if r.dry_run else "removed"
    for atom_id in r.removed_atoms:
        typer.echo(f"{verb} atom {atom_id}")
    for key in r.forgotten_keys:
        typer.echo(f"{verb} cache entry {key}")
    typer.echo(
        f"{'dry run: ' if r.dry_run else ''}{verb} {len(r.removed_atoms)} atoms, "
        f"{len(r.removed_blobs)} blobs, {len(r.forgotten_keys)} cache entries; "
        f"{'would free' if r.dry_run else 'freed'} {r.bytes_freed} bytes ({_size(r.bytes_freed)}); "
        f"kept {r.kept_atoms} atoms reachable from {r.kept_runs} runs and pins"
    )


@cache_app.command("pin")
def pin(
    atom_id: Annotated[str, typer.Argument(help="A full atom id.")],
    store: StoreOption = None,
) -> None:
    """Keep an atom and its lineage through every `cache gc`."""
    from motools.engine import pin_atom

    pin_atom(atom_id, store)
    typer.echo(f"pinned {atom_id}")


@cache_app.command("unpin")
def unpin(
    atom_id: Annotated[str, typer.Argument(help="A full atom id.")],
    store: StoreOption = None,
) -> None:
    """Remove a pin."""
    from motools.engine import unpin_atom

    typer.echo(f"unpinned {atom_id}" if unpin_atom(atom_id, store) else f"{atom_id} was not pinned")


@cache_app.command("explain")
def explain(
    subject: Annotated[str, typer.Argument(help="An atom id or a cache key (64 hex digits).")],
    store: StoreOption = None,
) -> None:
    """Which step run made an atom, and why it ran instead of being served from the cache."""
    from motools.atom import check_atom_id, get_store
    from motools.engine import explain_cache, read_ledger
    from motools.errors import UserError

    # Checked before the Ledger is opened (opening creates it): a subject that cannot be in the
    # store leaves the store as it was.
    st, wanted = get_store(store), subject.strip()
    if not _CACHE_KEY.fullmatch(wanted):
        st.get_atom_record(check_atom_id(wanted))
    elif st.get_step_record(wanted) is None and read_ledger(st) is None:
        raise UserError(f"no step run with cache key {wanted} in store {st.uri}")
    e = explain_cache(subject, st)
    sr = e.step_run
    if sr is None:
        typer.echo(f"{subject} was made by hand (no step run produced it)")
        return
    typer.echo(f"produced by step {sr.step}  run={sr.run_id}  user={sr.user}  key={sr.key}")
    if e.previous is None:
        typer.echo(f"first run of step {sr.step}")
        return
    prev = e.previous
    typer.echo(f"previous run of {sr.step}: run={prev.run_id}  key={prev.key}")
    if e.same_key:
        typer.echo("same cache key as before: the run was forced, or the cached result was gone")
        return
    if e.version_change:
        typer.echo(f"version changed: {e.version_change[0]} -> {e.version_change[1]}")
    for c in e.config_changes:
        typer.echo(f"config changed: {c.path}: {_val(c.old)} -> {_val(c.new)}")
    for name, (old, new) in e.input_changes.items():
        typer.echo(f"input changed: {name}: {old or '<absent>'} -> {new or '<absent>'}")
