import type { Destination } from "./model.ts";

/** How long the API may take between writing a `creating` record and starting its add. */
export const CREATE_LEASE_MS = 120_000;

/**
 * A `creating` record with no add execution after the lease: the API request that wrote it died
 * before starting destination-add. Delete may take it over (nothing was created in AWS).
 */
export const isAbandonedCreate = (d: Destination, now = Date.now()) =>
  d.status === "creating" && d.operation === undefined && now - Date.parse(d.createdAt) > CREATE_LEASE_MS;
