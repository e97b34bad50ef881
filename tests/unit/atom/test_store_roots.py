"""Which filesystem a store root names, and what a store carries when Ray ships it to a worker."""

from __future__ import annotations

import pickle

import pyarrow.fs as pafs

from motools.atom import AtomStore


def test_a_gs_root_opens_a_gcs_filesystem():
    store = AtomStore("gs://bucket/prefix")
    assert isinstance(store.fs, pafs.GcsFileSystem)
    assert store.uri == "gs://bucket/prefix" and not store.is_local
    assert store.location("atoms") == "bucket/prefix/atoms"


def test_a_store_sent_to_another_process_keeps_its_s3_endpoint(monkeypatch):
    store = AtomStore("s3://bucket/prefix", s3_endpoint="http://127.0.0.1:9000")
    monkeypatch.delenv("MOTOOLS_S3_ENDPOINT", raising=False)  # a worker without the variable
    copy = pickle.loads(pickle.dumps(store))
    assert copy.s3_endpoint == "http://127.0.0.1:9000"
    assert copy.uri == "s3://bucket/prefix" and copy.location() == "bucket/prefix"


def test_the_s3_endpoint_defaults_to_the_environment(monkeypatch):
    monkeypatch.setenv("MOTOOLS_S3_ENDPOINT", "http://127.0.0.1:9001")
    assert AtomStore("s3://bucket/prefix").s3_endpoint == "http://127.0.0.1:9001"
    assert AtomStore("/tmp/x").s3_endpoint is None
