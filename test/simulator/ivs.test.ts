import {
  CreateChannelCommand,
  CreateStreamKeyCommand,
  DeleteChannelCommand,
  DeleteStreamKeyCommand,
  GetChannelCommand,
  GetStreamCommand,
  GetStreamKeyCommand,
  ListChannelsCommand,
  ListStreamKeysCommand,
  ListTagsForResourceCommand,
  StopStreamCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateChannelCommand,
} from "@aws-sdk/client-ivs";
import {
  CreateInputCommand,
  CreateChannelCommand as CreateMlChannelCommand,
  DescribeChannelCommand,
  StartChannelCommand,
  StopChannelCommand,
} from "@aws-sdk/client-medialive";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "#local/simulator/index.ts";
import { admin, channelInput, clients, expectAwsError, rtmpDestination, until } from "./helpers.ts";

let sim: Simulator;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  sim = await startSimulator({ timeScale: 0.002 });
  c = clients(sim.url);
});
afterAll(async () => {
  c.ivs.destroy();
  c.ml.destroy();
  await sim.close();
});
beforeEach(async () => {
  await admin(sim.url, "POST", "/_sim/reset");
});

async function newChannel(name = "show") {
  const res = await c.ivs.send(new CreateChannelCommand({ name, tags: { castflow: "test" } }));
  return { arn: res.channel?.arn ?? "", channel: res.channel, streamKey: res.streamKey };
}
const goLive = (channelArn: string, live = true) =>
  admin(sim.url, "POST", "/_sim/ivs/streams", { channelArn, live });

describe("IVS channels and stream keys", () => {
  it("creates a channel with realistic ARN, ingest, playback URL and a generated stream key", async () => {
    const { arn, channel, streamKey } = await newChannel();
    expect(arn).toMatch(/^arn:aws:ivs:us-east-1:000000000000:channel\/[A-Za-z0-9]{12}$/);
    expect(channel?.ingestEndpoint).toMatch(/^[0-9a-f]{12}\.global-contribute\.live-video\.net$/);
    const id = arn.split("/")[1];
    expect(channel?.playbackUrl).toBe(
      `https://${channel?.playbackUrl?.slice(8, 20)}.us-east-1.playback.live-video.net/api/video/v1/us-east-1.000000000000.channel.${id}.m3u8`,
    );
    expect(streamKey?.channelArn).toBe(arn);
    expect(streamKey?.value).toMatch(/^sk_us-east-1_[A-Za-z0-9]+$/);
    const again = await newChannel();
    expect(again.streamKey?.value).not.toBe(streamKey?.value);
    const got = await c.ivs.send(new GetChannelCommand({ arn }));
    expect(got.channel?.tags).toEqual({ castflow: "test" });
    expect(got.channel?.latencyMode).toBe("LOW");
  });

  it("allows one stream key per channel (ServiceQuotaExceededException) and rotates by delete + create", async () => {
    const { arn, streamKey } = await newChannel();
    await expectAwsError(
      c.ivs.send(new CreateStreamKeyCommand({ channelArn: arn })),
      "ServiceQuotaExceededException",
      402,
    );
    const listed = await c.ivs.send(new ListStreamKeysCommand({ channelArn: arn }));
    expect(listed.streamKeys).toHaveLength(1);
    expect(listed.streamKeys?.[0]).not.toHaveProperty("value");
    const got = await c.ivs.send(new GetStreamKeyCommand({ arn: streamKey?.arn }));
    expect(got.streamKey?.value).toBe(streamKey?.value);
    await c.ivs.send(new DeleteStreamKeyCommand({ arn: streamKey?.arn }));
    const rotated = await c.ivs.send(new CreateStreamKeyCommand({ channelArn: arn }));
    expect(rotated.streamKey?.value).not.toBe(streamKey?.value);
  });

  it("lists channels filtered by name with pagination", async () => {
    await newChannel("alpha-1");
    await newChannel("alpha-2");
    await newChannel("beta");
    const page1 = await c.ivs.send(new ListChannelsCommand({ filterByName: "alpha", maxResults: 1 }));
    expect(page1.channels).toHaveLength(1);
    const page2 = await c.ivs.send(
      new ListChannelsCommand({ filterByName: "alpha", maxResults: 1, nextToken: page1.nextToken }),
    );
    expect(page2.nextToken).toBeUndefined();
    expect([page1.channels?.[0]?.name, page2.channels?.[0]?.name].sort()).toEqual(["alpha-1", "alpha-2"]);
  });

  it("tags and untags channels", async () => {
    const { arn } = await newChannel();
    await c.ivs.send(new TagResourceCommand({ resourceArn: arn, tags: { session: "s1" } }));
    await c.ivs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["castflow"] }));
    expect((await c.ivs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({
      session: "s1",
    });
  });

  it("answers ResourceNotFoundException 404 for an unknown channel", async () => {
    await expectAwsError(
      c.ivs.send(new GetChannelCommand({ arn: "arn:aws:ivs:us-east-1:000000000000:channel/AAAAAAAAAAAA" })),
      "ResourceNotFoundException",
      404,
    );
  });
});

