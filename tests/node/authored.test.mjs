// The official TypeScript SDK against authored turns: the README's rule installed through the admin API, then a
// JSON send, a token stream and an approval round trip read as user code reads them.
// Run by tests/test_authored_node.py, which starts the mock and sets LETTA_MOCK_URL.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";

import Letta from "@letta-ai/letta-client";

const BASE_URL = process.env.LETTA_MOCK_URL;
assert.ok(BASE_URL, "LETTA_MOCK_URL must name a running letta-mock");
const client = new Letta({ baseURL: BASE_URL, apiKey: "letta-mock", maxRetries: 0 });
const newAgent = () => `agent-${randomUUID()}`;

const RULES = {
  rules: [
    {
      match: { input: "weather" },
      turn: {
        steps: [
          { reasoning: "The user asks about the weather.",
            tool_calls: [{ name: "get_weather", arguments: { city: "Paris" }, returns: "Sunny, 21 C" }] },
          { text: "It is sunny in Paris." },
        ],
      },
    },
    {
      name: "delete",
      match: { input: "delete" },
      turn: { steps: [{ tool_calls: [{ name: "delete_file", arguments: { path: "a.txt" }, kind: "approval" }] },
                      { text: "Deleted." }] },
    },
  ],
};

async function install() {
  const response = await fetch(`${BASE_URL}/_mock/rules`, {
    method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(RULES),
  });
  assert.equal(response.status, 200);
}

async function drain(stream) {
  const events = [];
  for await (const event of stream) events.push(event);
  return events;
}

const said = (messages) => messages.map((m) => {
  switch (m.message_type) {
    case "reasoning_message": return [m.message_type, m.reasoning];
    case "tool_call_message": return [m.message_type, m.tool_call.name, m.tool_call.arguments];
    case "tool_return_message": return [m.message_type, m.tool_return, m.status];
    case "assistant_message": return [m.message_type, m.content];
    default: return [m.message_type];
  }
});

const WEATHER = [
  ["reasoning_message", "The user asks about the weather."],
  ["tool_call_message", "get_weather", '{"city": "Paris"}'],
  ["tool_return_message", "Sunny, 21 C", "success"],
  ["assistant_message", "It is sunny in Paris."],
];

test("a JSON send answers with the authored turn, and history lists it", async () => {
  await install();
  const agent = newAgent();
  const response = await client.agents.messages.create(agent, { input: "What's the weather?" });
  assert.deepEqual(said(response.messages), WEATHER);
  const history = [];
  for await (const item of client.agents.messages.list(agent)) history.push(item);
  const kinds = history.map((m) => m.message_type);
  assert.deepEqual(kinds.slice(0, 2), ["system_message", "user_message"]);
  assert.deepEqual(said(history.slice(2)), WEATHER);
});

test("a token stream chunks the authored text", async () => {
  await install();
  const events = await drain(await client.agents.messages.create(newAgent(), {
    input: "weather", streaming: true, stream_tokens: true,
  }));
  const texts = events.filter((e) => e.message_type === "assistant_message");
  assert.ok(texts.length > 1);
  assert.equal(texts.map((e) => e.content).join(""), "It is sunny in Paris.");
});

test("an approval step pauses and the authored continuation follows the approval", async () => {
  await install();
  const agent = newAgent();
  const paused = await client.agents.messages.create(agent, { input: "delete it" });
  assert.equal(paused.stop_reason.stop_reason, "requires_approval");
  const call = paused.messages.at(-1).tool_calls[0];
  const after = await client.agents.messages.create(agent, {
    messages: [{ type: "approval", approvals: [{ type: "approval", tool_call_id: call.tool_call_id, approve: true }] }],
  });
  assert.deepEqual(said(after.messages).map((m) => m[0]), ["tool_return_message", "assistant_message"]);
  assert.equal(after.messages.at(-1).content, "Deleted.");
});
