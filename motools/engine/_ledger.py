"""The Ledger: cache index + provenance log + run records + leases, in SQLite (WAL).

Every mutation is committed before the method returns, so a killed process loses nothing it was
told was saved. Methods are batched (`lookup_many`, `commit`) and idempotent (re-sending a commit
changes nothing), because a Ray actor retries calls that were in flight when it restarted.

The AtomStore stays the source of truth: `rebuild_from_store` recreates the cache index and the
atom producers from the store's step records alone.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from motools.engine._records import RunRecord, StepRun

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY, step TEXT NOT NULL, outputs TEXT NOT NULL,
    step_run_id TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS step_runs (
    id TEXT PRIMARY KEY, run_id TEXT NOT NULL, plan_id TEXT NOT NULL, key TEXT, step TEXT NOT NULL,
    status TEXT NOT NULL, started_at REAL NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS step_runs_run ON step_runs(run_id);
CREATE INDEX IF NOT EXISTS step_runs_key ON step_runs(key);
CREATE TABLE IF NOT EXISTS atom_producers (atom_id TEXT PRIMARY KEY, step_run_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, started_at REAL NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (key TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL);
"""

# The run id at the start of a lease holder: `run-...@host:pid` or `run-.../plan`.
_HOLDER_RUN = re.compile(r"(run-[0-9a-z-]+)[@/]")

