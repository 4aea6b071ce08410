"""A real browser (headless Chromium, driven by Playwright) on the example chat page and the dashboard.

The chat page is served from a second local port — another origin, as a web app's dev server is — and streams
from the mock through fetch; the dashboard then shows those exchanges. Screenshots are written to
tests/artifacts/ (ignored by git) and their paths printed. Chromium is the system's (Debian ``chromium``, which
.ci/run installs); Playwright never downloads a browser here. Skipped only when no Chromium is installed.
"""

from __future__ import annotations

import shutil
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
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
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
    """examples/chat on its own port: the page's origin is not the mock's."""
    app = Starlette(routes=[Mount("/", StaticFiles(directory=ROOT / "examples" / "chat", html=True))])
    with LiveServer(app) as server:
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
