import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as schedulerTargets from "aws-cdk-lib/aws-scheduler-targets";
import type { Construct } from "constructs";
import { API_GRANTS } from "#api/grants.ts";
import { PUBLIC_ROUTES } from "#api/public-routes.ts";
import { SESSION_INDEXES, Tags } from "#lib/sessions/model.ts";
import type { Reaction } from "#reactions/define.ts";
import { REACTIONS } from "#reactions/registry.ts";
import { MACHINES } from "#state-machines/registry.ts";
import { scheduleContextKey } from "#state-machines/workflow/lifecycle.ts";
import { LifecycleStateMachine } from "#state-machines/workflow/machine.ts";
import type { TaskFunctions } from "#state-machines/workflow/task-state.ts";
import type { AnyTask, Grant, TableAccess } from "#tasks/define.ts";
import { CastflowFunction } from "./task-function.ts";

/** `go-live` -> `GoLive`: construct ids (and so logical ids) of a lifecycle. */
const pascal = (name: string) => name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());

export interface CastflowStackProps extends StackProps {
  /** Stage name, part of every resource name (e.g. `dev`, `prod`). */
  readonly stage: string;
  /** JWT issuer the HTTP API trusts (e.g. a Cognito user pool URL). */
  readonly jwtIssuer: string;
  /** Audience (client id) the JWTs must carry. */
  readonly jwtAudience: string;
  /** Sessions of hosts without a persistent channel get a program channel of their own. Default: false (403). */
  readonly legacyProgramChannels?: boolean;
  /**
   * The session indexes to build (default: all of SESSION_INDEXES). CloudFormation creates one
   * global secondary index per stack update: a stack deployed before them is upgraded with
   * `-c castflow:sessionIndexes=byHost` first, then a deploy without it.
   */
  readonly sessionIndexes?: readonly (keyof typeof SESSION_INDEXES)[];
  /** Minutes between the runs of each scheduled lifecycle, by name (default: its declaration's `everyMinutes`). */
  readonly scheduleMinutes?: Readonly<Record<string, number>>;
  /**
   * Scheduled reconciliation: the grace period before a record or resource may be acted on
   * (default 300 s), whether runs only report (default false; true for a first deployment), and
   * the idle-spend limits.
   */
  readonly reconcile?: {
    readonly graceSeconds?: number;
    readonly dryRunOnly?: boolean;
    /** Minutes a live session may receive no input before reconcile stops it (default 25). */
    readonly idleInputMinutes?: number;
    /** Hours a session may keep a stopped channel and push input before reconcile deletes them (default 72). */
    readonly idleResourceTtlHours?: number;
    /** Alarm when one run repairs more findings than this (default 10). */
    readonly repairAlarmThreshold?: number;
  };
}

export class CastflowStack extends Stack {
  readonly table: dynamodb.TableV2;
  /** One state machine per lifecycle of the registry, by lifecycle name. */
  readonly machines: ReadonlyMap<string, LifecycleStateMachine>;
  /** The function of every task some state machine uses (and only those). */
  readonly taskFunctions: ReadonlyMap<AnyTask, CastflowFunction>;
  /** The function behind each reaction's EventBridge rule. */
  readonly reactionFunctions: ReadonlyMap<Reaction, CastflowFunction>;
  readonly apiFunction: CastflowFunction;
  readonly api: apigw.HttpApi;

