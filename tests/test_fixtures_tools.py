"""``letta-mock fixtures list`` and ``fixtures check`` as a user runs them, on files the tests break on purpose."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from _local import LETTA_MOCK

from mockserver.recording.format import RecordedRequest
from mockserver.recording.library import curated_names, curated_root
from mockserver.recording.listing import body_summary, short_ids

CURATED = Path(str(curated_root()))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LETTA_MOCK, *args], capture_output=True, text=True, timeout=120, check=False)


def curated(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((CURATED / f"{name}.json").read_text())
    return value


def write(path: Path, value: Any) -> Path:
    path.write_text(value if isinstance(value, str) else json.dumps(value, indent=2))
    return path


# -- fixtures list ------------------------------------------------------------------------------------------------


def blocks(stdout: str) -> dict[str, list[str]]:
    """Each fixture's line (not indented) and the request lines under it."""
    out: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        if line.startswith("  "):
            out[list(out)[-1]].append(line)
        else:
            out[line] = []
    return out


def test_fixtures_list_shows_each_curated_fixtures_requests_with_their_bodies() -> None:
    result = run("fixtures", "list")
    assert result.returncode == 0, result.stderr
    listed = blocks(result.stdout)
    assert [line.split()[0] for line in listed] == list(curated_names())
    approval = next(requests for line, requests in listed.items() if line.startswith("approval_round_trip "))
    path = "/v1/agents/agent-cccccccc…0001/messages"
    assert [line.split() for line in approval] == [
        ["POST", path, '"Delete', "the", "temporary", 'files."', "·", "streaming"],
        ["POST", path, "approve", "call_000000000000000002266001", "·", "streaming"],
        ["GET", path],
        ["GET", path, "after=message-00000000…6012"],
    ]
    polls = next(requests for line, requests in listed.items() if line.startswith("async_run "))
    assert polls[1].split() == ["GET", "/v1/runs/run-00000000…3001", "6", "times"]  # a run polled six times: one line
    assert polls[-1].split()[-1] == "starting_after=3"
    tools = next(requests for line, requests in listed.items() if line.startswith("client_tool "))
    assert tools[0].endswith('"Open the settings page." · streaming · client_tools=[open_page]')


def test_fixtures_list_aligns_its_columns_whatever_the_lengths_of_names_and_paths(tmp_path: Path) -> None:
    reply = curated("reply")
    reply["description"] = "two sends"
    history = curated("paginated_history")
    history["description"] = "three sends and two pages"
    long_name = "0002-" + "a-fixture-file-with-a-name-far-longer-than-any-column-would-guess" * 2 + ".json"
    write(tmp_path / "0001-r.json", reply)
    write(tmp_path / long_name, history)
    write(tmp_path / "0003-broken.json", '{"letta_mock_fixture": 1, "exchanges": [')
    result = run("fixtures", "list", str(tmp_path))
    assert result.returncode == 1  # a file could not be loaded: said on its line
    lines = result.stdout.splitlines()
    heads = [line for line in lines if not line.startswith(" ")]
    assert [head.split()[0] for head in heads] == [str(tmp_path / n) for n in ("0001-r.json", long_name,
                                                                              "0003-broken.json")]  # fmt: skip
    column = {head.index(about) for head, about in zip(heads, ["two sends", "three sends", "(cannot be loaded"],
                                                       strict=True)}  # fmt: skip
    assert column == {len(str(tmp_path / long_name)) + 2}  # every description starts at the same column
    assert "(cannot be loaded: not JSON (Expecting value: line 1 column 41" in heads[2]
    requests = [line for line in lines if line.startswith("  ")]
    assert len(requests) == 2 + 5
    paths = {line.index("/v1/") for line in requests}
    assert len(paths) == 1  # GET and POST: the paths start at one column
    asked = [line for line in requests if '"' in line or "=" in line]
    assert len({line.index('"') if '"' in line else line.index("limit=") for line in asked}) == 1
    assert requests[-1].split()[-3:] == ["limit=3", "·", "after=message-00000000…7009"]


