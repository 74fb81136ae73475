import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "./clients.ts";
import { config } from "./config.ts";
import { nowIso, Session, sessionKey } from "./session.ts";

/** Reads a session; undefined when there is none. Strongly consistent: lifecycles read their own writes. */
export async function getSession(sessionId: string): Promise<Session | undefined> {
  const res = await dynamo().send(
    new GetCommand({ TableName: config().TABLE_NAME, Key: sessionKey(sessionId), ConsistentRead: true }),
  );
  if (!res.Item) return undefined;
  const { pk: _pk, sk: _sk, ...doc } = res.Item;
  return Session.parse(doc);
}

/** Stores a new session; fails with ConditionalCheckFailedException if the id is taken. */
export async function putNewSession(session: Session): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: config().TABLE_NAME,
      Item: { ...sessionKey(session.sessionId), ...session },
      ConditionExpression: "attribute_not_exists(pk)",
    }),
  );
}

export async function deleteSessionRecord(sessionId: string): Promise<void> {
  await dynamo().send(new DeleteCommand({ TableName: config().TABLE_NAME, Key: sessionKey(sessionId) }));
}

/** A condition on the current record, written with `#path` placeholders from `names`. */
export interface Condition {
  readonly expression: string;
  readonly names?: Record<string, string>;
  readonly values?: Record<string, unknown>;
}

export interface SessionUpdate {
  /** Dotted attribute paths (e.g. "streaming.status") to set. */
  readonly set?: Record<string, unknown>;
  /** Dotted attribute paths to remove. */
  readonly remove?: readonly string[];
  readonly condition?: Condition;
}

/**
 * Applies a conditional update to a session and returns the new document, or `undefined` when
 * the session does not exist or the condition does not hold (the caller decides what that means).
 * `updatedAt` is always set.
 */
export async function updateSession(sessionId: string, update: SessionUpdate): Promise<Session | undefined> {
  const names: Record<string, string> = { ...(update.condition?.names ?? {}) };
  const values: Record<string, unknown> = { ...(update.condition?.values ?? {}) };
  const pathExpr = (path: string) =>
    path
      .split(".")
      .map((part) => {
        const key = `#${part.replace(/[^A-Za-z0-9_]/g, "_")}`;
        names[key] = part;
        return key;
      })
      .join(".");
  const sets: string[] = [];
  let i = 0;
  for (const [path, value] of Object.entries({ ...update.set, updatedAt: nowIso() })) {
    if (value === undefined) continue;
    const placeholder = `:v${i++}`;
    values[placeholder] = value;
    sets.push(`${pathExpr(path)} = ${placeholder}`);
  }
  const removes = (update.remove ?? []).map(pathExpr);
  const expression = [`SET ${sets.join(", ")}`, removes.length ? `REMOVE ${removes.join(", ")}` : ""]
    .filter(Boolean)
    .join(" ");
  const conditions = ["attribute_exists(pk)", update.condition?.expression].filter(Boolean).join(" AND ");
  try {
    const res = await dynamo().send(
      new UpdateCommand({
        TableName: config().TABLE_NAME,
        Key: sessionKey(sessionId),
        UpdateExpression: expression,
        ConditionExpression: conditions,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: "ALL_NEW",
      }),
    );
    const { pk: _pk, sk: _sk, ...doc } = res.Attributes ?? {};
    return Session.parse(doc);
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

/** Condition: the session is owned by this go-live execution and still starting. */
export const ownedByGoLive = (executionArn: string): Condition => ({
  expression: "#streaming.#status = :starting AND #streaming.#executionArn = :executionArn",
  names: { "#streaming": "streaming", "#status": "status", "#executionArn": "executionArn" },
  values: { ":starting": "starting", ":executionArn": executionArn },
});

/** Condition: the session is owned by this stop-streaming execution and still stopping. */
export const ownedByStop = (executionArn: string): Condition => ({
  expression: "#streaming.#status = :stopping AND #streaming.#stopExecutionArn = :executionArn",
  names: { "#streaming": "streaming", "#status": "status", "#stopExecutionArn": "stopExecutionArn" },
  values: { ":stopping": "stopping", ":executionArn": executionArn },
});
