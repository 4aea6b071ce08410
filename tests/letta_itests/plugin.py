"""The pytest plugin loaded into Letta's own test process (``-p letta_itests_plugin``); it runs in the harness venv,
beside Letta's packages, so it imports only the standard library, pytest, httpx and requests.

Two jobs, both at the HTTP level, so Letta's test bodies run unchanged:

* **One model for every test.** Letta's tests name the models of Letta's CI (``anthropic/claude-haiku-4-5``,
  ``openai/gpt-4o``, ``llm_config`` objects pointing at api.openai.com, ...). The server under test offers one:
  ``$LETTA_ITESTS_MODEL`` (the real server's stub model ``openai-proxy/gpt-4o-mini``). In every JSON body sent to
  the server, a model handle (a ``model`` string with a ``/``) becomes that handle, an ``embedding`` handle becomes
  ``$LETTA_ITESTS_EMBEDDING``, an ``llm_config`` / ``embedding_config`` object gets the served model's identity
  (handle, name, endpoint, provider) while keeping the test's tuning (context window, temperature, ...), and a
  ``model_settings`` object of another provider type becomes the served provider's, keeping the settings both
  share. The same rewrite applies to every server, so the real server and the mock see the same requests.
* **What each test asked of the server.** Every request (method, path, query, status; the start of the body of a
  4xx/5xx answer) is recorded under the running test and phase, and each finished test is appended as one JSON line
  to ``$LETTA_ITESTS_LOG`` (outcome, failing phase, crash message, the requests), so a run killed by its timeout
  still reports the tests it finished.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

if TYPE_CHECKING:
    import requests

_LOG = os.environ.get("LETTA_ITESTS_LOG", "")
_SERVER = os.environ.get("LETTA_SERVER_URL", "")

# Which keys of an llm_config / embedding_config name the model (taken from the served model); the rest is tuning.
_LLM_IDENTITY = (
    "handle",
    "model",
    "display_name",
    "model_endpoint_type",
    "model_endpoint",
    "provider_name",
    "provider_category",
    "model_wrapper",
    "compatibility_type",
)
_EMBEDDING_IDENTITY = (
    "handle",
    "embedding_model",
    "embedding_endpoint_type",
    "embedding_endpoint",
    "embedding_dim",
    "azure_endpoint",
    "azure_version",
    "azure_deployment",
)
# Model settings every provider's settings share (Letta 0.16.8's OpenAIModelSettings and AnthropicModelSettings).
_SHARED_SETTINGS = ("max_output_tokens", "parallel_tool_calls", "temperature", "response_format", "strict")
_DETAIL_CHARS = 400


@dataclass(frozen=True)
class Served:
    """The one model and embedding the server under test offers, and how requests are moved to them."""

    model: str = ""
    embedding: str = ""
    llm_config: dict[str, Any] = field(default_factory=dict)
    embedding_config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> Served:
        return cls(
            model=os.environ.get("LETTA_ITESTS_MODEL", ""),
            embedding=os.environ.get("LETTA_ITESTS_EMBEDDING", ""),
            llm_config=json.loads(os.environ.get("LETTA_ITESTS_LLM_CONFIG") or "{}"),
            embedding_config=json.loads(os.environ.get("LETTA_ITESTS_EMBEDDING_CONFIG") or "{}"),
        )

    @property
    def provider_type(self) -> str:
        return str(self.llm_config.get("model_endpoint_type") or "openai")

    def rewrite(self, value: Any) -> Any:
        """``value`` with every model named the served one (see the module docstring)."""
        if isinstance(value, list):
            return [self.rewrite(item) for item in value]
        if not isinstance(value, dict):
            return value
        return {key: self._rewrite_field(key, item) for key, item in value.items()}

    def _rewrite_field(self, key: str, item: Any) -> Any:
        if key == "model" and isinstance(item, str) and "/" in item and self.model:
            return self.model
        if key == "embedding" and isinstance(item, str) and "/" in item and self.embedding:
            return self.embedding
        if key == "llm_config" and isinstance(item, dict) and self.llm_config:
            config = {**item, **{k: self.llm_config[k] for k in _LLM_IDENTITY if k in self.llm_config}}
            served_window = self.llm_config.get("context_window")
            if isinstance(served_window, int) and isinstance(config.get("context_window"), int):
                config["context_window"] = min(config["context_window"], served_window)
            return config
        if key == "embedding_config" and isinstance(item, dict) and self.embedding_config:
            served = self.embedding_config
            return {**item, **{k: served[k] for k in _EMBEDDING_IDENTITY if k in served}}
        if (
            key == "model_settings"
            and isinstance(item, dict)
            and item.get("provider_type")
            not in (
                None,
                self.provider_type,
            )
        ):
            return {"provider_type": self.provider_type, **{k: v for k, v in item.items() if k in _SHARED_SETTINGS}}
        return self.rewrite(item)


SERVED = Served.from_environment()


def _for_server(url: str) -> bool:
    if not _SERVER:
        return False
    server, target = urlsplit(_SERVER), urlsplit(url)
    return (server.hostname, server.port) == (target.hostname, target.port)


def _rewritten_body(url: str, content_type: str, body: bytes | str | None) -> bytes | None:
    """The rewritten JSON body, or None when it stays as it is."""
    if not body or not _for_server(url) or "json" not in content_type:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    new = SERVED.rewrite(data)
    return None if new == data else json.dumps(new).encode()


def _body_keys(body: Any) -> list[str]:
    """The top-level keys of a JSON object body (what a request asked for, without its values)."""
    if not body:
        return []
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return []
    return sorted(data) if isinstance(data, dict) else []


class _Recorder:
    """The requests of the running test, by phase (requests from any thread count for the running test)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.phase = "collect"
        self.calls: list[dict[str, Any]] = []

    def begin(self, phase: str) -> None:
        with self.lock:
            self.phase = phase
            if phase == "setup":
                self.calls = []

    def add(self, method: str, url: str, status: int | None, detail: str = "", body: Any = None) -> None:
        parts = urlsplit(url)
        call: dict[str, Any] = {"phase": self.phase, "method": method, "path": parts.path, "status": status}
        if parts.query:
            call["query"] = parts.query
        keys = _body_keys(body)
        if keys:
            call["keys"] = keys
        if detail:
            call["detail"] = detail[:_DETAIL_CHARS]
        with self.lock:
            self.calls.append(call)

    def take(self) -> list[dict[str, Any]]:
        with self.lock:
            calls, self.calls = self.calls, []
            return calls


