import { CfnOutput, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import { Tags } from "../lib/session.ts";
import { TASK_NAME_ENV, TASK_NAMES, type TaskName } from "../lib/task-catalog.ts";
import { EndSession } from "../state-machines/end-session.ts";
import { GoLive } from "../state-machines/go-live.ts";
import type { TaskFunctions } from "../state-machines/lifecycle.ts";
import { StopStreaming } from "../state-machines/stop-streaming.ts";
import { CastflowFunction } from "./task-function.ts";

export interface CastflowStackProps extends StackProps {
  /** Stage name, part of every resource name (e.g. `dev`, `prod`). */
  readonly stage: string;
  /** JWT issuer the HTTP API trusts (e.g. a Cognito user pool URL). */
  readonly jwtIssuer: string;
  /** Audience (client id) the JWTs must carry. */
  readonly jwtAudience: string;
  /** Sessions of hosts without a persistent channel get a program channel of their own. Default: false (403). */
  readonly legacyProgramChannels?: boolean;
}

/** Which AWS actions each task needs, on which resources: least privilege, one list per task. */
type Grant = {
  readonly actions: string[];
  readonly resources: "medialive" | "ivs" | "states" | "passRole" | "*";
  /** Only on resources castflow tagged as its own (IVS channels it created). */
  readonly castflowTaggedOnly?: boolean;
};
const TASK_GRANTS: Record<TaskName, { table: "read" | "write" | "none"; grants: Grant[] }> = {
  "claim-session": {
    table: "write",
    grants: [{ actions: ["states:DescribeExecution"], resources: "states" }],
  },
  "ensure-input": {
    table: "write",
    grants: [
      {
        actions: [
          "medialive:CreateInput",
          "medialive:DescribeInput",
          "medialive:ListInputs",
          "medialive:CreateInputSecurityGroup",
          "medialive:ListInputSecurityGroups",
          "medialive:CreateTags",
        ],
        resources: "*",
      },
    ],
  },
  "ensure-channel": {
    table: "write",
    grants: [
      {
        actions: [
          "medialive:CreateChannel",
          "medialive:DescribeChannel",
          "medialive:ListChannels",
          "medialive:CreateTags",
          // The input must be DETACHED before a channel attaches it.
          "medialive:DescribeInput",
          // Replacing a channel MediaLive failed to create.
          "medialive:DeleteChannel",
          // Pointing a reused channel at a rotated stream key.
          "medialive:UpdateChannel",
        ],
        resources: "*",
      },
      { actions: ["ivs:GetChannel", "ivs:ListStreamKeys", "ivs:GetStreamKey"], resources: "ivs" },
      { actions: ["iam:PassRole"], resources: "passRole" },
    ],
  },
  "describe-channel": {
    table: "none",
    grants: [{ actions: ["medialive:DescribeChannel"], resources: "medialive" }],
  },
  "describe-input": {
    table: "none",
    grants: [{ actions: ["medialive:DescribeInput"], resources: "medialive" }],
  },
  "start-channel": {
    table: "none",
    grants: [{ actions: ["medialive:StartChannel", "medialive:DescribeChannel"], resources: "medialive" }],
  },
  "stop-channel": {
    table: "none",
    grants: [{ actions: ["medialive:StopChannel", "medialive:DescribeChannel"], resources: "medialive" }],
  },
  "delete-channel": {
    table: "none",
    grants: [{ actions: ["medialive:DeleteChannel", "medialive:DescribeChannel"], resources: "medialive" }],
  },
  "delete-input": {
    table: "none",
    grants: [{ actions: ["medialive:DeleteInput", "medialive:DescribeInput"], resources: "medialive" }],
  },
  "confirm-program-channel": { table: "none", grants: [{ actions: ["ivs:GetChannel"], resources: "ivs" }] },
  "mark-live": { table: "write", grants: [] },
  "find-created-resources": {
    table: "read",
    grants: [{ actions: ["medialive:ListChannels", "medialive:ListInputs"], resources: "*" }],
  },
  "record-failure": {
    table: "write",
    grants: [{ actions: ["medialive:DescribeChannel", "medialive:DescribeInput"], resources: "medialive" }],
  },
  "claim-stop": { table: "write", grants: [{ actions: ["states:DescribeExecution"], resources: "states" }] },
  "mark-stopped": { table: "write", grants: [] },
  "claim-end": {
    table: "write",
    grants: [
      { actions: ["states:DescribeExecution"], resources: "states" },
      // MediaLive resources tagged with the session but missing from its record.
      { actions: ["medialive:ListChannels", "medialive:ListInputs"], resources: "*" },
    ],
  },
  "delete-ivs-channel": {
    table: "none",
    grants: [
      { actions: ["ivs:GetStream", "ivs:ListStreamKeys", "ivs:DeleteStreamKey"], resources: "ivs" },
      // Stopping and deleting are limited to channels castflow created (relay and program ones).
      { actions: ["ivs:StopStream", "ivs:DeleteChannel"], resources: "ivs", castflowTaggedOnly: true },
    ],
  },
  "release-persistent-channel": { table: "write", grants: [] },
  "record-session-ended": { table: "write", grants: [] },
};

export class CastflowStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly goLive: GoLive;
  readonly stopStreaming: StopStreaming;
  readonly endSession: EndSession;
  readonly taskFunctions: TaskFunctions;
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
      removalPolicy: RemovalPolicy.RETAIN,
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
    const machineNames = ["go-live", "stop-streaming", "end-session"].map((m) => `${prefix}-${m}`);
    const arns = {
      medialive: [`arn:${partition}:medialive:${region}:${account}:*`],
      ivs: [
        `arn:${partition}:ivs:${region}:${account}:channel/*`,
        `arn:${partition}:ivs:${region}:${account}:stream-key/*`,
      ],
      // Executions of castflow's own state machines only.
      states: machineNames.map((name) => `arn:${partition}:states:${region}:${account}:execution:${name}:*`),
      passRole: [mediaLiveRole.roleArn],
      "*": ["*"],
    };

    const statement = (g: Grant) =>
      new iam.PolicyStatement({
        actions: g.actions,
        resources: arns[g.resources],
        ...(g.castflowTaggedOnly
          ? { conditions: { StringEquals: { [`aws:ResourceTag/${Tags.managedBy}`]: "castflow" } } }
          : {}),
      });

    const environment = {
      TABLE_NAME: this.table.tableName,
      RECORDING_BUCKET: recordings.bucketName,
      MEDIALIVE_ROLE_ARN: mediaLiveRole.roleArn,
    };
    const fns = {} as Record<TaskName, CastflowFunction>;
    for (const name of TASK_NAMES) {
      const fn = new CastflowFunction(this, `Task-${name}`, {
        entry: `tasks/${name}.ts`,
        environment: { ...environment, [TASK_NAME_ENV]: name },
      });
      const { table, grants } = TASK_GRANTS[name];
      if (table === "read") this.table.grantReadData(fn);
      if (table === "write") this.table.grantReadWriteData(fn);
      for (const g of grants) fn.addToRolePolicy(statement(g));
      fns[name] = fn;
    }
    this.taskFunctions = fns;

    this.goLive = new GoLive(this, "GoLive", { stateMachineName: `${prefix}-go-live`, tasks: fns });
    this.stopStreaming = new StopStreaming(this, "StopStreaming", {
      stateMachineName: `${prefix}-stop-streaming`,
      tasks: fns,
    });

    this.endSession = new EndSession(this, "EndSession", {
      stateMachineName: `${prefix}-end-session`,
      tasks: fns,
    });

    const apiFn = new CastflowFunction(this, "Api", {
      entry: "api/handler.ts",
      environment: {
        ...environment,
        GO_LIVE_STATE_MACHINE_ARN: this.goLive.stateMachine.stateMachineArn,
        STOP_STREAMING_STATE_MACHINE_ARN: this.stopStreaming.stateMachine.stateMachineArn,
        END_SESSION_STATE_MACHINE_ARN: this.endSession.stateMachine.stateMachineArn,
        LEGACY_PROGRAM_CHANNELS: String(props.legacyProgramChannels ?? false),
      },
    });
    this.apiFunction = apiFn;
    this.table.grantReadWriteData(apiFn);
    this.goLive.stateMachine.grantStartExecution(apiFn);
    this.stopStreaming.stateMachine.grantStartExecution(apiFn);
    this.endSession.stateMachine.grantStartExecution(apiFn);
    apiFn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["states:DescribeExecution", "states:GetExecutionHistory"],
        resources: arns.states,
      }),
    );
    apiFn.addToRolePolicy(
      new iam.PolicyStatement({
        // Program, relay and persistent channels are created synchronously (tags set at creation).
        actions: ["ivs:CreateChannel", "ivs:GetChannel", "ivs:TagResource"],
        resources: arns.ivs,
      }),
    );
    // Deleted on a failed request, or by an admin: only channels castflow created.
    apiFn.addToRolePolicy(
      statement({ actions: ["ivs:DeleteChannel"], resources: "ivs", castflowTaggedOnly: true }),
    );
    // After a create whose answer was lost, the API looks for the channel it made (IVS
    // ListChannels is not resource-scoped).
    apiFn.addToRolePolicy(new iam.PolicyStatement({ actions: ["ivs:ListChannels"], resources: ["*"] }));

    this.api = new apigw.HttpApi(this, "HttpApi", {
      apiName: `${prefix}-api`,
      defaultAuthorizer: new HttpJwtAuthorizer("Jwt", props.jwtIssuer, { jwtAudience: [props.jwtAudience] }),
      defaultIntegration: new HttpLambdaIntegration("ApiIntegration", apiFn),
    });
    new CfnOutput(this, "ApiUrl", { value: this.api.apiEndpoint });
    new CfnOutput(this, "GoLiveStateMachineArn", { value: this.goLive.stateMachine.stateMachineArn });
    new CfnOutput(this, "StopStreamingStateMachineArn", {
      value: this.stopStreaming.stateMachine.stateMachineArn,
    });
  }
}
