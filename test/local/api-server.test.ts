import { mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importJWK, SignJWT } from "jose";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApiServer } from "#local/api-server.ts";
import {
  type ClaimsVerifier,
  DEV_AUDIENCE,
  DEV_ISSUER,
  devTokenVerifier,
  issueDevToken,
  loadOrCreateIssuerKeys,
} from "#local/dev-issuer.ts";

const TOKEN = "good-token";
const verify = async (token: string) => {
  if (token !== TOKEN) throw new Error("bad token");
  return { sub: "host-1" };
};

let server: Server | undefined;

/** A server of its own per test, so each test's fetch starts with an empty connection pool. */
async function start(verifier: ClaimsVerifier = verify): Promise<string> {
  server = createApiServer(verifier);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

const auth = { authorization: `Bearer ${TOKEN}` };
const big = "x".repeat(2 * 1024 * 1024);

/** Two GETs answered without AWS (no route -> 404), on the connection the refused request used. */
async function expectFollowUpsAnswered(base: string) {
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${base}/no-such-route`, { headers: auth });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
  }
}

describe("local API server on a keep-alive connection", () => {
  it("answers 413 for a 2 MB body and keeps answering the same client", async () => {
    const base = await start();
    const res = await fetch(`${base}/sessions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: big,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
    await expectFollowUpsAnswered(base);
  });

  it("answers 401 for an unauthenticated 2 MB body and keeps answering the same client", async () => {
    const base = await start();
    const res = await fetch(`${base}/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: big,
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    await res.arrayBuffer();
    await expectFollowUpsAnswered(base);
  });

  it("answers 401 for a bad token with a small body and keeps answering the same client", async () => {
    const base = await start();
    const res = await fetch(`${base}/sessions`, {
      method: "POST",
      headers: { authorization: "Bearer wrong", "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(401);
    await res.arrayBuffer();
    await expectFollowUpsAnswered(base);
  });

  it("keeps the connection open after a 401 to a GET without a token", async () => {
    const base = await start();
    const res = await fetch(`${base}/no-such-route`);
    expect(res.status).toBe(401);
    expect(res.headers.get("connection")).not.toBe("close");
    await res.arrayBuffer();
    await expectFollowUpsAnswered(base);
  });

  it("answers 415 for a non-JSON body and keeps answering the same client", async () => {
    const base = await start();
    const res = await fetch(`${base}/sessions`, {
      method: "POST",
      headers: { ...auth, "content-type": "text/plain" },
      body: "not json",
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unsupported_media_type");
    await expectFollowUpsAnswered(base);
  });

  it.each([
    { status: 413, authorization: `authorization: Bearer ${TOKEN}\r\n` },
    { status: 401, authorization: "" },
  ])(
    "does not read forever from a client that keeps sending after its $status",
    async ({ status, authorization }) => {
      const base = await start();
      // allowHalfOpen: keep sending after the server's FIN, as a client that ignores the answer would.
      const socket = connect({ port: Number(new URL(base).port), host: "127.0.0.1", allowHalfOpen: true });
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      let received = "";
      socket.on("data", (d: Buffer) => {
        received += d.toString("latin1");
      });
      socket.on("error", () => {}); // a reset at the end is what the cap is for
      const closed = new Promise<"closed">((resolve) => socket.once("close", () => resolve("closed")));
      socket.write(
        `POST /sessions HTTP/1.1\r\nhost: 127.0.0.1\r\n${authorization}` +
          `content-type: application/json\r\ncontent-length: ${1024 * 1024 * 1024}\r\n\r\n`,
      );
      socket.write(big);
      // Keep trickling: the body never ends, so only the server's own cap can end the connection.
      const trickle = setInterval(() => {
        if (!socket.destroyed) socket.write("x".repeat(1024));
      }, 50);
      let deadline: NodeJS.Timeout | undefined;
      try {
        const outcome = await Promise.race([
          closed,
          new Promise<"still open">((resolve) => {
            deadline = setTimeout(() => resolve("still open"), 10_000);
          }),
        ]);
        expect(outcome).toBe("closed");
      } finally {
        clearInterval(trickle);
        clearTimeout(deadline);
        socket.destroy();
      }
      expect(received).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(received.toLowerCase()).toContain("connection: close");
    },
  );
});

describe("local API server: a 401 says why", () => {
  const keysPath = join(mkdtempSync(join(tmpdir(), "castflow-issuer-")), "dev-issuer.json");
  let verifier: ClaimsVerifier;
  /** A token signed with the local issuer's own key, with these claims. */
  const signed = async (claims: { iss?: string; aud?: string; exp?: number; nbf?: number }) => {
    const keys = await loadOrCreateIssuerKeys(keysPath);
    const jwt = new SignJWT({ groups: [] })
      .setProtectedHeader({ alg: "ES256", kid: keys.kid })
      .setSubject("host-1");
    jwt.setIssuer(claims.iss ?? DEV_ISSUER).setAudience(claims.aud ?? DEV_AUDIENCE);
    jwt.setExpirationTime(claims.exp ?? "1h");
    if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
    return await jwt.sign(await importJWK(keys.privateJwk, "ES256"));
  };
  const past = Math.floor(Date.UTC(2025, 0, 1, 12) / 1000);
  const future = Math.floor(Date.UTC(2099, 0, 1, 12) / 1000);

  beforeAll(async () => {
    verifier = await devTokenVerifier(keysPath);
  });

  it.each([
    {
      title: "no Authorization header",
      authorization: async () => undefined,
      reason: "missing_header",
      message: "The Authorization header is missing; send Authorization: Bearer <token>.",
    },
    {
      title: "not a Bearer token",
      authorization: async () => "Basic dXNlcjpwYXNz",
      reason: "not_bearer",
      message: "The Authorization header is not a Bearer token; send Authorization: Bearer <token>.",
    },
    {
      title: "not a JWT",
      authorization: async () => "Bearer abc",
      reason: "malformed",
      message: "The bearer token is not a well-formed JWT.",
    },
    {
      title: "a bad signature (another issuer's key)",
      authorization: async () => {
        const otherKeys = join(mkdtempSync(join(tmpdir(), "castflow-other-")), "dev-issuer.json");
        return `Bearer ${await issueDevToken(otherKeys, "host-1")}`;
      },
      reason: "bad_signature",
      message: "The token's signature does not verify with the issuer's key.",
    },
    {
      title: "an expired token",
      authorization: async () => `Bearer ${await signed({ exp: past })}`,
      reason: "expired",
      message: "The token expired at 2025-01-01T12:00:00.000Z; get a new one with npm run dev-token.",
    },
    {
      title: "a token not valid yet",
      authorization: async () => `Bearer ${await signed({ nbf: future, exp: future + 3600 })}`,
      reason: "not_yet_valid",
      message: "The token is not valid before 2099-01-01T12:00:00.000Z.",
    },
    {
      title: "a token of another issuer",
      authorization: async () => `Bearer ${await signed({ iss: "https://idp.example.com" })}`,
      reason: "wrong_issuer",
      message: 'The token\'s issuer is "https://idp.example.com", not "https://castflow.local/dev-issuer".',
    },
    {
      title: "a token for another audience",
      authorization: async () => `Bearer ${await signed({ aud: "someone-else" })}`,
      reason: "wrong_audience",
      message: 'The token\'s audience is "someone-else", not "castflow-api".',
    },
  ])("answers 401 for $title, saying why", async ({ authorization, reason, message }) => {
    const base = await start(verifier);
    const header = await authorization();

    const res = await fetch(`${base}/sessions`, header ? { headers: { authorization: header } } : {});

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "unauthorized", message, details: { reason } } });
    // API Gateway's JWT authorizer gives the reason in this header (RFC 6750's form, AWS's spacing).
    expect(res.headers.get("www-authenticate")).toBe(
      reason === "missing_header"
        ? "Bearer"
        : `Bearer scope="" error="invalid_token" error_description="${message.replaceAll('"', "'")}"`,
    );
  });

  it("lets a valid dev token through to the API", async () => {
    const base = await start(verifier);
    const res = await fetch(`${base}/no-such-route`, {
      headers: { authorization: `Bearer ${await issueDevToken(keysPath, "host-1")}` },
    });
    expect(res.status).toBe(404);
  });

  it("answers GET /health without a token, and only GET", async () => {
    const base = await start(verifier);

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });

    const post = await fetch(`${base}/health`, { method: "POST" });
    expect(post.status).toBe(401);
    expect(((await post.json()) as { error: { details: unknown } }).error.details).toEqual({
      reason: "missing_header",
    });
  });
});
