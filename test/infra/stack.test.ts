import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type CfnElement, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "#infra/build-app.ts";
import type { CastflowStack } from "#infra/castflow-stack.ts";
import { CastflowFunction, PROJECT_ROOT } from "#infra/task-function.ts";
import { stackDefinitions } from "#local/definitions.ts";
import { REACTIONS } from "#reactions/registry.ts";
import { MACHINES } from "#state-machines/registry.ts";
import { LAMBDA_SERVICE_ERRORS, TRANSIENT_AWS_ERRORS } from "#state-machines/workflow/retry.ts";
import * as deleteIvsChannel from "#tasks/channels/delete-ivs-channel.ts";

type Asl = Record<string, unknown>;
type AslState = Record<string, unknown> & { Type: string };

/** Every state of a definition, including those inside Parallel branches and Map processors. */
function allStates(def: Asl): [string, AslState][] {
  const out: [string, AslState][] = [];
  for (const [name, state] of Object.entries((def.States ?? {}) as Record<string, AslState>)) {
    out.push([name, state]);
    for (const branch of (state.Branches ?? []) as Asl[]) out.push(...allStates(branch));
    if (state.ItemProcessor) out.push(...allStates(state.ItemProcessor as Asl));
  }
  return out;
}

const { machines } = stackDefinitions();
let polled: typeof machines | undefined;
/** The machines as a stack whose waits all poll builds them (`castflow:waits` = `polling`). */
function pollingMachines(): typeof machines {
  polled ??= stackDefinitions({ "castflow:waits": "polling" }).machines;
  return polled;
}
let template: Template;
let stack: CastflowStack;

beforeAll(() => {
  // Prepare: the stack as `cdk synth` builds it, minus esbuild bundling.
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  stack = buildApp(app).stack;
  template = Template.fromStack(stack);
});

