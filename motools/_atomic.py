"""Atomic writes: a reader sees the old file (or none) or the new one, never a partial write."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, first_wins: bool = False) -> Iterator[Path]:
    """A fresh temporary path beside `path`; renamed over `path` when the block ends without error.

    Write a file or fill a folder at the yielded path. If the block raises (or the process is
    killed), nothing appears under `path`; what the block wrote is removed.

    Args:
        path: The final path.
        first_wins: For a folder several processes may fill with the same content: when the
            rename fails because `path` already exists, keep theirs and drop ours.
    """
    final = Path(path)
    tmp = final.with_name(f"{final.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield tmp
        try:
            os.replace(tmp, final)
        except OSError:
            if not (first_wins and final.exists()):
                raise
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write `data` (text as UTF-8) to `path` atomically."""
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
