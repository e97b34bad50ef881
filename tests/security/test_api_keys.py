"""API keys come from the environment only and are never written anywhere.

One sweep per backend that reads a key, as users run it (`motools sweep run` in a fresh process
with its private Ray): Tinker training (faked at the SDK boundary, `tinker_fake.py`) with the
inspect eval backend sampling the trained model through Tinker; and OpenAI fine-tuning (the real
SDK against a fake OpenAI API, `openai_fake.py`) with inspect-ai's own `openai/` provider
evaluating the `ft:` model. The process gets fake keys (the backend's, plus common provider keys
nothing should touch); afterwards no file of the store (atoms, blobs, step records, run records,
inspect logs), the Ledger database, Ray's session logs, motools' cache and temp folders, nor the
process's own output holds any of them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from openai_fake import fake_openai
from secret_scan import bytes_hits, files_under, secret_hits, text_hits
from tinker_fake import factory_target

from motools.atom import Atom, get_store

REPO = Path(__file__).resolve().parents[2]
TINKER_BASE = "Qwen/Qwen3-4B-Instruct-2507"
OPENAI_BASE = "gpt-4.1-mini-2025-04-14"
LR = "submit_training.hyperparameters.learning_rate"
LRM = "submit_training.hyperparameters.learning_rate_multiplier"


@dataclass
class KeyedSweep:
    code: int
    output: str
    keys: dict[str, str]
    store: Path
    ray_dir: Path  # RAY_TMPDIR of the sweep's private Ray: its session logs are below
    cache_dir: Path
    temp_dir: Path
    openai: Any = None  # the fake OpenAI the openai sweep talked to


def inspect_logs(store: Path) -> dict[str, bytes]:
    """Each eval atom's inspect log file (a zip archive), by `atom id/log path`."""
    st = get_store(store)
    logs = {}
    for atom_id in st.iter_atom_ids():
        if atom_id.startswith("eval-"):
            atom = Atom.load(atom_id, store=st)
            results = json.loads(atom.read_bytes("results.json"))
            for log_file in results["info"]["log_files"]:
                logs[f"{atom_id}/logs/{log_file}"] = atom.read_bytes(f"logs/{log_file}")
    return logs


def fake_keys() -> dict[str, str]:
    token = secrets.token_hex(16)
    return {
        "TINKER_API_KEY": f"tml-{token}",  # read by the tinker sweep (well-formed, so it is used)
        "OPENAI_API_KEY": f"sk-canary-{secrets.token_hex(12)}",  # read by the openai sweep
        # Read by nothing here; any hit would mean something dumps the environment.
        "ANTHROPIC_API_KEY": f"sk-ant-canary-{secrets.token_hex(12)}",
        "HF_TOKEN": f"hf_canary{secrets.token_hex(12)}",
    }


@pytest.fixture(scope="module", params=["tinker", "openai"])
def keyed_sweep(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyedSweep]:
    keys = fake_keys()
    if request.param == "openai":
        # The fake OpenAI only answers requests that carry the key: the sweep must have used it.
        with fake_openai(keys["OPENAI_API_KEY"]) as (server, url):
            for sweep in _keyed_sweep(tmp_path_factory, keys, "openai", {
                    "OPENAI_BASE_URL": url, "MOTOOLS_OPENAI_POLL_S": "0.05"}):
                sweep.openai = server
                yield sweep
    else:
        yield from _keyed_sweep(tmp_path_factory, keys, "tinker", {})


