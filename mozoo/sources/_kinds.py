"""Where a published file lives: a GitHub raw file, a member of an archive, a Hugging Face file.

Each kind is a frozen dataclass with `url` (for messages), `cache_key` (its relative path in the
cache and in a mirror folder) and `download(dest, fetch)`, which writes the bytes to `dest`.
Endpoints are read when a download starts, so a test (or an air-gapped proxy) can point them at
another server: `MOTOOLS_ZOO_GITHUB_RAW`, `MOTOOLS_ZOO_GITHUB` and Hugging Face's own `HF_ENDPOINT`.
"""

from __future__ import annotations

import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from motools.errors import SourceUnavailableError, UserError

GITHUB_RAW = "https://raw.githubusercontent.com"
GITHUB = "https://github.com"
HUGGING_FACE = "https://huggingface.co"
_TIMEOUT_S = 60
_CHUNK = 1 << 20


class _DownloadError(SourceUnavailableError):
    """Why a download failed, in a few words (the caller adds the URL and the way out)."""


class Source(Protocol):
    """A published file: where it is, where it is cached, and how to download it."""

    @property
    def url(self) -> str:
        """The address shown in messages."""
        ...

    @property
    def cache_key(self) -> str:
        """Relative POSIX path of the file in the cache folder and in a mirror folder."""
        ...

    @property
    def network(self) -> str:
        """Which network it needs: `github`, `huggingface` or `local` (for the offline switches)."""
        ...

    def download(self, dest: Path, fetch: Callable[[Source], Path]) -> None:
        """Write the file's bytes to `dest`; `fetch` gets another source (an archive) cached."""
        ...


def _endpoint(variable: str, default: str) -> str:
    return (os.environ.get(variable) or default).rstrip("/")


def _check_part(value: str, what: str) -> str:
    parts = PurePosixPath(value).parts
    if not value or value.startswith("/") or ".." in parts or "\\" in value:
        raise UserError(f"{what} must be a relative path without '..', got {value!r}")
    return value


def http_download(url: str, dest: Path) -> None:
    """Stream `url` into `dest` (redirects followed).

    Raises:
        _DownloadError: HTTP error status, connection failure or timeout.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "motools-zoo"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response, dest.open("wb") as f:
            shutil.copyfileobj(response, f, _CHUNK)
    except urllib.error.HTTPError as e:
        raise _DownloadError(f"HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        raise _DownloadError(str(e.reason)) from None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as e:  # e.g. cut mid-file
        raise _DownloadError(str(e) or type(e).__name__) from None


@dataclass(frozen=True)
class GitHubFile:
    """One file of a GitHub repository at a ref, downloaded from raw.githubusercontent.com.

    Attributes:
        repo: `owner/name`.
        path: The file's path in the repository.
        ref: A commit (pin it: the cache trusts that the bytes behind a ref never change), tag or
            branch.
    """

    repo: str
    path: str
    ref: str

    def __post_init__(self) -> None:
        _check_part(self.repo, "repo")
        _check_part(self.path, "path")
        _check_part(self.ref, "ref")

    @property
    def url(self) -> str:
        """`{MOTOOLS_ZOO_GITHUB_RAW or https://raw.githubusercontent.com}/owner/name/ref/path`."""
        raw = _endpoint("MOTOOLS_ZOO_GITHUB_RAW", GITHUB_RAW)
        return f"{raw}/{self.repo}/{self.ref}/{self.path}"

    @property
    def cache_key(self) -> str:
        """`github/owner/name/ref/path`."""
        return f"github/{self.repo}/{self.ref}/{self.path}"

    @property
    def network(self) -> str:
        """Always `github`."""
        return "github"

    def download(self, dest: Path, fetch: Callable[[Source], Path]) -> None:
        """Download the raw file."""
        http_download(self.url, dest)


@dataclass(frozen=True)
class GitHubArchive:
    """A whole repository at a ref, as the archive GitHub builds (`.zip` or `.tar.gz`).

    Attributes:
        repo: `owner/name`.
        ref: A commit, tag or branch.
        format: `zip` or `tar.gz`.
    """

    repo: str
    ref: str
    format: str = "zip"

    def __post_init__(self) -> None:
        _check_part(self.repo, "repo")
        _check_part(self.ref, "ref")
        if self.format not in ("zip", "tar.gz"):
            raise UserError(f"archive format must be 'zip' or 'tar.gz', got {self.format!r}")

    @property
    def url(self) -> str:
        """`{MOTOOLS_ZOO_GITHUB or https://github.com}/owner/name/archive/ref.zip`."""
        github = _endpoint("MOTOOLS_ZOO_GITHUB", GITHUB)
        return f"{github}/{self.repo}/archive/{self.ref}.{self.format}"

    @property
    def cache_key(self) -> str:
        """`github-archive/owner/name/ref.zip`."""
        return f"github-archive/{self.repo}/{self.ref}.{self.format}"

    @property
    def network(self) -> str:
        """Always `github`."""
        return "github"

    def download(self, dest: Path, fetch: Callable[[Source], Path]) -> None:
        """Download the archive."""
        http_download(self.url, dest)


@dataclass(frozen=True)
class ArchiveMember:
    """One file inside a `.zip` or `.tar.gz` archive that is itself a source.

    The member is matched exactly, or below the archive's single top folder (GitHub archives put
    everything under `name-ref/`), so `datasets/x.jsonl` finds `repo-abc123/datasets/x.jsonl`.

    Attributes:
        archive: The archive's source (a `GitHubArchive`, or a `GitHubFile` of a `.zip` file).
        member: The member's path inside the archive.
    """

    archive: Source
    member: str

    def __post_init__(self) -> None:
        _check_part(self.member, "member")
        name = PurePosixPath(self.archive.cache_key).name
        if not name.endswith((".zip", ".tar.gz", ".tgz")):
            raise UserError(f"archive {self.archive.url} is not a .zip, .tar.gz or .tgz file")

    @property
    def url(self) -> str:
        """The archive's URL with `#member`."""
        return f"{self.archive.url}#{self.member}"

    @property
    def cache_key(self) -> str:
        """The archive's key with `.d/member`."""
        return f"{self.archive.cache_key}.d/{self.member}"

    @property
    def network(self) -> str:
        """`local`: extracted here, from its archive, which is fetched (or refused) on its own."""
        return "local"

    def download(self, dest: Path, fetch: Callable[[Source], Path]) -> None:
        """Get the archive (cached once for all its members), then extract the member.

        Raises:
            _DownloadError: The archive holds no such member, or is not a readable archive.
        """
        archive = fetch(self.archive)
        try:
            if archive.name.endswith(".zip"):
                with zipfile.ZipFile(archive) as z:
                    name = self._resolve([i.filename for i in z.infolist() if not i.is_dir()])
                    with z.open(name) as src, dest.open("wb") as out:
                        shutil.copyfileobj(src, out, _CHUNK)
            else:
                with tarfile.open(archive, "r:gz") as t:
                    name = self._resolve([m.name for m in t.getmembers() if m.isfile()])
                    content = t.extractfile(name)
                    assert content is not None  # a regular file always has content
                    with content, dest.open("wb") as out:
                        shutil.copyfileobj(content, out, _CHUNK)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as e:
            raise _DownloadError(f"cannot read archive {archive}: {e}") from None

    def _resolve(self, names: list[str]) -> str:
        if self.member in names:
            return self.member
        tops = {n.split("/", 1)[0] for n in names}
        if len(tops) == 1 and f"{next(iter(tops))}/{self.member}" in names:
            return f"{next(iter(tops))}/{self.member}"
        raise _DownloadError(f"the archive has no member {self.member!r}")


