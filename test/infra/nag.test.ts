import { App, type PolicyViolation, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { buildApp } from "#infra/build-app.ts";
import type { CastflowStack } from "#infra/castflow-stack.ts";

/** The stack as `cdk synth` builds it (infra/build-app.ts), minus esbuild bundling. */
function build(context: Record<string, unknown> = {}): CastflowStack {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [], ...context } });
  return buildApp(app).stack;
}

/** Violations one per line, `rule  construct path`: what a failure prints. */
const listed = (violations: readonly PolicyViolation[]) =>
  violations
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName}  ${r.constructPath}  (${v.description})`))
    .join("\n");

interface Acknowledgment {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every acknowledgment (`Validations.of(c).acknowledge`) in the tree, read back from the metadata. */
function acknowledgments(root: IConstruct): Acknowledgment[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ""),
          reason,
        })),
      ),
  );
}

/**
 * The AwsSolutions findings as if nothing were acknowledged: the pack with its (private, cdk-nag
 * 3.0.2) `isAcknowledged` answering no. Should a cdk-nag upgrade rename it, every acknowledgment
 * reads as stale below: a loud failure, never a silent pass.
 */
function unacknowledgedFindings(stack: CastflowStack): PolicyViolation[] {
  class IgnoringAcknowledgments extends AwsSolutionsChecks {}
  Object.defineProperty(IgnoringAcknowledgments.prototype, "isAcknowledged", { value: () => false });
  return new IgnoringAcknowledgments().validateScope(stack).violations;
}

describe.each([
  ["events", {}],
  ["polling", { "castflow:waits": "polling" }],
])("cdk-nag AwsSolutions, %s waits", (_waits, context) => {
  const stack = build(context);
  const acks = acknowledgments(stack);
  const raw = unacknowledgedFindings(stack);

  it("reports no violation", () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations, `cdk-nag AwsSolutions violations:\n${listed(report.violations)}`).toEqual([]);
    expect(report.success).toBe(true);
  });

  it("acknowledges findings one construct at a time, each with its reason", () => {
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id, a.path).toMatch(/^AwsSolutions-[A-Za-z]+\d+/);
      expect(a.reason.trim().length, `${a.id} on ${a.path}`).toBeGreaterThanOrEqual(20);
      // Never the whole app or stack: on the resource, role or state machine the finding concerns.
      expect(a.path, a.id).not.toBe(stack.node.path);
      expect(a.path, a.id).not.toBe("");
    }
    // A rule that reports findings is acknowledged finding by finding, never as a whole.
    const whole = acks.filter((a) => /^AwsSolutions-IAM[45]$/.test(a.id));
    expect(whole.map((a) => `${a.id} on ${a.path}`)).toEqual([]);
    const rules = new Set(acks.map((a) => a.id.replace(/\[.*$/, "")));
    expect([...rules].sort()).toEqual([
      "AwsSolutions-APIG4",
      "AwsSolutions-IAM4",
      "AwsSolutions-IAM5",
      "AwsSolutions-L1",
      "AwsSolutions-SF1",
    ]);
  });

  it("acknowledges only what the pack finds there (no stale acknowledgment)", () => {
    const stale = acks.filter(
      (a) =>
        !raw.some(
          (v) =>
            v.ruleName === a.id &&
            v.violatingResources.some(
              (r) => r.constructPath === a.path || (r.constructPath ?? "").startsWith(`${a.path}/`),
            ),
        ),
    );
    expect(stale.map((a) => `${a.id} on ${a.path}`)).toEqual([]);
  });

  it("fixes, not acknowledges, TLS-only dead-letter queues, API access logs and recording access logs", () => {
    // Without the fixes these rules report findings (SQS4 on the reactions' dead-letter queues, APIG1
    // on the API's stage, S1 on the recordings bucket); with them there is none to acknowledge. S1
    // exempts the access-log bucket itself, since the recordings bucket logs to it.
    for (const rule of ["AwsSolutions-SQS4", "AwsSolutions-APIG1", "AwsSolutions-S1"]) {
      expect(raw.filter((v) => v.ruleName === rule)).toEqual([]);
      expect(acks.filter((a) => a.id === rule)).toEqual([]);
    }
  });
});
