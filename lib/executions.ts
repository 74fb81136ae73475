import { DescribeExecutionCommand } from "@aws-sdk/client-sfn";
import { sfn } from "./clients.ts";
import { errorName } from "./errors.ts";

/** True when the execution can no longer make progress (closed, or unknown to Step Functions). */
export async function executionIsClosed(executionArn: string): Promise<boolean> {
  try {
    const res = await sfn().send(
      new DescribeExecutionCommand({ executionArn, includedData: "METADATA_ONLY" }),
    );
    return res.status !== "RUNNING";
  } catch (err) {
    if (errorName(err) === "ExecutionDoesNotExist") return true;
    throw err;
  }
}
