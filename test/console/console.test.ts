import { DescribeStateMachineCommand } from "@aws-sdk/client-sfn";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, useLocalRuntime } from "../workflows/harness.ts";
import { launchChromium } from "./chromium.ts";

// Channel starts wait for the test (POST /_sim/advance), so a go-live can be watched while it runs;
// at this time scale its Wait For Channel Running gives up after about 15 s (12.5 minutes on AWS),
// in rounds of 2.4 s (2 minutes) that each wait for the channel's next event.
const t = useLocalRuntime({
  legacyProgramChannels: true,
  timeScale: 0.02,
  simulatorDurations: { channelStart: 36_000 },
});
let browser: Browser;
/** One page for the file: the console is a single page app, moved between pages by its URL's hash. */
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});
afterAll(async () => {
  await browser?.close();
});

type Json = Record<string, unknown>;

/** Every state name of a definition, nested ones included, read straight from the ASL. */
function stateNames(scope: Json): string[] {
  return Object.entries(scope.States as Record<string, Json>).flatMap(([name, state]) => [
    name,
    ...((state.Branches as Json[] | undefined) ?? []).flatMap(stateNames),
    ...(state.ItemProcessor ? stateNames(state.ItemProcessor as Json) : []),
  ]);
}

async function goLiveStates(): Promise<string[]> {
  const machine = await t.h.sfn.send(
    new DescribeStateMachineCommand({ stateMachineArn: t.h.rt.stateMachineArns["go-live"] }),
  );
  return stateNames(JSON.parse(machine.definition ?? "{}"));
}

/** Shows a console page: `#/sessions`, `#/execution/<arn>`, ... */
async function show(hash: string): Promise<void> {
  await page.goto(`${t.h.rt.endpoints.console}/${hash}`);
}
const executionHash = (executionArn: string) => `#/execution/${encodeURIComponent(executionArn)}`;

/** The drawn states: name and classes of each `<g class="node" data-state>`. */
const drawnStates = () =>
  page
    .locator("svg.graph .node[data-state]")
    .evaluateAll((els) =>
      els.map((e) => ({ name: e.getAttribute("data-state") ?? "", classes: [...e.classList] })),
    );
const takenEdges = () =>
  page
    .locator("svg.graph .edge.taken")
    .evaluateAll((els) => els.map((e) => `${e.getAttribute("data-from")} -> ${e.getAttribute("data-to")}`));

/** Stream key values the simulated account holds: none may reach the console. */
const streamKeys = () => t.h.rt.simulator.resources().ivs.streamKeys.map((k) => String(k.value));

