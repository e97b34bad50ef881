"""Find secret bytes anywhere under some folders: raw files, and inside the containers motools
writes compressed (inspect's `.eval` logs are zip archives; results are Parquet)."""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

# inspect-ai writes its `.eval` logs with zstd; this registers that method with `zipfile`. An
# archive no installed codec reads makes the scan fail loudly, never pass unread.
with contextlib.suppress(ImportError):
    import zipfile_zstd  # noqa: F401


def _contents(where: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    yield where, data
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    yield f"{where}!{member}", archive.read(member)
        except zipfile.BadZipFile:
            pass
    if data[:4] == b"PAR1":
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        yield f"{where} (decoded)", repr(table.to_pylist()).encode("utf-8", "backslashreplace")


def bytes_hits(where: str, data: bytes, secrets: Iterable[str]) -> list[str]:
    """`where: secret...` for each secret in `data`, or in a zip or Parquet container it is."""
    needles = [s.encode() for s in secrets]
    try:
        contents = list(_contents(where, data))
    except (OSError, ValueError):  # a half-written container: its raw bytes only
        contents = [(where, data)]
    return [f"{w}: {n.decode()[:8]}..." for w, d in contents for n in needles if n in d]


def files_under(roots: Iterable[Path]) -> list[Path]:
    """Every regular file below the roots (sockets, fifos and links are not content)."""
    found = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found += [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    return sorted(found)


def secret_hits(roots: Iterable[Path], secrets: Iterable[str]) -> list[str]:
    """`where: which secret` for every occurrence; empty when the folders hold none."""
    secrets = list(secrets)
    hits = []
    for path in files_under(roots):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # a temporary file that went away while we looked
            continue
        hits += bytes_hits(str(path), data, secrets)
    return hits


def text_hits(text: str, secrets: Iterable[str]) -> list[str]:
    return [f"{s[:8]}..." for s in secrets if s in text]