  constructor(scope: Construct, id: string, props: CastflowStackProps) {
    super(scope, id, props);
    const prefix = `castflow-${props.stage}`;

    this.table = new dynamodb.TableV2(this, "Table", {
      partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
      sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Reconcile reports expire on their own (`expiresAt`, epoch seconds).
      timeToLiveAttribute: "expiresAt",
      removalPolicy: RemovalPolicy.RETAIN,
      // GET /sessions: a host's sessions, and all of one status, newest first (lib/sessions/store.ts).
      globalSecondaryIndexes: (props.sessionIndexes ?? Object.keys(SESSION_INDEXES))
        .map((name) => SESSION_INDEXES[name as keyof typeof SESSION_INDEXES])
        .map((index) => ({
          indexName: index.indexName,
          partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
          ...(index.nonKeyAttributes.length > 0
            ? {
                projectionType: dynamodb.ProjectionType.INCLUDE,
                nonKeyAttributes: [...index.nonKeyAttributes],
              }
            : { projectionType: dynamodb.ProjectionType.KEYS_ONLY }),
        })),
    });

    const recordings = new s3.Bucket(this, "Recordings", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The role MediaLive assumes to write the HLS recording.
    const mediaLiveRole = new iam.Role(this, "MediaLiveRole", {
      assumedBy: new iam.ServicePrincipal("medialive.amazonaws.com"),
      description: "castflow MediaLive channels: write session recordings",
    });
    // Objects are written without an ACL header (the bucket owner owns them), so PutObject suffices.
    recordings.grantPut(mediaLiveRole, "sessions/*");
    // Channels log at WARNING to CloudWatch Logs, in MediaLive's own log group.
    mediaLiveRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          "logs:CreateLogGroup",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
          "logs:DescribeLogStreams",
        ],
        resources: [
          `arn:${Stack.of(this).partition}:logs:${Stack.of(this).region}:${Stack.of(this).account}:log-group:ElementalMediaLive:*`,
        ],
      }),
    );

    const account = Stack.of(this).account;
    const region = Stack.of(this).region;
    const partition = Stack.of(this).partition;
    // Destinations' stream keys: SSM SecureString parameters, one path per stage.
    const streamKeyPrefix = `/castflow/${props.stage}/stream-keys`;
    // A MEDIACONNECT input makes MediaLive add (and remove) its own output on the source's flow,
    // as this role (aws-facts.md; aws-solutions/live-streaming-on-aws grants the same).
    mediaLiveRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          "mediaconnect:ManagedDescribeFlow",
          "mediaconnect:ManagedAddOutput",
          "mediaconnect:ManagedRemoveOutput",
        ],
        resources: [`arn:${partition}:mediaconnect:${region}:${account}:flow:*`],
      }),
    );
    // Encrypted SRT sources: MediaConnect reads the key from Secrets Manager as this role, and
    // only secrets named castflow/... .
    const mediaConnectRole = new iam.Role(this, "MediaConnectRole", {
      assumedBy: new iam.ServicePrincipal("mediaconnect.amazonaws.com"),
      description: "castflow MediaConnect flows: read encrypted SRT sources' keys",
    });
    mediaConnectRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          "secretsmanager:GetResourcePolicy",
          "secretsmanager:GetSecretValue",
          "secretsmanager:DescribeSecret",
          "secretsmanager:ListSecretVersionIds",
        ],
        resources: [`arn:${partition}:secretsmanager:${region}:${account}:secret:castflow/*`],
      }),
    );
    const machineName = (lifecycle: string) => `${prefix}-${lifecycle}`;
    // Every function may name castflow's state machines (reconcile settles and describes their
    // executions). Built from the names, not the constructs: the machines depend on the functions.
    const machineArns = Object.fromEntries(
      MACHINES.map((m) => [
        m.lifecycle.name,
        `arn:${partition}:states:${region}:${account}:stateMachine:${machineName(m.lifecycle.name)}`,
      ]),
    );
    const arns: Record<Grant["on"], string[]> = {
      medialive: [`arn:${partition}:medialive:${region}:${account}:*`],
      ivs: [
        `arn:${partition}:ivs:${region}:${account}:channel/*`,
        `arn:${partition}:ivs:${region}:${account}:stream-key/*`,
      ],
      // Executions of castflow's own state machines only.
      states: MACHINES.map(
        (m) => `arn:${partition}:states:${region}:${account}:execution:${machineName(m.lifecycle.name)}:*`,
      ),
      "state-machines": Object.values(machineArns),
      mediaconnect: [`arn:${partition}:mediaconnect:${region}:${account}:*`],
      "stream-keys": [`arn:${partition}:ssm:${region}:${account}:parameter${streamKeyPrefix}/*`],
      "medialive-role": [mediaLiveRole.roleArn],
      "mediaconnect-role": [mediaConnectRole.roleArn],
      "*": ["*"],
    };
    const statement = (g: Grant) =>
      new iam.PolicyStatement({
        actions: [...g.actions],
        resources: arns[g.on],
        ...(g.onlyRoles
          ? {
              conditions: {
                StringEquals: {
                  [`aws:ResourceTag/${Tags.managedBy}`]: "castflow",
                  [`aws:ResourceTag/${Tags.role}`]: [...g.onlyRoles],
                },
              },
            }
          : {}),
      });
    const grant = (fn: CastflowFunction, table: TableAccess, grants: readonly Grant[]) => {
      if (table === "read") this.table.grantReadData(fn);
      if (table === "write") this.table.grantReadWriteData(fn);
      for (const g of grants) fn.addToRolePolicy(statement(g));
    };

    const environment = {
      STAGE: props.stage,
      TABLE_NAME: this.table.tableName,
      STATE_MACHINE_ARNS: Stack.of(this).toJsonString(machineArns),
      RECONCILE_GRACE_SECONDS: String(props.reconcile?.graceSeconds ?? 300),
      RECONCILE_DRY_RUN_ONLY: String(props.reconcile?.dryRunOnly ?? false),
      RECONCILE_IDLE_INPUT_MINUTES: String(props.reconcile?.idleInputMinutes ?? 25),
      RECONCILE_IDLE_RESOURCE_TTL_HOURS: String(props.reconcile?.idleResourceTtlHours ?? 72),
      POWERTOOLS_METRICS_NAMESPACE: prefix,
      RECORDING_BUCKET: recordings.bucketName,
      MEDIALIVE_ROLE_ARN: mediaLiveRole.roleArn,
      STREAM_KEY_PARAMETER_PREFIX: streamKeyPrefix,
      MEDIACONNECT_ROLE_ARN: mediaConnectRole.roleArn,
    };
    // Functions are made on first use, so only tasks some machine uses get one.
    const taskFunctions = new Map<AnyTask, CastflowFunction>();
    const functions: TaskFunctions = {
      functionFor: (task) => {
        let fn = taskFunctions.get(task);
        if (!fn) {
          fn = new CastflowFunction(this, `Task-${task.name}`, {
            entry: task.entry,
            environment,
            ...(task.timeoutSeconds ? { timeout: Duration.seconds(task.timeoutSeconds) } : {}),
          });
          grant(fn, task.table, task.grants);
          taskFunctions.set(task, fn);
        }
        return fn;
      },
    };
    this.taskFunctions = taskFunctions;

    const machines = new Map<string, LifecycleStateMachine>();
    for (const machine of MACHINES) {
      const { name } = machine.lifecycle;
      if (machines.has(name)) throw new Error(`Two lifecycles are named ${name}`);
      machines.set(
        name,
        new LifecycleStateMachine(this, pascal(name), {
          machine,
          stateMachineName: machineName(name),
          functions,
        }),
      );
    }
    this.machines = machines;
    // Lifecycles that also run on a schedule (reconcile): one EventBridge Scheduler schedule each.
    for (const { lifecycle } of MACHINES) {
      const schedule = lifecycle.schedule;
      const target = machines.get(lifecycle.name);
      if (!schedule || !target) continue;
      const everyMinutes = props.scheduleMinutes?.[lifecycle.name] ?? schedule.everyMinutes;
      if (!Number.isInteger(everyMinutes) || everyMinutes < 1)
        throw new Error(
          `castflow:${scheduleContextKey(lifecycle.name)} must be a whole number of minutes, at least 1 (got ${everyMinutes})`,
        );
      new scheduler.Schedule(this, `${pascal(lifecycle.name)}Schedule`, {
        scheduleName: `${prefix}-${lifecycle.name}`,
        description: schedule.description,
        schedule: scheduler.ScheduleExpression.rate(Duration.minutes(everyMinutes)),
        target: new schedulerTargets.StepFunctionsStartExecution(target.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject(
            schedule.input(scheduler.ContextAttribute.executionId),
          ),
          retryAttempts: 2,
        }),
      });
    }
    // A run that finds what castflow may not repair, or repairs more than usual, wants a person.
    const runMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: prefix,
        metricName,
        dimensionsMap: { service: "reconcile" },
        period: Duration.minutes(15),
        statistic: "Maximum",
      });
    /** An alarm that fires when `metric` reaches `threshold` in one period (no data: fine). */
    const alarmAtLeast = (
      id: string,
      alarmDescription: string,
      metric: cloudwatch.IMetric,
      threshold: number,
    ) =>
      new cloudwatch.Alarm(this, id, {
        alarmDescription,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const repairThreshold = props.reconcile?.repairAlarmThreshold ?? 10;
    alarmAtLeast(
      "ReconcileUnrepairable",
      `${prefix}-reconcile: a run found something it may not repair (see GET /admin/reconcile/runs)`,
      runMetric("ReconcileUnrepairable"),
      1,
    );
    alarmAtLeast(
      "ReconcileManyRepairs",
      `${prefix}-reconcile: a run repaired more than ${repairThreshold} findings`,
      runMetric("ReconcileRepaired"),
      repairThreshold + 1,
    );

    const reactionFunctions = new Map<Reaction, CastflowFunction>();
    for (const reaction of REACTIONS) {
      const id = `Reaction${pascal(reaction.name)}`;
      const fn = new CastflowFunction(this, id, {
        entry: reaction.task.entry,
        environment,
        // Lambda's asynchronous retries (about 1 and 2 minutes later), then the dead-letter queue.
        retryAttempts: reaction.retryAttempts ?? 2,
        deadLetterQueueEnabled: true,
      });
      grant(fn, reaction.task.table, reaction.task.grants);
      for (const lifecycle of reaction.starts) {
        const m = machines.get(lifecycle.name);
        if (!m)
          throw new Error(`Reaction ${reaction.name} starts ${lifecycle.name}, which is not in the registry`);
        m.stateMachine.grantStartExecution(fn);
      }
      new events.Rule(this, `${id}Rule`, {
        ruleName: `${prefix}-${reaction.name}`,
        description: reaction.description,
        eventPattern: reaction.pattern as events.EventPattern,
        targets: [
          new targets.LambdaFunction(fn, {
            ...(reaction.fields
              ? {
                  event: events.RuleTargetInput.fromObject(
                    Object.fromEntries(
                      Object.entries(reaction.fields).map(([k, path]) => [
                        k,
                        events.EventField.fromPath(path),
                      ]),
                    ),
                  ),
                }
              : {}),
          }),
        ],
      });
      // An event that failed every attempt is a reaction that did not happen (a failover not made).
      if (fn.deadLetterQueue)
        alarmAtLeast(
          `${id}DroppedEvents`,
          `${prefix}-${reaction.name}: events failed every attempt (see the dead-letter queue)`,
          fn.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: "Maximum",
          }),
          1,
        );
      reactionFunctions.set(reaction, fn);
    }
    this.reactionFunctions = reactionFunctions;

    const apiFn = new CastflowFunction(this, "Api", {
      entry: "api/handler.ts",
      environment: {
        ...environment,
        LEGACY_PROGRAM_CHANNELS: String(props.legacyProgramChannels ?? false),
      },
    });
    this.apiFunction = apiFn;
    grant(apiFn, "write", [
      ...API_GRANTS,
      { actions: ["states:DescribeExecution", "states:GetExecutionHistory"], on: "states" },
    ]);
    for (const m of machines.values()) m.stateMachine.grantStartExecution(apiFn);

    const integration = new HttpLambdaIntegration("ApiIntegration", apiFn);
    this.api = new apigw.HttpApi(this, "HttpApi", {
      apiName: `${prefix}-api`,
      defaultAuthorizer: new HttpJwtAuthorizer("Jwt", props.jwtIssuer, { jwtAudience: [props.jwtAudience] }),
      defaultIntegration: integration,
    });
    // Routes anyone may call (GET /health): their own route, without the authorizer.
    for (const { method, path } of PUBLIC_ROUTES) {
      this.api.addRoutes({
        path,
        methods: [method as apigw.HttpMethod],
        integration,
        authorizer: new apigw.HttpNoneAuthorizer(),
      });
    }
    new CfnOutput(this, "ApiUrl", { value: this.api.apiEndpoint });
    for (const [name, m] of machines) {
      new CfnOutput(this, `${pascal(name)}StateMachineArn`, { value: m.stateMachine.stateMachineArn });
    }
  }
}
