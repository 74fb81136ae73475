/**
 * Why a request was not authenticated. In AWS, API Gateway's JWT authorizer refuses a request
 * before the API's function runs, with 401 `{"message":"Unauthorized"}` and the reason in its
 * `www-authenticate` header (`error_description`); the local API server answers the same
 * reasons in its body. `no_subject` is the API's own (a verified token without `sub`).
 */
export type TokenRejection =
  | "missing_header"
  | "not_bearer"
  | "malformed"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience"
  | "no_subject"
  | "invalid";

/** A token refused, with one sentence saying why (what the 401 answers). */
export class TokenRejectedError extends Error {
  override readonly name = "TokenRejectedError";
  constructor(
    readonly reason: TokenRejection,
    message: string,
  ) {
    super(message);
  }
}
