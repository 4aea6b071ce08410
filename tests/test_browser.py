"""A real browser (headless Chromium, driven by Playwright) on the example chat page and the dashboard.

The chat page is served from a second local port — another origin, as a web app's dev server is — and streams
from the mock through fetch; the dashboard then shows those exchanges. Screenshots are written to
tests/artifacts/ (ignored by git) and their paths printed. Chromium is the system's (Debian ``chromium``, which
.ci/run installs); Playwright never downloads a browser here. Skipped only when no Chromium is installed.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _local import ROOT
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from mockserver.live import LiveServer

ARTIFACTS = ROOT / "tests" / "artifacts"
AGENT = "agent-123e4567-e89b-42d3-8456-426614174000"
# The machine's network is closed: Chromium must not try to reach anything on its own.
# attacker.example is a site of the open web that resolves to this machine (as DNS rebinding makes it).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP attacker.example 127.0.0.1"]  # fmt: skip
TIMEOUT_MS = 15_000

# WCAG contrast of every visible element's own text against its effective background (AA: 4.5:1, large 3:1).
CONTRAST_AUDIT = """() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return { r, g, b, a }; };
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (el) => { for (let n = el; n; n = n.parentElement) {
    const c = parse(getComputedStyle(n).backgroundColor); if (c && c.a > 0.5) return c; }
    return parse(getComputedStyle(document.documentElement).backgroundColor) || { r: 255, g: 255, b: 255 }; };
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const style = getComputedStyle(el);
    const a = lum(parse(style.color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const text = el.textContent.trim().slice(0, 40);
    if (ratio < (large ? 3 : 4.5)) bad.push(`${el.tagName}.${el.className}: "${text}" ${ratio.toFixed(2)}`);
  }
  return bad;
}"""


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")  # not longer: Playwright's sync API keeps an event loop running in this thread
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium; it could not be installed here)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh --user-data-dir
            executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 900},
        )  # fmt: skip
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()


@pytest.fixture(scope="module")
def chat_origin() -> Iterator[str]:
    """examples/chat on its own port: the page's origin is not the mock's. (By the name attacker.example too, it
    plays a page of another site.)"""
    app = Starlette(routes=[Mount("/", StaticFiles(directory=ROOT / "examples" / "chat", html=True))])
    with LiveServer(app, allowed_hosts=["attacker.example"]) as server:
        yield server.url


@pytest.fixture
def console_errors() -> list[str]:
    """Script errors and console errors of the test's pages (a test takes out the ones it caused on purpose)."""
    return []


@pytest.fixture
def page(browser: Any, console_errors: list[str]) -> Iterator[Any]:
    def watch(new: Any) -> None:
        new.on("pageerror", lambda error: console_errors.append(str(error)))
        new.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)

    browser.on("page", watch)
    page = browser.new_page()
    yield page
    browser.remove_listener("page", watch)
    page.close()
    assert console_errors == []  # no script error, no failed request, no CSP violation


