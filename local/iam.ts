import { AsyncLocalStorage } from "node:async_hooks";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IvsClient } from "@aws-sdk/client-ivs";
import { MediaConnectClient } from "@aws-sdk/client-mediaconnect";
import { MediaLiveClient } from "@aws-sdk/client-medialive";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Stack } from "aws-cdk-lib";
import type { Policy } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";

/**
 * Local enforcement of the stack's IAM policies: while a task (or the API) runs, every AWS SDK
 * call it makes is checked against the actions its function's role is granted in the CDK stack,
 * and refused with `AccessDeniedException` otherwise, as AWS would. A missing grant then fails a
 * workflow test here instead of the first deployment. Actions are checked, not resource ARNs.
 */
export interface Principal {
  /** Function name, for messages. */
  readonly name: string;
  /** Allowed actions, e.g. `medialive:StartChannel`; may contain `*` wildcards. */
  readonly actions: readonly string[];
}

const current = new AsyncLocalStorage<Principal>();

/** Runs `fn` as `principal`: its SDK calls are checked against the principal's actions. */
export function runAs<T>(principal: Principal, fn: () => Promise<T>): Promise<T> {
  return current.run(principal, fn);
}

/** The actions a function's role is allowed, read from the role's policies in the stack. */
export function grantedActions(stack: Stack, fn: IFunction): string[] {
  const role = fn.role;
  if (!role) return [];
  const actions: string[] = [];
  for (const child of role.node.children) {
    const doc = (child as Partial<Policy>).document;
    if (!doc) continue;
    const resolved = stack.resolve(doc.toJSON()) as {
      Statement?: { Effect: string; Action: string | string[] }[];
    };
    for (const st of resolved?.Statement ?? []) {
      if (st.Effect === "Allow") actions.push(...(Array.isArray(st.Action) ? st.Action : [st.Action]));
    }
  }
  return actions;
}

const escapeRegExp = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
const allows = (granted: readonly string[], action: string) =>
  granted.some(
    (g) =>
      g === action ||
      (g.includes("*") && new RegExp(`^${g.split("*").map(escapeRegExp).join(".*")}$`).test(action)),
  );

/** IAM action behind an SDK command. Document-client commands map to the item actions they use. */
const DOCUMENT_ACTIONS: Record<string, string> = {
  GetCommand: "GetItem",
  PutCommand: "PutItem",
  UpdateCommand: "UpdateItem",
  DeleteCommand: "DeleteItem",
  QueryCommand: "Query",
  ScanCommand: "Scan",
  BatchGetCommand: "BatchGetItem",
  BatchWriteCommand: "BatchWriteItem",
  // IAM authorizes each item of a transaction by its own action; castflow's are updates.
  TransactWriteCommand: "UpdateItem",
  TransactGetCommand: "GetItem",
};

const CLIENTS = [
  { client: MediaLiveClient, prefix: "medialive" },
  { client: IvsClient, prefix: "ivs" },
  { client: MediaConnectClient, prefix: "mediaconnect" },
  { client: SFNClient, prefix: "states" },
  { client: SSMClient, prefix: "ssm" },
  { client: DynamoDBClient, prefix: "dynamodb" },
  { client: DynamoDBDocumentClient, prefix: "dynamodb" },
] as const;

let installed = false;

/** Wraps `send` of the SDK clients castflow uses (once per process). */
export function installIamEnforcement(): void {
  if (installed) return;
  installed = true;
  for (const { client, prefix } of CLIENTS) {
    const proto = client.prototype as unknown as {
      send: (command: object, ...rest: unknown[]) => Promise<unknown>;
    };
    const send = proto.send;
    proto.send = function checkedSend(this: unknown, command: object, ...rest: unknown[]) {
      const principal = current.getStore();
      if (principal) {
        const name = command.constructor.name;
        const action = `${prefix}:${DOCUMENT_ACTIONS[name] ?? name.replace(/Command$/, "")}`;
        if (!allows(principal.actions, action)) {
          const err = Object.assign(
            new Error(
              `${principal.name} is not authorized to perform: ${action} (not granted in the CDK stack)`,
            ),
            { name: "AccessDeniedException", $fault: "client", $metadata: { httpStatusCode: 403 } },
          );
          return Promise.reject(err);
        }
      }
      return send.call(this, command, ...rest);
    };
  }
}
