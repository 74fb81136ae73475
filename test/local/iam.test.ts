import { ListFlowsCommand, MediaConnectClient, StartFlowCommand } from "@aws-sdk/client-mediaconnect";
import { ListChannelsCommand, MediaLiveClient, StartChannelCommand } from "@aws-sdk/client-medialive";
import { App } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "#infra/build-app.ts";
import { grantedActions, installIamEnforcement, runAs } from "#local/iam.ts";
import { type Simulator, startSimulator } from "#local/simulator/index.ts";
import * as startChannel from "#tasks/medialive/start-channel.ts";
import * as markLive from "#tasks/sessions/mark-live.ts";
import * as startChannelAndAwait from "#tasks/waits/start-channel-and-await.ts";

let sim: Simulator;
let ml: MediaLiveClient;

beforeAll(async () => {
  sim = await startSimulator({ timeScale: 0.002 });
  ml = new MediaLiveClient({
    endpoint: sim.url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  installIamEnforcement();
});
afterAll(async () => {
  await sim.close();
});

describe("local IAM enforcement", () => {
  it("reads each function's granted actions from the stack", () => {
    // The channel is started by start-channel-and-await in event mode (the default), by
    // start-channel when the waits poll: each stack has the function of its own.
    for (const [waits, task] of [
      ["events", startChannelAndAwait.task],
      ["polling", startChannel.task],
    ] as const) {
      const app = new App({ context: { "aws:cdk:bundling-stacks": [], "castflow:waits": waits } });
      const { stack } = buildApp(app);
      const fn = stack.taskFunctions.get(task);
      expect(fn, `${waits}: ${task.name}`).toBeDefined();
      const start = grantedActions(stack, fn as IFunction);
      expect(start).toEqual(expect.arrayContaining(["medialive:StartChannel", "medialive:DescribeChannel"]));
      expect(start).not.toContain("medialive:DeleteChannel");
      expect(grantedActions(stack, stack.taskFunctions.get(markLive.task) as IFunction)).toEqual(
        expect.arrayContaining(["dynamodb:UpdateItem", "dynamodb:GetItem"]),
      );
    }
  });

  it("refuses a call the running principal is not granted, as AWS would", async () => {
    const principal = { name: "castflow-test", actions: ["medialive:List*"] };
    await expect(runAs(principal, () => ml.send(new ListChannelsCommand({})))).resolves.toBeDefined();
    const denied = runAs(principal, () => ml.send(new StartChannelCommand({ ChannelId: "1" })));
    await expect(denied).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: expect.stringContaining("medialive:StartChannel"),
    });
    // Outside a principal (the runtime's own set-up calls) nothing is checked.
    await expect(ml.send(new ListChannelsCommand({}))).resolves.toBeDefined();
  });

  it("checks MediaConnect calls too", async () => {
    const mc = new MediaConnectClient({
      endpoint: sim.url,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
      maxAttempts: 1,
    });
    const principal = { name: "castflow-test", actions: ["mediaconnect:ListFlows"] };
    await expect(runAs(principal, () => mc.send(new ListFlowsCommand({})))).resolves.toBeDefined();
    await expect(
      runAs(principal, () => mc.send(new StartFlowCommand({ FlowArn: "arn:aws:mediaconnect:x" }))),
    ).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: expect.stringContaining("mediaconnect:StartFlow"),
    });
  });
});
