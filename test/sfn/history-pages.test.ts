import {
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandInput,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSfnService, currentStateName, type SfnService, type TaskInvoker } from "#local/sfn/index.ts";
import { deferred, lambdaArn, sfnClient, until } from "./helpers.ts";

// GetExecutionHistory as AWS pages it: reverseOrder, maxResults (0 or absent = 100, at most
// 1000) and nextToken, in any combination.

let hold = deferred();
const started = new Set<string>();

const invokeTask: TaskInvoker = async ({ stateName, input, executionArn }) => {
  started.add(`${executionArn} ${stateName}`);
  if (stateName === "Hold") await hold.promise;
  return { stateName, input };
};

const machines = [
  {
    name: "many",
    definition: {
      StartAt: "Each",
      States: {
        Each: {
          Type: "Map",
          ItemsPath: "$.items",
          ItemProcessor: {
            ProcessorConfig: { Mode: "INLINE" },
            StartAt: "Push",
            States: { Push: { Type: "Task", Resource: lambdaArn("push"), End: true } },
          },
          ResultPath: null,
          End: true,
        },
      },
    },
  },
  {
    name: "held",
    definition: {
      StartAt: "Prepare",
      States: {
        Prepare: { Type: "Pass", Next: "Hold" },
        Hold: { Type: "Task", Resource: lambdaArn("hold"), Next: "After" },
        After: { Type: "Task", Resource: lambdaArn("after"), End: true },
      },
    },
  },
];

let service: SfnService;
let client: SFNClient;
/** A closed execution with a few hundred events, and all its event ids (oldest first). */
let manyArn = "";
let manyIds: number[] = [];

async function start(machine: string, input: unknown, name: string): Promise<string> {
  const { executionArn = "" } = await client.send(
    new StartExecutionCommand({
      stateMachineArn: service.stateMachineArn(machine),
      input: JSON.stringify(input),
      name,
    }),
  );
  return executionArn;
}

async function page(input: GetExecutionHistoryCommandInput) {
  const { events = [], nextToken } = await client.send(new GetExecutionHistoryCommand(input));
  return { ids: events.map((event) => event.id ?? 0), events, nextToken };
}

/** Follows nextToken (from input.nextToken on) to the end; returns the ids of every page. */
async function walk(input: GetExecutionHistoryCommandInput): Promise<number[][]> {
  const pages: number[][] = [];
  let nextToken = input.nextToken;
  do {
    const result = await page({ ...input, nextToken });
    pages.push(result.ids);
    nextToken = result.nextToken;
  } while (nextToken !== undefined);
  return pages;
}

beforeAll(async () => {
  service = createSfnService({ machines, invokeTask });
  client = sfnClient((await service.listen()).url);
  manyArn = await start("many", { items: Array.from({ length: 40 }, (_, i) => i) }, "many");
  expect((await service.waitForExecution(manyArn)).status).toBe("SUCCEEDED");
  manyIds = (await page({ executionArn: manyArn, maxResults: 1000 })).ids;
});

afterAll(async () => {
  hold.resolve(undefined);
  client.destroy();
  await service.close();
});