describe("state machine definitions", () => {
  it.each(machines.map((m) => [m.name, m.definition] as const))("%s is valid ASL", (_name, definition) => {
    const require = createRequire(import.meta.url);
    const validator = require("asl-validator") as (d: unknown) => { isValid: boolean; errors: unknown[] };
    // asl-validator mutates its input (adds QueryLanguage): validate a copy.
    const result = validator(structuredClone(definition));
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it.each(machines.map((m) => [m.name, m.definition] as const))(
    "%s uses only JSONPath features the local executor runs",
    (_name, definition) => {
      // The local executor silently ignores JSONata, Arguments, Output and Assign.
      const text = JSON.stringify(definition);
      expect(definition.QueryLanguage ?? "JSONPath").toBe("JSONPath");
      for (const field of ["QueryLanguage", "Arguments", "Output", "Assign"]) {
        expect(text).not.toContain(`"${field}":`);
      }
    },
  );

  it("every Lambda task retries Lambda service errors, then throttling and 5xx with jitter, and nothing else blindly", () => {
    for (const m of machines) {
      const tasks = allStates(m.definition).filter(([, s]) => s.Type === "Task");
      expect(tasks.length).toBeGreaterThan(3);
      for (const [name, task] of tasks) {
        const retry = task.Retry as {
          ErrorEquals: string[];
          JitterStrategy?: string;
          MaxDelaySeconds?: number;
        }[];
        const lambdaRetry = retry.find((r) => r.ErrorEquals.includes("Lambda.ServiceException"));
        const transient = retry.find((r) => r.ErrorEquals.includes("TooManyRequestsException"));
        expect(lambdaRetry?.ErrorEquals, name).toEqual([...LAMBDA_SERVICE_ERRORS]);
        expect(transient?.ErrorEquals, name).toEqual([...TRANSIENT_AWS_ERRORS]);
        expect(transient?.JitterStrategy, name).toBe("FULL");
        expect(transient?.MaxDelaySeconds, name).toBeGreaterThan(0);
        for (const r of retry) {
          expect(r.ErrorEquals, `${name} must not retry everything`).not.toContain("States.ALL");
          expect(r.ErrorEquals, `${name} must not retry validation`).not.toContain("InvalidTaskInput");
        }
        expect(task.TimeoutSeconds, name).toBeGreaterThan(0);
      }
    }
  });

  it("go-live compensates every failure after the claim and never leaves the session starting", () => {
    const goLive = machines.find((m) => m.lifecycle.name === "go-live")?.definition as Asl;
    const states = Object.fromEntries(allStates(goLive));
    const bringUp = states["Bring Channel Up"] as AslState;
    expect(bringUp.Type).toBe("Parallel");
    expect(bringUp.Catch).toEqual([{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Clean Up" }]);
    const cleanUp = states["Clean Up"] as AslState;
    expect(cleanUp.Catch).toEqual([
      {
        ErrorEquals: ["States.ALL"],
        ResultPath: "$.cleanupError",
        Next: "Record Failure After Failed Clean Up",
      },
    ]);
    expect((states["Record Failure"] as AslState).Next).toBe("Go Live Failed");
    expect(states["Go Live Failed"]).toMatchObject({ Type: "Fail", ErrorPath: "$.error.Error" });
    // Readable titles an operator sees in the console.
    for (const title of [
      "Claim Session",
      "Ensure Input",
      "Ensure Channel",
      "Wait For Channel Ready",
      "Start Channel",
      "Wait For Channel Running",
      "Wait For Channel Running: Await Event",
      "Confirm Program Channel",
      "Mark Session Live",
      "Stop Channel",
      "Wait For Channel Stopped",
      "Delete Created Channel",
      "Wait For Channel Deleted",
      "Delete Created Input",
    ]) {
      expect(states, title).toHaveProperty([title]);
    }
    // Event mode (the default): start, stop and delete are the first rounds of their waits, and
    // the channel's DELETED event replaces the wait for the input to detach.
    expect(states["Wait For Channel Running"]?.Next).toBe("Start Channel");
    expect(states["Wait For Channel Stopped"]?.Next).toBe("Stop Channel");
    expect(states["Wait For Channel Deleted"]?.Next).toBe("Delete Created Channel");
    expect(states).not.toHaveProperty(["Wait For Input Detached"]);
    // Polling: each action is followed by its polling loop.
    const polling = pollingMachines().find((m) => m.lifecycle.name === "go-live");
    const pollingStates = Object.fromEntries(allStates(polling?.definition as Asl));
    for (const title of [
      "Start Channel",
      "Wait For Channel Running: Pause",
      "Stop Channel",
      "Wait For Channel Stopped: Poll",
      "Delete Created Channel",
      "Wait For Input Detached: Poll",
      "Delete Created Input",
    ]) {
      expect(pollingStates, title).toHaveProperty([title]);
    }
    expect(pollingStates["Start Channel"]?.Next).toBe("Wait For Channel Running");
    expect(pollingStates).not.toHaveProperty(["Wait For Channel Deleted"]);
  });

  it("end-session runs its parts independently, releases the channel last, and fails visibly", () => {
    const end = machines.find((m) => m.lifecycle.name === "end-session")?.definition as Asl;
    const states = Object.fromEntries(allStates(end));
    const release = states["Release Session Resources"] as AslState;
    expect(release.Type).toBe("Parallel");
    // MediaLive and the relay in parallel; the persistent (or program) channel after them.
    expect((release.Branches as Asl[]).length).toBe(2);
    expect(release.Next).toBe("Persistent Or Program Channel?");
    // Each part catches its own failure into a recorded result, so the others still run.
    for (const part of ["MediaLive", "Relay Channel", "Persistent Channel", "Program Channel"]) {
      expect((states[`Clean Up ${part}`] as AslState).Catch).toEqual([
        { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: `${part}: Failed` },
      ]);
    }
    const claimRetry = (states["Claim Session For End"] as AslState).Retry as { ErrorEquals: string[] }[];
    expect(claimRetry[0]?.ErrorEquals).toEqual(["SessionBusy"]);
    const relayRetry = (states["Delete Relay Channel"] as AslState).Retry as { ErrorEquals: string[] }[];
    expect(relayRetry[0]?.ErrorEquals).toEqual(["IvsChannelBusy"]);
    expect(states["Session End Incomplete"]).toMatchObject({ Type: "Fail" });
  });

  it("waits for RUNNING at least 12 minutes, polling every 5 s", () => {
    // Polling: a pause of 5 s between polls, up to the Choice's bound on `$.wait.polls`.
    const polling = pollingMachines().find((m) => m.lifecycle.name === "go-live");
    const states = Object.fromEntries(allStates(polling?.definition as Asl));
    const pause = states["Wait For Channel Running: Pause"] as AslState;
    expect(pause.Seconds).toBe(5);
    const check = states["Wait For Channel Running: Check State"] as AslState;
    const choices = check.Choices as { And?: { NumericGreaterThanEquals?: number }[] }[];
    const limit = choices.flatMap((c) => c.And ?? []).find((c) => c.NumericGreaterThanEquals !== undefined);
    expect((limit?.NumericGreaterThanEquals ?? 0) * 5).toBeGreaterThanOrEqual(12 * 60);
  });

  it("waits for RUNNING at least 12 minutes on events, describing again every 2 minutes without one", () => {
    // Event mode (the default): rounds of at most TimeoutSeconds each (Start Channel the first),
    // the next one counted until "Rounds Left?" finds the budget spent (`$.wait.spent`).
    const goLive = machines.find((m) => m.lifecycle.name === "go-live")?.definition as Asl;
    const states = Object.fromEntries(allStates(goLive));
    const awaitEvent = states["Wait For Channel Running: Await Event"] as AslState;
    expect(awaitEvent.Resource).toMatch(/lambda:invoke\.waitForTaskToken$/);
    expect(awaitEvent.TimeoutSeconds).toBe(120);
    expect((states["Start Channel"] as AslState).TimeoutSeconds).toBe(120);
    for (const round of [states["Start Channel"], awaitEvent] as AslState[]) {
      expect(round.Catch).toEqual([
        { ErrorEquals: ["States.Timeout"], ResultPath: null, Next: "Wait For Channel Running: Count Round" },
      ]);
    }
    expect(states["Wait For Channel Running"]).toMatchObject({
      Type: "Pass",
      Result: { rounds: 1, spent: 0 },
    });
    // A round that ran out adds its 120 s to what the wait has spent.
    expect(states["Wait For Channel Running: Count Round"]).toMatchObject({
      Parameters: { "spent.$": "States.MathAdd($.wait.spent, 120)" },
    });
    const roundsLeft = states["Wait For Channel Running: Rounds Left?"] as AslState;
    const [bound] = roundsLeft.Choices as { Variable: string; NumericGreaterThanEquals: number }[];
    expect(bound?.Variable).toBe("$.wait.spent");
    expect(roundsLeft.Default).toBe("Wait For Channel Running: Await Event");
    // It gives up once the whole 12.5 minutes are spent.
    expect(bound?.NumericGreaterThanEquals).toBe(12.5 * 60);
  });
});

describe("stack", () => {
  it("runs every task on Node.js 22, arm64, with tracing and every setting its config requires", () => {
    const fns = Object.values(template.findResources("AWS::Lambda::Function")).filter((f) =>
      (f.Properties as { Runtime?: string }).Runtime?.startsWith("nodejs"),
    );
    // One function per task a machine uses, one per reaction, plus the API.
    expect(fns.length).toBe(stack.taskFunctions.size + stack.reactionFunctions.size + 1);
    for (const fn of fns) {
      expect(fn.Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        TracingConfig: { Mode: "Active" },
        Environment: {
          Variables: expect.objectContaining({
            TABLE_NAME: expect.anything(),
            RECORDING_BUCKET: expect.anything(),
            MEDIALIVE_ROLE_ARN: expect.anything(),
          }),
        },
      });
    }
  });

  it("runs no function with source maps enabled: --enable-source-maps costs every cold start", () => {
    const fns = Object.values(template.findResources("AWS::Lambda::Function")).filter((f) =>
      (f.Properties as { Runtime?: string }).Runtime?.startsWith("nodejs"),
    );
    expect(fns.length).toBeGreaterThan(40);
    for (const fn of fns) {
      const env = (fn.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment;
      expect(String(env?.Variables?.NODE_OPTIONS ?? "")).not.toContain("--enable-source-maps");
    }
  });

  it("outputs the ARN of every lifecycle's state machine, end-session included", () => {
    const outputs = Object.keys(template.findOutputs("*"));
    for (const name of ["GoLive", "StopStreaming", "EndSession"]) {
      expect(outputs).toContain(`${name}StateMachineArn`);
    }
    expect(outputs.filter((o) => o.endsWith("StateMachineArn"))).toHaveLength(stack.machines.size);
  });

  it("state machines are Standard, traced, time-limited and log without execution data", () => {
    const sms = template.findResources("AWS::StepFunctions::StateMachine");
    expect(Object.keys(sms)).toHaveLength(MACHINES.length);
    for (const sm of Object.values(sms)) {
      const p = sm.Properties as Record<string, unknown>;
      expect(p.StateMachineType).toBe("STANDARD");
      expect(p.TracingConfiguration).toEqual({ Enabled: true });
      expect(p.LoggingConfiguration).toMatchObject({ IncludeExecutionData: false, Level: "ERROR" });
    }
    for (const m of machines) expect(m.definition.TimeoutSeconds).toBeGreaterThan(0);
  });

  it("alarms on failed, timed-out and aborted executions of each lifecycle", () => {
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")).filter(
      (a) => (a.Properties as { Metrics?: unknown }).Metrics !== undefined,
    );
    expect(alarms).toHaveLength(MACHINES.length);
    for (const alarm of alarms) {
      const metrics = (alarm.Properties as { Metrics: { MetricStat?: { Metric: { MetricName: string } } }[] })
        .Metrics;
      const names = metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []));
      expect(names.sort()).toEqual(["ExecutionsAborted", "ExecutionsFailed", "ExecutionsTimedOut"]);
    }
  });

  it("keeps data safe: table with point-in-time recovery, private encrypted recording bucket", () => {
    template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      Replicas: [
        Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ],
    });
    template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it("writes its template compact, under CloudFormation's 1 MB template-body limit", () => {
    const outdir = mkdtempSync(join(tmpdir(), "castflow-synth-"));
    try {
      const app = new App({ outdir, context: { "aws:cdk:bundling-stacks": [] } });
      const built = buildApp(app).stack;
      const text = readFileSync(app.synth().getStackArtifact(built.artifactId).templateFullPath, "utf8");
      expect(text).not.toMatch(/\n\s/);
      expect(Buffer.byteLength(text)).toBeLessThan(1_000_000);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("deploys the reactions that wake event-driven waits only when the waits are on events", () => {
    const polling = stackDefinitions({ "castflow:waits": "polling" });
    const deployed = [...polling.stack.reactionFunctions.keys()].map((r) => r.name);
    const wakers = REACTIONS.filter((r) => r.onlyWhenWaitsAre === "events").map((r) => r.name);
    expect(wakers.sort()).toEqual(["channel-state", "flow-status"]);
    expect(deployed.sort()).toEqual(
      REACTIONS.map((r) => r.name)
        .filter((n) => !wakers.includes(n))
        .sort(),
    );
    expect(polling.rules.map((r) => r.name).sort()).toEqual(deployed.map((n) => `castflow-dev-${n}`).sort());
  });

  it("deploys each reaction as an EventBridge rule on its own pattern, retried and dead-lettered, starting only its lifecycles", () => {
    const rules = Object.values(template.findResources("AWS::Events::Rule"));
    expect(rules).toHaveLength(REACTIONS.length);
    expect(stack.reactionFunctions.size).toBe(REACTIONS.length);
    for (const [reaction, fn] of stack.reactionFunctions) {
      const logicalId = stack.getLogicalId(fn.node.defaultChild as CfnElement);
      template.hasResourceProperties("AWS::Events::Rule", {
        Name: `castflow-dev-${reaction.name}`,
        EventPattern: reaction.pattern,
        State: "ENABLED",
        Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [logicalId, "Arn"] } })],
      });
      template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
        FunctionName: { Ref: logicalId },
        MaximumRetryAttempts: reaction.retryAttempts ?? 2,
      });
      expect(template.findResources("AWS::Lambda::Function")[logicalId]?.Properties).toMatchObject({
        DeadLetterConfig: { TargetArn: expect.anything() },
      });
      // A dropped event raises an alarm on the dead-letter queue.
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        MetricName: "ApproximateNumberOfMessagesVisible",
        Namespace: "AWS/SQS",
        Threshold: 1,
      });
      // The target gets only the fields the reaction names (never the alert's message, which may
      // hold a stream key).
      if (reaction.fields) {
        const rule = Object.values(
          template.findResources("AWS::Events::Rule", {
            Properties: { Name: `castflow-dev-${reaction.name}` },
          }),
        )[0];
        const props = rule?.Properties as
          | { Targets: { InputTransformer?: { InputPathsMap: Record<string, string> } }[] }
          | undefined;
        const transformer = props?.Targets[0]?.InputTransformer;
        expect(transformer).toBeDefined();
        expect(Object.values(transformer?.InputPathsMap ?? {}).sort()).toEqual(
          Object.values(reaction.fields).sort(),
        );
        expect(JSON.stringify(transformer)).not.toContain("message");
      }
      // StartExecution on the state machines of `starts`, and no other.
      const policies = Object.values(template.findResources("AWS::IAM::Policy")).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes(
          stack.getLogicalId(fn.role?.node.defaultChild as CfnElement),
        ),
      );
      const starts = policies
        .flatMap(
          (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
        )
        .filter((st) => [st.Action].flat().includes("states:StartExecution"))
        .map((st) => JSON.stringify(st.Resource))
        .join(" ");
      const machineId = (name: string) =>
        stack.getLogicalId(stack.machines.get(name)?.stateMachine.node.defaultChild as CfnElement);
      for (const l of reaction.starts) expect(starts).toContain(machineId(l.name));
      for (const name of stack.machines.keys())
        if (!reaction.starts.some((l) => l.name === name)) expect(starts).not.toContain(machineId(name));
    }
  });

  it("runs reconcile every 5 minutes (EventBridge Scheduler), keeps its reports 30 days (TTL), alarms on what it may not repair", () => {
    const reconcileId = stack.getLogicalId(
      stack.machines.get("reconcile")?.stateMachine.node.defaultChild as CfnElement,
    );
    template.hasResourceProperties("AWS::Scheduler::Schedule", {
      Name: "castflow-dev-reconcile",
      ScheduleExpression: "rate(5 minutes)",
      State: "ENABLED",
      Target: Match.objectLike({
        Arn: { Ref: reconcileId },
        Input: JSON.stringify({ runId: "<aws.scheduler.execution-id>", dryRun: false }),
      }),
    });
    template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    });
    for (const metric of ["ReconcileUnrepairable", "ReconcileRepaired"])
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        MetricName: metric,
        Namespace: "castflow-dev",
        Dimensions: [{ Name: "service", Value: "reconcile" }],
      });
    // Every task may name castflow's state machines (reconcile describes and settles their executions).
    for (const fn of stack.taskFunctions.values()) {
      const props = template.findResources("AWS::Lambda::Function")[
        stack.getLogicalId(fn.node.defaultChild as CfnElement)
      ]?.Properties as { Environment: { Variables: Record<string, unknown> } } | undefined;
      const env = props?.Environment.Variables;
      expect(env).toHaveProperty("STATE_MACHINE_ARNS");
      expect(env).toMatchObject({
        RECONCILE_GRACE_SECONDS: "300",
        RECONCILE_DRY_RUN_ONLY: "false",
        RECONCILE_IDLE_INPUT_MINUTES: "25",
        RECONCILE_IDLE_RESOURCE_TTL_HOURS: "72",
      });
    }
    // Take Inventory reads a whole account at a paced rate: it declares a longer timeout, the others keep 30 s.
    const timeouts = Object.fromEntries(
      [...stack.taskFunctions].map(([task, fn]) => [
        task.name,
        (
          template.findResources("AWS::Lambda::Function")[
            stack.getLogicalId(fn.node.defaultChild as CfnElement)
          ]?.Properties as { Timeout: number } | undefined
        )?.Timeout,
      ]),
    );
    expect(timeouts["take-inventory"]).toBe(300);
    expect(timeouts["claim-session"]).toBe(30);
  });

  it("protects the HTTP API with a JWT authorizer from context", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      JwtConfiguration: { Issuer: "https://auth.example.com/", Audience: ["castflow-api"] },
    });
  });

  it("routes GET /health past the authorizer, and every other request through it", () => {
    const routes = Object.values(template.findResources("AWS::ApiGatewayV2::Route")).map(
      (r) => r.Properties as { RouteKey: string; AuthorizationType?: string },
    );
    expect(routes.map((r) => [r.RouteKey, r.AuthorizationType]).sort()).toEqual([
      ["$default", "JWT"],
      ["GET /health", "NONE"],
    ]);
  });

  it("indexes sessions by host and by status, newest first, for GET /sessions", () => {
    template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      GlobalSecondaryIndexes: Match.arrayWith([
        {
          IndexName: "byHost",
          KeySchema: [
            { AttributeName: "hostUserId", KeyType: "HASH" },
            { AttributeName: "createdAt", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: ["status"] },
        },
        {
          IndexName: "byStatus",
          KeySchema: [
            { AttributeName: "status", KeyType: "HASH" },
            { AttributeName: "createdAt", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
      ]),
    });
  });

  it("grants MediaLive actions only to the tasks that call them", () => {
    const policies = template.findResources("AWS::IAM::Policy");
    const allowing = (action: string) =>
      Object.entries(policies).filter(([, p]) =>
        JSON.stringify((p.Properties as { PolicyDocument: unknown }).PolicyDocument).includes(`"${action}"`),
      );
    // The task (or reaction) whose role each policy is attached to.
    const roles = new Map<string, string>();
    for (const [task, fn] of [
      ...stack.taskFunctions,
      ...[...stack.reactionFunctions].map(([r, f]) => [r.task, f] as const),
    ])
      roles.set(stack.getLogicalId(fn.role?.node.defaultChild as CfnElement), task.name);
    const tasksAllowing = (action: string) =>
      allowing(action)
        .map(([id, p]) => {
          const attached = JSON.stringify((p.Properties as { Roles: unknown }).Roles);
          return [...roles].find(([role]) => attached.includes(`"${role}"`))?.[1] ?? id;
        })
        .sort();
    // Event mode (the default): the wait's first rounds start, stop and delete a channel; the
    // plain tasks stay for what does not wait on events (reconcile, destination updates). And
    // ensure-channel replaces a channel MediaLive failed to create.
    expect(tasksAllowing("medialive:DeleteChannel")).toEqual([
      "delete-channel",
      "delete-channel-and-await",
      "ensure-channel",
    ]);
    expect(tasksAllowing("medialive:StartChannel")).toEqual(["start-channel-and-await"]);
    expect(tasksAllowing("medialive:StopChannel")).toEqual(["stop-channel", "stop-channel-and-await"]);
    // ensure-channel (sessions), ensure-destination-channel and write-shared-channel.
    expect(tasksAllowing("medialive:CreateChannel")).toEqual([
      "ensure-channel",
      "ensure-destination-channel",
      "write-shared-channel",
    ]);
    // Those three, the two tasks that make MEDIACONNECT inputs (ensure-destination-input,
    // ensure-shared-input: the input names the role), and the API (rtmp-push sources' inputs,
    // and the MediaConnect role of encrypted SRT sources).
    expect(allowing("iam:PassRole")).toHaveLength(6);
    // Only the tasks that write a channel read stream keys.
    expect(allowing("ssm:GetParameter")).toHaveLength(3);
  });

  it("lets tasks and the API delete or stop only IVS channels castflow created, and read only its executions", () => {
    const roleCondition = (roles: string[]) => ({
      StringEquals: {
        "aws:ResourceTag/castflow:managed-by": "castflow",
        "aws:ResourceTag/castflow:role": roles,
      },
    });
    const statements = Object.values(template.findResources("AWS::IAM::Policy")).flatMap(
      (p) =>
        (
          p.Properties as {
            PolicyDocument: {
              Statement: { Action: string | string[]; Condition?: unknown; Resource: unknown }[];
            };
          }
        ).PolicyDocument.Statement,
    );
    const granting = (action: string) =>
      statements.filter((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]).includes(action));
    for (const action of ["ivs:DeleteChannel", "ivs:StopStream"]) {
      expect(granting(action).length).toBeGreaterThan(0);
      for (const st of granting(action))
        expect(st.Condition).toMatchObject({ StringEquals: expect.anything() });
    }
    // A task may delete or stop only a session's own channels (relay, program): never a host's
    // persistent channel. Only the API (an admin's DELETE /admin/channels) deletes those.
    const fn = stack.taskFunctions.get(deleteIvsChannel.task);
    const policy = fn?.role?.node.tryFindChild("DefaultPolicy")?.node.defaultChild as CfnElement | undefined;
    expect(policy, "the delete-ivs-channel task's policy").toBeDefined();
    const policyResource =
      template.findResources("AWS::IAM::Policy")[stack.getLogicalId(policy as CfnElement)];
    const relayStatements = (
      (policyResource ?? { Properties: { PolicyDocument: { Statement: [] } } }).Properties as {
        PolicyDocument: { Statement: { Action: string | string[]; Condition?: unknown }[] };
      }
    ).PolicyDocument.Statement;
    const deleting = relayStatements.filter((st) => [st.Action].flat().includes("ivs:DeleteChannel"));
    expect(deleting).toHaveLength(1);
    expect(deleting[0]?.Condition).toEqual(roleCondition(["relay", "program"]));
    for (const st of granting("states:DescribeExecution")) {
      expect(JSON.stringify(st.Resource)).toMatch(
        new RegExp(`execution:castflow-dev-(${MACHINES.map((m) => m.lifecycle.name).join("|")}):\\*`),
      );
      expect(JSON.stringify(st.Resource)).not.toContain("execution:castflow-dev-*");
    }
  });
});

