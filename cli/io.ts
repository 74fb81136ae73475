/**
 * Where a command writes and what it may read: the process's streams for `castflow`, a buffer in
 * tests. Commands never touch `process.stdout` themselves, so the tests run them in-process.
 */
export interface Io {
  /** One line of the command's output (stdout). */
  out(line: string): void;
  /** One line about a problem (stderr). */
  err(line: string): void;
  /** The terminal a spinner may draw on; undefined when stdout is not a TTY (plain lines then). */
  readonly tty?: NodeJS.WriteStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Standard input as text when it is piped (never a terminal); undefined otherwise. */
  readStdin(): Promise<string | undefined>;
}

export function processIo(): Io {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    // A terminal that reports no width (script(1), some CI runners) gets plain lines: ora would
    // count the spinner's lines by dividing by it.
    ...(process.stdout.isTTY && process.stdout.columns > 0 ? { tty: process.stdout } : {}),
    env: process.env,
    readStdin: async () => {
      if (process.stdin.isTTY) return undefined;
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}

export interface CapturedIo extends Io {
  readonly stdout: string[];
  readonly stderr: string[];
  /** Everything written to stdout, one line each. */
  text(): string;
}

/** An Io that keeps what a command writes (no TTY: plain lines), for tests and embedding. */
export function captureIo(
  options: { env?: Record<string, string | undefined>; stdin?: string } = {},
): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    env: options.env ?? {},
    readStdin: async () => options.stdin,
    text: () => stdout.join("\n"),
  };
}