RECORDER = _Recorder()


def _rebuilt(request: httpx.Request) -> httpx.Request:
    if request.method not in ("POST", "PUT", "PATCH"):
        return request
    try:
        body = request.content
    except httpx.RequestNotRead:  # a streamed upload: leave it alone
        return request
    new = _rewritten_body(str(request.url), request.headers.get("content-type", ""), body)
    if new is None:
        return request
    headers = httpx.Headers(request.headers)
    headers["content-length"] = str(len(new))
    return httpx.Request(request.method, request.url, headers=headers, content=new, extensions=request.extensions)


def _sent(request: httpx.Request) -> bytes | None:
    if "json" not in request.headers.get("content-type", ""):
        return None
    try:
        return request.content
    except httpx.RequestNotRead:
        return None


def _install_httpx() -> None:
    sync_send = httpx.Client._send_single_request
    async_send = httpx.AsyncClient._send_single_request

    def send(self: httpx.Client, request: httpx.Request) -> httpx.Response:
        request = _rebuilt(request)
        body = _sent(request)
        try:
            response = sync_send(self, request)
        except httpx.HTTPError as error:
            RECORDER.add(request.method, str(request.url), None, f"{type(error).__name__}: {error}", body)
            raise
        detail = ""
        if response.status_code >= 400:
            detail = response.read().decode("utf-8", "replace")
        RECORDER.add(request.method, str(request.url), response.status_code, detail, body)
        return response

    async def async_send_(self: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
        request = _rebuilt(request)
        body = _sent(request)
        try:
            response = await async_send(self, request)
        except httpx.HTTPError as error:
            RECORDER.add(request.method, str(request.url), None, f"{type(error).__name__}: {error}", body)
            raise
        detail = ""
        if response.status_code >= 400:
            detail = (await response.aread()).decode("utf-8", "replace")
        RECORDER.add(request.method, str(request.url), response.status_code, detail, body)
        return response

    httpx.Client._send_single_request = send  # type: ignore[method-assign]
    httpx.AsyncClient._send_single_request = async_send_  # type: ignore[method-assign]


def _install_requests() -> None:
    import requests

    original = requests.Session.send

    def send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        content_type = str(request.headers.get("Content-Type", ""))
        sent = request.body if isinstance(request.body, (bytes, str)) else None  # not a streamed upload
        if request.method in ("POST", "PUT", "PATCH"):
            new = _rewritten_body(str(request.url), content_type, sent)
            if new is not None:
                request.body = sent = new
                request.headers["Content-Length"] = str(len(new))
        body = sent if "json" in content_type else None
        try:
            response = original(self, request, **kwargs)
        except requests.RequestException as error:
            RECORDER.add(str(request.method), str(request.url), None, f"{type(error).__name__}: {error}", body)
            raise
        detail = response.text if response.status_code >= 400 else ""
        RECORDER.add(str(request.method), str(request.url), response.status_code, detail, body)
        return response

    requests.Session.send = send  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    _install_httpx()
    _install_requests()


# --- what each test did ---------------------------------------------------------------------------------------------

_reports: dict[str, dict[str, Any]] = {}


def _write(record: dict[str, Any]) -> None:
    if not _LOG:
        return
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    RECORDER.begin("setup")
    _reports[item.nodeid] = {"nodeid": item.nodeid, "started": time.time(), "phases": {}}
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    RECORDER.begin("call")
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Any:
    RECORDER.begin("teardown")
    yield


def _crash(report: pytest.TestReport) -> dict[str, Any]:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, lineno, reason)
        return {"message": str(longrepr[2])}
    crash = getattr(longrepr, "reprcrash", None)
    text = report.longreprtext
    out: dict[str, Any] = {"tail": text[-3000:]}
    if crash is not None:
        out["message"] = crash.message[:1000]
        out["where"] = f"{os.path.basename(crash.path)}:{crash.lineno}"
    else:
        out["message"] = text.strip().splitlines()[-1][:1000] if text.strip() else ""
    out.update(_test_frame(longrepr))
    return out