# SQLite caps the number of bound parameters per statement; chunk IN (...) queries below it.
_CHUNK = 500


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class Ledger:
    """The cache index and provenance log of one store.

    Args:
        path: The SQLite file; created with its folder if missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, timeout=60.0, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives any crash of a process (the Ledger actor, a driver)
        # before we reply; only an OS crash or power loss can drop the last commits, and the
        # store's step records rebuild those (`motools cache rebuild`).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=60000")
        with self._db:
            self._db.executescript(_SCHEMA)

    @classmethod
    def read_only(cls, path: str | Path) -> Ledger:
        """The Ledger file at `path`, opened to read only: nothing is created or written.

        For a cleanly closed Ledger (no `-wal` file: every commit is in the file itself). SQLite
        opens it `immutable`, without locks, a WAL or its `-shm` index; a writer that opens the
        file meanwhile is not seen.
        """
        ledger = cls.__new__(cls)
        ledger.path = Path(path)
        ledger._lock = threading.RLock()
        ledger._db = sqlite3.connect(f"{ledger.path.resolve().as_uri()}?immutable=1", uri=True,
                                     check_same_thread=False)
        return ledger

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    # ---- cache -------------------------------------------------------------------------------
    def lookup_many(self, keys: Sequence[str]) -> dict[str, dict[str, str]]:
        """Cache key -> output atom ids, for the keys that have a cached successful run."""
        found: dict[str, dict[str, str]] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for chunk in _chunks(unique):
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, outputs FROM cache WHERE key IN ({marks})", tuple(chunk)
                ).fetchall()
                found.update({k: json.loads(o) for k, o in rows})
        return found

    def commit(self, step_runs: Sequence[StepRun], *, cache: bool = True) -> None:
        """Record finished step runs in one transaction; successful ones enter the cache.

        Idempotent: committing the same step run twice changes nothing. Failed and skipped runs
        are recorded for provenance but never cached; a newer success for a key replaces the
        older one (that is what `force_rerun` asks for).
        """
        now = time.time()
        with self._lock, self._db:
            for sr in step_runs:
                if sr.key is not None:
                    # The run is settled: its lease on the key (held as `run@host:pid`) ends here.
                    self._db.execute(
                        "DELETE FROM leases WHERE key = ? AND substr(holder, 1, ?) = ?",
                        (sr.key, len(sr.run_id) + 1, sr.run_id + "@"),
                    )
                self._db.execute(
                    "INSERT OR IGNORE INTO step_runs VALUES (?,?,?,?,?,?,?,?)",
                    (sr.id, sr.run_id, sr.plan_id, sr.key, sr.step, sr.status, sr.started_at,
                     sr.model_dump_json()),
                )
                if sr.status != "succeeded":
                    continue
                for atom_id in sr.outputs.values():
                    self._db.execute(
                        "INSERT OR IGNORE INTO atom_producers VALUES (?,?)", (atom_id, sr.id)
                    )
                if cache and sr.key is not None:
                    # A newer success (a forced rerun) supersedes an older one, as the store's
                    # step record does; comparing end times keeps that true when a retried
                    # commit arrives late.
                    self._db.execute(
                        "INSERT INTO cache VALUES (?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET "
                        "step=excluded.step, outputs=excluded.outputs, "
                        "step_run_id=excluded.step_run_id, created_at=excluded.created_at "
                        "WHERE excluded.created_at > cache.created_at",
                        (sr.key, sr.step, json.dumps(sr.outputs, sort_keys=True), sr.id,
                         sr.ended_at or now),
                    )

    def cache_entries(self) -> list[tuple[str, str, dict[str, str]]]:
        """Every cache entry as (key, step, outputs)."""
        with self._lock:
            rows = self._db.execute("SELECT key, step, outputs FROM cache").fetchall()
        return [(k, s, json.loads(o)) for k, s, o in rows]

    def forget(self, keys: Sequence[str]) -> int:
        """Drop cache entries (e.g. when their atoms are gone); returns how many were dropped."""
        with self._lock, self._db:
            return sum(
                self._db.execute(
                    f"DELETE FROM cache WHERE key IN ({','.join('?' * len(c))})", tuple(c)
                ).rowcount
                for c in _chunks(list(keys))
            )

    # ---- provenance --------------------------------------------------------------------------
    def step_run(self, step_run_id: str) -> StepRun | None:
        """One step run by id."""
        with self._lock:
            row = self._db.execute(
                "SELECT record FROM step_runs WHERE id = ?", (step_run_id,)
            ).fetchone()
        return StepRun.model_validate_json(row[0]) if row else None

    def step_runs_of(self, run_id: str) -> list[StepRun]:
        """Every step run of one run, in start order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM step_runs WHERE run_id = ? ORDER BY started_at, id", (run_id,)
            ).fetchall()
        return [StepRun.model_validate_json(r[0]) for r in rows]

    def latest_success(
        self, *, key: str | None = None, step: str | None = None, before: float | None = None,
        exclude: str | None = None,
    ) -> StepRun | None:
        """The newest successful step run matching a cache key and/or a step name, started
        before `before` and other than step run `exclude` (for `cache explain`)."""
        where, args = ["status = 'succeeded'"], []
        for clause, value in (("key = ?", key), ("step = ?", step),
                              ("started_at < ?", before), ("id != ?", exclude)):
            if value is not None:
                where.append(clause)
                args.append(value)
        with self._lock:
            row = self._db.execute(
                f"SELECT record FROM step_runs WHERE {' AND '.join(where)} "
                "ORDER BY started_at DESC LIMIT 1", args,
            ).fetchone()
        return StepRun.model_validate_json(row[0]) if row else None

    def producer_of(self, atom_id: str) -> StepRun | None:
        """The step run that first produced an atom, or None for atoms made by hand."""
        with self._lock:
            row = self._db.execute(
                "SELECT s.record FROM atom_producers p JOIN step_runs s ON s.id = p.step_run_id "
                "WHERE p.atom_id = ?",
                (atom_id,),
            ).fetchone()
        return StepRun.model_validate_json(row[0]) if row else None

    def lineage(self, atom_id: str) -> list[StepRun]:
        """The step runs that led to an atom, breadth-first from the atom back to its roots."""
        out: list[StepRun] = []
        seen: set[str] = set()
        frontier = [atom_id]
        while frontier:
            current = frontier.pop(0)
            if current in seen:
                continue
            seen.add(current)
            producer = self.producer_of(current)
            if producer is None:
                continue
            if all(p.id != producer.id for p in out):
                out.append(producer)
            frontier.extend(producer.inputs.values())
        return out

    # ---- runs --------------------------------------------------------------------------------
    def save_run(self, run: RunRecord) -> None:
        """Insert or replace a run record."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?,?,?)",
                (run.id, run.started_at, run.model_dump_json()),
            )

    def get_run(self, run_id: str) -> RunRecord | None:
        """A run record by id."""
        with self._lock:
            row = self._db.execute("SELECT record FROM runs WHERE id = ?", (run_id,)).fetchone()
        return RunRecord.model_validate_json(row[0]) if row else None

    def list_runs(self, limit: int | None = 50) -> list[RunRecord]:
        """The most recent runs, newest first (all of them with `limit=None`)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM runs ORDER BY started_at DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [RunRecord.model_validate_json(r[0]) for r in rows]

    # ---- leases (single flight, concurrency-group permits) ---------------------------------
    def claim_many(
        self, keys: Sequence[str], holder: str, ttl: float, take_over: str | None = None
    ) -> dict[str, str]:
        """Lease free or expired keys to `holder` for `ttl` seconds.

        Returns key -> the holder after the call (equal to `holder` where the claim succeeded).
        Re-claiming a key one already holds renews it, so retries are harmless. Leases held by
        `take_over` (a holder known to be dead) are taken even before they expire.
        """
        now = time.time()
        owners: dict[str, str] = {}
        with self._lock, self._db:
            self._write_transaction()
            for key in dict.fromkeys(keys):
                row = self._db.execute(
                    "SELECT holder, expires_at FROM leases WHERE key = ?", (key,)
                ).fetchone()
                if (row is None or row[0] in (holder, take_over) or row[1] <= now
                        or self._run_ended(row[0])):
                    self._db.execute(
                        "INSERT OR REPLACE INTO leases VALUES (?,?,?)", (key, holder, now + ttl)
                    )
                    owners[key] = holder
                else:
                    owners[key] = row[0]
        return owners

    def claim_any(self, keys: Sequence[str], holder: str, ttl: float) -> str | None:
        """Lease the first free (or expired, or already held) key of `keys`; None if all are taken.

        One permit of a concurrency group is one of its K slot keys.
        """
        now = time.time()
        with self._lock, self._db:
            self._write_transaction()
            rows = dict(
                self._db.execute(
                    f"SELECT key, holder FROM leases WHERE key IN ({','.join('?' * len(keys))}) "
                    "AND expires_at > ?",
                    (*keys, now),
                ).fetchall()
            )
            for key in keys:
                if rows.get(key, holder) == holder or self._run_ended(rows[key]):
                    self._db.execute(
                        "INSERT OR REPLACE INTO leases VALUES (?,?,?)", (key, holder, now + ttl)
                    )
                    return key
        return None

    def _write_transaction(self) -> None:
        """Take the write lock before reading: a lease is read, then written, and another
        process must not take the key in between (sqlite3 would only begin at the write)."""
        self._db.execute("BEGIN IMMEDIATE")

    def _run_ended(self, holder: str) -> bool:
        """Whether the run that holds a lease has finished (so the lease is stale).

        A run ends only after every one of its tasks settled, so nothing of it still computes the
        key; but a lease whose release was lost (a worker that died past its retries is committed
        without its key) would otherwise block every other run until its TTL ran out, and forever
        while its driver's process lives on and renews it. Holders are `run@host:pid` (steps) or
        `run/plan` (group permits). Interrupted runs are not ended: their tasks may still run.
        """
        match = _HOLDER_RUN.match(holder)
        if match is None:
            return False
        row = self._db.execute("SELECT record FROM runs WHERE id = ?", (match[1],)).fetchone()
        return row is not None and json.loads(row[0]).get("status") in ("succeeded", "failed")

    def release(self, keys: Sequence[str], holder: str) -> None:
        """Give back leases `holder` holds; leases of other holders are left alone."""
        with self._lock, self._db:
            for key in keys:
                self._db.execute("DELETE FROM leases WHERE key = ? AND holder = ?", (key, holder))

    # ---- rebuild -----------------------------------------------------------------------------
    def rebuild_from_store(self, step_records: Iterable[dict[str, Any]]) -> int:
        """Re-index successful step runs from the store's step records; returns how many."""
        runs = [StepRun.model_validate(r) for r in step_records]
        self.commit(runs)
        return len(runs)
