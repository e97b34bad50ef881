"""A training job's folder on an object store: what one node writes, another node reads.

Two JobFiles over one S3 store with different MOTOOLS_CACHE_DIRs stand for two nodes that share
the bucket and nothing else (the real multi-node run is in tests/cluster/).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from s3_server import BUCKET, s3_env

from motools.atom import AtomStore
from motools.training._job_files import JobFiles


@pytest.fixture
def two_nodes(s3_endpoint, tmp_path, monkeypatch) -> tuple[JobFiles, JobFiles]:
    for key, value in s3_env(s3_endpoint).items():
        monkeypatch.setenv(key, value)
    store = AtomStore(f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("MOTOOLS_CACHE_DIR", str(tmp_path / "node-a"))
    node_a = JobFiles(store, "local-job")
    monkeypatch.setenv("MOTOOLS_CACHE_DIR", str(tmp_path / "node-b"))
    node_b = JobFiles(store, "local-job")
    return node_a, node_b


def test_json_written_on_one_node_is_read_on_another(two_nodes):
    node_a, node_b = two_nodes
    assert node_b.read_json("progress.json") is None
    node_a.write_json("progress.json", {"step": 10})
    assert node_b.exists("progress.json")
    assert node_b.read_json("progress.json") == {"step": 10}


def test_a_kept_folder_is_fetched_whole_on_another_node(two_nodes):
    node_a, node_b = two_nodes
    weights = node_a.local / "sampler" / "final"
    (weights / "inner").mkdir(parents=True)
    (weights / "config.json").write_text("{}")
    (weights / "inner" / "model.pt").write_bytes(b"\x00" * 1000)

    ref = node_a.keep(str(weights))
    assert ref == "sampler/final"
    fetched = Path(node_b.resolve(ref))
    assert fetched.parent.parent == node_b.local
    assert (fetched / "config.json").read_text() == "{}"
    assert (fetched / "inner" / "model.pt").read_bytes() == b"\x00" * 1000


def test_remote_service_paths_pass_through(two_nodes):
    node_a, node_b = two_nodes
    assert node_a.keep("tinker://run/weights/final") == "tinker://run/weights/final"
    assert node_b.resolve("tinker://run/weights/final") == "tinker://run/weights/final"


def test_removing_a_file_removes_it_for_every_node(two_nodes):
    node_a, node_b = two_nodes
    node_a.write_json("failed.json", {"error": "cancelled"})
    node_b.remove("failed.json")
    assert not node_a.exists("failed.json")


def test_a_missing_file_is_a_clear_error(two_nodes):
    _, node_b = two_nodes
    with pytest.raises(FileNotFoundError, match="dataset.parquet of training job local-job"):
        node_b.pull("dataset.parquet")


def test_a_local_store_keeps_the_folder_beside_it(tmp_path):
    files = JobFiles(AtomStore(tmp_path / "store"), "local-job")
    assert files.local == tmp_path / "store" / "training" / "local-job"
    files.write_json("result.json", {"steps": 4})
    assert files.read_json("result.json") == {"steps": 4}
    assert files.keep(str(files.local / "sampler" / "x")) == "sampler/x"
