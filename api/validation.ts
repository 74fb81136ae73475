import * as z from "zod";

/** Identifiers in paths and bodies (show, episode, host, channel, session ids). */
export const Id = z
  .string()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9._-]+$/, "may contain only letters, digits, '.', '_' and '-'");
