import type { Context } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as z from "zod";
import { resetConfig } from "#lib/config.ts";
import { defineTask } from "#tasks/define.ts";
import { useTestEnv } from "./helpers.ts";

/** A Lambda context whose deadline is `ms` away. */
const contextWithin = (ms: number): Context => {
  const deadline = Date.now() + ms;
  return {
    functionName: "probe",
    awsRequestId: `req-${ms}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } as unknown as Context;
};

describe("defineTask", () => {
  beforeEach(() => useTestEnv());
  afterEach(() => resetConfig());

  it("gives every invocation its own abort signal: one task's deadline never aborts another's calls", async () => {
    // Prepare: the local runtime runs many invocations of one handler in one process.
    const signals: AbortSignal[] = [];
    const probe = defineTask({
      name: "probe",
      entry: import.meta.url,
      input: z.object({ waitMs: z.number() }),
      run: async ({ waitMs }, { signal }) => {
        signals.push(signal);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        return { aborted: signal.aborted };
      },
    });

    // Act: the first invocation runs past its deadline (500 ms early-timeout margin), the second
    // has minutes left.
    const early = probe.handler({ waitMs: 400 }, contextWithin(600)).catch((err: unknown) => err);
    const late = probe.handler({ waitMs: 400 }, contextWithin(120_000));
    const [, lateResult] = await Promise.all([early, late]);

    // Assess
    expect(signals).toHaveLength(2);
    expect(signals[0]?.aborted).toBe(true);
    expect(lateResult).toEqual({ aborted: false });
    expect(signals[1]?.aborted).toBe(false);
  });

  it("fails with a ConfigurationError naming a missing setting instead of using a fallback", async () => {
    // Prepare: a deployed function whose stack did not set the recording bucket.
    delete process.env.RECORDING_BUCKET;
    resetConfig();
    const probe = defineTask({
      name: "probe",
      entry: import.meta.url,
      input: z.object({}),
      run: async () => "ran",
    });

    // Act + Assess
    await expect(probe.handler({}, contextWithin(10_000))).rejects.toMatchObject({
      name: "ConfigurationError",
      message: expect.stringContaining("RECORDING_BUCKET"),
    });
  });

  it("records the entry module as a file path for the stack to bundle", () => {
    const probe = defineTask({
      name: "probe",
      entry: import.meta.url,
      input: z.object({}),
      run: async () => 1,
    });
    expect(probe.entry).toMatch(/test\/tasks\/define\.test\.ts$/);
  });
});
