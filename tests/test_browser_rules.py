"""A real browser (headless Chromium, Playwright; tests/test_browser.py's set-up) on the dashboard's rules: the
rules panel lists each rule with its hits, and the journal names the rule that answered each exchange."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_browser import AGENT, CONTRAST_AUDIT, browser, console_errors, page, screenshot

from mockserver.authored import Match, MatchRule, Step, Turn

__all__ = ["browser", "console_errors", "page"]

WEATHER = MatchRule(name="weather", match=Match(input="weather"), turn=Turn([Step(text="It is sunny in Paris.")]))
HELLO = MatchRule(name="hello", match=Match(input="hello"), turn=Turn([Step(text="Hi!")]))


@pytest.mark.letta_mock(rules=[WEATHER, HELLO])
def test_the_dashboard_lists_the_rules_and_names_the_rule_that_answered(page: Any, letta_mock_url: str) -> None:
    send = f"{letta_mock_url}/v1/agents/{AGENT}/messages"
    assert httpx.post(send, json={"input": "weather?"}).json()["messages"][-1]["content"] == "It is sunny in Paris."
    httpx.post(send, json={"input": "weather again"})
    httpx.post(send, json={"input": "something else"})  # no rule: synthesized
    page.goto(f"{letta_mock_url}/_mock/")
    page.wait_for_selector("#rules li[data-rule='weather'] .hits:text('2 hits')")
    assert page.locator("#rules li[data-rule='hello'] .hits").inner_text() == "0 hits"
    assert 'input="weather"' in page.locator("#rules li[data-rule='weather'] .meta").inner_text()
    page.wait_for_selector("details.exchange .rule")
    rows = page.locator("details.exchange")
    assert rows.count() == 3
    labels = [rows.nth(i).locator(".rule").all_inner_texts() for i in range(3)]
    assert labels == [[], ["rule: weather"], ["rule: weather"]]  # newest first
    assert page.evaluate(CONTRAST_AUDIT) == []
    screenshot(page, "dashboard-rules")