def _test_frame(longrepr: Any) -> dict[str, str]:
    """Where in Letta's test files the failure happened: the innermost frame in tests/ and its statement (a crash
    inside pydantic or the SDK is keyed by the test line that led there)."""
    chain = getattr(longrepr, "chain", None)
    traceback = chain[-1][0] if chain else getattr(longrepr, "reprtraceback", None)
    for entry in reversed(getattr(traceback, "reprentries", [])):
        location = getattr(entry, "reprfileloc", None)
        if location is None or not str(location.path).startswith("tests/"):
            continue
        statement = next((line[1:].strip() for line in getattr(entry, "lines", []) if line.startswith(">")), "")
        return {"where": f"{os.path.basename(str(location.path))}:{location.lineno}", "statement": statement[:200]}
    return {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    record = _reports.setdefault(report.nodeid, {"nodeid": report.nodeid, "started": time.time(), "phases": {}})
    phase: dict[str, Any] = {"outcome": report.outcome, "duration": round(report.duration, 3)}
    if report.outcome != "passed":
        phase.update(_crash(report))
    record["phases"][report.when] = phase
    if report.when != "teardown":
        return
    record["requests"] = RECORDER.take()
    record["duration"] = round(time.time() - record.pop("started"), 3)
    _write(record)
    _reports.pop(report.nodeid, None)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _write({"collect_error": report.nodeid, "message": report.longreprtext[-2000:]})