describe("IVS streams", () => {
  it("GetStream and StopStream answer ChannelNotBroadcasting 404 while offline", async () => {
    const { arn } = await newChannel();
    await expectAwsError(
      c.ivs.send(new GetStreamCommand({ channelArn: arn })),
      "ChannelNotBroadcasting",
      404,
    );
    await expectAwsError(
      c.ivs.send(new StopStreamCommand({ channelArn: arn })),
      "ChannelNotBroadcasting",
      404,
    );
  });

  it("a live stream blocks DeleteChannel and UpdateChannel (409) until StopStream ends it", async () => {
    const { arn } = await newChannel();
    expect((await goLive(arn)).status).toBe(200);
    const s = await c.ivs.send(new GetStreamCommand({ channelArn: arn }));
    expect(s.stream?.state).toBe("LIVE");
    expect(s.stream?.startTime).toBeInstanceOf(Date);
    await expectAwsError(c.ivs.send(new DeleteChannelCommand({ arn })), "ConflictException", 409);
    await expectAwsError(c.ivs.send(new UpdateChannelCommand({ arn, name: "x" })), "ConflictException", 409);
    await c.ivs.send(new StopStreamCommand({ channelArn: arn }));
    await expectAwsError(
      c.ivs.send(new GetStreamCommand({ channelArn: arn })),
      "ChannelNotBroadcasting",
      404,
    );
    await c.ivs.send(new UpdateChannelCommand({ arn, name: "renamed" }));
    await c.ivs.send(new DeleteChannelCommand({ arn }));
    await expectAwsError(c.ivs.send(new GetChannelCommand({ arn })), "ResourceNotFoundException", 404);
    expect(sim.resources().ivs.streamKeys).toHaveLength(0);
  });

  it("the admin endpoint validates its body", async () => {
    const res = await admin(sim.url, "POST", "/_sim/ivs/streams", { channelArn: "x", live: "yes" });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe("live");
    expect((await goLive("arn:aws:ivs:us-east-1:000000000000:channel/nope")).status).toBe(404);
  });

  it("is LIVE while a RUNNING MediaLive channel pushes to its ingest with its key, OFFLINE after it stops", async () => {
    const { arn, channel, streamKey } = await newChannel();
    const input = await c.ml.send(
      new CreateInputCommand({ Type: "RTMP_PUSH", Destinations: [{ StreamName: "live/cam" }] }),
    );
    const created = await c.ml.send(
      new CreateMlChannelCommand(
        channelInput(input.Input?.Id ?? "", {
          Destinations: [
            rtmpDestination(1, `rtmps://${channel?.ingestEndpoint}:443/app/`, streamKey?.value ?? ""),
          ],
        }),
      ),
    );
    const id = created.Channel?.Id ?? "";
    const mlState = () => c.ml.send(new DescribeChannelCommand({ ChannelId: id }));
    await until(mlState, (d) => d.State === "IDLE");
    await c.ml.send(new StartChannelCommand({ ChannelId: id }));
    await expectAwsError(
      c.ivs.send(new GetStreamCommand({ channelArn: arn })),
      "ChannelNotBroadcasting",
      404,
    );
    await until(mlState, (d) => d.State === "RUNNING");
    expect((await c.ivs.send(new GetStreamCommand({ channelArn: arn }))).stream?.state).toBe("LIVE");

    await c.ml.send(new StopChannelCommand({ ChannelId: id }));
    await until(mlState, (d) => d.State === "IDLE");
    await expectAwsError(
      c.ivs.send(new GetStreamCommand({ channelArn: arn })),
      "ChannelNotBroadcasting",
      404,
    );
  });
});

describe("IVS throttling", () => {
  it("throttles GetChannel above 5 TPS with ThrottlingException 429", async () => {
    // At time scale 1 the window is AWS's one second (it follows the time scale).
    const own = await startSimulator({ timeScale: 1 });
    const { ivs } = clients(own.url);
    try {
      const created = await ivs.send(new CreateChannelCommand({ name: "t" }));
      const arn = created.channel?.arn ?? "";
      const results = await Promise.allSettled(
        Array.from({ length: 7 }, () => ivs.send(new GetChannelCommand({ arn }))),
      );
      const rejected = results.filter((r) => r.status === "rejected");
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
      expect(rejected).toHaveLength(2);
      const reason = (rejected[0] as PromiseRejectedResult).reason as Error & {
        $metadata: { httpStatusCode: number };
      };
      expect(reason.name).toBe("ThrottlingException");
      expect(reason.$metadata.httpStatusCode).toBe(429);
      // A sliding 1 s window: a second later the operation is accepted again.
      await new Promise((r) => setTimeout(r, 1050));
      await ivs.send(new GetChannelCommand({ arn }));
    } finally {
      ivs.destroy();
      await own.close();
    }
  });
});
