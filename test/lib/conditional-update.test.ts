import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { dynamo } from "#lib/aws/clients.ts";
import { conditionalUpdate, grouped } from "#lib/conditional-update.ts";
import { resetConfig } from "#lib/config.ts";
import { ensureTable } from "#local/table.ts";
import { useTestEnv } from "#test/tasks/helpers.ts";

const table = `castflow-cu-${randomUUID()}`;

describe("conditionalUpdate against DynamoDB Local", () => {
  beforeAll(async () => {
    useTestEnv();
    process.env.TABLE_NAME = table;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = inject("dynamodbEndpoint");
    process.env.AWS_ACCESS_KEY_ID = "castflowlocal";
    process.env.AWS_SECRET_ACCESS_KEY = "castflowlocal";
    resetConfig();
    await ensureTable(
      new DynamoDBClient({
        endpoint: inject("dynamodbEndpoint"),
        region: "us-east-1",
        credentials: { accessKeyId: "castflowlocal", secretAccessKey: "castflowlocal" },
      }),
      table,
    );
  });

  it("never creates a missing item, even when the caller's condition is an OR that holds for it", async () => {
    const key = { pk: "SOURCE", sk: `gone-${randomUUID()}` };
    const saved = await conditionalUpdate(key, {
      remove: ["flowUsers.d1"],
      condition: {
        expression: "#flowUsers.#user = :since OR attribute_not_exists(#flowUsers.#user)",
        names: { "#flowUsers": "flowUsers", "#user": "d1" },
        values: { ":since": "2026-01-01T00:00:00.000Z" },
      },
    });
    expect(saved).toBeUndefined();
    expect((await dynamo().send(new GetCommand({ TableName: table, Key: key }))).Item).toBeUndefined();
  });

  it("applies the same OR condition to an item that exists", async () => {
    const key = { pk: "SOURCE", sk: `here-${randomUUID()}` };
    await dynamo().send(
      new PutCommand({ TableName: table, Item: { ...key, flowUsers: { d1: "2026-01-01T00:00:00.000Z" } } }),
    );
    const saved = await conditionalUpdate(key, {
      remove: ["flowUsers.d1"],
      condition: {
        expression: "#flowUsers.#user = :since OR attribute_not_exists(#flowUsers.#user)",
        names: { "#flowUsers": "flowUsers", "#user": "d1" },
        values: { ":since": "2026-01-01T00:00:00.000Z" },
      },
    });
    expect(saved).toMatchObject({ flowUsers: {}, version: 1 });
  });
});

describe("grouped", () => {
  it("wraps an expression with an OR outside parentheses, and nothing else (DynamoDB refuses redundant ones)", () => {
    expect(grouped("#a = :a OR attribute_not_exists(#a)")).toBe("(#a = :a OR attribute_not_exists(#a))");
    expect(grouped("(#a = :a OR #b = :b)")).toBe("(#a = :a OR #b = :b)");
    expect(grouped("(#a = :a) AND (#b = :b OR #c = :c)")).toBe("(#a = :a) AND (#b = :b OR #c = :c)");
    expect(grouped("#state = :idle AND #hostUserId = :host")).toBe("#state = :idle AND #hostUserId = :host");
    expect(grouped("attribute_not_exists(#version) OR #version = :readVersion")).toBe(
      "(attribute_not_exists(#version) OR #version = :readVersion)",
    );
  });
});
