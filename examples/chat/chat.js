// A chat page for a Letta agent in plain JavaScript: fetch + a stream reader, no SDK, no framework.
// It renders what Letta streams (reasoning, tool calls, tool returns, assistant text, approvals, stop reasons,
// errors) and answers approval requests with Approve / Deny. Point it at letta-mock (`letta-mock serve`) or at a
// real Letta server: ?server=http://127.0.0.1:8283&agent=agent-...
"use strict";

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
$("server").value = params.get("server") || "http://127.0.0.1:8283";
$("agent").value = params.get("agent") || "agent-123e4567-e89b-42d3-8456-426614174000";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text; // always text: the agent's output is never HTML
  return node;
}

function labelled(className, label) {
  const node = el("div", `part ${className}`);
  node.append(el("span", "label", label), el("span", "body"));
  return node;
}

// -- reading Letta's stream -------------------------------------------------------------------------------------

// Letta frames each event as `data: <json>` then a blank line; errors come as `event: error`; `data: [DONE]` ends.
async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    const blocks = buffer.split(/\r\n\r\n|\n\n|\r\r/);
    buffer = blocks.pop(); // the last piece may be an event still arriving
    for (const block of blocks) {
      let name = null;
      const data = [];
      for (const line of block.split(/\r\n|\n|\r/)) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") name = text;
        else if (field === "data") data.push(text);
      }
      if (!data.length) continue;
      const raw = data.join("\n");
      if (raw === "[DONE]") return;
      let payload;
      try { payload = JSON.parse(raw); } catch { payload = { message_type: "unparsable", raw }; }
      yield { name, payload };
    }
    if (done) return;
  }
}

// -- one agent turn ---------------------------------------------------------------------------------------------

class Turn {
  constructor() {
    this.node = el("li", "turn");
    this.node.setAttribute("aria-label", "Agent");
    $("log").append(this.node);
    this.parts = new Map(); // one element per logical item: chunks of a token stream join their item
    this.calls = new Map(); // tool_call_id -> {name, arguments, node}
  }

  part(key, className, label) {
    if (!this.parts.has(key)) {
      const node = labelled(className, label);
      this.node.append(node);
      this.parts.set(key, node);
    }
    return this.parts.get(key).querySelector(".body");
  }

  // Tool calls arrive whole (step streaming: an array) or as deltas (token streaming: one object per chunk).
  toolCalls(m, kind) {
    const whole = Array.isArray(m.tool_calls);
    const list = whole ? m.tool_calls : [m.tool_calls || m.tool_call].filter(Boolean);
    for (const call of list) {
      const id = call.tool_call_id || m.otid || m.id;
      let entry = this.calls.get(id);
      if (!entry) {
        entry = { id, name: "", arguments: "", kind, node: labelled(kind === "approval" ? "tool approval-call" : "tool", kind === "approval" ? "needs approval" : "tool call") };
        this.node.append(entry.node);
        this.calls.set(id, entry);
      }
      if (call.name) entry.name = call.name;
      if (call.arguments !== undefined && call.arguments !== null) entry.arguments = whole ? call.arguments : entry.arguments + call.arguments;
      entry.node.querySelector(".body").textContent = `${entry.name}(${entry.arguments})`;
    }
  }

  render(event) {
    const m = event.payload;
    if (event.name === "error" || m.message_type === "error_message") {
      this.node.append(el("div", "part error", `Error ${m.error_type || ""}: ${m.message || JSON.stringify(m)}`));
      return;
    }
    const key = `${m.message_type}:${m.otid || m.id}`;
    switch (m.message_type) {
      case "ping": setStatus("The agent is working…"); break;
      case "reasoning_message": this.part(key, "reasoning", "thinking").textContent += m.reasoning || ""; break;
      case "hidden_reasoning_message": this.part(key, "reasoning", "thinking").textContent = "(reasoning hidden)"; break;
      case "assistant_message": {
        const text = typeof m.content === "string" ? m.content : (m.content || []).map((p) => p.text || "").join("");
        this.part(key, "assistant", "agent").textContent += text;
        break;
      }
      case "tool_call_message": this.toolCalls(m, "tool"); break;
      case "approval_request_message": this.toolCalls(m, "approval"); break;
      case "tool_return_message":
        for (const r of m.tool_returns || [m]) {
          const node = labelled(`tool-return ${r.status === "error" ? "error" : ""}`, `${m.name || "tool"} returned (${r.status})`);
          node.querySelector(".body").textContent = r.tool_return;
          this.node.append(node);
        }
        break;
      case "stop_reason": {
        const stop = el("div", "part stop", "stop reason: ");
        stop.append(el("b", "", m.stop_reason));
        this.node.append(stop);
        this.stopReason = m.stop_reason;
        break;
      }
      case "usage_statistics": this.node.append(el("div", "part stop", `${m.total_tokens} tokens, ${m.step_count} step(s)`)); break;
      default: this.node.append(el("div", "part", `${m.message_type}: ${JSON.stringify(m)}`));
    }
  }

  // After `stop_reason: requires_approval`: Approve / Deny for each call waiting, then the turn goes on.
  askForApproval() {
    const waiting = [...this.calls.values()].filter((c) => c.kind === "approval" && !c.decided);
    for (const call of waiting) {
      call.decided = true;
      const box = el("div", "part approval");
      box.append(el("span", "", `Run ${call.name}?`));
      const approve = el("button", "approve", "Approve");
      const deny = el("button", "deny", "Deny");
      approve.type = deny.type = "button";
      approve.setAttribute("aria-label", `Approve ${call.name}`);
      deny.setAttribute("aria-label", `Deny ${call.name}`);
      const decide = (allowed) => {
        approve.disabled = deny.disabled = true;
        box.append(el("span", "", allowed ? "approved" : "denied"));
        const approval = { type: "approval", tool_call_id: call.id, approve: allowed };
        if (!allowed) approval.reason = "The user denied it.";
        send({ messages: [{ type: "approval", approvals: [approval] }] }, this);
      };
      approve.addEventListener("click", () => decide(true));
      deny.addEventListener("click", () => decide(false));
      box.append(approve, deny);
      this.node.append(box);
      approve.focus();
    }
  }
}

// -- sending ----------------------------------------------------------------------------------------------------

function setStatus(text) { $("status").textContent = text; }

async function send(body, turn = new Turn()) {
  const url = `${$("server").value.replace(/\/$/, "")}/v1/agents/${encodeURIComponent($("agent").value.trim())}/messages`;
  $("send").disabled = true;
  setStatus("Sending…");
  turn.stopReason = null;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer letta-mock" },
      body: JSON.stringify({ ...body, streaming: true, stream_tokens: true }),
    });
    if (!response.ok) {
      const detail = await response.text();
      turn.render({ name: "error", payload: { error_type: `HTTP ${response.status}`, message: detail } });
      return;
    }
    for await (const event of sseEvents(response)) turn.render(event);
    if (turn.stopReason === "requires_approval") turn.askForApproval();
    setStatus(turn.stopReason === "requires_approval" ? "The agent is waiting for your decision." : "");
  } catch (error) {
    turn.render({ name: "error", payload: { error_type: "network", message: String(error) } });
    setStatus("");
  } finally {
    $("send").disabled = false;
  }
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("message").value.trim();
  if (!text) return;
  $("message").value = "";
  const mine = el("li", "user", text);
  mine.setAttribute("aria-label", "You");
  $("log").append(mine);
  send({ input: text });
});
