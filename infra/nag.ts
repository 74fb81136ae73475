import { Stack, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/**
 * cdk-nag (AwsSolutions pack, `npm test`: test/infra/nag.test.ts) acknowledgments, the cdk-nag v3
 * way: `Validations.of(construct).acknowledge`, on the construct a finding concerns (a resource,
 * a role, a state machine), each with its reason. A rule that reports findings (IAM4, IAM5) is
 * acknowledged finding by finding, `AwsSolutions-IAM5[Resource::<what>]`, never as a whole.
 * The helpers live here; the calls sit next to the constructs, in castflow-stack.ts and
 * task-function.ts.
 */
export function acknowledge(scope: IConstruct, id: `AwsSolutions-${string}`, reason: string): void {
  if (reason.trim().length < 20) throw new Error(`${id} on ${scope.node.path}: say why, in a sentence`);
  Validations.of(scope).acknowledge({ id, reason });
}

/** `AwsSolutions-IAM5` findings of `resources` (those with a wildcard; others raise none) on `scope`. */
export function acknowledgeWildcardResources(
  scope: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  for (const resource of resources) {
    const name = nagName(scope, resource);
    if (name.includes("*")) acknowledge(scope, `AwsSolutions-IAM5[Resource::${name}]`, reason);
  }
}

/** `AwsSolutions-IAM5` findings of wildcard `actions` (e.g. `s3:Abort*`) on `scope`. */
export function acknowledgeWildcardActions(
  scope: IConstruct,
  actions: readonly string[],
  reason: string,
): void {
  for (const action of actions)
    if (action.includes("*")) acknowledge(scope, `AwsSolutions-IAM5[Action::${action}]`, reason);
}

/** The `AwsSolutions-IAM4` finding of an AWS managed policy (its ARN) attached to a role in `scope`. */
export function acknowledgeManagedPolicy(scope: IConstruct, policyArn: string, reason: string): void {
  acknowledge(scope, `AwsSolutions-IAM4[Policy::${nagName(scope, policyArn)}]`, reason);
}

/**
 * A value (an ARN with tokens) as cdk-nag names it in a finding: resolved, `Fn::Join` joined,
 * `Ref` as `<Id>`, `Fn::GetAtt` as `<Id.Attribute>` (cdk-nag's flattenCfnReference).
 */
export function nagName(scope: IConstruct, value: string): string {
  const flatten = (node: unknown): string => {
    if (node === undefined) return "";
    if (typeof node === "string") return node.replace(/\$\{/g, "<").replace(/\}/g, ">");
    const o = node as Record<string, unknown>;
    if (o["Fn::Join"]) {
      const [delimiter, items] = o["Fn::Join"] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (o["Fn::Sub"]) return flatten(o["Fn::Sub"]);
    if (o["Fn::GetAtt"]) {
      const [resource, attribute] = o["Fn::GetAtt"] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if (o["Fn::ImportValue"]) return flatten(o["Fn::ImportValue"]);
    if (o.Ref) return `<${flatten(o.Ref)}>`;
    return JSON.stringify(node);
  };
  return flatten(Stack.of(scope).resolve(value));
}
