import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as apigateway from "aws-cdk-lib/aws-apigateway";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as schedulerTargets from "aws-cdk-lib/aws-scheduler-targets";
import * as cxapi from "aws-cdk-lib/cx-api";
import type { Construct } from "constructs";
import { API_GRANTS } from "#api/grants.ts";
import { PUBLIC_ROUTES } from "#api/public-routes.ts";
import { SESSION_INDEXES, Tags } from "#lib/sessions/model.ts";
import { WAIT_KEY_PREFIX } from "#lib/wait-keys.ts";
import type { Reaction } from "#reactions/define.ts";
import { REACTIONS } from "#reactions/registry.ts";
import { MACHINES } from "#state-machines/registry.ts";
import { scheduleContextKey } from "#state-machines/workflow/lifecycle.ts";
import { LifecycleStateMachine } from "#state-machines/workflow/machine.ts";
import type { TaskFunctions } from "#state-machines/workflow/task-state.ts";
import { waitMode } from "#state-machines/workflow/wait-for-state.ts";
import type { AnyTask, Grant, TableAccess } from "#tasks/define.ts";
import { acknowledge, acknowledgeWildcardActions, acknowledgeWildcardResources } from "./nag.ts";
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
    // Compact JSON: a third of the pretty-printed template was indentation, and CloudFormation's
    // 1 MB template-body limit counts it (synth warned at 900 KB).
    super(scope, id, { suppressTemplateIndentation: true, ...props });
    // S3 server access logs are delivered by a bucket policy on the log bucket (logging.s3.amazonaws.com,
    // only from this stack's buckets), not by the legacy LogDeliveryWrite ACL: ACLs stay disabled.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const prefix = `castflow-${props.stage}`;

    this.table = new dynamodb.TableV2(this, "Table", {
      partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
      sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Items that expire on their own (`expiresAt`, epoch seconds): reconcile reports, input
      // signals, wait registrations (lib/waits.ts).
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

    // Server access logs of the recordings bucket (who read or wrote which recording), kept 90 days.
    // It logs no access of its own (that would log its own log deliveries); cdk-nag's S1 exempts a
    // bucket other buckets log to.
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: "expire-access-logs", expiration: Duration.days(90) }],
    });
    const recordings = new s3.Bucket(this, "Recordings", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "recordings/",
    });

    // The role MediaLive assumes to write the HLS recording.
    const mediaLiveRole = new iam.Role(this, "MediaLiveRole", {
      assumedBy: new iam.ServicePrincipal("medialive.amazonaws.com"),
      description: "castflow MediaLive channels: write session recordings",
    });
    // Objects are written without an ACL header (the bucket owner owns them), so PutObject suffices.
    recordings.grantPut(mediaLiveRole, "sessions/*");
    acknowledgeWildcardResources(
      mediaLiveRole,
      [recordings.arnForObjects("sessions/*")],
      "MediaLive writes each session's HLS recording under sessions/<session id>/recording/, objects it " +
        "names as it records; the role may write nowhere else in the bucket.",
    );
    acknowledgeWildcardActions(
      mediaLiveRole,
      ["s3:Abort*"],
      "grantPut's s3:Abort* is s3:AbortMultipartUpload, so MediaLive can abandon a multipart upload of a " +
        "recording it writes; only under sessions/ of the recordings bucket.",
    );
    // Channels log at WARNING to CloudWatch Logs, in MediaLive's own log group.
    const mediaLiveLogs = `arn:${Stack.of(this).partition}:logs:${Stack.of(this).region}:${Stack.of(this).account}:log-group:ElementalMediaLive:*`;
    mediaLiveRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          "logs:CreateLogGroup",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
          "logs:DescribeLogStreams",
        ],
        resources: [mediaLiveLogs],
      }),
    );
    acknowledgeWildcardResources(
      mediaLiveRole,
      [mediaLiveLogs],
      "MediaLive names its own log group, ElementalMediaLive, and the streams in it; the trailing :* covers " +
        "those log streams, in this account and region only.",
    );

    const account = Stack.of(this).account;
    const region = Stack.of(this).region;
    const partition = Stack.of(this).partition;
    // Destinations' stream keys: SSM SecureString parameters, one path per stage.
    const streamKeyPrefix = `/castflow/${props.stage}/stream-keys`;
    // A MEDIACONNECT input makes MediaLive add (and remove) its own output on the source's flow,
    // as this role (aws-facts.md; aws-solutions/live-streaming-on-aws grants the same).
    const flows = `arn:${partition}:mediaconnect:${region}:${account}:flow:*`;
    mediaLiveRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          "mediaconnect:ManagedDescribeFlow",
          "mediaconnect:ManagedAddOutput",
          "mediaconnect:ManagedRemoveOutput",
        ],
        resources: [flows],
      }),
    );
    acknowledgeWildcardResources(
      mediaLiveRole,
      [flows],
      "MediaConnect assigns flow ids at creation and sources' flows are made at run time; the three " +
        "Managed* actions act only on flows of this account and region.",
    );
    // Encrypted SRT sources: MediaConnect reads the key from Secrets Manager as this role, and
    // only secrets named castflow/... .
    const srtKeys = `arn:${partition}:secretsmanager:${region}:${account}:secret:castflow/*`;
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
        resources: [srtKeys],
      }),
    );
    acknowledgeWildcardResources(
      mediaConnectRole,
      [srtKeys],
      "SRT keys are secrets operators create outside the stack, named castflow/...; Secrets Manager ends " +
        "every secret ARN with a random suffix, so the grant names the castflow/ prefix, read-only.",
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
    // Why each scope's ARNs end in a wildcard (cdk-nag AwsSolutions-IAM5, acknowledged per ARN on the
    // role a grant lands on). `state-machines` and the two roles are exact ARNs.
    const wildcardReason = (g: Grant): string => {
      switch (g.on) {
        case "medialive":
          return "MediaLive assigns channel, input and input security group ids at creation, so grants name this account and region's MediaLive resources; each holds only the actions its task calls.";
        case "mediaconnect":
          return "MediaConnect assigns flow ids at creation, so grants name this account and region's MediaConnect resources; each holds only the actions its task calls.";
        case "ivs":
          return `IVS assigns channel and stream key ids at creation, so grants name this account and region's channels and stream keys; each holds only the actions its task calls${g.onlyRoles ? `, and ${g.actions.join(", ")} act only on channels castflow tagged ${g.onlyRoles.join(" or ")} (aws:ResourceTag condition)` : ""}.`;
        case "states":
          return "Execution names are made per run, so grants name the executions of this stage's castflow state machines, one ARN each, and no other machine's.";
        case "stream-keys":
          return `Destinations' stream keys are SSM parameters created at run time, one per destination, under this stage's path ${streamKeyPrefix}/; no other parameter.`;
        case "*": {
          const unscoped = g.actions.filter((a) => /^[a-z0-9-]+:List/.test(a));
          const others = g.actions.filter((a) => !unscoped.includes(a));
          return [
            unscoped.length > 0 ? `${unscoped.join(", ")}: List calls that take no resource ARN.` : "",
            others.length > 0
              ? `${others.join(", ")}: resource-scoped actions the task declares on '*' with them; they could name this account and region's ARNs instead.`
              : "",
          ]
            .filter(Boolean)
            .join(" ");
        }
        default:
          return `${g.on}: exact ARNs, no wildcard.`;
      }
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
      const role = fn.role ?? fn;
      if (table === "read") this.table.grantReadData(fn);
      if (table === "write") this.table.grantReadWriteData(fn);
      if (table === "read" || table === "write")
        acknowledgeWildcardResources(
          role,
          [`${this.table.tableArn}/index/*`],
          "CDK's table grants include the table's indexes (<table>/index/*): the global secondary indexes of this one table (SESSION_INDEXES), which GET /sessions queries.",
        );
      // Wait registrations only: the items under `wait#` partitions (lib/waits.ts).
      if (table === "waits")
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"],
            resources: [this.table.tableArn],
            conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${WAIT_KEY_PREFIX}*`] } },
          }),
        );
      for (const g of grants) {
        fn.addToRolePolicy(statement(g));
        acknowledgeWildcardResources(role, arns[g.on], wildcardReason(g));
      }
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
      // The functions this machine invokes: its role may invoke each (and its versions: `<arn>:*`).
      const invoked = new Set<IFunction>();
      const lifecycle = new LifecycleStateMachine(this, pascal(name), {
        machine,
        stateMachineName: machineName(name),
        functions: {
          functionFor: (task) => {
            const fn = functions.functionFor(task);
            invoked.add(fn);
            return fn;
          },
        },
      });
      const { stateMachine } = lifecycle;
      acknowledge(
        stateMachine,
        "AwsSolutions-SF1",
        "Executions log at ERROR, without execution data (includeExecutionData: false): failures reach CloudWatch Logs, and each state's detail stays in the execution history instead of being copied there at every transition.",
      );
      acknowledgeWildcardResources(
        stateMachine.role,
        [...invoked].map((fn) => `${fn.functionArn}:*`),
        "CDK's LambdaInvoke grants lambda:InvokeFunction on each task function and its versions and aliases (<arn>:*); only the functions this machine invokes.",
      );
      acknowledge(
        stateMachine.role,
        "AwsSolutions-IAM5[Resource::*]",
        "Execution logging and X-Ray tracing: the CloudWatch Logs delivery actions (logs:CreateLogDelivery and the like) and xray:PutTraceSegments support no resource-level permissions, so CDK grants them on '*'.",
      );
      machines.set(name, lifecycle);
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
      if (reaction.onlyWhenWaitsAre && reaction.onlyWhenWaitsAre !== waitMode(this)) continue;
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
      // The $default stage is made below, with access logging (HttpApiProps has no setting for it).
      createDefaultStage: false,
    });
    // One access log line per request: who (source IP), what (route, path), the outcome and the
    // latencies, and why a token was refused. Never a body or a header (the Authorization token).
    // The id `DefaultStage` is the one HttpApi gives the stage it makes: same logical id.
    this.api.addStage("DefaultStage", {
      stageName: "$default",
      autoDeploy: true,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(
          new logs.LogGroup(this, "ApiAccessLogs", { retention: logs.RetentionDays.THREE_MONTHS }),
        ),
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            requestTime: "$context.requestTime",
            sourceIp: "$context.identity.sourceIp",
            routeKey: "$context.routeKey",
            path: "$context.path",
            status: "$context.status",
            responseLength: "$context.responseLength",
            responseLatency: "$context.responseLatency",
            integrationLatency: "$context.integrationLatency",
            integrationError: "$context.integrationErrorMessage",
            authorizerError: "$context.authorizer.error",
          }),
        ),
      },
    });
    // Routes anyone may call (GET /health): their own route, without the authorizer.
    for (const { method, path } of PUBLIC_ROUTES) {
      const routes = this.api.addRoutes({
        path,
        methods: [method as apigw.HttpMethod],
        integration,
        authorizer: new apigw.HttpNoneAuthorizer(),
      });
      for (const route of routes)
        acknowledge(
          route,
          "AwsSolutions-APIG4",
          `${method} ${path} is public by design (api/public-routes.ts): a liveness check that answers without a token and returns no data ({"status":"ok"}).`,
        );
    }
    new CfnOutput(this, "ApiUrl", { value: this.api.apiEndpoint });
    for (const [name, m] of machines) {
      new CfnOutput(this, `${pascal(name)}StateMachineArn`, { value: m.stateMachine.stateMachineArn });
    }
  }
}
