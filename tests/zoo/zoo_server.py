"""A loopback server that publishes files the way GitHub and the Hugging Face Hub do.

Tests of the zoo's loaders put fixtures they generate (in the published format) on it and point
the real download code at it: `MOTOOLS_ZOO_GITHUB_RAW` (raw files), `MOTOOLS_ZOO_GITHUB`
(repository archives) and `HF_ENDPOINT` (huggingface_hub's `hf_hub_download`). It counts the
GETs of each file, so a test can tell how many times a file was downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import tarfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAKE_COMMIT = "0" * 39 + "1"  # what the fake hub says every revision resolves to


class PublishedFiles:
    """Files served on 127.0.0.1; `env` is what a process needs to download them from here."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self._files: dict[str, bytes] = {}
        self.hits: Counter[str] = Counter()
        self.delay_s = 0.0  # a slow network: concurrent readers overlap a download in flight
        self._lock = threading.Lock()

    @property
    def env(self) -> dict[str, str]:
        """Endpoints for the zoo's sources (and huggingface_hub)."""
        return {"MOTOOLS_ZOO_GITHUB_RAW": f"{self.base}/raw",
                "MOTOOLS_ZOO_GITHUB": f"{self.base}/github",
                "HF_ENDPOINT": f"{self.base}/hf"}

    def github_file(self, repo: str, ref: str, path: str, data: bytes) -> str:
        """Publish a raw file; returns the served path (the key of `hits`)."""
        return self._put(f"/raw/{repo}/{ref}/{path}", data)

    def github_archive(self, repo: str, ref: str, files: dict[str, bytes],
                       fmt: str = "zip") -> str:
        """Publish a repository archive laid out as GitHub's: every file under `name-ref/`."""
        top = f"{repo.split('/')[1]}-{ref}"
        return self._put(f"/github/{repo}/archive/{ref}.{fmt}", make_archive(
            {f"{top}/{name}": data for name, data in files.items()}, fmt))

    def hf_file(self, repo_id: str, filename: str, data: bytes, repo_type: str = "dataset") -> str:
        """Publish a file of a Hugging Face repository (any revision name serves it)."""
        prefix = "datasets/" if repo_type == "dataset" else ""
        return self._put(f"/hf/{prefix}{repo_id}/resolve/*/{filename}", data)

    def _put(self, path: str, data: bytes) -> str:
        with self._lock:
            self._files[path] = data
        return path

    def lookup(self, path: str) -> tuple[str, bytes] | None:
        """The served path and bytes for a request path (a hub path matches any revision)."""
        with self._lock:
            if path in self._files:
                return path, self._files[path]
            if path.startswith("/hf/") and "/resolve/" in path:
                head, tail = path.split("/resolve/", 1)
                key = f"{head}/resolve/*/{tail.split('/', 1)[1] if '/' in tail else ''}"
                if key in self._files:
                    return key, self._files[key]
        return None


def make_archive(files: dict[str, bytes], fmt: str = "zip") -> bytes:
    """A `.zip` or `.tar.gz` holding `files` (archive path -> bytes)."""
    buffer = io.BytesIO()
    if fmt == "zip":
        with zipfile.ZipFile(buffer, "w") as z:
            for name, data in files.items():
                z.writestr(name, data)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz") as t:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _handler(published: PublishedFiles) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _answer(self, body: bool) -> None:
            found = published.lookup(self.path.split("?", 1)[0])
            if found is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                if self.path.startswith("/hf/"):  # the hub names the error kind in a header
                    self.send_header("X-Error-Code", "EntryNotFound")
                self.end_headers()
                return
            key, data = found
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            if key.startswith("/hf/"):
                self.send_header("X-Repo-Commit", FAKE_COMMIT)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
            self.end_headers()
            if body:
                time.sleep(published.delay_s)
                with published._lock:
                    published.hits[key] += 1
                self.wfile.write(data)

        def do_HEAD(self) -> None:  # noqa: N802 (http.server's name)
            self._answer(body=False)

        def do_GET(self) -> None:  # noqa: N802
            self._answer(body=True)

    return Handler


@contextlib.contextmanager
def serve() -> Iterator[PublishedFiles]:
    """Run the server on a free loopback port for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    published = PublishedFiles(server.server_address[1])
    server.RequestHandlerClass = _handler(published)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield published
    finally:
        server.shutdown()
        server.server_close()
