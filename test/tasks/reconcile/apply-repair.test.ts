import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { MACHINES } from "#state-machines/registry.ts";
import { task as applyRepair, OWNING_LIFECYCLES } from "#tasks/reconcile/apply-repair.ts";
import { makeSource, sourceItem } from "#test/tasks/destinations/helpers.ts";
import { decodeUpdates, item, makeSession, taskContext, useTestEnv } from "#test/tasks/helpers.ts";

const ddb = mockClient(DynamoDBDocumentClient);

describe("apply-repair", () => {
  beforeEach(() => {
    ddb.reset();
    useTestEnv();
  });

  it("knows every lifecycle of the registry that settles a record, so reconcile can settle what any of them left", () => {
    const settling = MACHINES.filter((m) => m.lifecycle.settledBy).map((m) => m.lifecycle.name);
    expect(OWNING_LIFECYCLES.map((l) => l.name).sort()).toEqual([...settling].sort());
    // The very lifecycle objects, not look-alikes: their settle rules are what runs.
    for (const l of OWNING_LIFECYCLES)
      expect(MACHINES.find((m) => m.lifecycle.name === l.name)?.lifecycle).toBe(l);
  });

  it("retires a session's resources in one write conditional on the version the inventory read", async () => {
    const s = makeSession({ mediaLive: { channelId: "100", inputIds: { host: "200" } } });
    ddb.on(GetCommand).resolves({ Item: item(s) });
    ddb.on(UpdateCommand).resolves({ Attributes: item(s) });
    const repair = { action: "retire-session-resources" as const, sessionId: "s1", version: s.version };

    expect(await applyRepair.run({ repair }, taskContext())).toEqual({ done: "retired" });
    const [update] = decodeUpdates(ddb.commandCalls(UpdateCommand));
    expect(update?.set["mediaLive.retired"]).toMatchObject({ channelId: "100", inputId: "200" });
    expect(update?.remove).toEqual(
      expect.arrayContaining([
        "mediaLive.channelId",
        "mediaLive.inputIds.host",
        "mediaLive.rtmpEndpoints.host",
      ]),
    );
    expect(update?.condition).toContain(`version = ${s.version}`);

    // A go-live claimed the session since: nothing is written.
    ddb.reset();
    ddb.on(GetCommand).resolves({ Item: item({ ...s, version: s.version + 1 }) });
    expect(await applyRepair.run({ repair }, taskContext())).toEqual({ done: "the session changed" });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("does not release a flow user that acquired the flow again since the inventory", async () => {
    ddb
      .on(GetCommand)
      .resolves({ Item: sourceItem(makeSource({ flowUsers: { d1: "2026-01-03T00:00:00.000Z" } })) });
    ddb
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: "condition", $metadata: {} }));
    const repair = {
      action: "release-flow" as const,
      sourceId: "src1",
      users: ["d1"],
      usersSince: { d1: "2026-01-01T00:00:00.000Z" },
    };
    expect(await applyRepair.run({ repair }, taskContext())).toEqual({ done: "released; the flow is kept" });
    // One conditional removal, on the acquisition the inventory saw; no decision to stop the flow.
    const calls = ddb.commandCalls(UpdateCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.ExpressionAttributeValues?.[":since"]).toBe("2026-01-01T00:00:00.000Z");
    expect(input?.ConditionExpression).toContain("attribute_not_exists(#flowUsers.#user)");
  });

  it("takes a flow user off only conditionally, and once", async () => {
    // Another destination uses the flow: the decision to stop it fails, and nothing else is removed.
    const source = makeSource({ flowUsers: { d2: "2026-01-02T00:00:00.000Z" }, flowPhase: "active" });
    ddb.on(GetCommand).resolves({ Item: sourceItem(source) });
    ddb
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: sourceItem(source) })
      .rejects(new ConditionalCheckFailedException({ message: "condition", $metadata: {} }));
    const repair = {
      action: "release-flow" as const,
      sourceId: "src1",
      users: ["d1"],
      usersSince: { d1: "2026-01-01T00:00:00.000Z" },
    };
    expect(await applyRepair.run({ repair }, taskContext())).toEqual({ done: "released; the flow is kept" });
    const removals = ddb
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input)
      .filter((i) => /REMOVE/.test(i.UpdateExpression ?? ""));
    expect(removals).toHaveLength(1);
    expect(removals[0]?.ExpressionAttributeValues?.[":since"]).toBe("2026-01-01T00:00:00.000Z");
  });
});
