import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { errors, exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import { TokenRejectedError } from "#api/token-rejection.ts";

/**
 * The local runtime's token issuer, standing in for the identity provider behind API Gateway's
 * JWT authorizer. Its ES256 key pair lives in `.castflow/dev-issuer.json`; tokens come from
 * `npm run dev-token -- <userId> [--admin]`.
 */
export const DEV_ISSUER = "https://castflow.local/dev-issuer";
export const DEV_AUDIENCE = "castflow-api";

interface StoredKeys {
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

export async function loadOrCreateIssuerKeys(path: string): Promise<StoredKeys> {
  if (existsSync(path)) return JSON.parse(readFileSync(path, "utf8")) as StoredKeys;
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const keys: StoredKeys = {
    kid: `dev-${Date.now().toString(36)}`,
    privateJwk: await exportJWK(privateKey),
    publicJwk: await exportJWK(publicKey),
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}

export async function issueDevToken(
  keysPath: string,
  userId: string,
  options: { admin?: boolean; expiresIn?: string } = {},
): Promise<string> {
  const keys = await loadOrCreateIssuerKeys(keysPath);
  const key = await importJWK(keys.privateJwk, "ES256");
  return await new SignJWT({ groups: options.admin ? ["admin"] : [] })
    .setProtectedHeader({ alg: "ES256", kid: keys.kid })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "12h")
    .sign(key);
}

/** Verifies a bearer token; throws TokenRejectedError saying why it is refused. */
export type ClaimsVerifier = (token: string) => Promise<Record<string, unknown>>;

const quoted = (v: unknown) => (v === undefined ? "missing" : JSON.stringify(v));
const epochIso = (v: unknown) =>
  typeof v === "number" ? new Date(v * 1000).toISOString() : "an unknown time";

/** What jose's refusal of a dev token means for its caller, in one sentence. */
export function tokenRejection(err: unknown): TokenRejectedError {
  if (err instanceof errors.JWTExpired) {
    return new TokenRejectedError(
      "expired",
      `The token expired at ${epochIso(err.payload.exp)}; get a new one with npm run dev-token.`,
    );
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    const { claim, payload } = err;
    if (claim === "iss")
      return new TokenRejectedError(
        "wrong_issuer",
        `The token's issuer is ${quoted(payload.iss)}, not ${JSON.stringify(DEV_ISSUER)}.`,
      );
    if (claim === "aud")
      return new TokenRejectedError(
        "wrong_audience",
        `The token's audience is ${quoted(payload.aud)}, not ${JSON.stringify(DEV_AUDIENCE)}.`,
      );
    if (claim === "nbf")
      return new TokenRejectedError(
        "not_yet_valid",
        `The token is not valid before ${epochIso(payload.nbf)}.`,
      );
    return new TokenRejectedError("invalid", `The token's ${claim} claim is not valid (${err.message}).`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenRejectedError(
      "bad_signature",
      "The token's signature does not verify with the issuer's key.",
    );
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new TokenRejectedError(
      "bad_signature",
      "The token is not signed with ES256, the issuer's algorithm.",
    );
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
    return new TokenRejectedError("malformed", "The bearer token is not a well-formed JWT.");
  }
  return new TokenRejectedError("invalid", "The bearer token is not valid.");
}

/**
 * Verifies signature, issuer, audience and expiry, as API Gateway's JWT authorizer does, and
 * refuses a token with TokenRejectedError saying which check failed.
 */
export async function devTokenVerifier(keysPath: string): Promise<ClaimsVerifier> {
  const keys = await loadOrCreateIssuerKeys(keysPath);
  const key = await importJWK(keys.publicJwk, "ES256");
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key, {
        issuer: DEV_ISSUER,
        audience: DEV_AUDIENCE,
        algorithms: ["ES256"],
      });
      return payload as Record<string, unknown>;
    } catch (err) {
      throw tokenRejection(err);
    }
  };
}
