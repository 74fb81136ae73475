import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { dynamo } from "#lib/aws/clients.ts";
import { conditionalUpdate } from "#lib/conditional-update.ts";
import { config } from "#lib/config.ts";
import { FINDING_CLASSES, Finding } from "./model.ts";

export const RECONCILE_PARTITION = "RECONCILE";
/** Runs sort by start time (`RUN#<startedAt>#<runId>`); `ID#<runId>` points at a run's item. */
const runKey = (startedAt: string, runId: string) => ({
  pk: RECONCILE_PARTITION,
  sk: `RUN#${startedAt}#${runId}`,
});
const pointerKey = (runId: string) => ({ pk: RECONCILE_PARTITION, sk: `ID#${runId}` });

/** What names a run in every step's input: its id, mode, execution and start. */
export const RunIdentity = z.object({
  runId: z.string().min(1),
  dryRun: z.boolean(),
  executionArn: z.string().min(1),
  /** The execution's start: the run's time, the same when a task is retried. */
  startedAt: z.string().min(1),
});

/** Run reports are kept this long, then DynamoDB's TTL removes them (`expiresAt`). */
export const REPORT_RETENTION_DAYS = 30;

export const RepairOutcome = z.object({
  findingId: z.string(),
  /** `skipped`: right before the repair, the finding was no longer what the inventory saw. */
  outcome: z.enum(["repaired", "failed", "skipped"]),
  /** The error's name when the repair failed. */
  error: z.string().optional(),
});
export type RepairOutcome = z.infer<typeof RepairOutcome>;

/**
 * One reconcile run's report: what it found (every finding with its reason and repair), what it
 * did (each repair's outcome; a dry run does nothing), and the money per hour the repairs saved.
 */
export const ReconcileRun = z.object({
  runId: z.string(),
  executionArn: z.string(),
  dryRun: z.boolean(),
  status: z.enum(["running", "succeeded", "failed"]),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  counts: z.record(z.enum(FINDING_CLASSES), z.number().int().nonnegative()),
  findings: z.array(
    Finding.extend({
      /** `proposed` in a dry run (or past the per-run cap), else what the repair did. */
      action: z.enum(["proposed", "repaired", "failed", "skipped", "none"]),
      error: z.string().optional(),
    }),
  ),
  /** Findings beyond what one run repairs (`MAX_REPAIRS_PER_RUN`): the next run takes them. */
  deferred: z.number().int().nonnegative().default(0),
  /** Findings counted but not kept in the report (past `MAX_FINDINGS_KEPT`). */
  omitted: z.number().int().nonnegative().default(0),
  /** Why a run did less than asked (e.g. another run was in progress). */
  note: z.string().optional(),
  savedPerHourUsd: z.number().nonnegative().default(0),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  expiresAt: z.number().int(),
  updatedAt: z.string().optional(),
  version: z.number().int().nonnegative().default(0),
});
export type ReconcileRun = z.infer<typeof ReconcileRun>;

const strip = ({ pk: _pk, sk: _sk, ...doc }: Record<string, unknown>) => doc;

/** A run's report as it starts: nothing found yet, expiring REPORT_RETENTION_DAYS from now. */
export function newRun(
  run: Pick<ReconcileRun, "runId" | "executionArn" | "dryRun" | "startedAt">,
  now = new Date(),
): ReconcileRun {
  return ReconcileRun.parse({
    ...run,
    status: "running",
    counts: Object.fromEntries(FINDING_CLASSES.map((c) => [c, 0])),
    findings: [],
    expiresAt: Math.floor(now.getTime() / 1000) + REPORT_RETENTION_DAYS * 86_400,
  });
}

/**
 * Writes a run's first report and the pointer to it. The key comes from the run's start time and
 * id, so a retried inventory overwrites its own report instead of adding a second one.
 */
export async function putRun(run: ReconcileRun): Promise<void> {
  const key = runKey(run.startedAt, run.runId);
  const table = config().TABLE_NAME;
  await dynamo().send(new PutCommand({ TableName: table, Item: { ...key, ...run } }));
  await dynamo().send(
    new PutCommand({
      TableName: table,
      Item: { ...pointerKey(run.runId), sk2: key.sk, expiresAt: run.expiresAt },
    }),
  );
}

async function pointerOf(runId: string): Promise<{ pk: string; sk: string } | undefined> {
  const res = await dynamo().send(
    new GetCommand({ TableName: config().TABLE_NAME, Key: pointerKey(runId), ConsistentRead: true }),
  );
  const sk = res.Item?.sk2;
  return typeof sk === "string" ? { pk: RECONCILE_PARTITION, sk } : undefined;
}

export async function getRun(runId: string): Promise<ReconcileRun | undefined> {
  const key = await pointerOf(runId);
  if (!key) return undefined;
  const res = await dynamo().send(
    new GetCommand({ TableName: config().TABLE_NAME, Key: key, ConsistentRead: true }),
  );
  return res.Item ? ReconcileRun.parse(strip(res.Item)) : undefined;
}

export async function updateRun(
  runId: string,
  set: Record<string, unknown>,
): Promise<ReconcileRun | undefined> {
  const key = await pointerOf(runId);
  const item = key ? await conditionalUpdate(key, { set }) : undefined;
  return item ? ReconcileRun.parse(item) : undefined;
}

/**
 * The newest runs first, one Query page of at most `limit` (runs sort by start time), and the
 * sort key to go on from (`after`) when older runs remain.
 */
export async function listRuns(
  limit = 50,
  after?: string,
): Promise<{ runs: ReconcileRun[]; next: string | undefined }> {
  const res = await dynamo().send(
    new QueryCommand({
      TableName: config().TABLE_NAME,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :run)",
      ExpressionAttributeValues: { ":pk": RECONCILE_PARTITION, ":run": "RUN#" },
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
      ...(after ? { ExclusiveStartKey: { pk: RECONCILE_PARTITION, sk: after } } : {}),
    }),
  );
  const next = res.LastEvaluatedKey?.sk;
  return {
    runs: (res.Items ?? []).map((item) => ReconcileRun.parse(strip(item))),
    next: typeof next === "string" ? next : undefined,
  };
}