describe("console", () => {
  it("follows a go-live as it runs, then draws the path it took", async () => {
    // Prepare: a go-live held in Wait For Channel Running until the channel is advanced
    const sessionId = await t.createSession();
    const start = await t.api("POST", `/sessions/${sessionId}/streaming/start`);
    const executionArn: string = start.body.executionArn;

    // Act: open it while it runs
    await show(executionHash(executionArn));

    // Assess: the page follows the execution to the state it waits in, which pulses inside its Parallel
    // (its rounds after the first, Start Channel: the channel is still STARTING when that one ends)
    await page
      .locator('svg.graph .node.current[data-state="Wait For Channel Running: Await Event"]')
      .waitFor();
    expect(await page.locator("svg.graph .node.current").count()).toBe(1);
    expect(await page.locator('.node[data-state="Bring Channel Up"]').getAttribute("class")).toContain(
      "active",
    );
    expect(await page.locator("#graph").getAttribute("data-status")).toBe("RUNNING");

    // Act: the channel reaches RUNNING; the page refreshes by itself
    const channel = await eventually(async () =>
      t.h.rt.simulator.resources().medialive.channels.find((c) => c.state === "STARTING"),
    );
    await t.sim("POST", "/_sim/advance", { resourceId: channel.id });
    expect((await t.waitFor(executionArn)).status).toBe("SUCCEEDED");
    await page.locator('#graph[data-status="SUCCEEDED"]').waitFor();

    // Assess: every state of go-live is drawn; exactly the states entered are marked, all succeeded
    // but Start Channel: the wait's first round, it ran out of its round (States.Timeout, caught)
    // while the channel kept STARTING, and a next round saw it RUNNING.
    const path = new Set(await t.statePath(executionArn));
    const drawn = await drawnStates();
    expect(drawn.map((d) => d.name).sort()).toEqual((await goLiveStates()).sort());
    expect(new Set(drawn.filter((d) => d.classes.includes("visited")).map((d) => d.name))).toEqual(path);
    const caught = drawn.filter((d) => d.classes.includes("failed"));
    expect(caught.map((d) => d.name)).toEqual(["Start Channel"]);
    expect(caught[0]?.classes).toContain("caught");
    for (const d of drawn.filter((x) => path.has(x.name) && x.name !== "Start Channel"))
      expect(d.classes).toContain("succeeded");
    expect(drawn.some((d) => d.classes.includes("current"))).toBe(false);
    expect(path.has("Session Busy")).toBe(false);
    const taken = await takenEdges();
    expect(taken).toEqual(
      expect.arrayContaining([
        "__start__ -> Claim Session",
        "Claim Session -> Bring Channel Up",
        "Start Channel -> Wait For Channel Running: Count Round",
        "Wait For Channel Running: Rounds Left? -> Wait For Channel Running: Await Event",
        "Wait For Channel Running: Await Event -> Wait For Channel Running: Check State",
        "Wait For Channel Running: Check State -> Mark Session Live",
        "Bring Channel Up -> Session Live",
        "Session Live -> __end__",
      ]),
    );
    expect(taken).not.toContain("Claim Session -> Session Busy");
    expect(taken).not.toContain("Bring Channel Up -> Clean Up");
    expect(await page.locator("#failure").isVisible()).toBe(false);
    expect(await page.locator("#events tr[data-event]").count()).toBe((await t.history(executionArn)).length);
    // What the page reads holds no stream key (the task that reads one passes it to MediaLive only).
    const json = await (
      await fetch(`${t.h.rt.endpoints.console}/api/executions/${encodeURIComponent(executionArn)}`)
    ).text();
    for (const key of streamKeys()) expect(json).not.toContain(key);
  });

  it("marks the state of a failed go-live that failed, with its error, and filters executions", async () => {
    // Prepare: MediaLive refuses the session's input, every time (BadRequestException is not
    // retried by the state; the task asks once more only if the security group was gone)
    await t.fault({ service: "medialive", operation: "CreateInput", error: "BadRequestException", rate: 1 });
    const sessionId = await t.createSession();
    const { start, execution } = await t.goLive(sessionId);
    expect(execution.status).toBe("FAILED");

    // Act
    await show(executionHash(start.body.executionArn));

    // Assess: the failed state, its error in the graph's panel and in the state's details
    await page.locator('.node.failed[data-state="Ensure Input"]').waitFor();
    const failure = page.locator("#failure");
    expect(await failure.isVisible()).toBe(true);
    expect(await failure.locator(".failed-state").textContent()).toBe("Ensure Input");
    expect(await page.locator("#failure-error").textContent()).toBe("BadRequestException");
    expect(await page.locator("#failure-cause").textContent()).toContain("Injected fault");
    expect(await page.locator("#state-details").textContent()).toContain("BadRequestException");
    const drawn = new Map((await drawnStates()).map((d) => [d.name, d.classes]));
    expect(drawn.get("Bring Channel Up")).toEqual(expect.arrayContaining(["failed", "caught"]));
    expect(drawn.get("Clean Up")).toContain("succeeded");
    expect(drawn.get("Go Live Failed")).toContain("failed");
    expect(drawn.get("Session Live")).not.toContain("visited");
    expect(await takenEdges()).toEqual(
      expect.arrayContaining(["Bring Channel Up -> Clean Up", "Clean Up -> Record Failure"]),
    );

    // Act: the executions page, filtered to failed go-lives
    await show("#/executions?lifecycle=go-live&status=FAILED");
    const rows = page.locator("#executions tbody tr");
    await rows.first().waitFor();

    // Assess
    const listed = await rows.evaluateAll((trs) => trs.map((tr) => tr.textContent ?? ""));
    expect(listed.some((row) => row.includes(execution.name))).toBe(true);
    for (const row of listed) expect(row).toMatch(/go-live.*FAILED/);
  });

  it("shows sessions, the simulated account without stream keys, and injects faults", async () => {
    // Prepare: a legacy session has a program IVS channel with a stream key in the simulator
    const sessionId = await t.createSession();
    expect(streamKeys().length).toBeGreaterThan(0);

    // Sessions
    await show("#/sessions");
    const row = page.locator("#sessions tbody tr", { hasText: sessionId });
    await row.waitFor();
    expect(await row.textContent()).toContain("idle");

    // The simulated account
    await show("#/account");
    await page.locator("#ivs-channels tbody tr").first().waitFor();
    expect(await page.locator("#ivs-channels tbody tr").count()).toBe(
      t.h.rt.simulator.resources().ivs.channels.length,
    );
    const account = await (await fetch(`${t.h.rt.endpoints.console}/api/account`)).text();
    for (const key of streamKeys()) expect(account).not.toContain(key);
    expect(await page.content()).not.toContain(streamKeys()[0]);

    // Fault injection through the form, then cleared
    await show("#/faults");
    await page.locator("#fault-service").selectOption("medialive");
    await page.locator("#fault-operation").fill("StopChannel");
    await page.locator("#fault-error").fill("ConflictException");
    await page.locator("#fault-times").fill("2");
    await page.locator('#fault-form button[type="submit"]').click();
    await page.locator("#faults tbody tr", { hasText: "StopChannel" }).waitFor();
    expect((await t.sim("GET", "/_sim/faults")).body.faults).toEqual([
      expect.objectContaining({
        service: "medialive",
        operation: "StopChannel",
        error: "ConflictException",
        times: 2,
      }),
    ]);
    await page.locator("#clear-faults").click();
    await page.locator("#faults").waitFor({ state: "detached" });
    expect((await t.sim("GET", "/_sim/faults")).body.faults).toEqual([]);
  });
});
