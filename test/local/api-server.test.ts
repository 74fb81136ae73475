import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createApiServer } from "#local/api-server.ts";

const TOKEN = "good-token";
const verify = async (token: string) => {
  if (token !== TOKEN) throw new Error("bad token");
  return { sub: "host-1" };
};

let server: Server | undefined;

/** A server of its own per test, so each test's fetch starts with an empty connection pool. */
async function start(): Promise<string> {
  server = createApiServer(verify);
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
