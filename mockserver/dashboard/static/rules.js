// letta-mock dashboard: the rules panel (GET /_mock/rules): each rule in the order consulted, where it came from,
// what it answers with and its hits; a rule file whose last edit did not read says why. Text only (textContent).
"use strict";

(() => {
  const POLL_MS = 1500;
  const $ = (id) => document.getElementById(id);

  function item(rule) {
    const li = document.createElement("li");
    li.dataset.rule = rule.name;
    const left = document.createElement("div");
    left.className = "name";
    const name = document.createElement("div");
    name.className = "mono";
    name.textContent = rule.name;
    name.title = JSON.stringify(rule.rule, null, 2);
    const meta = document.createElement("div");
    meta.className = "meta";
    const match = Object.entries((rule.rule && rule.rule.match) || {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    meta.textContent = [match.length ? match.join(" ") : "every send", `→ ${rule.answers}`, rule.source].join(" · ");
    left.append(name, meta);
    const hits = document.createElement("span");
    hits.className = "hits";
    hits.textContent = `${rule.hits} hit${rule.hits === 1 ? "" : "s"}`;
    li.append(left, hits);
    return li;
  }

  async function refresh() {
    let listing;
    try {
      const response = await fetch("rules", { headers: { accept: "application/json" } });
      if (!response.ok) return;
      listing = await response.json();
    } catch (error) {
      return;
    }
    $("rules-count").textContent = `(${listing.rules.length})`;
    $("rules-empty").hidden = listing.rules.length > 0;
    $("rules").replaceChildren(...listing.rules.map(item));
    const problems = listing.files.filter((f) => f.problem).map((f) => `${f.path}: the last edit did not read; its ${f.rules} rule(s) stay. ${f.problem}`);
    $("rules-problems").textContent = problems.join("\n");
    $("rules-problems").hidden = problems.length === 0;
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!$("rules-panel")) return;
    refresh();
    setInterval(refresh, POLL_MS);
  });
})();
