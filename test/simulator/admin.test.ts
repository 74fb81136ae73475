import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateChannelCommand as CreateIvsChannelCommand,
  IvsClient,
  ListChannelsCommand as ListIvsChannels,
} from "@aws-sdk/client-ivs";
import {
  CreateChannelCommand,
  CreateInputCommand,
  DescribeChannelCommand,
  ListChannelsCommand,
  MediaLiveClient,
  StartChannelCommand,
} from "@aws-sdk/client-medialive";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "#local/simulator/index.ts";
import { admin, channelInput, clients, expectAwsError, until } from "./helpers.ts";

let sim: Simulator;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  sim = await startSimulator({ timeScale: 0.002 });
  c = clients(sim.url);
});
afterAll(async () => {
  for (const client of Object.values(c)) client.destroy();
  await sim.close();
});
beforeEach(async () => {
  await admin(sim.url, "POST", "/_sim/reset");
});

async function idleChannel(requestId?: string) {
  const input = await c.ml.send(
    new CreateInputCommand({ Type: "RTMP_PUSH", Destinations: [{ StreamName: "live/a" }] }),
  );
  const res = await c.ml.send(
    new CreateChannelCommand(channelInput(input.Input?.Id ?? "", requestId ? { RequestId: requestId } : {})),
  );
  const id = res.Channel?.Id ?? "";
  await until(
    () => c.ml.send(new DescribeChannelCommand({ ChannelId: id })),
    (d) => d.State === "IDLE",
  );
  return id;
}

