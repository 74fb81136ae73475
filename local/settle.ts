import { startLifecycle } from "#api/executions.ts";
import { errorName } from "#lib/errors.ts";
import { logger } from "#lib/logger.ts";
import type { Lifecycle } from "#state-machines/workflow/lifecycle.ts";
import type { AbortedExecution } from "./sfn/index.ts";

export interface Settled {
  /** The execution the restart aborted. */
  readonly aborted: string;
  /** The execution started to settle its record, if any. */
  readonly settledBy?: string;
  /** Why nothing could be started, if so. */
  readonly error?: string;
}

/**
 * After a restart, the local runtime settles what it aborted: each execution that was running
 * when the process stopped left its record half-way (a session `starting`, `stopping` or
 * `ending`). Its lifecycle's `settledBy` says what finishes it (a go-live is stopped, a stop or an
 * end runs again); that execution is started, as a host or the scheduled reconciliation would,
 * and the record ends settled instead of waiting for the next request.
 */
export async function settleAborted(
  aborted: readonly AbortedExecution[],
  lifecycleOf: (stateMachineName: string) => Lifecycle | undefined,
): Promise<Settled[]> {
  const results: Settled[] = [];
  for (const execution of aborted) {
    const lifecycle = lifecycleOf(execution.stateMachineName);
    const settle = lifecycle?.settledBy;
    if (!lifecycle || !settle) {
      results.push({ aborted: execution.executionArn });
      continue;
    }
    try {
      const input = lifecycle.input.parse(JSON.parse(execution.input));
      const [next, nextInput] =
        settle === "itself" ? [lifecycle, input] : [settle.lifecycle, settle.input(input)];
      // startLifecycle validates the input against the lifecycle's schema.
      const started = await startLifecycle(next, 0, () => nextInput as never);
      logger.warn("Settling an execution the restart aborted", {
        aborted: execution.executionArn,
        settledBy: started.executionArn,
      });
      results.push({ aborted: execution.executionArn, settledBy: started.executionArn });
    } catch (err) {
      logger.error("Could not settle an execution the restart aborted", {
        aborted: execution.executionArn,
        error: errorName(err),
      });
      results.push({ aborted: execution.executionArn, error: errorName(err) });
    }
  }
  return results;
}