describe("scheduled lifecycles", () => {
  it("take their rate from the declaration, or the stage's castflow:<name>Minutes; a bad value is refused at synth", () => {
    const scheduled = MACHINES.filter((m) => m.lifecycle.schedule).map((m) => m.lifecycle.name);
    expect(scheduled).toEqual(["reconcile"]);
    const app = new App({
      context: { "aws:cdk:bundling-stacks": [], "castflow:reconcileMinutes": "15", "castflow:stage": "qa" },
    });
    Template.fromStack(buildApp(app).stack).hasResourceProperties("AWS::Scheduler::Schedule", {
      Name: "castflow-qa-reconcile",
      ScheduleExpression: "rate(15 minutes)",
    });
    const bad = new App({ context: { "aws:cdk:bundling-stacks": [], "castflow:reconcileMinutes": "0" } });
    expect(() => buildApp(bad)).toThrow("castflow:reconcileMinutes must be a whole number, at least 1");
  });
});

describe("session indexes", () => {
  it("can be built one per deploy (CloudFormation creates one index per update); an unknown name is refused", () => {
    const app = new App({
      context: { "aws:cdk:bundling-stacks": [], "castflow:sessionIndexes": "byHost", "castflow:stage": "up" },
    });
    const tables = Template.fromStack(buildApp(app).stack).findResources("AWS::DynamoDB::GlobalTable");
    const indexes = Object.values(tables).flatMap((t) =>
      (t.Properties.GlobalSecondaryIndexes as { IndexName: string }[]).map((i) => i.IndexName),
    );
    expect(indexes).toEqual(["byHost"]);
    const bad = new App({
      context: { "aws:cdk:bundling-stacks": [], "castflow:sessionIndexes": "byColour" },
    });
    expect(() => buildApp(bad)).toThrow('castflow:sessionIndexes names no index "byColour"');
  });
});

