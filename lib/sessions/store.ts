import { setTimeout as sleep } from "node:timers/promises";
import { BatchGetCommand, GetCommand, PutCommand, paginateScan, QueryCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { dynamo } from "#lib/aws/clients.ts";
import { type Condition, type ConditionalUpdate, conditionalUpdate } from "#lib/conditional-update.ts";
import { config } from "#lib/config.ts";
import { SESSION_INDEXES, Session, SessionStatus, sessionKey } from "./model.ts";

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

export interface SessionListQuery {
  /** Only this host's sessions (a Query of `byHost`). */
  readonly hostUserId?: string;
  readonly status?: SessionStatus;
  /** Sessions per page, 1-100. */
  readonly limit: number;
  /** Where the previous page ended (its `nextToken`). */
  readonly nextToken?: string;
}

export interface SessionPage {
  /** Newest first (by `createdAt`). */
  readonly sessions: Session[];
  /** Absent on the last page. */
  readonly nextToken?: string;
}

/** A `nextToken` that is not one this listing handed out (another filter, another host, or altered). */
export class InvalidNextTokenError extends Error {
  override readonly name = "InvalidNextTokenError";
  constructor() {
    super("nextToken is not a token of this listing");
  }
}

/** Where a partition's reading resumes: after this index entry, from its start, or nowhere (read to its end). */
const Position = z.object({ pk: z.string().min(1), sk: z.string().min(1), createdAt: z.string().min(1) });
type Position = z.infer<typeof Position>;
type Resume = Position | "start" | "end";
const Token = z.object({
  v: z.literal(1),
  p: z.record(z.string(), z.union([Position, z.literal("start"), z.literal("end")])),
});

interface Partition {
  /** Names the partition in a token, so a token is only good for the listing that made it. */
  readonly id: string;
  readonly index: (typeof SESSION_INDEXES)[keyof typeof SESSION_INDEXES];
  readonly value: string;
  readonly status?: SessionStatus;
}

/** Index pages read per partition for one answer: a host's list filtered on a rare status stays bounded. */
const MAX_PAGES_PER_PARTITION = 5;

function partitionsOf(q: SessionListQuery): Partition[] {
  if (q.hostUserId !== undefined) {
    return [
      {
        id: `host:${q.hostUserId}${q.status ? `:${q.status}` : ""}`,
        index: SESSION_INDEXES.byHost,
        value: q.hostUserId,
        ...(q.status ? { status: q.status } : {}),
      },
    ];
  }
  const statuses = q.status ? [q.status] : SessionStatus.options;
  return statuses.map((status) => ({
    id: `status:${status}`,
    index: SESSION_INDEXES.byStatus,
    value: status,
  }));
}

function decodeToken(token: string, partitions: readonly Partition[]): Map<string, Resume> {
  let parsed: z.infer<typeof Token>;
  try {
    parsed = Token.parse(JSON.parse(Buffer.from(token, "base64url").toString("utf8")));
  } catch {
    throw new InvalidNextTokenError();
  }
  const ids = Object.keys(parsed.p);
  if (ids.length !== partitions.length || partitions.some((p) => !(p.id in parsed.p)))
    throw new InvalidNextTokenError();
  return new Map(Object.entries(parsed.p));
}

/** An index entry of a session (or of another record that shares the index's keys). */
type Entry = Position & Record<string, unknown>;

/**
 * Reads a partition from `after` until it has `want` sessions, reaches its end or has read
 * MAX_PAGES_PER_PARTITION pages. `resume` is where reading goes on once every entry returned is used.
 */
async function readPartition(
  p: Partition,
  after: Position | undefined,
  want: number,
): Promise<{ entries: Entry[]; resume: Position | "end" }> {
  const { index } = p;
  const entries: Entry[] = [];
  let start: Record<string, unknown> | undefined = after && {
    ...after,
    [index.partitionKey]: p.value,
  };
  for (let page = 0; page < MAX_PAGES_PER_PARTITION; page++) {
    const res = await dynamo().send(
      new QueryCommand({
        TableName: config().TABLE_NAME,
        IndexName: index.indexName,
        KeyConditionExpression: "#p = :p",
        FilterExpression: p.status ? "sk = :sk AND #status = :status" : "sk = :sk",
        ExpressionAttributeNames: { "#p": index.partitionKey, ...(p.status ? { "#status": "status" } : {}) },
        ExpressionAttributeValues: {
          ":p": p.value,
          ":sk": "SESSION",
          ...(p.status ? { ":status": p.status } : {}),
        },
        ScanIndexForward: false,
        Limit: want,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of res.Items ?? []) {
      entries.push(item as Entry);
      // Enough: the next read starts after the last entry kept, not after the page.
      if (entries.length === want) return { entries, resume: positionOf(item as Entry) };
    }
    if (!res.LastEvaluatedKey) return { entries, resume: "end" };
    start = res.LastEvaluatedKey;
  }
  return { entries, resume: start ? positionOf(start as Entry) : "end" };
}

const positionOf = (e: Record<string, unknown>): Position => ({
  pk: String(e.pk),
  sk: String(e.sk),
  createdAt: String(e.createdAt),
});

/**
 * One page of sessions, newest first: a Query of `byHost` for one host (never a Scan), or of
 * `byStatus` for each status asked for, merged by creation time. The index holds keys (and the
 * status); the documents are read with one BatchGet. A session whose status changed since the
 * index was written may show on two pages or none of a listing by status, as with any
 * DynamoDB pagination under writes.
 */
export async function listSessions(q: SessionListQuery): Promise<SessionPage> {
  const partitions = partitionsOf(q);
  const cursor = q.nextToken ? decodeToken(q.nextToken, partitions) : new Map<string, Resume>();
  // One more than a page: a partition that has it is not at its end, so the last page has no token.
  const reads = await Promise.all(
    partitions.map(async (p) => {
      const at = cursor.get(p.id) ?? "start";
      if (at === "end") return { entries: [] as Entry[], resume: "end" as const, at };
      return { ...(await readPartition(p, at === "start" ? undefined : at, q.limit + 1)), at };
    }),
  );
  // Merge newest first; each partition gives up a prefix of its entries.
  const taken: Entry[] = [];
  const used = reads.map(() => 0);
  while (taken.length < q.limit) {
    let best = -1;
    reads.forEach((r, i) => {
      const head = r.entries[used[i] ?? 0];
      const bestHead = best >= 0 ? reads[best]?.entries[used[best] ?? 0] : undefined;
      if (head && (!bestHead || head.createdAt > bestHead.createdAt)) best = i;
    });
    if (best < 0) break;
    const entry = reads[best]?.entries[used[best] ?? 0];
    if (!entry) break;
    taken.push(entry);
    used[best] = (used[best] ?? 0) + 1;
  }
  const next: Record<string, Resume> = {};
  partitions.forEach((p, i) => {
    const r = reads[i];
    const n = used[i] ?? 0;
    if (!r) return;
    const last = r.entries[n - 1];
    // All used: go on where the read stopped; some: after the last used; none: where this page began.
    next[p.id] = n === r.entries.length ? r.resume : last ? positionOf(last) : r.at;
  });
  const more = Object.values(next).some((v) => v !== "end");
  const sessions = (await getSessions(taken)).filter(
    (s) =>
      (q.hostUserId === undefined || s.hostUserId === q.hostUserId) &&
      (q.status === undefined || s.status === q.status),
  );
  return {
    sessions,
    ...(more ? { nextToken: Buffer.from(JSON.stringify({ v: 1, p: next })).toString("base64url") } : {}),
  };
}

/**
 * The sessions of these index entries, in their order: one strongly consistent BatchGet (the
 * index itself is eventually consistent); a session deleted meanwhile is left out.
 */
async function getSessions(entries: readonly Entry[]): Promise<Session[]> {
  if (entries.length === 0) return [];
  const table = config().TABLE_NAME;
  const found = new Map<string, Session>();
  let keys: Record<string, unknown>[] = entries.map((e) => ({ pk: e.pk, sk: e.sk }));
  for (let attempt = 0; keys.length > 0; attempt++) {
    // Keys left unprocessed are throttled reads: the API answers 503 (retry shortly), as for any throttling.
    if (attempt === 8)
      throw Object.assign(new Error("BatchGetItem left sessions unprocessed after 8 attempts"), {
        name: "ProvisionedThroughputExceededException",
      });
    if (attempt > 0) await sleep(Math.min(50 * 2 ** attempt, 1_000));
    const res = await dynamo().send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
    );
    for (const { pk, sk: _sk, ...doc } of res.Responses?.[table] ?? [])
      found.set(String(pk), Session.parse(doc));
    keys = (res.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
  }
  return entries.flatMap((e) => found.get(e.pk) ?? []);
}
