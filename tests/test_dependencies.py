"""Dependency versions that break us in ways our own code cannot see."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from importlib.metadata import metadata, requires
from typing import Any

import pytest
from _local import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis_jsonschema import from_schema


def test_hypothesis_jsonschema_can_draw_an_object_schema() -> None:
    # hypothesis-jsonschema 0.23.1 crashes on every object schema with hypothesis >= 6.170.10
    # ("AttributeError: 'many' object has no attribute 'more'"); the `test` extra caps hypothesis below that (not
    # letta-mock's own dependency: it does not use hypothesis-jsonschema). The benchmark and the OpenAPI checks draw
    # from object schemas, so a bad upgrade must fail here first.
    schema: dict[str, Any] = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}

    @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(from_schema(schema))
    def check(value: Any) -> None:
        assert isinstance(value, dict)
        assert isinstance(value["a"], int)

    check()


def test_what_the_commands_use_comes_with_letta_mock_and_no_text_names_an_extra_a_clone_lacks() -> None:
    # `pip install .` brings every command the README shows: the strategies and the fuzzer (hypothesis,
    # schemathesis) and letta-mock conformance (the official SDK) are dependencies, not extras.
    needed = {re.split(r"[<>=!~ ;]", spec, maxsplit=1)[0] for spec in requires("letta-mock") or ()
              if "extra ==" not in spec}  # fmt: skip
    assert {"hypothesis", "schemathesis", "letta-client"} <= needed
    extras = set(metadata("letta-mock").get_all("Provides-Extra") or ())
    texts = [p for p in ROOT.rglob("*") if p.suffix in (".md", ".py", ".toml", ".txt") and p.is_file()
             and not {".venv", ".git", "node_modules"} & set(p.relative_to(ROOT).parts)]  # fmt: skip
    named = {(str(p.relative_to(ROOT)), extra) for p in texts
             for extra in re.findall(r"letta-mock\[([\w,-]+)\]", p.read_text(errors="replace"))}  # fmt: skip
    assert {(where, extra) for where, extra in named if not set(extra.split(",")) <= extras} == set()


def test_the_fastest_stack_comes_with_letta_mock_where_it_exists() -> None:
    # uvicorn's loop="auto" and http="auto" take uvloop and httptools when they import (issue 19: a third of the
    # distance to a bare app on the fast stack); uvloop exists only for CPython off Windows.
    from packaging.requirements import Requirement
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from mockserver import create_app
    from mockserver.serving import uvicorn_config

    wanted = {Requirement(spec).name: Requirement(spec) for spec in requires("letta-mock") or ()}
    uvloop = wanted["uvloop"].marker
    assert uvloop is not None
    assert "httptools" in wanted
    linux = {"sys_platform": "linux", "platform_python_implementation": "CPython"}
    assert uvloop.evaluate(linux)
    assert not uvloop.evaluate({**linux, "sys_platform": "win32"})
    assert not uvloop.evaluate({**linux, "platform_python_implementation": "PyPy"})
    config = uvicorn_config(create_app(), host="127.0.0.1", port=0, log_level="warning")
    assert (config.loop, config.http) == ("auto", "auto")  # nothing of ours pins asyncio or h11
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol


def test_without_uvloop_and_httptools_the_mock_serves_on_asyncio_and_h11() -> None:
    # Where they do not exist (Windows, PyPy), uvicorn falls back and the mock answers as ever.
    code = """
import sys
sys.modules["uvloop"] = sys.modules["httptools"] = None  # import fails, as where they are not installed
import httpx
from mockserver.live import LiveServer
with LiveServer() as server:
    answer = httpx.get(server.url + "/v1/health/")
    config = server._server.config
    print(answer.status_code, config.http_protocol_class.__name__)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    status, protocol = done.stdout.split()
    assert (status, protocol) == ("200", "H11Protocol")


@pytest.mark.parametrize(("level", "lines"), [("debug", True), ("info", True), ("warning", False), ("error", False)])
def test_access_lines_are_logged_only_at_a_level_that_shows_them(level: str, lines: bool) -> None:
    # Below "info" uvicorn would format every request's access line for a logger that drops it.
    from mockserver import create_app
    from mockserver.serving import uvicorn_config

    config = uvicorn_config(create_app(), host="127.0.0.1", port=0, log_level=level)
    config.load()
    assert config.access_log is lines
    assert logging.getLogger("uvicorn.access").hasHandlers() is lines
    # Not made at all below "info": uvicorn would drop it, and a handler dropped runs a weakref callback that
    # swallows a Ctrl-C arriving then (`letta-mock record` ran on, tests/test_allowlists.py's record test hung).
    assert isinstance(config.log_config, dict)
    assert ("access" in config.log_config["handlers"]) is lines
