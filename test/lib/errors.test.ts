import { describe, expect, it } from "vitest";
import * as z from "zod";
import { causeMessage, isNetworkError, publicErrorMessage, TaskErrors } from "#lib/errors.ts";
import { taskHandler } from "#tasks/define.ts";
import { useTestEnv } from "#test/tasks/helpers.ts";

const lambdaContext = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: "castflow-test",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:castflow-test",
  memoryLimitInMB: "256",
  awsRequestId: "req-1",
  logGroupName: "/aws/lambda/castflow-test",
  logStreamName: "local",
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

describe("errors shown to hosts", () => {
  it("keeps castflow's own messages and hides an AWS error's message behind its name", () => {
    expect(publicErrorMessage(TaskErrors.ChannelWaitTimeout, "Channel 1 still STARTING after 750 s")).toBe(
      "Channel 1 still STARTING after 750 s",
    );
    const aws = publicErrorMessage(
      "AccessDeniedException",
      "User: arn:aws:sts::123456789012:assumed-role/castflow-task/x is not authorized",
    );
    expect(aws).toContain("AccessDeniedException");
    expect(aws).not.toContain("123456789012");
  });

  it("never calls the local runtime's own errors AWS errors", () => {
    const restarted = publicErrorMessage(
      "castflow.LocalRuntimeRestarted",
      "The local Step Functions runtime stopped while this execution was running",
    );
    expect(restarted).not.toContain("AWS call");
    expect(restarted).toContain("local Step Functions runtime stopped");
  });

  it("reads the message out of a Lambda error's JSON Cause", () => {
    const cause = JSON.stringify({
      errorType: "ChannelFailed",
      errorMessage: "Channel 1 is CREATE_FAILED",
      trace: [],
    });
    expect(causeMessage(cause)).toBe("Channel 1 is CREATE_FAILED");
    expect(causeMessage("plain text")).toBe("plain text");
  });
});

describe("socket errors", () => {
  it("recognises them by code, directly or as the cause", () => {
    expect(isNetworkError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe(true);
    expect(isNetworkError(new Error("fetch failed", { cause: { code: "UND_ERR_SOCKET" } }))).toBe(true);
    expect(isNetworkError(Object.assign(new Error("nope"), { name: "ConflictException" }))).toBe(false);
  });

  it("become a named NetworkError in a task, which the state retries", async () => {
    useTestEnv();
    const handler = taskHandler("probe", z.object({ sessionId: z.string() }), async () => {
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    });
    await expect(handler({ sessionId: "s1" }, lambdaContext)).rejects.toMatchObject({
      name: TaskErrors.NetworkError,
    });
  });
});
