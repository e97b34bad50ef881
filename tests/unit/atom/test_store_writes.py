"""A store write that the filesystem refuses: one line naming what and where, nothing left."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from motools._errors import MotoolsError, StoreWriteError
from motools.atom import get_store
from motools.atom._store import Provenance


def _blocked(root: Path, folder: str) -> None:
    """Make `root/folder` a plain file, so creating anything inside it fails (ENOTDIR/EEXIST)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / folder).write_text("not a folder")


def test_a_blob_that_cannot_be_written_raises_one_line_store_write_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    _blocked(root, "blobs")
    store = get_store(root)
    with pytest.raises(StoreWriteError) as caught:
        store.put_blob(b"payload")
    message = str(caught.value)
    assert message.startswith("cannot write blob ") and f"to store {root}: " in message
    assert "\n" not in message
    assert isinstance(caught.value, OSError) and isinstance(caught.value, MotoolsError)
    assert list((root / "tmp").rglob("*.part")) == []


@pytest.mark.parametrize(("folder", "what"), [("atoms", "atom record blob-"),
                                              ("steps", "step record "),
                                              ("runs", "run file ")])
def test_every_kind_of_store_file_is_named_in_the_error(
    tmp_path: Path, folder: str, what: str
) -> None:
    root = tmp_path / "store"
    _blocked(root, folder)
    store = get_store(root)
    with pytest.raises(StoreWriteError, match=f"cannot write {what}"):
        if folder == "atoms":
            store.put_atom("blob", "0" * 64, {}, {}, Provenance())
        elif folder == "steps":
            store.put_step_record("f" * 64, {"key": "f" * 64})
        else:
            store.put_run_file("run-1", "results.parquet", b"x")


def test_a_failed_write_leaves_the_earlier_content_readable(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = get_store(root)
    kept = store.put_blob(b"kept")
    (root / "atoms").write_text("not a folder")
    with pytest.raises(StoreWriteError):
        store.put_atom("blob", "0" * 64, {"kept": kept}, {}, Provenance())
    assert store.get_blob(kept.sha256) == b"kept"


def test_a_store_deleted_while_its_process_lives_is_written_again(tmp_path: Path) -> None:
    """One store instance serves a process (Ray workers outlive runs): a store folder removed and
    reused under the same path is recreated on the next write, not refused."""
    root = tmp_path / "store"
    store = get_store(root)
    store.put_step_record("a" * 64, {"key": "a" * 64})
    shutil.rmtree(root)
    store.put_step_record("b" * 64, {"key": "b" * 64})
    assert store.get_step_record("b" * 64) == {"key": "b" * 64}
