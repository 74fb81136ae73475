/**
 * The local Step Functions service: composes the execution engine (engine.ts: runs executions
 * with aws-local-stepfunctions, keeps their status, AWS-shaped history and persistence) with the
 * SFN API subset (api.ts) served over the JSON 1.0 protocol (protocol.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createSfnOperations } from "./api.ts";
import {
  type AbortedExecution,
  type EngineOptions,
  ExecutionEngine,
  type ExecutionListener,
} from "./engine.ts";
import { SfnApiError } from "./errors.ts";
import { createJsonProtocolHandler } from "./protocol.ts";
import type { ExecutionStatus } from "./store.ts";

export type {
  AbortedExecution,
  ExecutionEvent,
  ExecutionListener,
  LocalStateMachine,
  TaskInvoker,
} from "./engine.ts";

export interface SfnServiceOptions extends EngineOptions {}

/** DescribeExecution-shaped data, with dates as Date like the SDK returns them. */
export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface SfnService {
  /** arn:aws:states:<region>:<account>:stateMachine:<name> */
  stateMachineArn(name: string): string;
  /** The JSON-protocol endpoint, usable inside another server. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  listen(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** Aborts running executions (recorded as ABORTED, castflow.LocalRuntimeStopped), saves, stops the server. */
  close(): Promise<void>;
  /** Resolves when the execution is no longer RUNNING; returns DescribeExecution-shaped data. */
  waitForExecution(executionArn: string, timeoutMs?: number): Promise<ExecutionDescription>;
  /**
   * Tells `listener` of every execution started and closed from now on (the local runtime's
   * terminal lines), as it happens: no polling. Returns the unsubscribe.
   */
  onExecution(listener: ExecutionListener): () => void;
  /**
   * Executions that were RUNNING in the state file (`statePath`) when the service started: the
   * process that ran them ended first, so they were recorded as ABORTED with the error
   * castflow.LocalRuntimeRestarted. In the file's (creation) order; empty without a state file.
   */
  readonly abortedAtStart: readonly AbortedExecution[];
}

const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

class LocalSfnService implements SfnService {
  private readonly engine: ExecutionEngine;
  private server: Server | undefined;
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;

  constructor(options: SfnServiceOptions) {
    this.engine = new ExecutionEngine(options);
    this.handle = createJsonProtocolHandler(createSfnOperations(this.engine));
  }

  get abortedAtStart(): readonly AbortedExecution[] {
    return this.engine.abortedAtStart;
  }

  stateMachineArn(name: string): string {
    return this.engine.stateMachineArn(name);
  }

  onExecution(listener: ExecutionListener): () => void {
    return this.engine.onExecution(listener);
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<{ url: string; port: number }> {
    if (this.server !== undefined) throw new Error("Local Step Functions service is already listening");
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    return { url: `http://${urlHost}:${address.port}`, port: address.port };
  }

  async close(): Promise<void> {
    await this.engine.close();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      // SDK clients keep connections alive; without this, close() would wait for them.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  async waitForExecution(
    executionArn: string,
    timeoutMs = DEFAULT_WAIT_TIMEOUT_MS,
  ): Promise<ExecutionDescription> {
    const record = this.engine.execution(executionArn);
    if (record === undefined) {
      throw new SfnApiError("ExecutionDoesNotExist", `Execution Does Not Exist: '${executionArn}'`);
    }
    await this.engine.whenClosed(executionArn, timeoutMs);
    return {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: new Date(record.startDate),
      input: record.input,
      ...(record.stopDate === undefined ? {} : { stopDate: new Date(record.stopDate) }),
      ...(record.output === undefined ? {} : { output: record.output }),
      ...(record.error === undefined ? {} : { error: record.error }),
      ...(record.cause === undefined ? {} : { cause: record.cause }),
    };
  }
}

export function createSfnService(options: SfnServiceOptions): SfnService {
  return new LocalSfnService(options);
}