def _keyed_sweep(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, str], backend: str,
                 extra_env: dict[str, str]) -> Iterator[KeyedSweep]:
    root = tmp_path_factory.mktemp(f"keyed-{backend}")
    # Short: Ray's socket paths below it must stay under the 107-byte limit of AF_UNIX.
    short = Path(tempfile.mkdtemp(prefix="mtsec", dir="/tmp"))
    state = root / "fake-tinker"
    state.mkdir()
    base = yaml.safe_load((REPO / "configs" / "hello_world_local.yaml").read_text())
    base["prepare_dataset"]["loader_kwargs"]["num_samples"] = 20
    base["submit_training"].update(model=TINKER_BASE if backend == "tinker" else OPENAI_BASE,
                                   backend_name=backend,
                                   hyperparameters={"n_epochs": 1, "batch_size": 8})
    (root / "base.yaml").write_text(yaml.safe_dump(base))
    sweep = root / "sweep.yaml"
    grid = {LR: [1e-4, 3e-4]} if backend == "tinker" else {LRM: [1.0, 2.0]}
    sweep.write_text(yaml.safe_dump({"name": "keys", "workflow": "train_and_evaluate",
                                     "base": "base.yaml", "grid": grid}))
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAY_ADDRESS", "MOTOOLS_STORE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                        "http_proxy", "https_proxy", "all_proxy")}
    env.update(keys)
    env.update({
        "MOTOOLS_TINKER_SERVICE_FACTORY": factory_target(state),
        "MOTOOLS_RAY_LOGS": "1",  # worker output reaches the driver's: scanned as log lines
        "MOTOOLS_CACHE_DIR": str(root / "cache"), "RAY_TMPDIR": str(short),
        "TMPDIR": str(short / "tmp"), "TIKTOKEN_CACHE_DIR": str(root / "tiktoken"),
        "HF_HUB_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0", **extra_env,
    })
    (short / "tmp").mkdir()
    (root / "tiktoken").mkdir()
    store = root / "store"
    proc = subprocess.run(
        [sys.executable, "-m", "motools.cli", "sweep", "run", str(sweep), "--store", str(store)],
        env=env, cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )
    yield KeyedSweep(proc.returncode, proc.stdout + proc.stderr, keys, store, short,
                     root / "cache", short / "tmp")
    shutil.rmtree(short, ignore_errors=True)


def test_the_sweep_trained_and_evaluated_with_inspect(keyed_sweep: KeyedSweep) -> None:
    # Without this, an empty store would pass every scan below.
    assert keyed_sweep.code == 0, keyed_sweep.output
    atoms = [p.name for p in (keyed_sweep.store / "atoms").iterdir()]
    assert sum(a.startswith("model-") for a in atoms) == 2
    assert sum(a.startswith("eval-") for a in atoms) == 2
    assert len(inspect_logs(keyed_sweep.store)) == 2


def test_the_openai_sweep_reached_openai_with_the_key_from_the_environment(
    keyed_sweep: KeyedSweep,
) -> None:
    if keyed_sweep.openai is None:
        pytest.skip("the tinker sweep does not talk to OpenAI")
    assert keyed_sweep.openai.unauthorized == 0
    assert len(keyed_sweep.openai.jobs) == 2 and len(keyed_sweep.openai.chat_models) == 2


def test_no_key_in_any_file_of_the_store(keyed_sweep: KeyedSweep) -> None:
    assert secret_hits([keyed_sweep.store], keyed_sweep.keys.values()) == []


def test_no_key_in_the_ledger_database(keyed_sweep: KeyedSweep) -> None:
    ledger = sorted(keyed_sweep.store.glob("ledger.sqlite*"))
    assert ledger, "the Ledger is not at <store>/ledger.sqlite"
    assert secret_hits(ledger, keyed_sweep.keys.values()) == []


def test_no_key_in_the_inspect_logs(keyed_sweep: KeyedSweep) -> None:
    # Stored as blobs of the eval atoms (so the store scan sees them too); read here by name.
    logs = inspect_logs(keyed_sweep.store)
    assert logs
    for name, data in logs.items():
        assert bytes_hits(name, data, keyed_sweep.keys.values()) == []


def test_no_key_in_the_run_records_and_results(keyed_sweep: KeyedSweep) -> None:
    runs = keyed_sweep.store / "runs"
    assert any(runs.rglob("results.parquet"))
    assert secret_hits([runs], keyed_sweep.keys.values()) == []


def test_no_key_in_rays_session_logs(keyed_sweep: KeyedSweep) -> None:
    sessions = [p for p in (keyed_sweep.ray_dir / "ray").glob("session_*") if not p.is_symlink()]
    assert sessions and files_under(sessions), "the sweep's Ray left no session folder"
    assert secret_hits(sessions, keyed_sweep.keys.values()) == []


def test_no_key_in_motools_cache_or_temp_files(keyed_sweep: KeyedSweep) -> None:
    roots = [keyed_sweep.cache_dir, keyed_sweep.temp_dir]
    assert secret_hits(roots, keyed_sweep.keys.values()) == []


def test_no_key_in_the_sweeps_output(keyed_sweep: KeyedSweep) -> None:
    assert text_hits(keyed_sweep.output, keyed_sweep.keys.values()) == []