def screenshot(page: Any, name: str) -> Path:
    """The whole page, taken with a viewport as tall as the page so sticky bars stay where a reader sees them."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], page.evaluate(
        "document.documentElement.scrollHeight"))})  # fmt: skip
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    print(f"screenshot: {path}")
    return path


def open_chat(page: Any, chat_origin: str, mock_url: str) -> None:
    page.goto(f"{chat_origin}/index.html?server={mock_url}&agent={AGENT}")


def say(page: Any, text: str) -> None:
    page.fill("#message", text)
    page.press("#message", "Enter")


# -- the example chat page ----------------------------------------------------------------------------------------


@pytest.mark.letta_mock(seed=5, controls="token_delay_ms=3")
def test_the_chat_page_streams_reasoning_a_tool_call_its_return_and_the_reply(
    page: Any, chat_origin: str, letta_mock_url: str, letta_mock_journal: Any
) -> None:
    open_chat(page, chat_origin, letta_mock_url)
    say(page, "/tool web_search")
    page.wait_for_selector(".turn .stop b:text('end_turn')")
    turn = page.locator(".turn").last
    assert turn.locator(".reasoning").count() == 2
    assert turn.locator(".tool .body").inner_text().startswith("web_search({")
    assert turn.locator(".tool-return .label").inner_text() == "WEB_SEARCH RETURNED (SUCCESS)"
    reply = turn.locator(".assistant .body").inner_text()
    sent = letta_mock_journal.assert_called_once_with("send_message", input="/tool web_search", streaming=True)
    streamed = "".join(e["content"] for e in sent.response.events if isinstance(e, dict)
                       and e.get("message_type") == "assistant_message")  # fmt: skip
    assert reply == streamed  # the page put every token chunk together, in order
    assert sent.request.headers["origin"] == chat_origin  # a cross-origin request, allowed by the mock's CORS
    assert page.evaluate(CONTRAST_AUDIT) == []
    screenshot(page, "chat-tool-call")


@pytest.mark.letta_mock(seed=5)
def test_the_chat_page_asks_for_approval_and_continues_or_denies(
    page: Any, chat_origin: str, letta_mock_url: str, letta_mock_journal: Any
) -> None:
    open_chat(page, chat_origin, letta_mock_url)
    say(page, "/approve delete_file")
    approve = page.get_by_role("button", name="Approve delete_file")
    approve.wait_for()
    assert page.locator(".approval-call .body").first.inner_text().startswith("delete_file(")
    assert page.evaluate("document.activeElement.textContent") == "Approve"  # keyboard users land on the choice
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn .stop b:text('end_turn')")
    approval = letta_mock_journal.last.request.json["messages"][0]["approvals"][0]
    assert approval["approve"] is True
    assert page.locator(".turn .tool-return").count() == 1
    say(page, "/approve send_email")
    page.get_by_role("button", name="Deny send_email").click()
    page.wait_for_selector(".turn >> nth=1 >> .stop b:text('end_turn')")
    assert letta_mock_journal.last.request.json["messages"][0]["approvals"][0]["approve"] is False
    assert page.locator(".turn").nth(1).locator(".approval").inner_text().endswith("denied")
    screenshot(page, "chat-approvals")


@pytest.mark.letta_mock(seed=5)
def test_the_chat_page_shows_an_in_band_error(page: Any, chat_origin: str, letta_mock_url: str) -> None:
    open_chat(page, chat_origin, letta_mock_url)
    say(page, "/error llm_rate_limit")
    error = page.wait_for_selector(".turn .error")
    assert error.inner_text().startswith("Error llm_rate_limit: Rate limit exceeded")
    assert page.locator(".turn .stop b").inner_text() == "llm_api_error"


@pytest.mark.letta_mock(seed=5)
def test_a_page_of_another_site_can_neither_call_the_mock_nor_rebind_to_it(
    page: Any, chat_origin: str, letta_mock_url: str, letta_mock_journal: Any, console_errors: list[str]
) -> None:
    elsewhere = chat_origin.replace("127.0.0.1", "attacker.example")  # the same page, from another site
    open_chat(page, elsewhere, letta_mock_url)
    say(page, "hello from elsewhere")
    error = page.wait_for_selector(".turn .error")
    assert error.inner_text().startswith("Error network:")  # the browser kept the refused answer from the page
    assert not letta_mock_journal.called  # and nothing reached the mock
    assert any("blocked by CORS policy" in text for text in console_errors)
    console_errors.clear()
    # DNS rebinding: a page of attacker.example whose name now resolves to the mock is same-origin with it, but the
    # mock does not answer its name.
    port = letta_mock_url.rsplit(":", 1)[1]
    # The browser's own favicon request would be refused too, whenever it comes: answer it here, not racing it.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    rebound = page.goto(f"http://attacker.example:{port}/_mock/journal")
    assert rebound is not None
    assert rebound.status == 403
    assert "--letta-mock-allowed-hosts attacker.example" in page.inner_text("body")
    page.goto("about:blank")  # the refused page's console messages are all delivered before this navigation ends
    assert console_errors == ["Failed to load resource: the server responded with a status of 403 (Forbidden)"]
    console_errors.clear()  # the 403 of the page itself


@pytest.mark.letta_mock(seed=5)
def test_the_chat_page_opened_from_disk_is_refused_as_its_readme_says(
    page: Any, letta_mock_url: str, letta_mock_journal: Any, console_errors: list[str]
) -> None:
    page.goto(f"{(ROOT / 'examples' / 'chat' / 'index.html').as_uri()}?server={letta_mock_url}&agent={AGENT}")
    say(page, "hello from a file")
    assert page.wait_for_selector(".turn .error").inner_text() == "Error network: TypeError: Failed to fetch"
    assert not letta_mock_journal.called
    assert any("from origin 'null' has been blocked by CORS policy" in text for text in console_errors)
    console_errors.clear()


# -- the dashboard ------------------------------------------------------------------------------------------------


@pytest.mark.letta_mock(seed=5, controls="token_delay_ms=2")
def test_the_dashboard_shows_the_chats_exchange_live_with_each_event_timed(
    page: Any, chat_origin: str, letta_mock_url: str
) -> None:
    open_chat(page, chat_origin, letta_mock_url)
    say(page, "/tool web_search")
    page.wait_for_selector(".turn .stop b:text('end_turn')")
    dashboard = page.context.new_page()
    dashboard.goto(f"{letta_mock_url}/_mock/")
    row = dashboard.locator("details.exchange", has_text="send_message")
    row.wait_for()
    assert "SSE" in row.locator(".kind").inner_text()
    assert "end_turn" in row.locator(".kind").inner_text()
    dashboard.focus("details.exchange >> nth=0 >> summary")
    dashboard.keyboard.press("Enter")  # expandable from the keyboard
    dashboard.wait_for_selector("details.exchange[open] .events li[data-type='tool_call_message']")
    events = dashboard.locator("details.exchange[open] .events li")
    types = events.evaluate_all("items => items.map(li => li.dataset.type)")
    assert types[0] == "ping"
    assert types[-1] == "[DONE]"
    assert "tool_return_message" in types
    assert "ping" in events.first.get_attribute("class")
    offsets = [float(t.lstrip("+").split()[0]) for t in events.locator(".at").all_inner_texts()]
    assert offsets == sorted(offsets)
    assert offsets[-1] > offsets[0]
    request_body = dashboard.locator("details.exchange[open] .body pre").first.inner_text()
    assert '"input": "/tool web_search"' in request_body
    dashboard.locator("#agents button", has_text="History").first.click()
    dashboard.wait_for_selector("#history-items li[data-type='user_message']")
    assert dashboard.evaluate(CONTRAST_AUDIT) == []
    screenshot(dashboard, "dashboard-exchange")
    dashboard.emulate_media(color_scheme="dark")
    assert dashboard.evaluate(CONTRAST_AUDIT) == []
    screenshot(dashboard, "dashboard-exchange-dark")
    dashboard.close()


@pytest.mark.letta_mock(seed=5)
def test_the_dashboard_changes_the_defaults_refuses_bad_ones_and_resets(
    page: Any, letta_mock_url: str, console_errors: list[str]
) -> None:
    page.goto(f"{letta_mock_url}/_mock/")
    page.select_option("#ctl-scenario", "reply")
    page.fill("#ctl-reply", "Set from the dashboard.")
    page.fill("#ctl-token_delay_ms", "7")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_selector("#controls-status:text('Applied')")
    assert httpx.get(f"{letta_mock_url}/_mock/defaults").json() == {
        "scenario": "reply", "reply": "Set from the dashboard.", "token_delay_ms": 7}  # fmt: skip
    assert page.inner_text("#defaults-now") == "scenario=reply; reply=Set from the dashboard.; token_delay_ms=7"
    page.fill("#ctl-fault", "nope:3")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_selector("#controls-status.bad")
    assert "unknown fault 'nope'" in page.inner_text("#controls-status")
    assert console_errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    console_errors.clear()
    httpx.post(f"{letta_mock_url}/v1/agents/{AGENT}/messages", json={"input": "hi"})
    page.wait_for_selector("details.exchange")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset mock").click()
    page.wait_for_selector("#journal-empty", state="visible")
    assert page.locator("details.exchange").count() == 0
    assert httpx.get(f"{letta_mock_url}/_mock/defaults").json() == {}
    page.wait_for_selector("#agents-empty", state="visible")


@pytest.mark.letta_mock(seed=5)
def test_the_dashboard_follows_a_stream_while_it_streams_and_filters_the_journal(
    page: Any, letta_mock_url: str
) -> None:
    import threading

    page.goto(f"{letta_mock_url}/_mock/")
    page.wait_for_selector("#journal-empty", state="visible")
    slow = {"X-Letta-Mock": "scenario=long; tokens=40; token_delay_ms=40"}
    body = {"input": "tell me a story", "streaming": True, "stream_tokens": True}
    sender = threading.Thread(target=lambda: httpx.post(
        f"{letta_mock_url}/v1/agents/{AGENT}/messages", json=body, headers=slow, timeout=30))  # fmt: skip
    sender.start()
    page.wait_for_selector(".exchange .pill:text('streaming…')")  # in the journal before it is over
    page.wait_for_selector(".exchange .pill:text-is('200')")
    sender.join(timeout=30)
    assert "end_turn" in page.inner_text(".exchange .kind")
    httpx.get(f"{letta_mock_url}/v1/health/")
    page.wait_for_selector("details.exchange >> nth=1")
    page.fill("#filter", "health")
    assert page.locator("li:not([hidden]) > details.exchange").count() == 1
    assert page.locator("li:not([hidden]) > details.exchange .op").inner_text() == "check_health"
    page.fill("#filter", "")
    page.locator("details.exchange", has_text="send_message").locator("summary").click()
    page.wait_for_selector("details.exchange[open] .events li.ping")
    page.check("#hide-pings")
    assert not page.locator("details.exchange[open] .events li.ping").is_visible()


# -- the dashboard's first paint and layout -------------------------------------------------------------------------

LONG_TEXT = ("Plan a three-day walking tour of Lisbon for two people who like old bookshops, tiled churches, "
             "viewpoints and custard tarts")  # fmt: skip
MISSING = "agent-00000000-0000-4000-8000-000000000404"

# Of each journal row: its operation, whether the operation is wholly shown (not cut, inside its cell), what the
# user said and whether that is wholly shown.
ROWS = """() => [...document.querySelectorAll("details.exchange > summary")].map((row) => {
  const op = row.querySelector(".op"), said = row.querySelector(".said"), cell = row.querySelector(".what");
  const right = (el) => el.getBoundingClientRect().right;
  const whole = (el) => !!el && el.getClientRects().length > 0 && el.scrollWidth <= el.clientWidth
    && el.scrollHeight <= el.clientHeight + 1 && right(el) <= right(row);
  return { op: op && op.textContent, opWhole: whole(op) && right(op) <= right(cell),
           kind: row.querySelector(".kind").textContent, said: said && said.textContent, saidWhole: whole(said) };
})"""


def seven_exchanges(url: str) -> None:
    """What a front-end developer has done before opening the dashboard: seven exchanges of several kinds."""
    send = f"{url}/v1/agents/{AGENT}/messages"
    first = httpx.post(send, json={"input": "What is the weather in Paris?"})
    cursor = first.raise_for_status().json()["messages"][0]["id"]
    httpx.post(send, json={"input": "/tool web_search", "streaming": True}, timeout=30).raise_for_status()
    httpx.post(f"{send}/stream", json={"input": LONG_TEXT, "stream_tokens": True}, timeout=30).raise_for_status()
    long_query = {"limit": 10, "after": cursor, "order": "asc", "include_err": "false"}
    httpx.get(send, params=long_query).raise_for_status()
    drop = {"X-Letta-Mock": "fault=drop_after:1"}
    with pytest.raises(httpx.RemoteProtocolError):  # the connection drops after the first event
        httpx.post(send, json={"input": "cut me off", "streaming": True}, headers=drop)
    httpx.post(f"{url}/v1/agents/", json={"name": "helper"}).raise_for_status()  # with one item: its system message
    assert httpx.get(f"{url}/v1/agents/{MISSING}/messages").status_code == 404  # a closed world: unknown agent
    httpx.put(f"{url}/_mock/agents/{AGENT}/script", json={"turns": [{"reply": "Scripted."}]}).raise_for_status()


@pytest.mark.letta_mock(seed=5, agents=[AGENT])
def test_the_dashboards_first_paint_is_the_journal_as_it_is_before_the_live_channel_answers(
    page: Any, letta_mock_url: str
) -> None:
    seven_exchanges(letta_mock_url)
    held: list[Any] = []  # the live channel (the journal's changes, the agents), held until the checks are done
    live = threading.Event()

    def hold(route: Any) -> None:
        route.continue_() if live.is_set() else held.append(route)

    page.route("**/_mock/journal/changes*", hold)
    page.route("**/_mock/agents", hold)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{letta_mock_url}/_mock/", wait_until="domcontentloaded")
    # No waiting from here on: what the page shows now is its first paint.
    assert page.inner_text("#live") == "connecting…"  # the live channel has not answered
    version = httpx.get(f"{letta_mock_url}/_mock/").json()["journal"]["version"]
    # Its one request so far: the changes after what the page came with.
    assert [route.request.url.split("/_mock/")[1] for route in held] == [f"journal/changes?since={version}"]
    assert not page.is_visible("#journal-empty")
    assert page.inner_text("#journal-count") == "(7 kept of 1,000)"
    rows = page.evaluate(ROWS)
    assert [row["op"] for row in rows] == ["list_messages", "create_agent", "send_message", "list_messages",
                                           "create_agent_message_stream", "send_message", "send_message"]  # fmt: skip
    assert all(row["opWhole"] for row in rows), rows  # a long path or a stream row: not cut
    assert [row["said"] for row in rows] == [None, None, "cut me off", None, LONG_TEXT, "/tool web_search",
                                             "What is the weather in Paris?"]  # fmt: skip
    assert all(row["saidWhole"] for row in rows if row["said"]), rows
    tool, story = (e["response"]["events"] for e in httpx.get(f"{letta_mock_url}/_mock/journal").json()[1:3])
    assert [row["kind"] for row in rows][2:6] == ["SSE · 1 event", "json", f"SSE · {story} events · end_turn",
                                                  f"SSE · {tool} events · end_turn"]  # fmt: skip
    # The agents panel: in the window at 1400x1000, each id whole.
    panel = page.locator("#agents-panel").bounding_box()
    assert min(panel["x"], panel["y"]) >= 0, panel
    assert panel["x"] + panel["width"] <= 1400, panel
    assert panel["y"] + panel["height"] <= 1000, panel
    agents = httpx.get(f"{letta_mock_url}/_mock/agents").json()
    ids = page.locator("#agents .id")
    assert ids.all_inner_texts() == [agent["id"] for agent in agents]
    assert AGENT in ids.all_inner_texts()
    # Each id whole: not cut (nothing overflows) and on one line (its text is one box).
    lines = "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getClientRects().length; }"
    assert ids.evaluate_all(f"ids => ids.map({lines})") == [1] * len(agents)
    assert ids.evaluate_all("ids => ids.every(e => e.scrollWidth <= e.clientWidth)")
    for box in (ids.nth(i).bounding_box() for i in range(len(agents))):
        assert box["x"] >= panel["x"]
        assert box["x"] + box["width"] <= panel["x"] + panel["width"]
        assert box["y"] + box["height"] <= panel["y"] + panel["height"]
    metas = page.locator("#agents .meta").all_inner_texts()
    mine = next(agent for agent in agents if agent["id"] == AGENT)
    assert metas[agents.index(mine)] == f"{mine['items']} items · last: end_turn · 1 scripted turn"
    created = next(agent for agent in agents if agent["id"] != AGENT)
    assert metas[agents.index(created)] == "1 item"
    assert "world closed (1 agent)" in " ".join(page.inner_text("#facts").split())
    shown = page.inner_text("main") + page.inner_text("header")
    assert not re.findall(r"\b1 (?!ms\b)[a-z]+s\b|\(s\)", shown)  # "1 items", "step(s)"
    assert page.evaluate(CONTRAST_AUDIT) == []
    screenshot(page, "dashboard-first-paint")
    page.emulate_media(color_scheme="dark")
    assert page.evaluate(CONTRAST_AUDIT) == []
    screenshot(page, "dashboard-first-paint-dark")
    page.emulate_media(color_scheme="light")
    # Then it goes live: the held poll goes through, and a new exchange appears.
    live.set()
    for route in held:
        route.continue_()
    httpx.post(f"{letta_mock_url}/v1/agents/{AGENT}/messages", json={"input": "and now live"})
    page.wait_for_selector("details.exchange .said:text-is('and now live')")
    assert page.inner_text("#live") == "live"
    assert page.locator("details.exchange").count() == 8
    items = next(a["items"] for a in httpx.get(f"{letta_mock_url}/_mock/agents").json() if a["id"] == AGENT)
    page.wait_for_selector(f"#agents .meta:text-is('{items} items · last: end_turn')")  # the scripted turn is used
    page.get_by_role("button", name=f"History of {created['id']}").click()
    page.wait_for_selector(f"#history-title:text-is('History of {created['id']} (1 item)')")
