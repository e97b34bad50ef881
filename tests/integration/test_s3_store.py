"""The AtomStore on an S3-compatible server: moto's server on loopback (the `s3_endpoint` fixture).

What this covers: atoms and datasets on `s3://bucket/prefix` through `MOTOOLS_S3_ENDPOINT`, a
sweep writing its atoms there, and a second driver (fresh working dir, empty local Ledger) that
rebuilds the cache index from the bucket alone and then finds the whole sweep cached.

Sweeps here run with `--executor inline`: the session's local Ray (started once, by whichever test
needs it first) may predate this module's environment (credentials), and its workers would not see
them. tests/cluster/ runs sweeps on S3 with Ray workers on a multi-node cluster whose nodes have
the credentials in their environment, as on a real cluster (see cluster/README.md).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pyarrow.fs as pafs
import pytest
import yaml
from s3_server import BUCKET, s3_env

from motools._errors import CorruptAtomError
from motools.atom import Atom, AtomStore, DatasetAtom, get_store
from motools.atom._store import compute_atom_id
from motools.cli._app import main

pytest.importorskip("moto.server", reason="moto[server] is a dev dependency")

REPO = Path(__file__).resolve().parents[2]
ID_RE = re.compile(r"^[a-z][a-z0-9_]*-[0-9a-f]{64}$")
DRY_ROW = re.compile(r"^│ (\w+)\s+│" + r" (\d+)\s+│" * 5 + "$", re.MULTILINE)
STEPS = ("prepare_dataset", "submit_training", "wait_for_training", "evaluate_model")


@pytest.fixture
def s3_uri(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh `s3://bucket/prefix` store root for one test, with the endpoint env set."""
    for key, value in s3_env(s3_endpoint).items():
        monkeypatch.setenv(key, value)
    uri = f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("MOTOOLS_STORE", uri)
    return uri


def _keys(store: AtomStore) -> list[str]:
    """Every object key under the store root, relative to it."""
    selector = pafs.FileSelector(store._base, recursive=True, allow_not_found=True)
    base = store._base + "/"
    return sorted(i.path[len(base):] for i in store.fs.get_file_info(selector)
                  if i.type == pafs.FileType.File)


# ---- atoms on s3 -----------------------------------------------------------------------------

RECORDS = [{"messages": [{"role": "user", "content": f"hi {i}"},
                         {"role": "assistant", "content": f"hello {i}"}]} for i in range(5)]


def test_dataset_atom_round_trips_through_s3(s3_uri):
    atom = DatasetAtom.from_records(RECORDS, user="alice", metadata={"name": "greetings"},
                                    store=s3_uri)
    assert ID_RE.match(atom.id) and atom.id.startswith("dataset-")

    fresh = AtomStore(s3_uri)  # a new filesystem client: nothing served from memory
    assert not fresh.is_local and fresh.uri == s3_uri
    loaded = Atom.load(atom.id, store=fresh)
    assert isinstance(loaded, DatasetAtom)
    assert loaded.load().to_records() == RECORDS
    assert loaded.user == "alice" and loaded.metadata["name"] == "greetings"

    record = fresh.get_atom_record(atom.id)
    assert compute_atom_id(record.type, record.content_digest, record.metadata) == atom.id
    assert fresh.iter_atom_ids() == [atom.id]

    keys = _keys(fresh)
    assert f"atoms/{atom.id}.json" in keys
    for entry in record.files.values():
        assert f"blobs/{entry.sha256[:2]}/{entry.sha256}" in keys
    # Objects are written straight to their final keys: nothing staged under tmp/.
    assert not [k for k in keys if k.startswith("tmp/")]

    # Materialize into a local cache dir, verified against the blob hashes.
    local = fresh.materialize(atom.id)
    assert sorted(p.name for p in local.iterdir()) == sorted(record.files)


def test_same_content_is_the_same_atom_on_s3(s3_uri):
    first = DatasetAtom.from_records(RECORDS, user="alice", store=s3_uri)
    second = DatasetAtom.from_records(RECORDS, user="bob", store=AtomStore(s3_uri))
    assert first.id == second.id
    assert Atom.load(first.id, store=AtomStore(s3_uri)).user == "alice"  # first producer wins


def test_tampered_blob_on_s3_is_detected(s3_uri):
    atom = DatasetAtom.from_records(RECORDS, store=s3_uri)
    store = AtomStore(s3_uri)
    (entry,) = store.get_atom_record(atom.id).files.values()
    with store.fs.open_output_stream(store._blob_path(entry.sha256)) as out:
        out.write(b"not the dataset you stored")

    with pytest.raises(CorruptAtomError, match="corrupt"):
        Atom.load(atom.id, store=AtomStore(s3_uri)).load()


def test_tampered_atom_record_on_s3_is_detected(s3_uri):
    atom = DatasetAtom.from_records(RECORDS, metadata={"name": "a"}, store=s3_uri)
    store = AtomStore(s3_uri)
    path = store._atom_path(atom.id)
    record = json.loads(store._read(path))
    record["metadata"] = {"name": "b"}
    with store.fs.open_output_stream(path) as out:
        out.write(json.dumps(record).encode())

    with pytest.raises(CorruptAtomError, match="does not match its id"):
        Atom.load(atom.id, store=AtomStore(s3_uri))


