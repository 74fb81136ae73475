import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from "jose";

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

export type ClaimsVerifier = (token: string) => Promise<Record<string, unknown>>;

/** Verifies signature, issuer, audience and expiry, as API Gateway's JWT authorizer does. */
export async function devTokenVerifier(keysPath: string): Promise<ClaimsVerifier> {
  const keys = await loadOrCreateIssuerKeys(keysPath);
  const key = await importJWK(keys.publicJwk, "ES256");
  return async (token) => {
    const { payload } = await jwtVerify(token, key, { issuer: DEV_ISSUER, audience: DEV_AUDIENCE });
    return payload as Record<string, unknown>;
  };
}
