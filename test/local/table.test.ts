import { randomUUID } from "node:crypto";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { describe, expect, inject, it } from "vitest";
import { ensureTable } from "#local/table.ts";

const client = () =>
  new DynamoDBClient({
    endpoint: inject("dynamodbEndpoint"),
    region: "us-east-1",
    credentials: { accessKeyId: "castflowlocal", secretAccessKey: "castflowlocal" },
  });

const indexesOf = async (db: DynamoDBClient, table: string) =>
  Object.fromEntries(
    ((await db.send(new DescribeTableCommand({ TableName: table }))).Table?.GlobalSecondaryIndexes ?? []).map(
      (i) => [
        i.IndexName,
        {
          keys: i.KeySchema?.map((k) => k.AttributeName),
          projection: i.Projection?.ProjectionType,
          include: i.Projection?.NonKeyAttributes,
        },
      ],
    ),
  );

describe("local table", () => {
  it("is created with the session indexes the stack declares", async () => {
    const db = client();
    const table = `castflow-table-${randomUUID()}`;

    await ensureTable(db, table);

    expect(await indexesOf(db, table)).toEqual({
      byHost: { keys: ["hostUserId", "createdAt"], projection: "INCLUDE", include: ["status"] },
      byStatus: { keys: ["status", "createdAt"], projection: "KEYS_ONLY", include: undefined },
    });
  });

  it("gets the indexes added when kept from before them, listing the sessions already stored", async () => {
    // Prepare: a table as `.castflow/` kept it before the indexes existed, with a session in it.
    const db = client();
    const table = `castflow-table-${randomUUID()}`;
    await db.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      }),
    );
    await db.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: "SESSION#old-1" },
          sk: { S: "SESSION" },
          hostUserId: { S: "host-1" },
          createdAt: { S: "2025-01-01T00:00:00.000Z" },
          status: { S: "active" },
        },
      }),
    );

    // Act: twice, as two starts would.
    await ensureTable(db, table);
    await ensureTable(db, table);

    // Assess
    expect(Object.keys(await indexesOf(db, table)).sort()).toEqual(["byHost", "byStatus"]);
    const byHost = await db.send(
      new QueryCommand({
        TableName: table,
        IndexName: "byHost",
        KeyConditionExpression: "hostUserId = :h",
        ExpressionAttributeValues: { ":h": { S: "host-1" } },
      }),
    );
    expect(byHost.Items?.map((i) => i.pk?.S)).toEqual(["SESSION#old-1"]);
  });
});
