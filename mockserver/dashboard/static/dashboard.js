// letta-mock dashboard: reads and drives the admin API of the server that serves it (same origin, relative URLs).
// Everything shown comes from JSON and is put in the page as text (textContent), never as HTML: the journal holds
// whatever clients sent.
"use strict";

const POLL_MS = 700; // journal changes; agents follow when the journal moved
const $ = (id) => document.getElementById(id);
const state = { epoch: null, version: 0, rows: new Map(), paused: false, info: null, history: null, agentsAt: 0, agentsStale: false };

// -- small helpers ----------------------------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, init = {}) {
  const response = await fetch(path, { headers: { accept: "application/json" }, ...init });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = body && body.detail !== undefined ? body.detail : response.statusText;
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return body;
}

function notice(message) {
  const box = $("notice");
  box.textContent = message || "";
  box.hidden = !message;
}

const pretty = (value) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));

function clock(seconds) {
  const d = new Date(seconds * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// "1 item", "2 items": a count with its noun.
const plural = (n, one, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;
const count = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : String(n));

const ms = (value) => (value === null || value === undefined ? "…" : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`);

// -- what a message says, in one line ---------------------------------------------------------------------------

function contentText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (part && part.text) || `[${part && part.type}]`).join("");
  return "";
}

function toolCalls(calls) {
  const list = Array.isArray(calls) ? calls : calls ? [calls] : [];
  return list.map((c) => `${c.name || ""}${c.arguments !== undefined && c.arguments !== null ? ` ${c.arguments}` : ""}`).join(", ");
}

function describe(m) {
  if (m === "[DONE]") return "end of stream";
  if (!m || typeof m !== "object") return String(m);
  switch (m.message_type) {
    case "reasoning_message": return m.reasoning;
    case "hidden_reasoning_message": return `hidden reasoning (${m.state})`;
    case "assistant_message":
    case "user_message":
    case "system_message": return contentText(m.content);
    case "tool_call_message":
    case "approval_request_message": return toolCalls(m.tool_calls || m.tool_call);
    case "tool_return_message":
      return (m.tool_returns || [m]).map((r) => `${m.name || "tool"} → ${r.status}: ${r.tool_return}`).join("\n");
    case "approval_response_message":
      return (m.approvals || []).map((a) => (a.type === "approval"
        ? `${a.approve ? "approved" : "denied"} ${a.tool_call_id}${a.reason ? `: ${a.reason}` : ""}`
        : `returned for ${a.tool_call_id} (${a.status}): ${a.tool_return}`)).join("\n");
    case "stop_reason": return m.stop_reason;
    case "usage_statistics":
      return `${plural(m.total_tokens, "token")} (${m.prompt_tokens} prompt, ${m.completion_tokens} completion), ${plural(m.step_count, "step")}`;
    case "error_message": return `${m.error_type}: ${m.message}${m.detail ? ` — ${m.detail}` : ""}`;
    case "ping": return "keep-alive";
    case "summary_message": return m.summary;
    case "event_message": return `${m.event_type} ${JSON.stringify(m.event_data || {})}`;
    default: return JSON.stringify(m);
  }
}

const META_TYPES = new Set(["stop_reason", "usage_statistics", "ping", "[DONE]", "error_message"]);

// One event of a stream (with its timing) or one item of a history.
function eventItem(type, data, { at, gap, event } = {}) {
  const classes = ["event"];
  if (type === "ping") classes.push("ping");
  if (type === "[DONE]") classes.push("done");
  if (event === "error" || type === "error_message") classes.push("error");
  if (type === "unparsable") classes.push("bad");
  const label = event === "error" ? `error: ${type}` : type;
  const text = data === null || data === undefined ? "(data not kept)" : describe(data);
  const timed = at !== undefined;
  const cells = [
    timed ? el("span", { class: "at", title: "since the request arrived", text: `+${ms(at)}` }) : null,
    timed ? el("span", { class: "gap", title: "since the previous event", text: gap === null ? "" : `Δ${ms(gap)}` }) : null,
    el("span", { class: `type ${META_TYPES.has(type) ? "t-meta" : `t-${type}`}`, text: label }),
    el("span", { class: "text", text }),
  ];
  // An event with a JSON body is a row that opens to show it; the others are plain rows.
  const row = data && typeof data === "object"
    ? el("details", {}, el("summary", { class: "row", title: "Show the JSON" }, cells), el("pre", { text: pretty(data) }))
    : el("div", { class: "row" }, cells);
  return el("li", { class: classes.join(" "), "data-type": type }, row);
}

// -- the journal ------------------------------------------------------------------------------------------------

function statusPill(s) {
  const klass = s.state === "open" ? "open" : `s${String(s.response.status).charAt(0)} ${s.state}`;
  const text = s.state === "open" ? "streaming…" : s.state === "failed" ? `${s.response.status} mock failed`
    : s.state === "dropped" ? `${s.response.status} dropped` : String(s.response.status);
  return el("span", { class: `pill ${klass}`, text });
}

function kindText(s) {
  const r = s.response;
  if (r.events !== undefined) return `SSE · ${plural(r.events, "event")}${r.stop_reason ? ` · ${r.stop_reason}` : ""}`;
  if (!r.content_type) return "";
  return r.content_type.split(";")[0].replace("application/", "");
}

// What the user said in a request: a send's input or messages, an approval's answers; null for other requests.
function saidText(body) {
  if (!body || typeof body !== "object") return null;
  if (body.input !== undefined && body.input !== null) return contentText(body.input);
  if (!Array.isArray(body.messages)) return null;
  return body.messages.map((m) => {
    if (!m || typeof m !== "object") return "";
    if (m.type === "approval") {
      return (m.approvals || []).map((a) => (a && a.type === "approval"
        ? `${a.approve ? "approve" : "deny"} ${a.tool_call_id}` : `tool return for ${a && a.tool_call_id}`)).join(", ");
    }
    if (m.type === "tool_return") return (m.tool_returns || []).map((r) => `tool return for ${r.tool_call_id}`).join(", ");
    return contentText(m.content);
  }).filter(Boolean).join(" · ") || null;
}

// One row: the operation (never cut) beside the path (cut first), then what the user said on a line of its own.
function summaryLine(s) {
  const target = s.path + (s.query ? `?${s.query}` : "");
  const said = saidText(s.body);
  return el("summary", { "aria-label": `${s.operation || s.method} ${s.method} ${target}, ${s.response.status || "pending"}` },
    el("span", { class: "when", text: clock(s.started_at) }),
    el("span", { class: "method", text: s.method }),
    el("span", { class: "what" },
      s.operation ? el("span", { class: "op", text: s.operation }) : null,
      el("span", { class: "path", title: target, text: target })),
    statusPill(s),
    el("span", { class: "kind", text: kindText(s) },
      s.rule ? el("span", { class: "rule", title: "the authored rule that answered", text: `rule: ${s.rule}` }) : null),
    el("span", { class: "dur", text: ms(s.duration_ms) }),
    said ? el("span", { class: "said", title: said, text: said }) : null);
}

function matchesFilter(s) {
  const needle = $("filter").value.trim().toLowerCase();
  if (!needle) return true;
  return [s.method, s.path, s.operation, String(s.response.status), s.response.stop_reason]
    .some((field) => field && String(field).toLowerCase().includes(needle));
}

function upsertRow(s) {
  let row = state.rows.get(s.id);
  if (!row) {
    const details = el("details", { class: "exchange", "data-id": s.id });
    details.addEventListener("toggle", () => { if (details.open) loadDetail(s.id); });
    row = { li: el("li", {}, details), details, summary: null, body: null, version: -1 };
    state.rows.set(s.id, row);
    $("exchanges").prepend(row.li);
  }
  const line = summaryLine(s);
  if (row.summary) {
    // Updated in place: a keyboard user's focus on the summary stays where it is.
    row.summary.replaceChildren(...line.childNodes);
    row.summary.setAttribute("aria-label", line.getAttribute("aria-label"));
  } else {
    row.details.prepend(line);
    row.summary = line;
  }
  row.li.hidden = !matchesFilter(s);
  row.data = s;
  if (row.details.open && row.version !== seen(s)) loadDetail(s.id);
}

const seen = (s) => `${s.state}:${s.response.bytes}`;

async function loadDetail(id) {
  const row = state.rows.get(id);
  if (!row) return;
  let detail;
  try {
    detail = await api(`journal/${id}`);
  } catch (error) {
    return notice(`Exchange ${id}: ${error.message}`);
  }
  row.version = seen(detail);
  const request = el("div", {},
    el("h3", { text: "Request" }),
    el("details", { class: "headers-box" },
      el("summary", { text: `Headers (${Object.keys(detail.headers).length})` }),
      el("table", { class: "headers" }, el("tbody", {}, Object.entries(detail.headers).map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { text: v })))))),
    detail.body === null ? el("p", { class: "muted", text: "no body" }) : el("pre", { text: pretty(detail.body) }));
  const r = detail.response;
  let answer;
  if (r.stream) {
    let previous = null;
    const items = r.stream.map((e) => {
      const item = eventItem(e.message_type, e.data, { at: e.at_ms, gap: previous === null ? null : e.at_ms - previous, event: e.event });
      previous = e.at_ms;
      return item;
    });
    answer = el("div", {},
      el("h3", { text: `Response · ${r.status} · ${plural(r.events, "event")}` }),
      el("ol", { class: "events", "aria-label": "Events in the order sent" }, items),
      r.events_not_kept ? el("p", { class: "muted", text: `${plural(r.events_not_kept, "later event")} counted, not kept` }) : null);
  } else {
    answer = el("div", {},
      el("h3", { text: `Response · ${r.status || "pending"}${r.content_type ? ` · ${r.content_type}` : ""}` }),
      r.error ? el("p", { class: "event error", text: `The mock failed: ${r.error}` }) : null,
      r.body === null ? el("p", { class: "muted", text: "no body" }) : el("pre", { text: pretty(r.body) }));
  }
  const body = el("div", { class: "body" }, request, answer);
  if (row.body) row.body.replaceWith(body); else row.details.append(body);
  row.body = body;
}

function forget(id) {
  const row = state.rows.get(id);
  if (row) row.li.remove();
  state.rows.delete(id);
}

async function poll() {
  if (state.paused) return;
  let changes;
  try {
    changes = await api(`journal/changes?since=${state.epoch === null ? 0 : state.version}`);
  } catch (error) {
    setLive("disconnected", "down");
    return;
  }
  setLive("live", "");
  // The agents follow the journal, at most every 1.5 s; a move seen sooner is caught up by a later poll.
  if (applyChanges(changes)) state.agentsStale = true;
  if (state.agentsStale && Date.now() - state.agentsAt > 1500) {
    state.agentsStale = false;
    refreshAgents();
  }
}

// The journal's changes since state.version into the rows; whether the journal moved.
function applyChanges(changes) {
  if (changes.epoch !== state.epoch) {
    // Cleared (or reset): versions only grow, so what came after the clear is all in `changed`.
    if (state.epoch !== null) for (const id of [...state.rows.keys()]) forget(id);
    state.epoch = changes.epoch;
  }
  const kept = new Set(changes.ids);
  for (const id of [...state.rows.keys()]) if (!kept.has(id)) forget(id);
  for (const s of changes.changed) upsertRow(s);
  const moved = changes.version !== state.version;
  state.version = changes.version;
  $("journal-count").textContent = `(${count(kept.size)} kept of ${count(changes.size)})`;
  $("journal-empty").hidden = kept.size > 0;
  return moved;
}

function setLive(text, klass) {
  const live = $("live");
  if (live.textContent !== text) live.textContent = text;
  live.className = `live ${klass}`;
}

// -- agents -----------------------------------------------------------------------------------------------------

async function refreshAgents() {
  state.agentsAt = Date.now();
  let agents;
  try { agents = await api("agents"); } catch (error) { return; }
  showAgents(agents);
  if (state.history) loadHistory(state.history, false);
}

// Each agent: its whole id on a line of its own, then its state and the History button.
function showAgents(agents) {
  $("agent-count").textContent = `(${agents.length})`;
  $("agents-empty").hidden = agents.length > 0;
  $("agents").replaceChildren(...agents.map((a) => el("li", {},
    el("div", { class: "id mono", text: a.id }),
    el("div", { class: "meta", text: [
      plural(a.items, "item"), a.last_stop_reason ? `last: ${a.last_stop_reason}` : null,
      a.pending_approval ? `awaiting approval: ${a.pending_approval.tools.join(", ")}` : null,
      a.scripted_turns ? plural(a.scripted_turns, "scripted turn") : null,
      a.active_runs ? `${a.active_runs} running` : null].filter(Boolean).join(" · ") }),
    el("button", { type: "button", "aria-label": `History of ${a.id}`, onclick: () => loadHistory(a.id), text: "History" }))));
}

async function loadHistory(agentId, focus = true) {
  let items;
  try { items = await api(`agents/${encodeURIComponent(agentId)}/messages`); } catch (error) { return notice(error.message); }
  state.history = agentId;
  $("history").hidden = false;
  $("history-title").textContent = `History of ${agentId} (${plural(items.length, "item")})`;
  $("history-items").replaceChildren(...items.map((m) => eventItem(m.message_type, m)));
  if (focus) { $("history-title").tabIndex = -1; $("history-title").focus(); }
}

// -- controls ---------------------------------------------------------------------------------------------------

const GROUPS = [["turn", "What the agent does"], ["pacing", "Pacing (ms)"], ["faults", "Faults"]];

function buildControls(info) {
  const byGroup = new Map(GROUPS.map(([g]) => [g, []]));
  for (const c of info.controls) {
    const id = `ctl-${c.key}`;
    let input;
    if (c.kind === "choice") {
      input = el("select", { id, name: c.key }, el("option", { value: "", text: "(not set)" }), c.choices.map((v) => el("option", { value: v, text: v })));
    } else {
      input = el("input", { id, name: c.key, type: c.kind === "number" ? "number" : "text", min: c.kind === "number" ? 0 : null, list: c.key === "fault" ? "fault-forms" : null, placeholder: c.key === "fault" ? "drop_after:5, no_done" : null });
    }
    input.title = c.help;
    byGroup.get(c.group).push(el("div", { class: "field" }, el("label", { for: id, text: c.key }), input));
  }
  $("control-fields").replaceChildren(
    ...GROUPS.map(([g, legend]) => el("fieldset", {}, el("legend", { text: legend }), byGroup.get(g))),
    el("datalist", { id: "fault-forms" }, info.faults.map((f) => el("option", { value: f.form.replace("<N>", "3").replace("<status>[:<attempts>]", "503"), text: f.help }))));
  showDefaults(info.defaults);
}

function showDefaults(defaults) {
  const text = Object.entries(defaults).map(([k, v]) => `${k}=${v}`).join("; ");
  $("defaults-now").textContent = text || "(none: scenario reasoning, no pacing)";
  for (const c of state.info.controls) {
    const input = $(`ctl-${c.key}`);
    if (input && document.activeElement !== input) input.value = defaults[c.key] === undefined ? "" : String(defaults[c.key]);
  }
}

async function applyControls(event) {
  event.preventDefault();
  const body = {};
  for (const c of state.info.controls) {
    const value = $(`ctl-${c.key}`).value.trim();
    if (value !== "") body[c.key] = c.kind === "number" ? Number(value) : value;
  }
  await putDefaults(body, "Applied to every new turn.");
}

async function putDefaults(body, message) {
  const status = $("controls-status");
  try {
    const now = await api("defaults", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    status.className = "status";
    status.textContent = message;
    showDefaults(now);
  } catch (error) {
    status.className = "status bad";
    status.textContent = `Refused: ${error.message}`;
  }
}

// -- start ------------------------------------------------------------------------------------------------------

async function boot() {
  // What the server inlined in the page: the journal and the agents as they are, shown before any request.
  const first = JSON.parse($("first").textContent);
  if (first) {
    state.info = first.index;
    applyChanges(first.changes);
    showAgents(first.agents);
    state.agentsAt = Date.now();
  } else {
    try {
      state.info = await api("./");
    } catch (error) {
      return notice(`Cannot read the admin API: ${error.message}`);
    }
  }
  const info = state.info;
  $("version").textContent = `${info.version} · Letta ${info.letta_version}`;
  const facts = [["fidelity", info.config.fidelity], ["world", info.config.agents ? `closed (${plural(info.config.agents.length, "agent")})` : "open"],
    ["seed", info.config.seed === null ? "none" : info.config.seed], ["journal", plural(info.config.journal_size, "exchange")]];
  $("facts").replaceChildren(...facts.map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { text: v }))));
  buildControls(info);
  $("controls").addEventListener("submit", applyControls);
  $("restore").addEventListener("click", () => putDefaults(info.configured_defaults, "Back to the server's configured defaults."));
  $("pause").addEventListener("click", (e) => {
    state.paused = !state.paused;
    e.target.setAttribute("aria-pressed", String(state.paused));
    e.target.textContent = state.paused ? "Resume" : "Pause";
    setLive(state.paused ? "paused" : "live", state.paused ? "off" : "");
  });
  $("clear").addEventListener("click", async () => { await api("journal", { method: "DELETE" }).catch((e) => notice(e.message)); poll(); });
  $("reset").addEventListener("click", async () => {
    if (!window.confirm("Reset the mock? Every agent, message, run, script and the journal are forgotten.")) return;
    try {
      await api("reset", { method: "POST" });
      state.history = null;
      $("history").hidden = true;
      showDefaults((await api("defaults")));
      notice("");
    } catch (error) { notice(error.message); }
    await poll();
    refreshAgents();
  });
  $("filter").addEventListener("input", () => { for (const row of state.rows.values()) row.li.hidden = !matchesFilter(row.data); });
  $("hide-pings").addEventListener("change", (e) => document.body.classList.toggle("hide-pings", e.target.checked));
  await poll();
  if (!first) refreshAgents();
  setInterval(poll, POLL_MS);
}

document.addEventListener("DOMContentLoaded", boot);
