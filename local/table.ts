import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  ResourceNotFoundException,
  UpdateTableCommand,
} from "@aws-sdk/client-dynamodb";
import { SESSION_INDEXES } from "#lib/sessions/model.ts";

const INDEXES = Object.values(SESSION_INDEXES);

const attributeDefinitions = (names: readonly string[]): AttributeDefinition[] =>
  names.map((AttributeName) => ({ AttributeName, AttributeType: "S" }));

const indexDefinition = (index: (typeof INDEXES)[number]): GlobalSecondaryIndex => ({
  IndexName: index.indexName,
  KeySchema: [
    { AttributeName: index.partitionKey, KeyType: "HASH" },
    { AttributeName: index.sortKey, KeyType: "RANGE" },
  ],
  Projection:
    index.nonKeyAttributes.length > 0
      ? { ProjectionType: "INCLUDE", NonKeyAttributes: [...index.nonKeyAttributes] }
      : { ProjectionType: "KEYS_ONLY" },
});

/**
 * Creates the castflow table (same keys and indexes as the stack's) unless it exists; a table
 * kept in `.castflow/` from before an index existed gets the index added (DynamoDB Local fills
 * it from the items already there).
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  let existing: string[] | undefined;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    existing = (Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName ?? "");
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  if (existing === undefined) {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: attributeDefinitions([
          ...new Set(["pk", "sk", ...INDEXES.flatMap((i) => [i.partitionKey, i.sortKey])]),
        ]),
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: INDEXES.map(indexDefinition),
      }),
    );
    return;
  }
  // UpdateTable creates one index per call, and refuses another while one is still being built
  // (LimitExceededException): each is waited for before the next.
  for (const index of INDEXES.filter((i) => !existing.includes(i.indexName))) {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: attributeDefinitions([index.partitionKey, index.sortKey]),
        GlobalSecondaryIndexUpdates: [{ Create: indexDefinition(index) }],
      }),
    );
    await indexesActive(client, tableName);
  }
}

/** Waits (up to a minute) until the table and every index on it are ACTIVE. */
async function indexesActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const building = (Table?.GlobalSecondaryIndexes ?? []).filter((i) => i.IndexStatus !== "ACTIVE");
    if (Table?.TableStatus === "ACTIVE" && building.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `Table ${tableName}: index ${building.map((i) => i.IndexName).join(", ")} still being built`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
