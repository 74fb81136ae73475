/**
 * The platforms' side of MediaLive's RTMP outputs (YouTube, Twitch, ...), for tests only: which
 * (url, streamName) receives a stream, since when, and how often it came back after a drop
 * (GET /_sim/ingest). Nothing in AWS exposes this; castflow never sees it.
 *
 * An entry exists for each (url, streamName) that any channel's RTMP output group targets
 * (medialive `rtmpPushes`). It is receiving while one of those channels is sending to it (RUNNING,
 * its input has content: a MEDIACONNECT input's flow ACTIVE with its active source pushing, any
 * other input not declared silent) and the url is not refused (POST /_sim/ingest/refuse).
 * Entries stay in the simulator state (so /_sim/reset clears them) after their channel is gone;
 * a later channel pushing to the same url and stream name continues the same entry.
 */
import type { RtmpPush } from "./medialive/index.ts";
import { type IngestEntry, ingestKey, type JsonObject, type SimContext } from "./store.ts";

export interface IngestView {
  /** Re-derive receiving / since / interruptions from the channels, inputs and flows now. */
  recompute(): void;
  /** GET /_sim/ingest entries. */
  view(): JsonObject[];
  /** POST /_sim/ingest/refuse: the url refuses (or accepts again) every stream. */
  refuse(url: string, refuse: boolean): JsonObject;
  /** Whether the platform at this exact url refuses streams now (MediaLive's channel alerts). */
  refuses(url: string): boolean;
}

export function createIngest(ctx: SimContext, pushes: () => RtmpPush[]): IngestView {
  const { store } = ctx;
  const ingest = () => store.state.ingest;

  function recompute(): void {
    const now = new Date().toISOString();
    const { entries, refusedUrls } = ingest();
    const refused = new Set(refusedUrls);
    const byKey = new Map<string, RtmpPush[]>();
    for (const p of pushes()) {
      const k = ingestKey(p.url, p.streamName);
      const list = byKey.get(k) ?? [];
      list.push(p);
      byKey.set(k, list);
    }
    for (const k of new Set([...Object.keys(entries), ...byKey.keys()])) {
      const candidates = byKey.get(k) ?? [];
      const prev = entries[k];
      const first = candidates[0];
      const url = prev?.url ?? first?.url ?? "";
      const sender = refused.has(url) ? undefined : candidates.find((p) => p.sending);
      // The channel named: the one sending, else the one named so far while it lives, else any live one.
      const named =
        sender ??
        candidates.find((p) => p.channelId === prev?.channelId && p.channelState !== "DELETED") ??
        candidates.find((p) => p.channelState !== "DELETED") ??
        candidates.find((p) => p.channelId === prev?.channelId) ??
        first;
      if (!named && !prev) continue;
      const entry: IngestEntry = prev ?? {
        url,
        streamName: named?.streamName ?? "",
        channelId: named?.channelId ?? "",
        channelArn: named?.channelArn ?? "",
        receiving: false,
        since: null,
        interruptions: 0,
        everReceived: false,
      };
      if (named) {
        entry.channelId = named.channelId;
        entry.channelArn = named.channelArn;
      }
      const receiving = sender !== undefined;
      if (receiving && !entry.receiving) {
        if (entry.everReceived) entry.interruptions += 1; // a resume; the first start is not one
        entry.everReceived = true;
        entry.since = now;
      } else if (!receiving) entry.since = null;
      entry.receiving = receiving;
      entries[k] = entry;
    }
    store.changed();
  }

  return {
    recompute,
    view: () => {
      const refused = new Set(ingest().refusedUrls);
      return Object.values(ingest().entries).map((e) => ({
        url: e.url,
        streamName: e.streamName,
        channelId: e.channelId,
        channelArn: e.channelArn,
        receiving: e.receiving,
        since: e.since,
        interruptions: e.interruptions,
        refused: refused.has(e.url),
      }));
    },
    refuse(url, refuse) {
      const s = ingest();
      s.refusedUrls = s.refusedUrls.filter((u) => u !== url);
      if (refuse) s.refusedUrls.push(url);
      recompute();
      return { url, refused: refuse };
    },
    refuses: (url) => ingest().refusedUrls.includes(url),
  };
}
