// The official TypeScript SDK (@letta-ai/letta-client) against a live letta-mock: every agents.messages method,
// conversations, runs and messages, iterating streams and auto-paginating as user code does.
// Run by tests/test_node_sdk.py, which starts the mock and sets LETTA_MOCK_URL; `node --test sdk.test.mjs`.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";

import Letta, { APIError, UnprocessableEntityError } from "@letta-ai/letta-client";

const BASE_URL = process.env.LETTA_MOCK_URL;
assert.ok(BASE_URL, "LETTA_MOCK_URL must name a running letta-mock");
const client = new Letta({ baseURL: BASE_URL, apiKey: "letta-mock", maxRetries: 0 });
const newAgent = () => `agent-${randomUUID()}`; // the open world: any agent-<uuid4> exists, with its own history
const controls = (value) => ({ headers: { "X-Letta-Mock": value } });

async function drain(stream) {
  const events = [];
  for await (const event of stream) events.push(event);
  return events;
}

async function all(pager) {
  const items = [];
  for await (const item of pager) items.push(item); // the SDK fetches the next page (`after`) until one is empty
  return items;
}

test("agents.messages.create answers a LettaResponse", async () => {
  const response = await client.agents.messages.create(newAgent(), { input: "hello" });
  assert.deepEqual(response.messages.map((m) => m.message_type), ["reasoning_message", "assistant_message"]);
  assert.equal(response.stop_reason.stop_reason, "end_turn");
  assert.ok(response.usage.total_tokens > 0);
});

test("agents.messages.create streams events for a tool call, token by token", async () => {
  const stream = await client.agents.messages.create(newAgent(), {
    input: "/tool web_search", streaming: true, stream_tokens: true,
  });
  const types = (await drain(stream)).map((e) => e.message_type);
  assert.equal(types[0], "ping");
  for (const kind of ["reasoning_message", "tool_call_message", "tool_return_message", "assistant_message"]) {
    assert.ok(types.includes(kind), `${kind} in ${types}`);
  }
  assert.deepEqual(types.slice(-2), ["stop_reason", "usage_statistics"]);
});

test("agents.messages.stream (the deprecated endpoint) streams the same turn shape", async () => {
  const events = await drain(await client.agents.messages.stream(newAgent(), { input: "hi", include_pings: false }));
  assert.deepEqual(events.map((e) => e.message_type),
    ["reasoning_message", "assistant_message", "stop_reason", "usage_statistics"]);
});

test("an in-band stream error surfaces as the SDK's APIError", async () => {
  const stream = await client.agents.messages.create(newAgent(), { input: "hi", streaming: true },
    controls("error=llm_rate_limit"));
  await assert.rejects(drain(stream), (error) => error instanceof APIError && /Rate limit exceeded/.test(error.message));
});

test("agents.messages.list auto-paginates the whole history, oldest first", async () => {
  const agent = newAgent();
  for (const text of ["one", "two", "three"]) await client.agents.messages.create(agent, { input: text });
  const items = await all(client.agents.messages.list(agent, { limit: 2, order: "asc" }));
  assert.deepEqual(items.filter((m) => m.message_type === "user_message").map((m) => m.content), ["one", "two", "three"]);
  assert.equal(new Set(items.map((m) => `${m.id}:${m.message_type}`)).size, items.length); // no item twice
  assert.equal(items[0].message_type, "system_message");
});

test("approvals: the turn waits, the approval continues it", async () => {
  const agent = newAgent();
  const first = await client.agents.messages.create(agent, { input: "/approve delete_file" });
  assert.equal(first.stop_reason.stop_reason, "requires_approval");
  const call = first.messages.at(-1).tool_calls[0];
  const stream = await client.agents.messages.create(agent, {
    streaming: true,
    messages: [{ type: "approval", approvals: [{ type: "approval", tool_call_id: call.tool_call_id, approve: true }] }],
  });
  const types = (await drain(stream)).map((e) => e.message_type);
  assert.ok(types.includes("tool_return_message"));
  assert.equal(types.at(-2), "stop_reason");
});

