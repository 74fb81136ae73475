import {
  AddFlowOutputsCommand,
  AddFlowSourcesCommand,
  CreateFlowCommand,
  DeleteFlowCommand,
  DescribeFlowCommand,
  ListFlowsCommand,
  ListTagsForResourceCommand,
  MediaConnectClient,
  RemoveFlowOutputCommand,
  RemoveFlowSourceCommand,
  StartFlowCommand,
  StopFlowCommand,
  TagResourceCommand,
  UpdateFlowCommand,
} from "@aws-sdk/client-mediaconnect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "#local/simulator/index.ts";
import { admin, expectAwsError, until } from "./helpers.ts";

let sim: Simulator;
let mc: MediaConnectClient;

beforeAll(async () => {
  // 0.005: STARTING 100 ms, STOPPING 50 ms, DELETING 25 ms, output removal 10 ms.
  sim = await startSimulator({ timeScale: 0.005 });
  mc = new MediaConnectClient({
    endpoint: sim.url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDSIMULATORTEST", secretAccessKey: "not-a-secret" },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  mc.destroy();
  await sim.close();
});
beforeEach(async () => {
  await admin(sim.url, "POST", "/_sim/reset");
});

async function createFlow(name = "cam-a") {
  const res = await mc.send(
    new CreateFlowCommand({
      Name: name,
      Source: { Name: "encoder", Protocol: "srt-listener", IngestPort: 5000, WhitelistCidr: "10.0.0.0/16" },
    }),
  );
  return res.Flow?.FlowArn ?? "";
}
const describeFlow = (arn: string) => mc.send(new DescribeFlowCommand({ FlowArn: arn }));
const status = (s: string) => (r: { Flow?: { Status?: string | undefined } }) => r.Flow?.Status === s;
const rtpOutput = (name: string, port = 5000) => ({
  Name: name,
  Protocol: "rtp-fec" as const,
  Destination: "198.51.100.7",
  Port: port,
});

describe("MediaConnect flows", () => {
  it("creates a flow in STANDBY with its source, through the real SDK client", async () => {
    const res = await mc.send(
      new CreateFlowCommand({
        Name: "cam-a",
        Source: { Name: "encoder", Protocol: "srt-listener", IngestPort: 5000 },
      }),
    );
    expect(res.$metadata.httpStatusCode).toBe(201);
    expect(res.Flow?.Status).toBe("STANDBY");
    expect(res.Flow?.FlowArn).toMatch(
      /^arn:aws:mediaconnect:us-east-1:000000000000:flow:1-[A-Za-z0-9]+-[A-Za-z0-9]+:cam-a$/,
    );
    expect(res.Flow?.Source?.Name).toBe("encoder");
    expect(res.Flow?.Source?.Transport?.Protocol).toBe("srt-listener");
    expect(res.Flow?.Source?.IngestPort).toBe(5000);
    expect(res.Flow?.Source?.SourceArn).toMatch(/:source:/);
    const d = await describeFlow(res.Flow?.FlowArn ?? "");
    expect(d.Flow?.Status).toBe("STANDBY");
    expect(sim.resources().mediaconnect.flows).toHaveLength(1);
  });

  it("starts (STARTING -> ACTIVE after the scaled duration) and stops (STOPPING -> STANDBY)", async () => {
    const arn = await createFlow();
    const started = await mc.send(new StartFlowCommand({ FlowArn: arn }));
    expect(started.$metadata.httpStatusCode).toBe(202);
    expect(started.Status).toBe("STARTING");
    expect((await describeFlow(arn)).Flow?.Status).toBe("STARTING");
    await until(() => describeFlow(arn), status("ACTIVE"));
    const stopped = await mc.send(new StopFlowCommand({ FlowArn: arn }));
    expect(stopped.$metadata.httpStatusCode).toBe(202);
    expect(stopped.Status).toBe("STOPPING");
    await until(() => describeFlow(arn), status("STANDBY"));
  });

  it("adds outputs while ACTIVE, refuses the 51st with AddFlowOutputs420Exception, removes one asynchronously", async () => {
    const arn = await createFlow();
    await mc.send(new StartFlowCommand({ FlowArn: arn }));
    await until(() => describeFlow(arn), status("ACTIVE"));
    const first = await mc.send(new AddFlowOutputsCommand({ FlowArn: arn, Outputs: [rtpOutput("dest-0")] }));
    expect(first.$metadata.httpStatusCode).toBe(201);
    expect(first.Outputs?.[0]?.Name).toBe("dest-0");
    expect(first.Outputs?.[0]?.OutputArn).toMatch(/:output:/);
    expect(first.Outputs?.[0]?.Transport?.Protocol).toBe("rtp-fec");
    await mc.send(
      new AddFlowOutputsCommand({
        FlowArn: arn,
        Outputs: Array.from({ length: 49 }, (_, i) => rtpOutput(`dest-${i + 1}`, 6000 + 10 * i)),
      }),
    );
    expect((await describeFlow(arn)).Flow?.Outputs).toHaveLength(50);
    await expectAwsError(
      mc.send(new AddFlowOutputsCommand({ FlowArn: arn, Outputs: [rtpOutput("dest-50")] })),
      "AddFlowOutputs420Exception",
      420,
    );
    await expectAwsError(
      mc.send(new AddFlowOutputsCommand({ FlowArn: arn, Outputs: [rtpOutput("dest-0")] })),
      "BadRequestException",
      400,
    );
    const outputArn = first.Outputs?.[0]?.OutputArn ?? "";
    const removed = await mc.send(new RemoveFlowOutputCommand({ FlowArn: arn, OutputArn: outputArn }));
    expect(removed.$metadata.httpStatusCode).toBe(202);
    expect(removed.OutputArn).toBe(outputArn);
    const after = await until(
      () => describeFlow(arn),
      (r) => (r.Flow?.Outputs ?? []).every((o) => o.OutputArn !== outputArn),
    );
    expect(after.Flow?.Outputs).toHaveLength(49);
    // Room again for one more.
    await mc.send(new AddFlowOutputsCommand({ FlowArn: arn, Outputs: [rtpOutput("dest-50")] }));
  });

  it("refuses DeleteFlow while ACTIVE (400 BadRequestException); stop then delete -> DELETING -> 404", async () => {
    const arn = await createFlow();
    await mc.send(new StartFlowCommand({ FlowArn: arn }));
    await until(() => describeFlow(arn), status("ACTIVE"));
    await expectAwsError(mc.send(new DeleteFlowCommand({ FlowArn: arn })), "BadRequestException", 400);
    await mc.send(new StopFlowCommand({ FlowArn: arn }));
    await until(() => describeFlow(arn), status("STANDBY"));
    const del = await mc.send(new DeleteFlowCommand({ FlowArn: arn }));
    expect(del.$metadata.httpStatusCode).toBe(202);
    expect(del.Status).toBe("DELETING");
    await until(
      () =>
        describeFlow(arn).then(
          () => "present",
          (e: Error) => e.name,
        ),
      (r) => r === "NotFoundException",
    );
    await expectAwsError(describeFlow(arn), "NotFoundException", 404);
    await expectAwsError(mc.send(new StartFlowCommand({ FlowArn: arn })), "NotFoundException", 404);
  });

  it("refuses the 21st flow with CreateFlow420Exception and pages ListFlows (10 by default)", async () => {
    for (let i = 0; i < 20; i++) await createFlow(`flow-${i}`);
    await expectAwsError(createFlow("flow-20"), "CreateFlow420Exception", 420);
    const page1 = await mc.send(new ListFlowsCommand({}));
    expect(page1.Flows).toHaveLength(10);
    expect(page1.NextToken).toBeTruthy();
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await mc.send(new ListFlowsCommand({ MaxResults: 7, NextToken: token }));
      names.push(...(page.Flows ?? []).map((f) => f.Name ?? ""));
      token = page.NextToken;
    } while (token);
    expect(names).toHaveLength(20);
    expect(page1.Flows?.[0]).toMatchObject({
      Status: "STANDBY",
      SourceType: "OWNED",
      AvailabilityZone: "us-east-1a",
    });
  });

  it("tags a flow", async () => {
    const arn = await createFlow();
    await mc.send(new TagResourceCommand({ ResourceArn: arn, Tags: { project: "castflow" } }));
    const tags = await mc.send(new ListTagsForResourceCommand({ ResourceArn: arn }));
    expect(tags.Tags).toEqual({ project: "castflow" });
  });

  it("injects a fault on DescribeFlow through POST /_sim/faults", async () => {
    const arn = await createFlow();
    const added = await admin(sim.url, "POST", "/_sim/faults", {
      service: "mediaconnect",
      operation: "DescribeFlow",
      error: "TooManyRequestsException",
    });
    expect(added.status).toBe(201);
    expect(added.body.status).toBe(429);
    await expectAwsError(describeFlow(arn), "TooManyRequestsException", 429);
    expect((await describeFlow(arn)).Flow?.Status).toBe("STANDBY"); // applied once
    const calls = await admin(sim.url, "GET", "/_sim/calls?service=mediaconnect&operation=DescribeFlow");
    expect(calls.body.count).toBe(2);
    const unknown = await admin(sim.url, "POST", "/_sim/faults", {
      service: "mediaconnect",
      operation: "DescribeFlow",
      error: "NotAMediaConnectError",
    });
    expect(unknown.status).toBe(400);
  });
});

const srtSource = (name: string, port: number) => ({
  Name: name,
  Protocol: "srt-listener" as const,
  IngestPort: port,
});
/** The flow as GET /_sim/resources shows it (with activeSource). */
const simFlow = (arn: string) => sim.resources().mediaconnect.flows.find((f) => f.flowArn === arn);
const setPushing = (body: Record<string, unknown>) => admin(sim.url, "POST", "/_sim/sources", body);

describe("MediaConnect source failover", () => {
  async function failoverFlow() {
    const res = await mc.send(
      new CreateFlowCommand({
        Name: "cam-a",
        Sources: [srtSource("main", 5000), srtSource("backup", 5001)],
        SourceFailoverConfig: {
          State: "ENABLED",
          FailoverMode: "FAILOVER",
          RecoveryWindow: 200,
          SourcePriority: { PrimarySource: "main" },
        },
      }),
    );
    return res.Flow?.FlowArn ?? "";
  }

  it("creates a flow with two sources and renders sources[] and sourceFailoverConfig", async () => {
    const arn = await failoverFlow();
    const flow = (await describeFlow(arn)).Flow;
    expect(flow?.Sources?.map((s) => s.Name)).toEqual(["main", "backup"]);
    expect(flow?.Sources?.map((s) => s.IngestPort)).toEqual([5000, 5001]);
    for (const s of flow?.Sources ?? []) {
      expect(s.SourceArn).toMatch(/^arn:aws:mediaconnect:us-east-1:000000000000:source:/);
      expect(s.IngestIp).toMatch(/^203\.0\.113\.\d+$/);
      expect(s.Transport?.Protocol).toBe("srt-listener");
    }
    expect(flow?.Source?.Name).toBe("main");
    expect(flow?.SourceFailoverConfig).toEqual({
      State: "ENABLED",
      FailoverMode: "FAILOVER",
      RecoveryWindow: 200,
      SourcePriority: { PrimarySource: "main" },
    });
    expect(simFlow(arn)?.activeSource).toBe("main");
  });

  it("refuses three sources, two sources without failover ENABLED, and an unknown primary source (400)", async () => {
    const three = await expectAwsError(
      mc.send(
        new CreateFlowCommand({
          Name: "x",
          Sources: [srtSource("a", 5000), srtSource("b", 5001), srtSource("c", 5002)],
          SourceFailoverConfig: { State: "ENABLED" },
        }),
      ),
      "BadRequestException",
      400,
    );
    expect(three.message).toContain("at most 2");
    await expectAwsError(
      mc.send(new CreateFlowCommand({ Name: "x", Sources: [srtSource("a", 5000), srtSource("b", 5001)] })),
      "BadRequestException",
      400,
    );
    await expectAwsError(
      mc.send(
        new CreateFlowCommand({
          Name: "x",
          Sources: [srtSource("a", 5000), srtSource("b", 5001)],
          SourceFailoverConfig: { State: "ENABLED", SourcePriority: { PrimarySource: "c" } },
        }),
      ),
      "BadRequestException",
      400,
    );
    expect(sim.resources().mediaconnect.flows).toEqual([]);
  });

  it("fails over to the backup while the primary is not pushing, and back; UpdateFlow moves the primary", async () => {
    const arn = await failoverFlow();
    expect((await setPushing({ flowArn: arn, sourceName: "main", pushing: false })).body.activeSource).toBe(
      "backup",
    );
    expect(simFlow(arn)?.activeSource).toBe("backup");
    // Neither pushes: the primary stays the active one (nothing to fail over to).
    await setPushing({ flowArn: arn, sourceName: "backup", pushing: false });
    expect(simFlow(arn)?.activeSource).toBe("main");
    await setPushing({ flowArn: arn, pushing: true });
    expect(simFlow(arn)?.activeSource).toBe("main");

    const updated = await mc.send(
      new UpdateFlowCommand({
        FlowArn: arn,
        SourceFailoverConfig: { SourcePriority: { PrimarySource: "backup" } },
      }),
    );
    expect(updated.$metadata.httpStatusCode).toBe(202);
    expect(updated.Flow?.SourceFailoverConfig).toMatchObject({
      State: "ENABLED",
      FailoverMode: "FAILOVER",
      SourcePriority: { PrimarySource: "backup" },
    });
    expect(simFlow(arn)?.activeSource).toBe("backup");
    await setPushing({ flowArn: arn, sourceName: "backup", pushing: false });
    expect(simFlow(arn)?.activeSource).toBe("main");

    // Failover cannot be disabled while the flow has two sources.
    await expectAwsError(
      mc.send(new UpdateFlowCommand({ FlowArn: arn, SourceFailoverConfig: { State: "DISABLED" } })),
      "BadRequestException",
      400,
    );
    await expectAwsError(
      mc.send(
        new UpdateFlowCommand({
          FlowArn: arn,
          SourceFailoverConfig: { SourcePriority: { PrimarySource: "nope" } },
        }),
      ),
      "BadRequestException",
      400,
    );
    expect((await admin(sim.url, "GET", "/_sim/sources")).body.sources).toEqual([
      { flowArn: arn, sourceName: "main", pushing: true },
      { flowArn: arn, sourceName: "backup", pushing: false },
    ]);
  });

  it("adds a second source with AddFlowSources (failover ENABLED only, at most 2) and removes one with RemoveFlowSource", async () => {
    const arn = await createFlow();
    await expectAwsError(
      mc.send(new AddFlowSourcesCommand({ FlowArn: arn, Sources: [srtSource("backup", 5001)] })),
      "BadRequestException",
      400,
    );
    await mc.send(
      new UpdateFlowCommand({
        FlowArn: arn,
        SourceFailoverConfig: { State: "ENABLED", FailoverMode: "FAILOVER" },
      }),
    );
    const added = await mc.send(
      new AddFlowSourcesCommand({ FlowArn: arn, Sources: [srtSource("backup", 5001)] }),
    );
    expect(added.$metadata.httpStatusCode).toBe(201);
    expect(added.FlowArn).toBe(arn);
    expect(added.Sources?.map((s) => s.Name)).toEqual(["backup"]);
    const backupArn = added.Sources?.[0]?.SourceArn ?? "";
    expect(backupArn).toMatch(/:source:/);
    expect((await describeFlow(arn)).Flow?.Sources?.map((s) => s.Name)).toEqual(["encoder", "backup"]);
    // No primary named: the first source is the primary.
    await setPushing({ flowArn: arn, sourceName: "encoder", pushing: false });
    expect(simFlow(arn)?.activeSource).toBe("backup");

    const third = await expectAwsError(
      mc.send(new AddFlowSourcesCommand({ FlowArn: arn, Sources: [srtSource("third", 5002)] })),
      "BadRequestException",
      400,
    );
    expect(third.message).toContain("at most 2");

    const removed = await mc.send(new RemoveFlowSourceCommand({ FlowArn: arn, SourceArn: backupArn }));
    expect(removed.$metadata.httpStatusCode).toBe(202);
    expect(removed).toMatchObject({ FlowArn: arn, SourceArn: backupArn });
    // Being removed: no longer a candidate for the active source.
    expect(simFlow(arn)?.activeSource).toBe("encoder");
    await until(
      () => describeFlow(arn),
      (r) => r.Flow?.Sources?.length === 1,
    );
    expect((await describeFlow(arn)).Flow?.Sources?.[0]?.Name).toBe("encoder");
    const onlyArn = (await describeFlow(arn)).Flow?.Sources?.[0]?.SourceArn ?? "";
    await expectAwsError(
      mc.send(new RemoveFlowSourceCommand({ FlowArn: arn, SourceArn: onlyArn })),
      "BadRequestException",
      400,
    );
    await expectAwsError(
      mc.send(new RemoveFlowSourceCommand({ FlowArn: arn, SourceArn: backupArn })),
      "NotFoundException",
      404,
    );
  });
});
