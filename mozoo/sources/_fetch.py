"""`fetch`: a source's file on this machine, from a given copy, a mirror, the cache or a download.

The cache is a folder (`MOTOOLS_ZOO_CACHE`, default `~/.cache/motools/zoo`) holding each file at
its source's `cache_key`. A download is written to a scratch file and renamed into place, under a
file lock beside the target, so concurrent sweep points (threads, processes, Ray workers on one
machine or on a shared file system) download each file once and never read a half-written one.
A mirror folder has the cache's layout: copying a filled cache folder makes one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from mozoo.sources._errors import SourceUnavailableError
from mozoo.sources._kinds import ArchiveMember, Source, _DownloadError

_TRUE = ("1", "true", "yes", "on")
F = TypeVar("F", bound=Callable[..., Any])


def cache_root() -> Path:
    """The cache folder: `MOTOOLS_ZOO_CACHE`, else `motools/zoo` in `XDG_CACHE_HOME` or ~/.cache."""
    explicit = os.environ.get("MOTOOLS_ZOO_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "motools" / "zoo"


def _mirror_folders(mirror: str | os.PathLike[str] | None) -> list[Path]:
    folders = [Path(mirror).expanduser()] if mirror is not None else []
    env = os.environ.get("MOTOOLS_ZOO_MIRROR", "")
    folders += [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return folders


def _in_mirror(source: Source, folder: Path) -> Path | None:
    # The cache's layout first; a bare file name too, for a folder of files copied by hand.
    for candidate in (folder / source.cache_key, folder / PurePosixPath(source.cache_key).name):
        if candidate.is_file():
            return candidate
    return None


def _copy(source: Source, mirror: str | os.PathLike[str] | None) -> Path | None:
    """The source's file in a mirror folder or the cache, if it is there."""
    for folder in _mirror_folders(mirror):
        found = _in_mirror(source, folder)
        if found is not None:
            return found
    cached = cache_root() / source.cache_key
    return cached if cached.is_file() else None


def _offline(source: Source) -> str | None:
    if os.environ.get("MOTOOLS_ZOO_OFFLINE", "").lower() in _TRUE:
        return "MOTOOLS_ZOO_OFFLINE is set"
    if source.network == "huggingface" and os.environ.get("HF_HUB_OFFLINE", "").lower() in _TRUE:
        return "HF_HUB_OFFLINE is set"
    return None


def _unavailable(source: Source, why: str, mirror: str | os.PathLike[str] | None) -> str:
    where = f"mirror {mirror}" if mirror is not None else "a mirror folder"
    return (f"cannot download {source.url} ({why}); to use a copy, pass local_path=FILE, or put it "
            f"at {source.cache_key} (or just its file name) in {where} and pass mirror=FOLDER or "
            "set MOTOOLS_ZOO_MIRROR")


def fetch(
    source: Source,
    *,
    local_path: str | os.PathLike[str] | None = None,
    mirror: str | os.PathLike[str] | None = None,
) -> Path:
    """Return a local path holding the source's file, downloading it at most once per cache.

    Looked for in this order: `local_path`; `mirror`, then each folder of `MOTOOLS_ZOO_MIRROR`
    (`os.pathsep`-separated), at the source's `cache_key` or by file name; the cache; a download
    into the cache. `MOTOOLS_ZOO_OFFLINE=1` forbids downloads, and `HF_HUB_OFFLINE=1` those from
    Hugging Face.

    Args:
        source: Where the file is published.
        local_path: A copy of the file; used as it is.
        mirror: A folder holding copies, laid out as the cache is (or flat, by file name).

    Returns:
        The path of the file (never a partial download).

    Raises:
        SourceUnavailableError: `local_path` does not exist, or the download failed or is
            forbidden and no copy was found; one line naming the URL and the ways to give a copy.
    """
    if local_path is not None:
        path = Path(local_path).expanduser()
        if not path.is_file():
            raise SourceUnavailableError(
                f"local_path {path}: no such file (it should be a copy of {source.url})")
        return path
    found = _copy(source, mirror)
    if found is not None:
        return found
    target = cache_root() / source.cache_key
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{target}.lock"):
        if target.is_file():  # another point downloaded it while this one waited for the lock
            return target
        why = _offline(source)
        if why is not None:
            raise SourceUnavailableError(_unavailable(source, why, mirror))
        part = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            source.download(part, lambda inner: fetch(inner, mirror=mirror))
            os.replace(part, target)
        except _DownloadError as e:
            raise SourceUnavailableError(_unavailable(source, str(e), mirror)) from None
        finally:
            part.unlink(missing_ok=True)
    return target


def check_available(
    sources: Iterable[Source], *, mirror: str | os.PathLike[str] | None = None
) -> None:
    """Refuse, before anything runs, a source that can be neither downloaded nor found as a copy.

    Only the offline switches forbid downloads (`MOTOOLS_ZOO_OFFLINE`, `HF_HUB_OFFLINE`); without
    them a source counts as available (whether the network answers shows when it is fetched).

    Args:
        sources: The files a loader will read.
        mirror: The folder of copies the loader will be given.

    Raises:
        SourceUnavailableError: The first source that is offline and in no mirror nor the cache.
    """
    for source in sources:
        if _copy(source, mirror) is not None:
            continue
        if isinstance(source, ArchiveMember):  # extracted here: its archive is what must be had
            check_available([source.archive], mirror=mirror)
            continue
        why = _offline(source)
        if why is not None:
            raise SourceUnavailableError(_unavailable(source, why, mirror))


def reads(sources_for: Callable[..., Iterable[Source]]) -> Callable[[F], F]:
    """Give a loader a `check_ready(**loader_kwargs)` that `check_available`s what it reads.

    The `train_and_evaluate` workflow asks a loader's `check_ready` on the driver before a run
    prepares its dataset, so an offline machine without a copy stops in one line (exit 2) before
    anything runs, instead of failing the step.

    Args:
        sources_for: The loader's arguments -> the sources it will fetch with them.
    """
    def mark(loader: F) -> F:
        def check_ready(**kwargs: Any) -> None:
            check_available(sources_for(**kwargs), mirror=kwargs.get("mirror"))

        loader.check_ready = check_ready  # type: ignore[attr-defined]
        return loader

    return mark