test("agents.messages.createAsync starts a run; runs.retrieve and runs.messages.list read it", async () => {
  const run = await client.agents.messages.createAsync(newAgent(), { input: "in the background" });
  assert.equal(run.status, "created");
  let done = run;
  for (let i = 0; i < 200 && !["completed", "failed", "cancelled"].includes(done.status); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    done = await client.runs.retrieve(run.id);
  }
  assert.equal(done.status, "completed");
  const messages = await all(client.runs.messages.list(run.id));
  assert.ok(messages.some((m) => m.message_type === "assistant_message"));
});

test("a background stream resumes with runs.messages.stream after a seq_id", async () => {
  const events = await drain(await client.agents.messages.create(newAgent(), {
    input: "hi", streaming: true, background: true,
  }));
  const runId = events.find((e) => e.run_id).run_id;
  const seqs = events.filter((e) => typeof e.seq_id === "number").map((e) => e.seq_id);
  const resumed = await drain(await client.runs.messages.stream(runId, { starting_after: seqs[0] }));
  assert.ok(resumed.length > 0 && resumed.length < events.length);
  assert.equal(resumed.at(-1).message_type, "usage_statistics");
});

test("agents.messages.cancel answers for the agent's runs", async () => {
  const agent = newAgent();
  const run = await client.agents.messages.createAsync(agent, { input: "hi" }, controls("think_ms=300"));
  const cancelled = await client.agents.messages.cancel(agent, { run_ids: [run.id] });
  assert.equal(typeof cancelled, "object");
  assert.equal((await client.runs.retrieve(run.id)).status, "cancelled");
});

test("agents.messages.reset and compact answer and keep the history listable", async () => {
  const agent = newAgent();
  await client.agents.messages.create(agent, { input: "remember this" });
  const compacted = await client.agents.messages.compact(agent);
  assert.ok(compacted.summary);
  const state = await client.agents.messages.reset(agent, { add_default_initial_messages: false });
  assert.equal(state.id, agent);
  const items = await all(client.agents.messages.list(agent, { order: "asc" }));
  assert.ok(items.some((m) => m.message_type === "user_message" && m.content === "remember this"));
});

test("conversations.messages: create streams, list pages, stream resumes, compact answers", async () => {
  const conversation = `conv-${randomUUID()}`;
  const events = await drain(await client.conversations.messages.create(conversation, { input: "hi there" }));
  assert.equal(events.at(-1).message_type, "usage_statistics");
  const items = await all(client.conversations.messages.list(conversation, { limit: 1, order: "asc" }));
  assert.ok(items.some((m) => m.message_type === "user_message"));
  const replay = await drain(await client.conversations.messages.stream(conversation, {}));
  assert.equal(replay.at(-1).message_type, "usage_statistics");
  const compacted = await client.conversations.messages.compact(conversation);
  assert.ok(compacted.summary);
});

test("messages.list, retrieve and search find what was sent", async () => {
  const agent = newAgent();
  await client.agents.messages.create(agent, { input: "find the word zanzibar" });
  const listed = await client.messages.list({ limit: 50 });
  assert.ok(Array.isArray(listed) && listed.length > 0);
  const mine = (await all(client.agents.messages.list(agent, { order: "asc" }))).find((m) => m.message_type === "user_message");
  const retrieved = await client.messages.retrieve(mine.id);
  assert.ok([retrieved].flat().some((m) => m.id === mine.id));
  const found = await client.messages.search({ query: "zanzibar" });
  assert.ok(Array.isArray(found));
});

test("a malformed request is the SDK's UnprocessableEntityError naming the field", async () => {
  await assert.rejects(client.agents.messages.list("not-an-agent"), (error) =>
    error instanceof UnprocessableEntityError && error.error.detail[0].loc.join(".") === "path.agent_id");
});
