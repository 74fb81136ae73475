/**
 * Optional persistence of executions to one JSON file: loaded synchronously at start (the
 * service constructor is synchronous), saved debounced and atomically (temp file + rename) so a
 * crash mid-write never leaves half a file.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as z from "zod";
import { StateFileError } from "./errors.ts";
import type { HistoryEventRecord } from "./history.ts";

export const EXECUTION_STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** An execution as kept in memory and on disk. Dates are epoch milliseconds. */
export interface ExecutionRecord {
  /** Creation order, used for newest-first listing and stable pagination cursors. */
  seq: number;
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /** Aborted because the runtime stopped: the next start reports it in `abortedAtStart` (once). */
  toSettle?: boolean;
  history: HistoryEventRecord[];
}

const recordSchema = z.object({
  seq: z.number(),
  executionArn: z.string(),
  stateMachineArn: z.string(),
  name: z.string(),
  status: z.enum(EXECUTION_STATUSES),
  startDate: z.number(),
  stopDate: z.number().optional(),
  input: z.string(),
  output: z.string().optional(),
  toSettle: z.boolean().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
  history: z.array(
    z.looseObject({ id: z.number(), previousEventId: z.number(), timestamp: z.number(), type: z.string() }),
  ),
});

const fileSchema = z.object({ version: z.literal(1), executions: z.array(recordSchema) });

export function loadExecutions(path: string): ExecutionRecord[] {
  if (!existsSync(path)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new StateFileError(path, error instanceof Error ? error.message : String(error));
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) throw new StateFileError(path, z.prettifyError(result.error));
  return result.data.executions as ExecutionRecord[];
}

/** Debounced, serialized writer: at most one write in flight, the last state always written. */
export class ExecutionStore {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly snapshot: () => ExecutionRecord[],
    private readonly debounceMs = 50,
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  scheduleSave(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, this.debounceMs);
  }

  /** Writes now (cancelling a pending debounce) and resolves when the file is on disk. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.write();
  }

  private write(): Promise<void> {
    // Take the snapshot when the write actually starts so it holds the latest state.
    this.writing = this.writing.then(async () => {
      const text = JSON.stringify({ version: 1, executions: this.snapshot() });
      const temp = `${this.path}.${process.pid}.tmp`;
      try {
        await writeFile(temp, text);
        await rename(temp, this.path);
      } catch (error) {
        // A failed save must not crash the service; the next change retries it.
        console.error(`[local-sfn] cannot save ${this.path}:`, error);
      }
    });
    return this.writing;
  }
}
