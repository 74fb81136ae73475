import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

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
 * Every castflow Lambda: Node.js 22 on arm64, bundled as minified ESM with source maps, X-Ray
 * tracing, JSON logs kept for a month. The settings live here once (Powertools habit).
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
      environment: { NODE_OPTIONS: "--enable-source-maps", ...props.environment },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: "node22",
        minify: true,
        sourceMap: true,
        mainFields: ["module", "main"],
        // Some dependencies still call require(); give the ESM bundle one.
        banner:
          "import { createRequire as __cfCreateRequire } from 'node:module'; const require = __cfCreateRequire(import.meta.url);",
      },
    });
  }
}
