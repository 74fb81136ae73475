import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ApiClient } from "#cli/client.ts";
import { addDestination, destinationAction } from "#cli/commands/destinations.ts";
import { goLive } from "#cli/commands/sessions.ts";
import { watch } from "#cli/commands/watch.ts";
import { why } from "#cli/commands/why.ts";
import type { Context } from "#cli/context.ts";
import { captureIo } from "#cli/io.ts";
import { runCli } from "#cli/program.ts";
import type { Target } from "#cli/target.ts";
import { PROJECT_ROOT } from "#infra/task-function.ts";
import { eventually, useLocalRuntime } from "../workflows/harness.ts";

const t = useLocalRuntime({ legacyProgramChannels: true });

/** The local runtime of this test file as the CLI's target, with the harness's dev tokens. */
const target = (user = "host-1", admin = false): Target => ({
  api: t.h.rt.endpoints.api,
  local: true,
  token: () => t.token(user, admin),
});

/** A command's Context: output captured (plain lines, no TTY), fast polls. */
function context(options: { json?: boolean; user?: string; stdin?: string; signal?: AbortSignal } = {}) {
  const io = captureIo(options.stdin !== undefined ? { stdin: options.stdin } : {});
  const ctx: Context = {
    client: new ApiClient(target(options.user)),
    io,
    json: options.json === true,
    pollMs: 20,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  return { ctx, io };
}

/** `castflow <argv>` in-process against this runtime. */
async function cli(argv: string[], options: { user?: string; admin?: boolean } = {}) {
  const io = captureIo();
  const code = await runCli(argv, io, { target: target(options.user, options.admin), pollMs: 20 });
  return { code, out: io.text(), err: io.stderr.join("\n") };
}

describe("castflow go-live", () => {
  it("follows a new session's go-live through its states to success: exit 0", async () => {
    const sessionId = await t.createSession();
    const { ctx, io } = context();

    const code = await goLive(ctx, sessionId);

    expect(code).toBe(0);
    const lines = io.stdout;
    expect(lines[0]).toBe(`go-live-${sessionId}-1 started`);
    // Every step once, in order, waits folded into one line each (Start Channel, the first round
    // of the wait for RUNNING, ends before the wait does).
    const steps = lines
      .filter((l) => /^[✔▸] /.test(l))
      .map((l) => (l.startsWith("✔ go-live-") ? l : l.replace(/ \d+:\d\d$/, "")));
    expect(steps).toEqual([
      "✔ Claim Session",
      "▸ Bring Channel Up",
      "✔ Confirm Program Channel",
      "✔ Ensure Input",
      "✔ Ensure Channel",
      "✔ Wait For Channel Ready",
      "✔ Start Channel",
      "✔ Wait For Channel Running",
      "✔ Mark Session Live",
      "✔ Bring Channel Up",
      "✔ Session Live",
      expect.stringMatching(new RegExp(`^✔ go-live-${sessionId}-1 succeeded in \\d+:\\d\\d$`)),
    ]);
    const session = await t.session(sessionId);
    expect(session.streaming.status).toBe("live");
    expect(io.text()).toContain(`playbackUrl: ${session.streaming.playbackUrl}`);
  });

  it("prints a line for each retry as it happens", async () => {
    const sessionId = await t.createSession();
    // Three throttles inside the task (the SDK's attempts), the fourth makes the state retry it.
    await t.fault({
      service: "medialive",
      operation: "StartChannel",
      error: "TooManyRequestsException",
      times: 4,
    });
    const { ctx, io } = context();

    expect(await goLive(ctx, sessionId)).toBe(0);

    expect(io.stdout).toContain(
      "  ↻ Start Channel: retry 1 after TooManyRequestsException: An AWS call failed with TooManyRequestsException; the execution history has the details",
    );
  });

  it("exits 1 on a failed go-live, naming the failed state, its error and the compensation; why says the same", async () => {
    const sessionId = await t.createSession();
    await t.fault({
      service: "medialive",
      operation: "StartChannel",
      error: "UnprocessableEntityException",
      times: 1,
    });
    const { ctx, io } = context();

    const code = await goLive(ctx, sessionId);

    expect(code).toBe(1);
    expect(io.stdout).toContainEqual(
      expect.stringMatching(/^✖ Start Channel \d+:\d\d {2}UnprocessableEntityException/),
    );
    const paragraph = io.stdout.at(-1) ?? "";
    expect(paragraph).toMatch(
      new RegExp(
        `^✖ go-live-${sessionId}-1 failed after \\d+:\\d\\d in "Start Channel": UnprocessableEntityException`,
      ),
    );
    // The stop is the first round of the wait for the channel stopped, which the path enters first.
    expect(paragraph).toContain(
      "Then it ran Clean Up → Find Created Resources → Wait For Channel Stopped → Stop Channel → ",
    );
    // The delete is the first round of the wait for its DELETED event, after which the input goes.
    expect(paragraph).toContain("Wait For Channel Deleted → Delete Created Channel → Delete Created Input");
    expect(paragraph).toContain("Record Failure → Go Live Failed (each step succeeded).");

    // why <sessionId>: the session's newest execution that did not succeed.
    const bySession = context();
    expect(await why(bySession.ctx, sessionId)).toBe(0);
    const explained = bySession.io.stdout;
    expect(explained[0]).toMatch(new RegExp(`^go-live-${sessionId}-1 failed at .+ after \\d+:\\d\\d$`));
    expect(explained).toContain("failed state: Start Channel");
    expect(explained).toContain("error:        UnprocessableEntityException");
    expect(explained).toContainEqual(expect.stringMatching(/^path: +Claim Session → .* → Start Channel$/));
    expect(explained).toContainEqual(
      expect.stringMatching(
        /^compensation: Clean Up → .*Delete Created Channel.* → Go Live Failed \(each step succeeded\)$/,
      ),
    );
    expect(explained).toContainEqual(expect.stringMatching(/^recorded: +UnprocessableEntityException: /));

    // why <executionName>, as a script reads it.
    const byName = await cli(["--json", "why", `go-live-${sessionId}-1`]);
    expect(byName.code).toBe(0);
    const answer = JSON.parse(byName.out);
    expect(answer).toMatchObject({
      failedState: "Start Channel",
      error: "UnprocessableEntityException",
      execution: { status: "FAILED", name: `go-live-${sessionId}-1` },
    });
    expect(answer.compensation.steps).toEqual(
      expect.arrayContaining(["Delete Created Channel", "Record Failure"]),
    );
  });

  it("--no-wait returns at once with the execution; --json prints the final JSON only", async () => {
    const sessionId = await t.createSession();
    const started = await cli(["go-live", sessionId, "--no-wait", "--json"]);
    expect(started.code).toBe(0);
    const body = JSON.parse(started.out);
    expect(body).toMatchObject({ sessionId, status: "starting", executionName: `go-live-${sessionId}-1` });
    expect((await t.waitFor(body.executionArn)).status).toBe("SUCCEEDED");

    const stopped = await cli(["stop", sessionId, "--json"]);
    expect(stopped.code).toBe(0);
    expect(JSON.parse(stopped.out)).toMatchObject({
      name: `stop-streaming-${sessionId}-1`,
      status: "SUCCEEDED",
      sessionId,
    });

    // end-session runs parallel branches: each step still gets its own line when it ends.
    const ended = await cli(["sessions", "end", sessionId]);
    expect(ended.code).toBe(0);
    const lines = ended.out.split("\n");
    for (const step of ["Delete Channel", "Delete Input", "Record Session Ended"])
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^✔ ${step} \\d+:\\d\\d$`)));
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^✔ end-session-${sessionId}-1 succeeded in`)),
    );
  });
});

