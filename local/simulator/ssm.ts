import { AwsError, type OperationCall, type OperationResult, type ServiceHandler } from "./http.ts";
import { paginate, toInt } from "./pagination.ts";
import { asString, type JsonObject, type SimContext, type SsmParameter } from "./store.ts";

const OPERATIONS = [
  "PutParameter",
  "GetParameter",
  "GetParameters",
  "GetParametersByPath",
  "DeleteParameter",
  "DeleteParameters",
] as const;

/**
 * awsJson1_1 answers every client error with 400 and the code in `__type` (the SDK models these
 * SSM errors with awsQueryError codes, all 400 except ParameterNotFound's legacy query code).
 */
const ERROR_STATUS: Record<string, number> = {
  ParameterNotFound: 400,
  ParameterAlreadyExists: 400,
  ParameterLimitExceeded: 400,
  ParameterVersionNotFound: 400,
  HierarchyLevelLimitExceededException: 400,
  InvalidKeyId: 400,
  ValidationException: 400,
  TooManyUpdates: 400,
  ThrottlingException: 400,
  InternalServerError: 500,
};

const err = (name: string, message: string) => new AwsError(name, ERROR_STATUS[name] ?? 400, message);

const TYPES = new Set(["String", "StringList", "SecureString"]);

/**
 * Stand-in for KMS: a SecureString read without WithDecryption returns an opaque base64 blob,
 * never the plaintext (AWS returns the ciphertext there).
 */
function fakeCiphertext(value: string): string {
  return Buffer.from(`AQICAHsim-kms:${Buffer.from(value).toString("base64")}`).toString("base64");
}

export interface SsmService extends ServiceHandler {
  view(): { parameters: JsonObject[] };
}

export function createSsm(ctx: SimContext): SsmService {
  const params = () => ctx.store.state.ssm.parameters;

  function render(p: SsmParameter, withDecryption: boolean): JsonObject {
    const arnName = p.name.startsWith("/") ? p.name.slice(1) : p.name;
    return {
      Name: p.name,
      Type: p.type,
      Value: p.type === "SecureString" && !withDecryption ? fakeCiphertext(p.value) : p.value,
      Version: p.version,
      // awsJson1_1 timestamps are epoch seconds.
      LastModifiedDate: p.lastModified / 1000,
      ARN: `arn:aws:ssm:${ctx.region}:${ctx.accountId}:parameter/${arnName}`,
      DataType: p.dataType,
    };
  }
  function nameOf(b: JsonObject): string {
    const n = asString(b.Name);
    if (!n)
      throw err(
        "ValidationException",
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
      );
    return n;
  }
  function get(name: string): SsmParameter {
    const p = params()[name];
    if (!p) throw err("ParameterNotFound", `Parameter ${name} not found.`);
    return p;
  }

  function invoke(call: OperationCall): OperationResult {
    const b = call.body;
    const decrypt = b.WithDecryption === true;
    switch (call.operation) {
      case "PutParameter": {
        const name = nameOf(b);
        const value = asString(b.Value);
        if (value === undefined) throw err("ValidationException", "Value is required");
        const existing = params()[name];
        if (existing && b.Overwrite !== true)
          throw err(
            "ParameterAlreadyExists",
            "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
          );
        const type = asString(b.Type) ?? existing?.type;
        if (!type)
          throw err("ValidationException", "A parameter type is required when you create a parameter.");
        if (!TYPES.has(type))
          throw err("ValidationException", `Type ${type} is not one of String, StringList, SecureString`);
        const p: SsmParameter = {
          name,
          type: type as SsmParameter["type"],
          value,
          version: (existing?.version ?? 0) + 1,
          lastModified: Date.now(),
          dataType: asString(b.DataType) ?? "text",
          ...(asString(b.Description) !== undefined ? { description: asString(b.Description) } : {}),
        };
        params()[name] = p;
        return { status: 200, body: { Version: p.version, Tier: "Standard" } };
      }
      case "GetParameter":
        return { status: 200, body: { Parameter: render(get(nameOf(b)), decrypt) } };
      case "GetParameters": {
        const names = Array.isArray(b.Names) ? b.Names.filter((n): n is string => typeof n === "string") : [];
        const found = names.filter((n) => params()[n]);
        return {
          status: 200,
          body: {
            Parameters: found.map((n) => render(get(n), decrypt)),
            InvalidParameters: names.filter((n) => !params()[n]),
          },
        };
      }
      case "GetParametersByPath": {
        const path = asString(b.Path);
        if (!path?.startsWith("/")) throw err("ValidationException", "Path must start with /");
        const prefix = path.endsWith("/") ? path : `${path}/`;
        const items = Object.values(params())
          .filter(
            (p) =>
              p.name.startsWith(prefix) &&
              (b.Recursive === true || !p.name.slice(prefix.length).includes("/")),
          )
          .sort((x, y) => x.name.localeCompare(y.name));
        // AWS caps GetParametersByPath pages at 10.
        const max = Math.min(toInt(b.MaxResults) ?? 10, 10);
        const { page, nextToken } = paginate(items, max, asString(b.NextToken), "ValidationException", 10);
        return {
          status: 200,
          body: {
            Parameters: page.map((p) => render(p, decrypt)),
            ...(nextToken ? { NextToken: nextToken } : {}),
          },
        };
      }
      case "DeleteParameter": {
        const name = nameOf(b);
        get(name);
        delete params()[name];
        return { status: 200, body: {} };
      }
      case "DeleteParameters": {
        const names = Array.isArray(b.Names) ? b.Names.filter((n): n is string => typeof n === "string") : [];
        const deleted = names.filter((n) => params()[n]);
        for (const n of deleted) delete params()[n];
        return {
          status: 200,
          body: { DeletedParameters: deleted, InvalidParameters: names.filter((n) => !deleted.includes(n)) },
        };
      }
      default:
        throw err("UnknownOperationException", `Unknown SSM operation ${call.operation}`);
    }
  }

  return {
    name: "ssm",
    protocol: "awsJson1_1",
    operations: OPERATIONS,
    errorStatus: (name) => ERROR_STATUS[name],
    match(_method, _pathname, headers) {
      const target = headers["x-amz-target"];
      const op =
        typeof target === "string" && target.startsWith("AmazonSSM.")
          ? target.slice("AmazonSSM.".length)
          : undefined;
      return op ? { operation: op, params: {} } : undefined;
    },
    invoke,
    view: () => ({
      parameters: Object.values(params()).map((p) => ({
        ...render(p, true),
        Description: p.description ?? null,
      })),
    }),
  };
}