describe("fault injection", () => {
  it("fails the next N calls with the named error and its status, then recovers", async () => {
    const id = await idleChannel();
    const fault = await admin(sim.url, "POST", "/_sim/faults", {
      service: "medialive",
      operation: "StartChannel",
      error: "TooManyRequestsException",
      times: 2,
    });
    expect(fault.status).toBe(201);
    expect(fault.body.id).toEqual(expect.any(String));
    expect(fault.body.status).toBe(429);
    await expectAwsError(
      c.ml.send(new StartChannelCommand({ ChannelId: id })),
      "TooManyRequestsException",
      429,
    );
    await expectAwsError(
      c.ml.send(new StartChannelCommand({ ChannelId: id })),
      "TooManyRequestsException",
      429,
    );
    expect((await c.ml.send(new DescribeChannelCommand({ ChannelId: id }))).State).toBe("IDLE");
    expect((await c.ml.send(new StartChannelCommand({ ChannelId: id }))).State).toBe("STARTING");
    expect((await admin(sim.url, "GET", "/_sim/faults")).body.faults).toEqual([]);
  });

  it("after: true applies the operation but loses the response; a RequestId retry returns the same channel", async () => {
    const input = await c.ml.send(
      new CreateInputCommand({ Type: "RTMP_PUSH", Destinations: [{ StreamName: "live/a" }] }),
    );
    await admin(sim.url, "POST", "/_sim/faults", {
      service: "medialive",
      operation: "CreateChannel",
      error: "GatewayTimeoutException",
      after: true,
    });
    const req = channelInput(input.Input?.Id ?? "", { RequestId: "lost-response-1" });
    await expectAwsError(c.ml.send(new CreateChannelCommand(req)), "GatewayTimeoutException", 504);
    expect(sim.resources().medialive.channels).toHaveLength(1);
    const retried = await c.ml.send(new CreateChannelCommand(req));
    expect(retried.Channel?.Id).toBe(sim.resources().medialive.channels[0]?.id);
    expect((await c.ml.send(new ListChannelsCommand({}))).Channels).toHaveLength(1);
  });

  it("delays a response by delayMs, with or without an error", async () => {
    await admin(sim.url, "POST", "/_sim/faults", { service: "ssm", operation: "PutParameter", delayMs: 200 });
    let t0 = Date.now();
    await c.ssm.send(new PutParameterCommand({ Name: "/d", Value: "v", Type: "String" }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    await admin(sim.url, "POST", "/_sim/faults", {
      service: "ssm",
      operation: "GetParameter",
      error: "InternalServerError",
      delayMs: 150,
    });
    t0 = Date.now();
    await expectAwsError(c.ssm.send(new GetParameterCommand({ Name: "/d" })), "InternalServerError", 500);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("rate: 1 fails every call until the faults are cleared", async () => {
    await admin(sim.url, "POST", "/_sim/faults", {
      service: "ivs",
      operation: "ListChannels",
      error: "InternalServerException",
      rate: 1,
    });
    await expectAwsError(c.ivs.send(new ListIvsChannels({})), "InternalServerException", 500);
    await expectAwsError(c.ivs.send(new ListIvsChannels({})), "InternalServerException", 500);
    expect((await admin(sim.url, "GET", "/_sim/faults")).body.faults).toHaveLength(1);
    await admin(sim.url, "DELETE", "/_sim/faults");
    expect((await c.ivs.send(new ListIvsChannels({}))).channels).toEqual([]);
  });

  it('operation "*" affects every operation of its service, and no other service', async () => {
    await admin(sim.url, "POST", "/_sim/faults", {
      service: "ivs",
      operation: "*",
      error: "ThrottlingException",
      rate: 1,
    });
    await expectAwsError(c.ivs.send(new ListIvsChannels({})), "ThrottlingException", 429);
    await expectAwsError(c.ivs.send(new CreateIvsChannelCommand({ name: "x" })), "ThrottlingException", 429);
    expect(sim.resources().ivs.channels).toEqual([]);
    expect((await c.ml.send(new ListChannelsCommand({}))).Channels).toEqual([]);
  });

  it("status injects an error the service model declares but the simulator never answers by itself", async () => {
    // IVS names its 503 ServiceUnavailable; no simulated IVS operation produces it.
    const fault = await admin(sim.url, "POST", "/_sim/faults", {
      service: "ivs",
      operation: "ListChannels",
      error: "ServiceUnavailable",
      status: 503,
    });
    expect(fault.body.status).toBe(503);
    await expectAwsError(c.ivs.send(new ListIvsChannels({})), "ServiceUnavailable", 503);
    expect((await c.ivs.send(new ListIvsChannels({}))).channels).toEqual([]);
  });

  it.each([
    [{ operation: "StartChannel", error: "ConflictException" }, "service"],
    [{ service: "medialive", operation: "Bogus", error: "ConflictException" }, "operation"],
    [{ service: "medialive", operation: "StartChannel", error: "NotAnAwsError" }, "error"],
    [{ service: "ivs", operation: "ListChannels", error: "ServiceUnavailable" }, "error"],
    [{ service: "ivs", operation: "ListChannels", delayMs: 10, status: 503 }, "status"],
    [{ service: "ivs", operation: "ListChannels", error: "ServiceUnavailable", status: 200 }, "status"],
    [{ service: "medialive", operation: "StartChannel" }, "error"],
    [{ service: "medialive", operation: "StartChannel", error: "ConflictException", times: 0 }, "times"],
    [{ service: "medialive", operation: "StartChannel", error: "ConflictException", rate: 2 }, "rate"],
    [
      { service: "medialive", operation: "StartChannel", error: "ConflictException", times: 1, rate: 0.5 },
      "times",
    ],
  ])("rejects an invalid fault %j naming %s", async (body, field) => {
    const res = await admin(sim.url, "POST", "/_sim/faults", body);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
    expect((await admin(sim.url, "GET", "/_sim/faults")).body.faults).toEqual([]);
  });
});

describe("protocol edges", () => {
  const signed = (service: string) => ({
    authorization: `AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`,
  });

  it("answers malformed JSON with a 400 SerializationException", async () => {
    const res = await fetch(`${sim.url}/prod/channels`, {
      method: "POST",
      headers: { ...signed("medialive"), "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-amzn-errortype")).toBe("SerializationException");
  });

  it("answers unknown operations with a clear error, not a crash", async () => {
    const rest = await fetch(`${sim.url}/prod/bogus`, { headers: signed("medialive") });
    expect(rest.status).toBe(404);
    expect(rest.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
    const json = await fetch(sim.url, {
      method: "POST",
      headers: {
        ...signed("ssm"),
        "x-amz-target": "AmazonSSM.NoSuchThing",
        "content-type": "application/x-amz-json-1.1",
      },
      body: "{}",
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { __type: string }).__type).toBe("UnknownOperationException");
    const nobody = await fetch(`${sim.url}/whatever/this/is`);
    expect(nobody.status).toBe(400);
  });

  it("routes by the SigV4 credential scope: the same path means different services", async () => {
    // POST /CreateChannel is IVS; with a medialive scope it is no MediaLive operation.
    const asMl = await fetch(`${sim.url}/CreateChannel`, {
      method: "POST",
      headers: signed("medialive"),
      body: "{}",
    });
    expect(asMl.status).toBe(404);
    const asIvs = await fetch(`${sim.url}/CreateChannel`, {
      method: "POST",
      headers: signed("ivs"),
      body: "{}",
    });
    expect(asIvs.status).toBe(200);
    expect(sim.resources().ivs.channels).toHaveLength(1);
  });

  it("serves all three services through AWS_ENDPOINT_URL_<SERVICE> on one port", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_MEDIALIVE: sim.url,
      AWS_ENDPOINT_URL_IVS: sim.url,
      AWS_ENDPOINT_URL_SSM: sim.url,
    });
    const opts = {
      region: "us-east-1",
      credentials: { accessKeyId: "AKID", secretAccessKey: "x" },
      maxAttempts: 1,
    };
    const ml = new MediaLiveClient(opts);
    const ivs = new IvsClient(opts);
    const ssm = new SSMClient(opts);
    try {
      await ml.send(new ListChannelsCommand({}));
      await ivs.send(new CreateIvsChannelCommand({ name: "env" }));
      await ssm.send(new PutParameterCommand({ Name: "/env", Value: "1", Type: "String" }));
      const calls = (await admin(sim.url, "GET", "/_sim/calls")).body.calls as {
        service: string;
        operation: string;
      }[];
      expect(calls.map((x) => `${x.service}:${x.operation}`)).toEqual([
        "medialive:ListChannels",
        "ivs:CreateChannel",
        "ssm:PutParameter",
      ]);
    } finally {
      process.env = saved;
      for (const client of [ml, ivs, ssm]) client.destroy();
    }
  });
});

describe("admin views", () => {
  it("GET /_sim/resources shows every service's resources, including stream key values and states", async () => {
    const id = await idleChannel();
    const ivs = await c.ivs.send(new CreateIvsChannelCommand({ name: "show", tags: { a: "b" } }));
    await c.ssm.send(new PutParameterCommand({ Name: "/s", Value: "secret-v", Type: "SecureString" }));
    const res = await admin(sim.url, "GET", "/_sim/resources");
    const view = res.body as unknown as ReturnType<Simulator["resources"]>;
    expect(view).toEqual(sim.resources());
    expect(view.medialive.channels[0]).toMatchObject({ id, state: "IDLE", tags: { castflow: "test" } });
    expect(view.medialive.channels[0]?.encoderSettings).toBeTruthy();
    expect(view.medialive.inputs[0]).toMatchObject({ state: "ATTACHED", attachedChannels: [id] });
    expect(view.ivs.channels[0]).toMatchObject({ arn: ivs.channel?.arn, tags: { a: "b" } });
    expect(view.ivs.streamKeys[0]).toMatchObject({
      value: ivs.streamKey?.value,
      channelArn: ivs.channel?.arn,
    });
    expect(view.ssm.parameters[0]).toMatchObject({ Name: "/s", Value: "secret-v", Type: "SecureString" });
  });

  it("POST /_sim/advance finishes a resource's pending transition at once", async () => {
    const id = await idleChannel();
    await c.ml.send(new StartChannelCommand({ ChannelId: id }));
    // At timeScale 0.002 a start takes ~150 ms; right after the call it is still STARTING.
    expect((await c.ml.send(new DescribeChannelCommand({ ChannelId: id }))).State).toBe("STARTING");
    const res = await admin(sim.url, "POST", "/_sim/advance", { resourceId: id });
    expect(res.body).toEqual({ advanced: 1 });
    await until(
      () => c.ml.send(new DescribeChannelCommand({ ChannelId: id })),
      (d) => d.State === "RUNNING",
      100,
    );
    expect((await admin(sim.url, "POST", "/_sim/advance", {})).status).toBe(400);
  });

  it("GET /_sim/calls counts calls per service and operation", async () => {
    await c.ivs.send(new ListIvsChannels({}));
    await c.ivs.send(new ListIvsChannels({}));
    await c.ml.send(new ListChannelsCommand({}));
    const res = await admin(sim.url, "GET", "/_sim/calls?service=ivs&operation=ListChannels");
    expect(res.body.count).toBe(2);
  });
});

describe("persistence", () => {
  it("saves to statePath and reloads on restart, resuming pending transitions", async () => {
    const dir = mkdtempSync(join(tmpdir(), "castflow-sim-"));
    const statePath = join(dir, "state.json");
    try {
      let s = await startSimulator({ timeScale: 0.01, statePath });
      let cl = clients(s.url);
      const input = await cl.ml.send(
        new CreateInputCommand({ Type: "RTMP_PUSH", Destinations: [{ StreamName: "live/a" }] }),
      );
      const created = await cl.ml.send(new CreateChannelCommand(channelInput(input.Input?.Id ?? "")));
      await cl.ssm.send(new PutParameterCommand({ Name: "/p", Value: "kept", Type: "String" }));
      const ivs = await cl.ivs.send(new CreateIvsChannelCommand({ name: "kept" }));
      expect(created.Channel?.State).toBe("CREATING");
      for (const client of Object.values(cl)) client.destroy();
      await s.close(); // still CREATING (100 ms at this scale)

      s = await startSimulator({ timeScale: 0.01, statePath });
      cl = clients(s.url);
      try {
        const id = created.Channel?.Id ?? "";
        const ch = await until(
          () => cl.ml.send(new DescribeChannelCommand({ ChannelId: id })),
          (d) => d.State === "IDLE",
        );
        expect(ch.EncoderSettings?.OutputGroups?.[0]?.Name).toBe("rtmp");
        expect((await cl.ssm.send(new GetParameterCommand({ Name: "/p" }))).Parameter?.Value).toBe("kept");
        expect(s.resources().ivs.streamKeys[0]?.value).toBe(ivs.streamKey?.value);
      } finally {
        for (const client of Object.values(cl)) client.destroy();
        await s.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