@pytest.mark.parametrize(
    ("body", "summary"),
    [
        ({"input": "hi", "streaming": True, "stream_tokens": False}, '"hi" · streaming · stream_tokens=false'),
        ({"input": [{"type": "text", "text": "look at "}, {"type": "image"}]}, '"look at [image]"'),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "hello"}]},
                    {"role": "system", "content": "be brief"},
                ]
            },
            '"hello" · system "be brief"',
        ),
        (
            {
                "messages": [
                    {
                        "type": "approval",
                        "approvals": [{"type": "approval", "tool_call_id": "call_1", "approve": False}],
                    }
                ]
            },
            "deny call_1",
        ),
        ({"input": "x" * 80}, '"' + "x" * 47 + '…"'),
        ({"name": "helper", "tools": ["a"], "llm_config": {}}, 'name="helper" · tools=[1] · llm_config={…}'),
        ({"client_tools": [{"name": "open_page"}, {"name": "close"}]}, "client_tools=[open_page, close]"),
        ({}, "{}"),
        ([1, 2], '"[1, 2]"'),
    ],
)
def test_a_request_body_is_summed_up_in_a_few_words(body: Any, summary: str) -> None:
    assert body_summary(RecordedRequest(method="POST", path="/v1/x", json=body)) == summary


def test_a_body_that_is_not_json_is_named_with_its_size_and_ids_are_shortened() -> None:
    assert body_summary(RecordedRequest(method="POST", path="/v1/x", text="plain words")) == "text (11 bytes)"
    assert body_summary(RecordedRequest(method="POST", path="/v1/x", base64="AAEC")) == "binary (3 bytes)"
    assert body_summary(RecordedRequest(method="GET", path="/v1/x")) == ""
    assert short_ids("/v1/agents/agent-123e4567-e89b-42d3-8456-426614174000/x") == "/v1/agents/agent-123e4567…4000/x"


# -- fixtures check -------------------------------------------------------------------------------------------------


def test_fixtures_check_reports_every_problem_of_every_file_by_file_and_location(tmp_path: Path) -> None:
    folder = tmp_path / "recorded"
    folder.mkdir()
    write(folder / "0001-not-json.json", '{"letta_mock_fixture": 1,\n  "exchanges": [\n}')
    misspelt = curated("reply")
    misspelt["exchanges"][0]["request"]["bodyy"] = misspelt["exchanges"][0]["request"].pop("json")
    misspelt["exchanges"][1]["response"]["status"] = 999
    write(folder / "0002-misspelt.json", misspelt)
    write(folder / "0003-good.json", curated("tool_call"))
    no_stop = curated("reasoning")
    stream = no_stop["exchanges"][0]["response"]["stream"]
    stream["chunks"] = [c for c in stream["chunks"] if "stop_reason" not in c.get("text", "")]
    stream["events"] = [e for e in stream["events"] if e.get("data", {}).get("message_type") != "stop_reason"]
    no_stop["exchanges"][0]["request"]["json"]["streaming"] = "yes"
    write(folder / "0004-no-stop-reason.json", no_stop)
    write(folder / "0005-future.json", {**curated("reply"), "letta_mock_fixture": 2})
    result = run("fixtures", "check", str(folder))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{folder}/0001-not-json.json: line 3 column 1: not JSON (Expecting value)",
        f"{folder}/0002-misspelt.json: /exchanges/0/request/bodyy: Extra inputs are not permitted",
        f"{folder}/0002-misspelt.json: /exchanges/1/response/status: Input should be less than or equal to 599",
        f'{folder}/0004-no-stop-reason.json: /exchanges/0/request/json/streaming: "yes" is not of type "boolean" '
        "[letta-mock]",
        f"{folder}/0004-no-stop-reason.json: /exchanges/0/response/stream: not one of Letta's stream grammars: no "
        "stop_reason: ['ping', 'reasoning_message', 'assistant_message', 'usage_statistics', '[DONE]'] [letta-mock]",
        f"{folder}/0005-future.json: /: fixture format version 2; letta-mock 0.1.0 reads version 1",
    ]
    summary = "letta-mock fixtures check: 6 problems in 4 of 5 files (against letta-mock)"
    assert result.stderr.splitlines()[-1] == summary


def test_fixtures_check_goes_on_past_a_path_that_names_nothing_and_says_when_all_is_well(tmp_path: Path) -> None:
    good = write(tmp_path / "good.json", curated("reply"))
    result = run("fixtures", "check", str(tmp_path / "missing"), str(good))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path}/missing: /: no such file or directory (and not a curated fixture's name)"]  # fmt: skip
    assert result.stderr.splitlines()[-1] == "letta-mock fixtures check: 1 problem in 1 of 2 files (against letta-mock)"
    result = run("fixtures", "check", str(good), "reply")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.splitlines()[-1] == "letta-mock fixtures check: no problems in 2 files (against letta-mock)"