@dataclass(frozen=True)
class HuggingFaceFile:
    """One file of a Hugging Face repository, downloaded with `huggingface_hub.hf_hub_download`.

    `HF_ENDPOINT` (a mirror, or a test server) and `HF_TOKEN` are honoured as huggingface_hub does.

    Attributes:
        repo_id: `owner/name`.
        filename: The file's path in the repository, e.g. `main/test-00000-of-00001.parquet`.
        revision: A commit (pinned), tag or branch.
        repo_type: `dataset` or `model`.
    """

    repo_id: str
    filename: str
    revision: str = "main"
    repo_type: str = "dataset"

    def __post_init__(self) -> None:
        _check_part(self.repo_id, "repo_id")
        _check_part(self.filename, "filename")
        _check_part(self.revision, "revision")
        if self.repo_type not in ("dataset", "model"):
            raise UserError(f"repo_type must be 'dataset' or 'model', got {self.repo_type!r}")

    @property
    def url(self) -> str:
        """`{HF_ENDPOINT}/datasets/owner/name/resolve/revision/filename`."""
        prefix = "datasets/" if self.repo_type == "dataset" else ""
        return (f"{_endpoint('HF_ENDPOINT', HUGGING_FACE)}/{prefix}{self.repo_id}/resolve/"
                f"{self.revision}/{self.filename}")

    @property
    def cache_key(self) -> str:
        """`huggingface/datasets/owner/name/revision/filename`."""
        return f"huggingface/{self.repo_type}s/{self.repo_id}/{self.revision}/{self.filename}"

    @property
    def network(self) -> str:
        """Always `huggingface`."""
        return "huggingface"

    def download(self, dest: Path, fetch: Callable[[Source], Path]) -> None:
        """Download through huggingface_hub into a scratch folder beside `dest`, then move it.

        Raises:
            _DownloadError: huggingface_hub could not get the file (not found, no network, ...).
            MissingDependencyError: huggingface_hub is not installed.
        """
        from motools.errors import MissingDependencyError

        try:
            from huggingface_hub import hf_hub_download
        except ImportError:
            raise MissingDependencyError(
                "reading Hugging Face sources needs huggingface_hub: pip install 'motools[hf]'"
            ) from None
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".hf-") as scratch:
            try:
                got = hf_hub_download(
                    self.repo_id, self.filename, repo_type=self.repo_type,
                    revision=self.revision, local_dir=scratch,
                    # Read now, not at huggingface_hub's import: the variable may be set later.
                    endpoint=_endpoint("HF_ENDPOINT", HUGGING_FACE),
                )
            # huggingface_hub raises its own tree of errors (HTTP, offline, not found, ...) and
            # httpx's; at this boundary each becomes one line naming the file.
            except Exception as e:  # noqa: BLE001
                first = (str(e).strip().splitlines() or [""])[0]
                why = f"{type(e).__name__}: {first}" if first else type(e).__name__
                raise _DownloadError(why) from None
            os.replace(got, dest)
