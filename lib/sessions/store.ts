import { GetCommand, PutCommand, paginateScan } from "@aws-sdk/lib-dynamodb";
import { dynamo } from "#lib/aws/clients.ts";
import { type Condition, type ConditionalUpdate, conditionalUpdate } from "#lib/conditional-update.ts";
import { config } from "#lib/config.ts";
import { Session, sessionKey } from "./model.ts";

export type { Condition, ConditionalUpdate };

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

/**
 * Applies a conditional update to a session and returns the new document, or `undefined` when
 * the session does not exist or the condition does not hold (the caller decides what that means).
 */
export async function updateSession(
  sessionId: string,
  update: ConditionalUpdate,
): Promise<Session | undefined> {
  const item = await conditionalUpdate(sessionKey(sessionId), update);
  return item ? Session.parse(item) : undefined;
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

/**
 * Every session record. Sessions have a partition each (`SESSION#<id>`), so this is a Scan of the
 * table filtered to session items: fine for the thousands of records a reconcile run reads every
 * few minutes; an index of sessions is the next step past that.
 */
export async function scanSessions(): Promise<Session[]> {
  const out: Session[] = [];
  const pages = paginateScan(
    { client: dynamo() },
    {
      TableName: config().TABLE_NAME,
      FilterExpression: "begins_with(pk, :prefix) AND sk = :sk",
      ExpressionAttributeValues: { ":prefix": "SESSION#", ":sk": "SESSION" },
      ConsistentRead: true,
    },
  );
  for await (const page of pages)
    for (const { pk: _pk, sk: _sk, ...doc } of page.Items ?? []) out.push(Session.parse(doc));
  return out;
}
