"""The scan the secret tests rely on finds a secret in every form the store keeps bytes in.

Without these, a scan that read compressed bytes as they are would pass whatever was inside.
"""

from __future__ import annotations

import json
import sqlite3
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import zipfile_zstd
from secret_scan import secret_hits

SECRET = "tml-0123456789abcdef"


def test_finds_a_secret_in_a_plain_file(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "log.txt").write_text(f"key={SECRET}\n")
    assert len(secret_hits([tmp_path], [SECRET])) == 1


def test_finds_a_secret_in_a_zstd_zip_member_as_inspect_writes_its_logs(tmp_path):
    with zipfile.ZipFile(tmp_path / "log.eval", "w",
                         compression=zipfile_zstd.ZIP_ZSTANDARD) as archive:
        archive.writestr("header.json", json.dumps({"task_args": {"k": SECRET}}))
    assert any("log.eval!header.json" in hit for hit in secret_hits([tmp_path], [SECRET]))


def test_finds_a_secret_in_a_compressed_parquet_column(tmp_path):
    pq.write_table(pa.table({"v": [SECRET] * 100}), tmp_path / "results.parquet",
                   compression="zstd")
    assert any("(decoded)" in hit for hit in secret_hits([tmp_path], [SECRET]))


def test_finds_a_secret_in_a_sqlite_database(tmp_path):
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        db.execute("create table t (v text)")
        db.execute("insert into t values (?)", (SECRET,))
    assert secret_hits([tmp_path], [SECRET]) != []