describe("castflow commands", () => {
  it("sessions list --json includes the session just created", async () => {
    const created = await cli(["sessions", "create", "--show", "cli-show", "--json"]);
    expect(created.code).toBe(0);
    const { sessionId } = JSON.parse(created.out);
    const listed = await cli(["sessions", "list", "--json"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out).sessions).toContainEqual(
      expect.objectContaining({ sessionId, showId: "cli-show", hostUserId: "host-1" }),
    );
  });

  it("exits 2 on usage errors and says what is wrong", async () => {
    expect((await cli(["go-live"])).code).toBe(2);
    const missing = await cli(["sessions", "create"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("required option '--show <showId>' not specified");
    expect((await cli(["launch"])).code).toBe(2);
    const noKey = await cli([
      "destinations",
      "add",
      "--name",
      "yt",
      "--platform",
      "youtube",
      "--source",
      "s1",
    ]);
    expect(noKey.code).toBe(2);
    expect(noKey.err).toContain("the stream key is missing");
    expect((await cli(["--help"])).code).toBe(0);
  });

  it("adds, and deletes, a destination with the stream key from standard input, never printing it", async () => {
    const key = "abcd-efgh-ijkl-mnop-qrst";
    const source = await t.api("POST", "/admin/sources", {
      user: "ops",
      admin: true,
      body: { name: "cli-studio", protocol: "srt-listener" },
    });
    expect(source.status).toBe(201);
    const { ctx, io } = context({ stdin: `${key}\n` });

    const added = await addDestination(ctx, {
      name: "YouTube",
      platform: "youtube",
      source: source.body.sourceId,
      streamKey: "-",
    });

    expect(added).toBe(0);
    expect(io.text()).toMatch(/✔ destination-add-.+-1 succeeded/);
    const destinationId =
      /^destination (\S+) \(YouTube, youtube\) added$/.exec(io.stdout[0] ?? "")?.[1] ?? "";
    expect((await t.api("GET", `/destinations/${destinationId}`)).body.status).toBe("idle");

    const removed = context();
    expect(await destinationAction(removed.ctx, "rm", destinationId)).toBe(0);
    expect(removed.io.text()).toMatch(/✔ destination-delete-.+-1 succeeded/);
    expect([...io.stdout, ...io.stderr, ...removed.io.stdout].join("\n")).not.toContain(key);
  });

  it("channels are for admins: exit 1 with a hint without --admin", async () => {
    const refused = await cli(["channels", "list"]);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(
      "castflow: 403 forbidden: This route is for admins (admin commands need --admin)",
    );
    const created = await cli(["channels", "create", "--host", "cli-host", "--json"], {
      user: "ops",
      admin: true,
    });
    expect(created.code).toBe(0);
    const { channelId } = JSON.parse(created.out);
    const listed = await cli(["channels", "list"], { user: "ops", admin: true });
    expect(listed.out).toMatch(new RegExp(`^${channelId} +\\S+ +cli-host +IDLE`, "m"));
    expect((await cli(["channels", "rm", channelId], { user: "ops", admin: true })).code).toBe(0);
  });

  it("watch prints a line when a session goes live", async () => {
    const sessionId = await t.createSession();
    const stop = new AbortController();
    const { ctx, io } = context({ signal: stop.signal });
    const watching = watch(ctx);
    const has = (pattern: string) => io.stdout.some((l) => new RegExp(pattern).test(l));
    await eventually(async () => has(`session ${sessionId} `)); // the first poll has seen it idle
    await t.goLive(sessionId);
    await eventually(async () => has(`session ${sessionId} streaming \\w+ → live`));
    stop.abort();

    expect(await watching).toBe(0);
    expect(io.stdout[0]).toMatch(/^watching \d+ sessions and \d+ destinations/);
    const seen = `session ${sessionId} \\(show show-1, host host-1\\): status active, streaming idle$`;
    expect(io.stdout).toContainEqual(expect.stringMatching(new RegExp(seen)));
    // Polls may see starting on the way, or not: the change that started go-live names it.
    const started = `session ${sessionId} streaming idle → (starting|live) {2}\\(go-live-${sessionId}-1\\)$`;
    expect(io.stdout).toContainEqual(expect.stringMatching(new RegExp(started)));
    expect(io.stdout).toContainEqual(
      expect.stringMatching(new RegExp(`session ${sessionId} streaming \\w+ → live`)),
    );
  });
});

describe("castflow's target", () => {
  it("finds the local runtime through <state dir>/local.json and makes its own dev token", async () => {
    const dir = mkdtempSync(join(tmpdir(), "castflow-cli-"));
    writeFileSync(join(dir, "local.json"), JSON.stringify({ api: t.h.rt.endpoints.api }));
    // The harness's runtime keeps its issuer key here (local/runtime.ts, no stateDir).
    copyFileSync(
      join(process.env.TMPDIR ?? "/tmp", `castflow-${process.pid}`, "dev-issuer.json"),
      join(dir, "dev-issuer.json"),
    );
    const io = captureIo({ env: { CASTFLOW_STATE_DIR: dir } });
    expect(await runCli(["sessions", "list", "--user", "cli-local"], io)).toBe(0);
    expect(io.text()).toBe("no sessions");
    rmSync(dir, { recursive: true });
  });

  it("says how to start a local runtime when none answers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "castflow-cli-"));
    const empty = captureIo({ env: { CASTFLOW_STATE_DIR: dir } });
    expect(await runCli(["sessions", "list"], empty)).toBe(1);
    expect(empty.stderr[0]).toMatch(
      /^castflow: no local runtime at http:\/\/127\.0\.0\.1:4566 \(no .*local\.json\): start it with npm start, or pass --api$/,
    );

    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    writeFileSync(join(dir, "local.json"), JSON.stringify({ api: `http://127.0.0.1:${port}` }));
    copyFileSync(
      join(process.env.TMPDIR ?? "/tmp", `castflow-${process.pid}`, "dev-issuer.json"),
      join(dir, "dev-issuer.json"),
    );
    const closed = captureIo({ env: { CASTFLOW_STATE_DIR: dir } });
    expect(await runCli(["sessions", "list"], closed)).toBe(1);
    expect(closed.stderr[0]).toBe(
      `castflow: no local runtime at http://127.0.0.1:${port} (ECONNREFUSED): start it with npm start, or pass --api`,
    );
    rmSync(dir, { recursive: true });
  });

  it("--api needs a token", async () => {
    const io = captureIo();
    expect(await runCli(["--api", "https://api.example.com", "sessions", "list"], io)).toBe(2);
    expect(io.stderr[0]).toBe("castflow: --api needs a bearer token: pass --token or set CASTFLOW_TOKEN");
  });

  it("runs as a bin: node bin/castflow.mjs --help lists the commands", () => {
    const res = spawnSync(process.execPath, [join(PROJECT_ROOT, "bin", "castflow.mjs"), "--help"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(res.status).toBe(0);
    for (const command of ["sessions", "go-live", "stop", "destinations", "channels", "why", "watch"]) {
      expect(res.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    }
    expect(res.stdout).toContain(
      "Exit codes: 0 success, 1 the command or its execution failed, 2 usage error.",
    );
  });
});
