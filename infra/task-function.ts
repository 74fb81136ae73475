import { isAbsolute, join } from "node:path";
import { Duration } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { acknowledge, acknowledgeManagedPolicy } from "./nag.ts";
import { PROJECT_ROOT } from "./project-root.ts";

export { PROJECT_ROOT };

export interface CastflowFunctionProps {
  /** Source file, absolute or relative to the project root (e.g. `api/handler.ts`). */
  readonly entry: string;
  readonly environment?: Record<string, string>;
  /** Default: 30 seconds (tasks never wait: waiting is the state machine's job). */
  readonly timeout?: Duration;
  /** Default: 256 MB. */
  readonly memorySize?: number;
  /** Asynchronous invocations (EventBridge targets): retries after an error (0-2). */
  readonly retryAttempts?: number;
  /** Asynchronous invocations: events that failed every attempt go to an SQS dead-letter queue. */
  readonly deadLetterQueueEnabled?: boolean;
}

/**
 * How every castflow function is bundled: one minified CommonJS file with the AWS SDK inside it.
 * `npm run bench` (bench/cold-start.ts) measures these settings against the alternatives; the
 * README ("Tests and benchmark") has the figures.
 *
 * - The SDK is bundled (`bundleAwsSDK`), not left to the Lambda runtime (NodejsFunction's
 *   default): a function then runs the SDK versions package-lock.json pins, which the tests ran,
 *   and its cold start loads only the tree-shaken parts it uses instead of whole clients.
 * - `module` first in `mainFields`: esbuild tree-shakes the SDK's ES module build much better than
 *   its CommonJS one (a third less code).
 * - CommonJS output: the runtime require()s it, which loads Node's built-in modules (http, https,
 *   crypto...) without the ES-module facades an ESM bundle's imports build. Tasks name their entry
 *   with `import.meta.url`, which CommonJS lacks: `define` gives it the bundle's own URL, what an
 *   ESM bundle would have.
 * - Source maps are shipped without their sources (the code is in git) but not enabled:
 *   `--enable-source-maps` costs every cold start. Set `NODE_OPTIONS=--enable-source-maps` on a
 *   function only while reading its stack traces.
 */
export const BUNDLING = {
  format: nodejs.OutputFormat.CJS,
  target: "node22",
  minify: true,
  bundleAwsSDK: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ["module", "main"],
  define: { "import.meta.url": "__cfImportMetaUrl" },
  banner: "const __cfImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
} as const satisfies nodejs.BundlingOptions;

/**
 * Every castflow Lambda: Node.js 22 on arm64, bundled as `BUNDLING` says, X-Ray tracing, JSON
 * logs kept for a month. The settings live here once (Powertools habit).
 */
export class CastflowFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: CastflowFunctionProps) {
    super(scope, id, {
      entry: isAbsolute(props.entry) ? props.entry : join(PROJECT_ROOT, props.entry),
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, "package-lock.json"),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      ...(props.retryAttempts === undefined ? {} : { retryAttempts: props.retryAttempts }),
      ...(props.deadLetterQueueEnabled ? { deadLetterQueueEnabled: true } : {}),
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup: new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
      // No NODE_OPTIONS: source maps stay off at run time (see BUNDLING).
      environment: { ...props.environment },
      bundling: { ...BUNDLING, mainFields: [...BUNDLING.mainFields], define: { ...BUNDLING.define } },
    });
    if (props.deadLetterQueueEnabled) requireTls(this.deadLetterQueue as sqs.Queue);

    acknowledge(
      this,
      "AwsSolutions-L1",
      "Node.js 22 (nodejs22.x) is pinned, not the newest runtime aws-cdk-lib offers (nodejs24.x): the " +
        "bundles target node22 (BUNDLING) and the tests and benchmarks run on Node 22 (the `node` " +
        "devDependency), so a runtime change is one deliberate upgrade of all three.",
    );
    if (this.role) {
      acknowledgeManagedPolicy(
        this.role,
        iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaBasicExecutionRole")
          .managedPolicyArn,
        "AWSLambdaBasicExecutionRole, which CDK attaches to every function role, grants only " +
          "logs:CreateLogGroup, CreateLogStream and PutLogEvents: what the function needs to write its logs.",
      );
      acknowledge(
        this.role,
        "AwsSolutions-IAM5[Resource::*]",
        "Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level " +
          "permissions, so they are granted on '*'. A task's own grants on '*' are acknowledged where the stack makes them.",
      );
    }
  }
}

/**
 * The dead-letter queue Lambda makes (`deadLetterQueueEnabled`), made to refuse requests without
 * TLS and encrypted with SQS-managed keys: what `enforceSSL: true` and
 * `encryption: QueueEncryption.SQS_MANAGED` make of a queue of one's own. Hardened in place rather
 * than replaced by a new queue, so a deployed stack keeps its queues (their logical ids) and the
 * events waiting in them.
 */
function requireTls(queue: sqs.Queue): void {
  (queue.node.defaultChild as sqs.CfnQueue).sqsManagedSseEnabled = true;
  queue.addToResourcePolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ["sqs:*"],
      resources: [queue.queueArn],
      conditions: { Bool: { "aws:SecureTransport": "false" } },
    }),
  );
}
