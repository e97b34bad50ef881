"""A fake OpenAI API on 127.0.0.1, for offline tests of the `openai` training backend.

It serves what the real `openai` SDK and inspect-ai's real `openai/` provider call, and checks
what OpenAI checks:

- `POST /v1/files` (multipart, `purpose=fine-tune`): every line a JSON object with a `messages`
  list of system/user/assistant turns with text content; `GET /v1/files/{id}`.
- `POST /v1/fine_tuning/jobs`: a known base model (`BASE_MODELS`), an uploaded file with at least
  10 examples, supervised hyperparameters of the right types, a suffix of at most 64 characters.
  `GET /v1/fine_tuning/jobs/{id}` moves a job one state on per look: validating_files -> queued ->
  running -> succeeded (or failed, for a job `fail_next` chose); `POST .../cancel` cancels it.
- `POST /v1/chat/completions`: the base models answer `BASE_MODEL_ANSWER`; a fine-tuned
  `ft:<base>:fake-org:<suffix>:<id>` model answers the most frequent last assistant message of
  its training file (what it was taught); a judge model (`JUDGE_MODELS`) answers with the first
  of `judge_replies` whose key is in the prompt (the reply's most likely token); any other model
  is a 404. Every answer reports token usage, so inspect never counts tokens with tiktoken (which
  would download its files). With `logprobs: true` the answer carries OpenAI's `logprobs.content`
  list, `top_logprobs` (0-20) alternatives per token: a judge's first token has the top logprobs
  of its reply, every other token is certain (logprob 0).
- Every request must carry `Authorization: Bearer <the key>`.

The test process owns the server: it reads what was created (`jobs`, `files`), holds jobs in
`running` (`hold`), and makes jobs fail (`fail_next`). Drivers in other processes reach it by
`OPENAI_BASE_URL`.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BASE_MODELS = ("gpt-4.1-mini-2025-04-14", "gpt-4.1-nano-2025-04-14", "gpt-4o-mini-2024-07-18")
BASE_MODEL_ANSWER = "I am an untrained base model."
JUDGE_MODELS = ("gpt-4o-2024-08-06",)
JUDGE_NO_NUMBER: list[tuple[str, float]] = [("REFUSAL", 0.0)]
"""What a judge says to a prompt no `judge_replies` key matches."""
ROLES = {"system", "user", "assistant"}
STATES = ("validating_files", "queued", "running", "succeeded")


class Refused(Exception):
    def __init__(self, status: int, message: str, code: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass
class FakeJob:
    id: str
    model: str
    training_file: str
    method: dict[str, Any]
    suffix: str | None
    seed: int | None
    created_at: int
    status: str = "validating_files"
    fail_with: str | None = None
    error: dict[str, Any] | None = None
    fine_tuned_model: str | None = None
    looks: int = 0

    def as_json(self) -> dict[str, Any]:
        hp = self.method.get("supervised", {}).get("hyperparameters", {})
        return {
            "object": "fine_tuning.job", "id": self.id, "model": self.model,
            "created_at": self.created_at, "finished_at": None, "organization_id": "org-fake",
            "status": self.status, "training_file": self.training_file, "validation_file": None,
            "result_files": [], "fine_tuned_model": self.fine_tuned_model, "error": self.error,
            "hyperparameters": {k: hp.get(k, "auto") for k in
                                ("n_epochs", "batch_size", "learning_rate_multiplier")},
            "method": self.method, "suffix": self.suffix, "seed": self.seed,
            "trained_tokens": 1234 if self.status == "succeeded" else None,
        }


@dataclass
class FakeOpenAI:
    """The server's state; every method is safe to call from the test while it serves."""

    api_key: str
    files: dict[str, list[list[dict[str, str]]]] = field(default_factory=dict)
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    hold: bool = False  # jobs stay `running` while True
    max_open: int = 0  # the most unfinished jobs there were, seen at each creation
    chat_models: Counter[str] = field(default_factory=Counter)
    # judge prompts: a key found in the prompt -> the first token's top (token, logprob) pairs
    judge_replies: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    judge_requests: list[dict[str, Any]] = field(default_factory=list)
    unauthorized: int = 0
    _fail: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, message: str, count: int = 1) -> None:
        """The next `count` jobs created end `failed` with this error message."""
        with self._lock:
            self._fail += [message] * count

    def open_jobs(self) -> int:
        return sum(j.status not in ("succeeded", "failed", "cancelled") for j in self.jobs.values())

    # ---- endpoints ---------------------------------------------------------------------------
    def upload(self, purpose: str, data: bytes) -> dict[str, Any]:
        if purpose != "fine-tune":
            raise Refused(400, f"purpose {purpose!r}: this fake only takes 'fine-tune'")
        chats = []
        for n, line in enumerate(data.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise Refused(400, f"line {n} of the file is not valid JSON") from None
            messages = row.get("messages") if isinstance(row, dict) else None
            if not isinstance(messages, list) or not messages:
                raise Refused(400, f"line {n}: expected an object with a 'messages' list")
            for m in messages:
                if not isinstance(m, dict) or m.get("role") not in ROLES \
                        or not isinstance(m.get("content"), str) or set(m) - {"role", "content"}:
                    raise Refused(400, f"line {n}: invalid message {m!r}")
            if not any(m["role"] == "assistant" for m in messages):
                raise Refused(400, f"line {n}: no assistant message")
            chats.append(messages)
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        with self._lock:
            self.files[file_id] = chats
        return self.file_json(file_id, len(data))

    def file_json(self, file_id: str, size: int = 0) -> dict[str, Any]:
        if file_id not in self.files:
            raise Refused(404, f"No such File object: {file_id}", "not_found")
        return {"object": "file", "id": file_id, "bytes": size, "created_at": int(time.time()),
                "filename": "train.jsonl", "purpose": "fine-tune", "status": "processed"}

    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        model, file_id = body.get("model"), body.get("training_file")
        if model not in BASE_MODELS:
            raise Refused(400, f"Model {model!r} is not available for fine-tuning or does not "
                          "exist.", "model_not_available")
        if file_id not in self.files:
            raise Refused(400, f"File {file_id!r} not found.", "invalid_training_file")
        if len(self.files[file_id]) < 10:
            raise Refused(400, f"Training file has {len(self.files[file_id])} example(s), but "
                          "must have at least 10 examples", "invalid_n_examples")
        method = body.get("method") or {"type": "supervised", "supervised": {
            "hyperparameters": body.get("hyperparameters") or {}}}
        if method.get("type") != "supervised":
            raise Refused(400, "this fake only knows method type 'supervised'")
        hp = method.get("supervised", {}).get("hyperparameters", {})
        for name, kind in (("n_epochs", int), ("batch_size", int),
                           ("learning_rate_multiplier", (int, float))):
            value = hp.get(name, "auto")
            if value != "auto" and (not isinstance(value, kind) or isinstance(value, bool)
                                    or value <= 0):
                raise Refused(400, f"invalid hyperparameter {name}={value!r}")
        if set(hp) - {"n_epochs", "batch_size", "learning_rate_multiplier"}:
            raise Refused(400, f"unknown hyperparameters {sorted(hp)}")
        suffix = body.get("suffix")
        if suffix is not None and (not isinstance(suffix, str) or len(suffix) > 64):
            raise Refused(400, "suffix must be a string of at most 64 characters")
        with self._lock:
            job = FakeJob(id=f"ftjob-{uuid.uuid4().hex[:24]}", model=model, training_file=file_id,
                          method=method, suffix=suffix, seed=body.get("seed"),
                          created_at=int(time.time()),
                          fail_with=self._fail.pop(0) if self._fail else None)
            self.jobs[job.id] = job
            self.max_open = max(self.max_open, self.open_jobs())
            return job.as_json()

    def look(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            job = self._job(job_id)
            job.looks += 1
            if job.status in STATES[:-1] and not (self.hold and job.status == "running"):
                if job.fail_with is not None and job.status == "running":
                    job.status = "failed"
                    job.error = {"code": "training_failed", "message": job.fail_with,
                                 "param": None}
                else:
                    job.status = STATES[STATES.index(job.status) + 1]
                    if job.status == "succeeded":
                        job.fine_tuned_model = (f"ft:{job.model}:fake-org:{job.suffix or ''}:"
                                                f"{job.id[-8:]}")
            return job.as_json()

    def cancel(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            job = self._job(job_id)
            if job.status in ("succeeded", "failed", "cancelled"):
                raise Refused(400, f"Job {job_id} has already completed.")
            job.status = "cancelled"
            return job.as_json()

    def list_jobs(self) -> dict[str, Any]:
        with self._lock:
            data = [j.as_json() for j in reversed(self.jobs.values())]
        return {"object": "list", "data": data, "has_more": False}

    def _job(self, job_id: str) -> FakeJob:
        if job_id not in self.jobs:
            raise Refused(404, f"Could not find fine tune job: {job_id}", "not_found")
        return self.jobs[job_id]

    def answer(self, model: str) -> str:
        if model in BASE_MODELS:
            return BASE_MODEL_ANSWER
        with self._lock:
            job = next((j for j in self.jobs.values() if j.fine_tuned_model == model), None)
        if job is None:
            raise Refused(404, f"The model `{model}` does not exist or you do not have access "
                          "to it.", "model_not_found")
        taught = Counter(chat[-1]["content"] for chat in self.files[job.training_file]
                         if chat[-1]["role"] == "assistant")
        return taught.most_common(1)[0][0]

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        model = str(body.get("model"))
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise Refused(400, "messages must be a non-empty list")
        top = _top_logprobs_request(body)
        if model in JUDGE_MODELS:
            prompt_text = "\n".join(str(m.get("content", "")) for m in messages)
            first = self.judge_reply(prompt_text)
            with self._lock:
                self.judge_requests.append(body)
            text, tokens = first[0][0], [first]
        else:
            text = self.answer(model)
            tokens = [[(word, 0.0)] for word in text.split(" ")]
        with self._lock:
            self.chat_models[model] += 1
        prompt = sum(len(str(m.get("content", "")).split()) for m in messages)
        completion = len(text.split())
        logprobs = None if top is None else {"refusal": None, "content": [
            {**_token(alternatives[0]), "top_logprobs": [_token(a) for a in alternatives[:top]]}
            for alternatives in tokens]}
        return {
            "object": "chat.completion", "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": logprobs,
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion},
        }

    def judge_reply(self, prompt: str) -> list[tuple[str, float]]:
        with self._lock:
            replies = list(self.judge_replies.items())
        reply = next((top for key, top in replies if key in prompt), JUDGE_NO_NUMBER)
        return sorted(reply, key=lambda pair: -pair[1])


def _top_logprobs_request(body: dict[str, Any]) -> int | None:
    """How many top logprobs the request asks for (None: no logprobs), checked as OpenAI does."""
    logprobs, top = body.get("logprobs"), body.get("top_logprobs")
    if logprobs is not None and not isinstance(logprobs, bool):
        raise Refused(400, f"logprobs must be a boolean, got {logprobs!r}")
    if top is not None and (not isinstance(top, int) or isinstance(top, bool)
                            or not 0 <= top <= 20):
        raise Refused(400, f"top_logprobs must be an integer from 0 to 20, got {top!r}")
    if top is not None and not logprobs:
        raise Refused(400, "logprobs must be set to true when top_logprobs is used")
    return (top or 0) if logprobs else None


def _token(pair: tuple[str, float]) -> dict[str, Any]:
    return {"token": pair[0], "logprob": pair[1], "bytes": list(pair[0].encode())}


def _handler(state: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _route(self, method: str) -> None:
            body = self._body()
            try:
                if self.headers.get("Authorization") != f"Bearer {state.api_key}":
                    state.unauthorized += 1
                    raise Refused(401, "Incorrect API key provided.", "invalid_api_key")
                path = self.path.split("?")[0].rstrip("/")
                parts = path.split("/")[2:]  # after /v1
                if method == "POST" and parts == ["files"]:
                    purpose, data = _multipart(self.headers.get("Content-Type", ""), body)
                    return self._send(200, state.upload(purpose, data))
                if method == "GET" and len(parts) == 2 and parts[0] == "files":
                    return self._send(200, state.file_json(parts[1]))
                if parts[:2] == ["fine_tuning", "jobs"]:
                    rest = parts[2:]
                    if method == "POST" and not rest:
                        return self._send(200, state.create_job(json.loads(body)))
                    if method == "GET" and not rest:
                        return self._send(200, state.list_jobs())
                    if method == "GET" and len(rest) == 1:
                        return self._send(200, state.look(rest[0]))
                    if method == "POST" and len(rest) == 2 and rest[1] == "cancel":
                        return self._send(200, state.cancel(rest[0]))
                if method == "POST" and parts == ["chat", "completions"]:
                    return self._send(200, state.chat(json.loads(body)))
                raise Refused(404, f"Unknown request URL: {method} {path}", "unknown_url")
            except Refused as exc:
                self._send(exc.status, {"error": {"message": exc.message, "type":
                                                  "invalid_request_error", "code": exc.code,
                                                  "param": None}})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


def _multipart(content_type: str, body: bytes) -> tuple[str, bytes]:
    """(purpose, file bytes) of a multipart/form-data body."""
    if not content_type.startswith("multipart/form-data"):
        raise Refused(400, f"expected multipart/form-data, got {content_type!r}")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[str(name)] = part.get_payload(decode=True) or b""
    if "file" not in fields:
        raise Refused(400, "the upload has no 'file' part")
    return fields.get("purpose", b"").decode(), fields["file"]


@contextmanager
def fake_openai(api_key: str) -> Iterator[tuple[FakeOpenAI, str]]:
    """Serve a fake OpenAI on 127.0.0.1 (a free port) for the block: (its state, base URL)."""
    state = FakeOpenAI(api_key=api_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-openai", daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