# ---- a sweep on s3, then a second driver with an empty Ledger ---------------------------------


def _cli(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def _dry_counts(out: str) -> dict[str, dict[str, int]]:
    names = ("points", "nodes", "deduplicated", "cached", "to run")
    return {m[0]: dict(zip(names, map(int, m[1:]), strict=True)) for m in DRY_ROW.findall(out)}


def _driver(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`motools ARGS` as a separate process (another driver) in `cwd`."""
    return subprocess.run([sys.executable, "-m", "motools.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240, check=False)


_LEDGER_REPORT = """
import json, sys
from collections import Counter
from motools.atom import get_store
from motools.engine import get_ledger
store = get_store()
ledger = get_ledger(store)
runs = ledger.step_runs_of(sys.argv[1]) if len(sys.argv) > 1 else []
print(json.dumps({"path": str(store.ledger_path.resolve()),
                  "statuses": Counter(r.status for r in runs)}))
"""

_REBUILD_DIRECT = """
from motools.atom import get_store
from motools.engine._ledger import Ledger
store = get_store()
print("rebuilt", Ledger(store.ledger_path.resolve()).rebuild_from_store(store.iter_step_records()))
"""


def test_sweep_on_s3_is_cached_for_a_second_driver_after_rebuild(s3_uri, tmp_path, monkeypatch):
    sweep = yaml.safe_load((REPO / "sweeps" / "hello_world_dummy.yaml").read_text())
    sweep["base"] = str(REPO / "configs" / "hello_world.yaml")
    file = tmp_path / "sweep.yaml"
    file.write_text(yaml.safe_dump(sweep, sort_keys=False))

    # Driver 1: its own working dir, so the default Ledger of a remote store lands there.
    first_cwd = tmp_path / "driver1"
    first_cwd.mkdir()
    monkeypatch.chdir(first_cwd)
    code, out, err = _cli("sweep", "run", file, "--store", s3_uri, "--executor", "inline")
    assert code == 0, err + out
    store = get_store(s3_uri)
    assert store.ledger_path.resolve().parent == first_cwd / ".motools"
    assert store.ledger_path.resolve().exists()
    atoms = store.iter_atom_ids()
    steps = store.iter_step_records()
    # 8 points: 1 shared dataset, then 8 nodes of each later step.
    assert len(steps) == 1 + 8 * 3
    assert {a.split("-")[0] for a in atoms} >= {"dataset", "training_job", "model", "eval"}
    assert not [k for k in _keys(store) if k.startswith("tmp/")]

    # Driver 2: another process, a fresh working dir, an empty local Ledger; only the bucket.
    second_cwd = tmp_path / "driver2"
    second_cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MOTOOLS_LEDGER"}
    env["MOTOOLS_STORE"] = s3_uri

    def report(*args: str) -> dict:
        proc = subprocess.run([sys.executable, "-c", _LEDGER_REPORT, *args], cwd=second_cwd,
                              env=env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

    ledger_path = Path(report()["path"])
    assert ledger_path.parent == second_cwd / ".motools"
    dry = _driver(second_cwd, env, "sweep", "run", str(file), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    before = _dry_counts(dry.stdout)
    assert list(before) == list(STEPS)
    assert all(c["cached"] == 0 and c["to run"] == c["nodes"] for c in before.values()), before

    has_cli = _driver(second_cwd, env, "cache", "rebuild", "--help").returncode == 0
    if has_cli:
        rebuilt = _driver(second_cwd, env, "cache", "rebuild", "--store", s3_uri)
    else:  # `motools cache rebuild` not there yet: the Ledger call it wraps.
        rebuilt = subprocess.run([sys.executable, "-c", _REBUILD_DIRECT], cwd=second_cwd,
                                 env=env, capture_output=True, text=True, timeout=120, check=False)
    assert rebuilt.returncode == 0, rebuilt.stderr + rebuilt.stdout

    dry = _driver(second_cwd, env, "sweep", "run", str(file), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    after = _dry_counts(dry.stdout)
    assert list(after) == list(STEPS)
    assert after["prepare_dataset"]["nodes"] == 1
    for step, counts in after.items():
        assert counts["to run"] == 0 and counts["cached"] == counts["nodes"], (step, counts)

    real = _driver(second_cwd, env, "sweep", "run", str(file), "--executor", "inline")
    assert real.returncode == 0, real.stderr + real.stdout
    match = re.search(r"^run (run-\S+); results: (\S+)", real.stdout, re.MULTILINE)
    assert match, real.stdout
    assert match.group(2).startswith(s3_uri + "/runs/")
    statuses = report(match.group(1))["statuses"]
    assert statuses == {"cached": 1 + 8 * 3}, statuses  # nothing executed
    assert sorted(store.iter_atom_ids()) == sorted(atoms)
    assert len(store.iter_step_records()) == len(steps)
    assert not (first_cwd / ".motools" / "blobs").exists()  # nothing of the store is local
    shutil.rmtree(second_cwd / ".motools", ignore_errors=True)
