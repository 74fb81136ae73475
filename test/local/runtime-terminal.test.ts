import { execFile } from "node:child_process";
import { createServer, type Server } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, useLocalRuntime } from "#test/workflows/harness.ts";

const lines: string[] = [];
const t = useLocalRuntime({ legacyProgramChannels: true, executionLog: (line) => lines.push(line) });

/** The lines printed about one execution, without their time of day. */
const linesOf = (name: string) =>
  lines.filter((l) => l.split(" ")[1] === name).map((l) => l.replace(/^\d\d:\d\d:\d\d /, ""));

describe("the runtime terminal: one line per execution started, succeeded or failed", () => {
  it("prints a go-live's start and success with its duration", async () => {
    const sessionId = await t.createSession();
    const { start, execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("SUCCEEDED");
    const name = start.body.executionName as string;

    await eventually(async () => linesOf(name).length === 2);
    expect(linesOf(name)[0]).toBe(`${name} started`);
    expect(linesOf(name)[1]).toMatch(new RegExp(`^${name} succeeded in \\d+\\.\\d s$`));
    expect(lines.find((l) => l.endsWith(`${name} started`))).toMatch(/^\d\d:\d\d:\d\d go-live-/);
  });

  it("prints a failed go-live with the state that failed and the error, not the Fail state after the clean-up", async () => {
    const sessionId = await t.createSession();
    await t.fault({
      service: "medialive",
      operation: "StartChannel",
      error: "UnprocessableEntityException",
      times: 1,
    });
    const { start, execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("FAILED");
    const name = start.body.executionName as string;

    await eventually(async () => linesOf(name).length === 2);
    expect(linesOf(name)).toEqual([
      `${name} started`,
      expect.stringMatching(
        new RegExp(`^${name} FAILED in \\d+\\.\\d s at "Start Channel": UnprocessableEntityException$`),
      ),
    ]);
  });
});

const run = promisify(execFile);
/** Runs a script of the package with tsx, as `npm start` and `npm run` do: its exit code and output. */
async function script(file: string, args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", file, ...args], {
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("npm start's options", () => {
  let busy: Server;
  let busyPort = 0;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it("--help prints the usage with every option and exits 0", async () => {
    const res = await script("local/main.ts", ["--help"]);

    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^usage: npm start -- \[options\]/);
    for (const option of [
      "--clean",
      "--api-port",
      "--sfn-port",
      "--simulator-port",
      "--dynamodb-port",
      "--console-port",
      "--demo-host",
      "--legacy-program-channels",
      "--help",
      "CASTFLOW_TIME_SCALE",
    ])
      expect(res.stdout).toContain(option);
  });

  it("refuses an unknown option with the usage and exit code 2", async () => {
    const res = await script("local/main.ts", ["--api-prot", "5000"]);

    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^Unknown option '--api-prot'\n\nusage: npm start/);
  });

  it("says which option moves a port that is in use", async () => {
    const res = await script("local/main.ts", [
      "--api-port",
      String(busyPort),
      ...["--sfn-port", "--simulator-port", "--dynamodb-port", "--console-port"].flatMap((o) => [o, "0"]),
    ]);

    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(
      `port ${busyPort} is in use: pass --api-port N (or stop what listens there: another castflow?)`,
    );
  });

  it("dev-token refuses an unknown option with the usage and exit code 2", async () => {
    const res = await script("local/dev-token.ts", ["host-1", "--admn"]);

    expect(res.code).toBe(2);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(
      /^dev-token: Unknown option '--admn'\n\nusage: npm run dev-token -- <userId> \[--admin\]/,
    );
  });
});