describe("GetExecutionHistory paging", () => {
  it("pages 100 events by default (maxResults absent or 0) and up to 1000 on request", async () => {
    expect(manyIds.length).toBeGreaterThan(250);
    expect(manyIds).toEqual(manyIds.map((_, index) => index + 1));
    expect((await page({ executionArn: manyArn, maxResults: 1000 })).nextToken).toBeUndefined();

    for (const maxResults of [undefined, 0]) {
      const pages = await walk({
        executionArn: manyArn,
        ...(maxResults === undefined ? {} : { maxResults }),
      });
      expect(pages.map((ids) => ids.length)).toEqual([100, 100, manyIds.length - 200]);
      expect(pages.flat()).toEqual(manyIds);
    }
    const small = await page({ executionArn: manyArn, maxResults: 3 });
    expect(small.ids).toEqual([1, 2, 3]);
    expect(small.nextToken).toBeDefined();
    // A last page that is exactly full ends the walk without an empty extra page.
    const pageCount = [2, 3, 5, 7].find((count) => manyIds.length % count === 0) ?? 1;
    const exact = await walk({ executionArn: manyArn, maxResults: manyIds.length / pageCount });
    expect(exact.length).toBe(pageCount);
  });

  it("refuses maxResults outside 0..1000 with ValidationException", async () => {
    for (const maxResults of [1001, -1]) {
      await expect(page({ executionArn: manyArn, maxResults })).rejects.toMatchObject({
        name: "ValidationException",
      });
    }
  });

  it("returns the newest events first with reverseOrder, one maxResults page at a time", async () => {
    const newest = await page({ executionArn: manyArn, reverseOrder: true, maxResults: 5 });
    expect(newest.ids).toEqual(manyIds.slice(-5).reverse());
    expect(newest.events[0]?.type).toBe("ExecutionSucceeded");
    expect(newest.nextToken).toBeDefined();

    const pages = await walk({ executionArn: manyArn, reverseOrder: true, maxResults: 7 });
    expect(pages.slice(0, -1).every((ids) => ids.length === 7)).toBe(true);
    expect(pages.flat()).toEqual([...manyIds].reverse());
    expect((await walk({ executionArn: manyArn, reverseOrder: true })).map((ids) => ids.length)).toEqual([
      100,
      100,
      manyIds.length - 200,
    ]);
  });

  it("gives a running execution's current state from the newest page alone, and keeps walks consistent while it grows", async () => {
    hold = deferred();
    const executionArn = await start("held", { step: 1 }, "held");
    await until(() => started.has(`${executionArn} Hold`));

    const newest = await page({
      executionArn,
      reverseOrder: true,
      maxResults: 3,
      includeExecutionData: false,
    });
    expect(newest.events.map((event) => event.type)).toEqual([
      "LambdaFunctionStarted",
      "LambdaFunctionScheduled",
      "TaskStateEntered",
    ]);
    expect(currentStateName(newest.events)).toBe("Hold");
    const forwardFirst = await page({ executionArn, maxResults: 2 });
    expect(forwardFirst.ids).toEqual([1, 2]);

    hold.resolve(undefined);
    expect((await service.waitForExecution(executionArn)).status).toBe("SUCCEEDED");
    const all = (await page({ executionArn, maxResults: 1000 })).ids;
    const newestId = newest.ids[0] ?? 0;
    expect(all.length).toBeGreaterThan(newestId);

    // The reverse walk goes on from where its first page ended: no event added since, none twice.
    const rest = (
      await walk({ executionArn, reverseOrder: true, nextToken: newest.nextToken, maxResults: 2 })
    ).flat();
    expect([...newest.ids, ...rest]).toEqual(all.filter((id) => id <= newestId).reverse());
    // The forward walk reaches the events added after its first page.
    const forwardRest = await walk({ executionArn, nextToken: forwardFirst.nextToken, maxResults: 2 });
    expect([...forwardFirst.ids, ...forwardRest.flat()]).toEqual(all);
  });

  it("accepts a nextToken only for the execution and direction it came from", async () => {
    const other = await start("held", { step: 2 }, "other");
    hold.resolve(undefined);
    await service.waitForExecution(other);

    const forward = await page({ executionArn: manyArn, maxResults: 2 });
    const reverse = await page({ executionArn: manyArn, maxResults: 2, reverseOrder: true });
    const listed = await client.send(
      new ListExecutionsCommand({ stateMachineArn: service.stateMachineArn("held"), maxResults: 1 }),
    );
    expect(listed.nextToken).toBeDefined();
    const misuses: GetExecutionHistoryCommandInput[] = [
      { executionArn: manyArn, nextToken: forward.nextToken, reverseOrder: true },
      { executionArn: manyArn, nextToken: reverse.nextToken },
      { executionArn: other, nextToken: forward.nextToken },
      { executionArn: other, nextToken: reverse.nextToken, reverseOrder: true },
      { executionArn: manyArn, nextToken: listed.nextToken },
      { executionArn: manyArn, nextToken: "garbage" },
    ];
    for (const input of misuses) {
      await expect(page(input)).rejects.toMatchObject({ name: "InvalidToken" });
    }
    // The same token still works where it belongs, with another page size or data setting.
    const next = await page({
      executionArn: manyArn,
      nextToken: reverse.nextToken,
      reverseOrder: true,
      maxResults: 1,
      includeExecutionData: false,
    });
    expect(next.ids).toEqual([manyIds.length - 2]);
  });
});
