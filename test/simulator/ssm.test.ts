import {
  DeleteParameterCommand,
  DeleteParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  PutParameterCommand,
} from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "#local/simulator/index.ts";
import { admin, clients, expectAwsError } from "./helpers.ts";

let sim: Simulator;
let ssm: ReturnType<typeof clients>["ssm"];

beforeAll(async () => {
  sim = await startSimulator({ timeScale: 0.002 });
  ssm = clients(sim.url).ssm;
});
afterAll(async () => {
  ssm.destroy();
  await sim.close();
});
beforeEach(async () => {
  await admin(sim.url, "POST", "/_sim/reset");
});

describe("SSM parameters", () => {
  it("round-trips a SecureString only with WithDecryption", async () => {
    const secret = `rtmp-key-${Math.random().toString(36).slice(2)}`;
    const put = await ssm.send(
      new PutParameterCommand({ Name: "/castflow/keys/yt", Value: secret, Type: "SecureString" }),
    );
    expect(put.Version).toBe(1);
    const plain = await ssm.send(
      new GetParameterCommand({ Name: "/castflow/keys/yt", WithDecryption: true }),
    );
    expect(plain.Parameter?.Value).toBe(secret);
    expect(plain.Parameter?.Type).toBe("SecureString");
    expect(plain.Parameter?.ARN).toBe("arn:aws:ssm:us-east-1:000000000000:parameter/castflow/keys/yt");
    expect(plain.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    const masked = await ssm.send(new GetParameterCommand({ Name: "/castflow/keys/yt" }));
    expect(masked.Parameter?.Value).not.toContain(secret);
  });

  it("answers ParameterNotFound for a missing parameter", async () => {
    const e = await expectAwsError(
      ssm.send(new GetParameterCommand({ Name: "/nope" })),
      "ParameterNotFound",
      400,
    );
    expect(e.message).toContain("/nope");
    await expectAwsError(ssm.send(new DeleteParameterCommand({ Name: "/nope" })), "ParameterNotFound", 400);
  });

  it("refuses to overwrite without Overwrite (ParameterAlreadyExists) and bumps the version with it", async () => {
    await ssm.send(new PutParameterCommand({ Name: "/a", Value: "1", Type: "String" }));
    await expectAwsError(
      ssm.send(new PutParameterCommand({ Name: "/a", Value: "2", Type: "String" })),
      "ParameterAlreadyExists",
      400,
    );
    const v2 = await ssm.send(
      new PutParameterCommand({ Name: "/a", Value: "2", Type: "String", Overwrite: true }),
    );
    expect(v2.Version).toBe(2);
    expect((await ssm.send(new GetParameterCommand({ Name: "/a" }))).Parameter?.Value).toBe("2");
  });

  it("gets several, by path (recursive or not), and deletes several", async () => {
    for (const n of ["/app/a", "/app/b", "/app/deep/c", "/other/d"])
      await ssm.send(new PutParameterCommand({ Name: n, Value: n, Type: "String" }));
    const many = await ssm.send(new GetParametersCommand({ Names: ["/app/a", "/missing"] }));
    expect(many.Parameters?.map((p) => p.Name)).toEqual(["/app/a"]);
    expect(many.InvalidParameters).toEqual(["/missing"]);
    const shallow = await ssm.send(new GetParametersByPathCommand({ Path: "/app" }));
    expect(shallow.Parameters?.map((p) => p.Name)).toEqual(["/app/a", "/app/b"]);
    const deep = await ssm.send(new GetParametersByPathCommand({ Path: "/app", Recursive: true }));
    expect(deep.Parameters?.map((p) => p.Name)).toEqual(["/app/a", "/app/b", "/app/deep/c"]);
    const del = await ssm.send(new DeleteParametersCommand({ Names: ["/app/a", "/zzz"] }));
    expect(del.DeletedParameters).toEqual(["/app/a"]);
    expect(del.InvalidParameters).toEqual(["/zzz"]);
    expect(sim.resources().ssm.parameters.map((p) => p.Name)).not.toContain("/app/a");
  });
});
