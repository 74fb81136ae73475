import { App, Stack } from "aws-cdk-lib";
import { CfnRule } from "aws-cdk-lib/aws-events";
import { CfnEventInvokeConfig, type CfnFunction } from "aws-cdk-lib/aws-lambda";
import type { CfnStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { buildApp } from "#infra/build-app.ts";
import type { CastflowStack } from "#infra/castflow-stack.ts";
import type { Lifecycle } from "#state-machines/workflow/lifecycle.ts";
import type { AnyTask } from "#tasks/define.ts";

export const LOCAL_REGION = "us-east-1";
export const LOCAL_ACCOUNT = "000000000000";

export interface LocalDefinition {
  /** The deployed state machine name, e.g. `castflow-dev-go-live`. */
  readonly name: string;
  /** The lifecycle it runs. */
  readonly lifecycle: Lifecycle;
  /** The ASL exactly as the stack deploys it, with function ARNs resolved to local ones. */
  readonly definition: Record<string, unknown>;
}

/** An EventBridge rule of the stack whose targets are castflow functions. */
export interface LocalRule {
  /** The deployed rule name, e.g. `castflow-dev-destination-alert`. */
  readonly name: string;
  /** The rule's event pattern exactly as deployed. */
  readonly pattern: Record<string, unknown>;
  readonly targets: readonly {
    readonly task: AnyTask;
    /** What the target receives instead of the whole event (EventBridge's input transformer). */
    readonly inputTransformer?: {
      readonly inputPathsMap: Record<string, string>;
      readonly inputTemplate: string;
    };
    /** Lambda's asynchronous retries after an error (the function's EventInvokeConfig; AWS's default 2). */
    readonly retryAttempts: number;
  }[];
}

export interface StackDefinitions {
  readonly stack: CastflowStack;
  readonly machines: LocalDefinition[];
  /** Local function ARN -> the task behind it. */
  readonly functions: Map<string, AnyTask>;
  readonly rules: LocalRule[];
}

export const localFunctionArn = (logicalId: string) =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * Resolves the CloudFormation intrinsics CDK leaves in a definition string: `Fn::Join` of
 * literals, `Fn::GetAtt [fn, Arn]` (to a local Lambda ARN) and `Ref` of pseudo parameters.
 */
function resolveIntrinsics(value: Json): Json {
  if (Array.isArray(value)) return value.map(resolveIntrinsics);
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const arg = value[key] as Json;
    if (key === "Fn::Join" && Array.isArray(arg)) {
      const [sep, parts] = arg as [string, Json[]];
      return parts.map((p) => String(resolveIntrinsics(p))).join(sep);
    }
    if (key === "Fn::GetAtt" && Array.isArray(arg)) return localFunctionArn(String(arg[0]));
    if (key === "Ref") {
      const refs: Record<string, string> = {
        "AWS::Partition": "aws",
        "AWS::Region": LOCAL_REGION,
        "AWS::AccountId": LOCAL_ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
      };
      const resolved = refs[String(arg)];
      if (resolved === undefined) throw new Error(`Cannot resolve Ref ${String(arg)} for the local runtime`);
      return resolved;
    }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveIntrinsics(v)]));
}

/**
 * Builds the CDK stack in memory (no bundling, no synth to disk) and extracts each state
 * machine's definition as it would be deployed. The local runtime runs exactly these, never a
 * second hand-written copy.
 */
export function stackDefinitions(context: Record<string, unknown> = {}): StackDefinitions {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [], ...context } });
  const { stack } = buildApp(app);
  const functions = new Map<string, AnyTask>();
  for (const [task, fn] of [
    ...stack.taskFunctions,
    ...[...stack.reactionFunctions].map(([r, f]) => [r.task, f] as const),
  ]) {
    const cfn = fn.node.defaultChild as CfnFunction;
    functions.set(localFunctionArn(Stack.of(fn).getLogicalId(cfn)), task);
  }
  const machines: LocalDefinition[] = [...stack.machines.values()].map((m) => {
    const cfn = m.stateMachine.node.defaultChild as CfnStateMachine;
    const resolved = resolveIntrinsics(stack.resolve(cfn.definitionString) as Json);
    if (typeof resolved !== "string")
      throw new Error(`Definition of ${m.lifecycle.name} did not resolve to a string`);
    const name = stack.resolve(cfn.stateMachineName) as string;
    return { name, lifecycle: m.lifecycle, definition: JSON.parse(resolved) as Record<string, unknown> };
  });
  return { stack, machines, functions, rules: stackRules(stack, functions) };
}

/** The stack's EventBridge rules, with each target's task and its asynchronous retry setting. */
function stackRules(stack: Stack, functions: Map<string, AnyTask>): LocalRule[] {
  const constructs = stack.node.findAll();
  const retries = new Map<string, number>();
  for (const c of constructs) {
    if (!(c instanceof CfnEventInvokeConfig)) continue;
    // FunctionName is `{"Ref": "<function's logical id>"}`.
    const ref = stack.resolve(c.functionName) as { Ref?: string };
    if (ref.Ref) retries.set(localFunctionArn(ref.Ref), c.maximumRetryAttempts ?? 2);
  }
  return constructs
    .filter((c): c is CfnRule => c instanceof CfnRule && (c.state ?? "ENABLED") === "ENABLED")
    .map((rule) => {
      // The L1 property holds the targets in its own (camelCase) shape.
      const targets = (resolveIntrinsics(stack.resolve(rule.targets) as Json) ?? []) as {
        arn: string;
        inputTransformer?: { inputPathsMap: Record<string, string>; inputTemplate: string };
      }[];
      return {
        name: String(stack.resolve(rule.name)),
        pattern: resolveIntrinsics(stack.resolve(rule.eventPattern) as Json) as Record<string, unknown>,
        targets: targets.map((t) => {
          const task = functions.get(t.arn);
          if (!task) throw new Error(`Rule ${String(rule.name)} targets ${t.arn}, which is no castflow task`);
          return {
            task,
            retryAttempts: retries.get(t.arn) ?? 2,
            ...(t.inputTransformer ? { inputTransformer: t.inputTransformer } : {}),
          };
        }),
      };
    });
}
