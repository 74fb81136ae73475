/**
 * What castflow knows about each platform's RTMP ingest (aws-facts.md, "Platform ingest"): the
 * default primary and backup URLs, the default preset, the highest video bitrate the platform
 * accepts, and the shape of its stream keys. A `custom` destination names its own URLs.
 */
export const PLATFORMS = ["youtube", "twitch", "linkedin", "facebook", "custom"] as const;
export type Platform = (typeof PLATFORMS)[number];

export const PRESETS = ["720p30", "1080p30", "1080p60"] as const;
export type Preset = (typeof PRESETS)[number];

/** The encodes castflow offers: H.264 CBR, 2 s keyframes (every platform asks for 2 s), AAC 128 kb/s 48 kHz. */
export const PRESET_SPECS: Record<
  Preset,
  { width: number; height: number; fps: number; videoBitrate: number }
> = {
  "720p30": { width: 1280, height: 720, fps: 30, videoBitrate: 3_000_000 },
  "1080p30": { width: 1920, height: 1080, fps: 30, videoBitrate: 4_500_000 },
  "1080p60": { width: 1920, height: 1080, fps: 60, videoBitrate: 9_000_000 },
};

export interface PlatformSpec {
  readonly label: string;
  /** Where the stream goes when the request names no URL; undefined: the request must name one. */
  readonly rtmpUrl?: string;
  readonly backupRtmpUrl?: string;
  readonly defaultPreset: Preset;
  /** Highest video bitrate (bits/s) the platform takes. */
  readonly maxVideoBitrate: number;
  /** RTMPS only (Facebook refuses plain RTMP). */
  readonly rtmpsOnly?: boolean;
  /** The shape of the platform's stream keys, and how it is described in an error. */
  readonly key?: { readonly pattern: RegExp; readonly shape: string };
}

export const PLATFORM_SPECS: Record<Platform, PlatformSpec> = {
  youtube: {
    label: "YouTube",
    rtmpUrl: "rtmp://a.rtmp.youtube.com/live2",
    backupRtmpUrl: "rtmp://b.rtmp.youtube.com/live2?backup=1",
    defaultPreset: "1080p30",
    maxVideoBitrate: 12_000_000,
    key: {
      pattern: /^[a-z0-9]{4}(-[a-z0-9]{4}){3,4}$/i,
      shape: "five groups of four letters or digits (xxxx-xxxx-xxxx-xxxx-xxxx)",
    },
  },
  twitch: {
    label: "Twitch",
    rtmpUrl: "rtmp://live.twitch.tv/app",
    defaultPreset: "1080p30",
    maxVideoBitrate: 6_000_000,
    key: { pattern: /^live_[0-9]+_[A-Za-z0-9]+$/, shape: "live_<digits>_<letters and digits>" },
  },
  facebook: {
    label: "Facebook",
    rtmpUrl: "rtmps://live-api-s.facebook.com:443/rtmp/",
    defaultPreset: "1080p30",
    maxVideoBitrate: 6_000_000,
    rtmpsOnly: true,
  },
  linkedin: { label: "LinkedIn", defaultPreset: "720p30", maxVideoBitrate: 4_000_000 },
  custom: { label: "custom RTMP", defaultPreset: "1080p30", maxVideoBitrate: 20_000_000 },
};

/** A stream key any platform could issue: printable, no spaces and nothing that would change the URL. */
export const STREAM_KEY = /^[A-Za-z0-9_\-.=+:@!~]{8,256}$/;

/** Why a stream key does not fit the platform, or undefined when it does. */
export function streamKeyProblem(platform: Platform, key: string): string | undefined {
  if (!STREAM_KEY.test(key))
    return "must be 8 to 256 characters: letters, digits and _ - . = + : @ ! ~ (no spaces, '/', '?' or '#')";
  const shape = PLATFORM_SPECS[platform].key;
  if (shape && !shape.pattern.test(key))
    return `is not a ${PLATFORM_SPECS[platform].label} stream key: expected ${shape.shape}`;
  return undefined;
}

/** Why an ingest URL does not fit the platform, or undefined when it does. */
export function rtmpUrlProblem(platform: Platform, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (parsed.protocol !== "rtmp:" && parsed.protocol !== "rtmps:")
    return `must start with rtmp:// or rtmps://, not ${parsed.protocol}//`;
  if (PLATFORM_SPECS[platform].rtmpsOnly && parsed.protocol !== "rtmps:")
    return `must be rtmps:// (${PLATFORM_SPECS[platform].label} accepts RTMPS only)`;
  if (!parsed.hostname) return "has no host";
  return undefined;
}

/** Why a preset is above what the platform takes, or undefined. */
export function presetProblem(platform: Platform, preset: Preset): string | undefined {
  const spec = PLATFORM_SPECS[platform];
  const bitrate = PRESET_SPECS[preset].videoBitrate;
  if (bitrate > spec.maxVideoBitrate)
    return `${preset} streams ${bitrate / 1e6} Mb/s, above ${spec.label}'s limit of ${spec.maxVideoBitrate / 1e6} Mb/s`;
  return undefined;
}