describe("function bundle", () => {
  it("is one minified CommonJS file with the pinned AWS SDK inside, that loads without node_modules", () => {
    // Prepare: one function, bundled by NodejsFunction itself (local esbuild) into a directory
    // with no node_modules above it, as Lambda's /var/task has only the runtime's own SDK.
    const outdir = mkdtempSync(join(tmpdir(), "castflow-bundle-"));
    try {
      const app = new App({ outdir });
      new CastflowFunction(new Stack(app, "BundleProbe"), "Probe", { entry: deleteIvsChannel.task.entry });
      // Act
      app.synth();
      // Assess
      const assets = readdirSync(outdir).filter((d) => existsSync(join(outdir, d, "index.js")));
      expect(assets).toHaveLength(1);
      const file = join(outdir, assets[0] as string, "index.js");
      const code = readFileSync(file, "utf8");
      // The SDK is inside, at the version package.json pins, and nothing asks for it at run time
      // (but the optional CRT signer, which the SDK looks for in a try/catch).
      const pinned = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")).dependencies;
      expect(code).toContain(`name:"@aws-sdk/client-ivs",version:"${pinned["@aws-sdk/client-ivs"]}"`);
      const required = [...code.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]);
      expect(required.filter((m) => m !== "@aws-sdk/signature-v4-crt")).toEqual([]);
      // Minified, with a map that leaves the sources out, and nothing enabling it.
      expect(code).not.toMatch(/^\/\/ node_modules\//m); // esbuild names each module only when not minifying
      expect(JSON.parse(readFileSync(`${file}.map`, "utf8")).sourcesContent).toBeUndefined();
      // The runtime require()s index.js; the task's handler is there.
      const loaded = spawnSync(
        process.execPath,
        ["-e", 'process.exit(typeof require(process.argv[1]).handler === "function" ? 0 : 3)', file],
        { cwd: outdir, env: { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1" }, encoding: "utf8" },
      );
      expect(loaded.stderr).toBe("");
      expect(loaded.status).toBe(0);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
