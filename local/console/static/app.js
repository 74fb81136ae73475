// The console's pages. Hash routes: #/sessions, #/executions?lifecycle=&status=,
// #/execution/<url-encoded executionArn>, #/account, #/faults. The page in view polls its JSON
// every 1.5 s; an execution page stops once its execution has closed.
import {
  badge,
  duration,
  executionHref,
  executionLink,
  executionName,
  getJson,
  h,
  table,
  time,
} from "./dom.js";
import { drawGraph, paintTrace } from "./graph.js";

const POLL_MS = 1500;
const view = document.getElementById("view");
const live = document.getElementById("live");

let current = { stop() {} };

function route() {
  current.stop();
  const hash = location.hash || "#/sessions";
  const [path, query = ""] = hash.slice(1).split("?");
  const params = new URLSearchParams(query);
  const execution = /^\/execution\/(.+)$/.exec(path);
  let page;
  if (execution) page = executionPage(decodeURIComponent(execution[1]));
  else if (path === "/executions") page = executionsPage(params);
  else if (path === "/account") page = accountPage();
  else if (path === "/faults") page = faultsPage();
  else page = sessionsPage();
  for (const a of document.querySelectorAll("nav a"))
    a.classList.toggle("here", a.dataset.page === (execution ? "executions" : page.name));
  current = poll(page);
}

/** Runs `page.refresh` now and every POLL_MS until stopped or until it returns "done". */
function poll(page) {
  let timer;
  let stopped = false;
  const tick = async () => {
    try {
      const result = await page.refresh();
      live.textContent = `live · ${time(new Date().toISOString())}`;
      live.className = "live ok";
      if (result === "done") return;
    } catch (err) {
      if (err.status === 400 || err.status === 404) {
        // Nothing to wait for: an execution that does not exist, a filter the server refuses.
        view.prepend(h("p", { class: "error-text", id: "page-error" }, err.message));
        live.textContent = "";
        return;
      }
      live.textContent = `offline: ${err.message}`;
      live.className = "live error";
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  };
  view.replaceChildren(...page.frame);
  tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

// ---------- sessions, destinations, sources ----------

function sessionsPage() {
  const body = h("div", { class: "stack" }, h("p", { class: "empty" }, "loading…"));
  return {
    name: "sessions",
    frame: [h("h1", {}, "Sessions"), body],
    async refresh() {
      const data = await getJson("/api/overview");
      body.replaceChildren(
        table(
          data.sessions,
          [
            ["session", (x) => h("span", { class: "mono" }, x.sessionId)],
            ["host", (x) => x.hostUserId],
            ["show", (x) => x.showId],
            ["session status", (x) => badge(x.status)],
            ["streaming", (x) => badge(x.streaming.status)],
            ["attempt", (x) => x.streaming.attempt],
            ["channel", (x) => h("span", { class: "mono" }, x.channelId ?? "")],
            ["error", (x) => (x.streaming.error ? errorText(x.streaming.error) : "")],
            ["executions", (x) => x.executions.map((arn) => h("div", {}, executionLink(arn)))],
            ["updated", (x) => time(x.updatedAt)],
          ],
          "No sessions yet: POST /sessions on the API (npm start prints the curl lines).",
          { id: "sessions" },
        ),
        h("h2", {}, "Restream destinations"),
        table(
          data.destinations,
          [
            ["destination", (x) => h("span", { class: "mono" }, x.destinationId)],
            ["name", (x) => x.name],
            ["platform", (x) => x.platform],
            ["owner", (x) => x.ownerUserId],
            ["source", (x) => h("span", { class: "mono" }, x.sourceId)],
            ["mode", (x) => x.deliveryMode],
            ["status", (x) => badge(x.status)],
            ["ingest", (x) => x.activeUrl],
            [
              "running",
              (x) =>
                x.operation ? [x.operation.lifecycle, " ", executionLink(x.operation.executionArn)] : "",
            ],
            [
              "error",
              (x) =>
                x.error ? errorText(x.error) : x.metrics.lastError ? errorText(x.metrics.lastError) : "",
            ],
            ["starts / failovers", (x) => `${x.metrics.starts} / ${x.metrics.failovers}`],
          ],
          "No destinations.",
          { id: "destinations" },
        ),
        h("h2", {}, "Sources"),
        table(
          data.sources,
          [
            ["source", (x) => h("span", { class: "mono" }, x.sourceId)],
            ["name", (x) => x.name],
            ["protocol", (x) => x.protocol],
            ["mode", (x) => x.deliveryMode],
            ["status", (x) => badge(x.status)],
            ["flow", (x) => badge(x.flowPhase)],
            ["flow users", (x) => x.flowUsers],
            ["apply", (x) => executionLink(x.applyExecutionArn)],
          ],
          "No sources.",
          { id: "sources" },
        ),
        h("h2", {}, "Persistent channels"),
        table(
          data.channels,
          [
            ["channel", (x) => h("span", { class: "mono" }, x.channelId)],
            ["host", (x) => x.hostUserId ?? ""],
            ["state", (x) => badge(x.state)],
            ["current session", (x) => h("span", { class: "mono" }, x.currentSessionId ?? "")],
            ["broadcasts", (x) => x.totalBroadcasts],
            ["minutes", (x) => x.totalStreamingMinutes],
          ],
          "No persistent channels.",
          { id: "channels" },
        ),
      );
    },
  };
}

const errorText = (e) => h("span", { class: "error-text" }, `${e.code}: ${e.message}`);

// ---------- executions ----------

const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

function executionsPage(params) {
  const lifecycle = h("select", { id: "filter-lifecycle" }, h("option", { value: "" }, "every lifecycle"));
  const status = h(
    "select",
    { id: "filter-status" },
    h("option", { value: "" }, "every status"),
    STATUSES.map((x) => h("option", { value: x }, x)),
  );
  status.value = params.get("status") ?? "";
  const apply = () => {
    const q = new URLSearchParams();
    if (lifecycle.value) q.set("lifecycle", lifecycle.value);
    if (status.value) q.set("status", status.value);
    location.hash = `#/executions${q.size ? `?${q}` : ""}`;
  };
  lifecycle.addEventListener("change", apply);
  status.addEventListener("change", apply);
  getJson("/api/lifecycles").then(({ lifecycles }) => {
    lifecycle.append(...lifecycles.map((l) => h("option", { value: l.lifecycle }, l.lifecycle)));
    lifecycle.value = params.get("lifecycle") ?? "";
  });
  const body = h("div", {}, h("p", { class: "empty" }, "loading…"));
  return {
    name: "executions",
    frame: [h("h1", {}, "Executions"), h("div", { class: "filters" }, lifecycle, status), body],
    async refresh() {
      const q = new URLSearchParams();
      if (params.get("lifecycle")) q.set("lifecycle", params.get("lifecycle"));
      if (params.get("status")) q.set("status", params.get("status"));
      const { executions } = await getJson(`/api/executions?${q}`);
      body.replaceChildren(
        table(
          executions,
          [
            ["execution", (x) => h("a", { href: executionHref(x.executionArn), class: "mono" }, x.name)],
            ["lifecycle", (x) => x.lifecycle],
            ["status", (x) => badge(x.status)],
            ["started", (x) => time(x.startDate)],
            ["duration", (x) => duration(x.startDate, x.stopDate)],
          ],
          "No executions match.",
          { id: "executions" },
        ),
      );
    },
  };
}

// ---------- one execution ----------

function executionPage(executionArn) {
  const header = h(
    "div",
    { class: "execution-header" },
    h("h1", { class: "mono" }, executionName(executionArn)),
  );
  const failure = h("section", { id: "failure", class: "failure", hidden: true });
  const graphBox = h("div", { class: "graph-box", id: "graph" }, h("p", { class: "empty" }, "laying out…"));
  const details = h("section", { id: "state-details", class: "state-details", hidden: true });
  const events = h("div", { class: "events", id: "events" });
  let zoom = 1;
  let drawing;
  let last;
  let selected;
  const setZoom = (z) => {
    if (!drawing) return;
    zoom = Math.min(2, Math.max(0.2, z));
    drawing.svg.setAttribute("width", String(Math.round(drawing.width * zoom)));
    drawing.svg.setAttribute("height", String(Math.round(drawing.height * zoom)));
  };
  const fit = () => drawing && setZoom(Math.min(1, (graphBox.clientWidth - 8) / drawing.width));
  /** Readable at once: the whole width when that is not too small, and the state that matters in view. */
  const focus = (name) => {
    setZoom(Math.min(1, Math.max(0.6, (graphBox.clientWidth - 8) / drawing.width)));
    const g = name && drawing.nodes.get(name);
    if (!g) return;
    const box = g.getBoundingClientRect();
    const view = graphBox.getBoundingClientRect();
    graphBox.scrollLeft += box.left - view.left - (view.width - box.width) / 2;
    graphBox.scrollTop += box.top - view.top - (view.height - box.height) / 2;
  };
  const tools = h(
    "div",
    { class: "graph-tools" },
    h("button", { type: "button", onclick: () => setZoom(zoom / 1.25), title: "zoom out" }, "−"),
    h("button", { type: "button", onclick: () => setZoom(zoom * 1.25), title: "zoom in" }, "+"),
    h("button", { type: "button", onclick: fit, title: "fit the width" }, "fit"),
    h("span", { class: "legend" }, legend()),
  );

  const select = (name) => {
    selected = name;
    for (const [id, g] of drawing?.nodes ?? []) g.classList.toggle("selected", id === name);
    renderDetails();
  };
  const renderDetails = () => {
    if (!selected || !last) {
      details.hidden = true;
      return;
    }
    const run = last.trace.states[selected];
    const node = last.graph.nodes.find((n) => n.id === selected);
    details.hidden = false;
    details.replaceChildren(
      h("h3", {}, selected, " ", h("span", { class: "kind" }, node?.kind ?? "")),
      run
        ? h(
            "dl",
            {},
            h("dt", {}, "status"),
            h("dd", {}, badge(run.status), run.caught ? " (caught)" : ""),
            h("dt", {}, "entered"),
            h("dd", {}, String(run.entered)),
            run.attempts ? [h("dt", {}, "invocations"), h("dd", {}, String(run.attempts))] : "",
            h("dt", {}, "retries"),
            h("dd", {}, String(run.retries)),
            run.error ? [h("dt", {}, "error"), h("dd", { class: "error-text" }, run.error)] : "",
            run.cause ? [h("dt", {}, "cause"), h("dd", { class: "cause" }, run.cause)] : "",
          )
        : h("p", { class: "empty" }, "Not entered by this execution."),
      node?.retriers ? h("p", { class: "muted" }, `${node.retriers} retry rules`) : "",
    );
  };

  return {
    name: "execution",
    frame: [
      h("p", {}, h("a", { href: "#/executions" }, "← executions")),
      header,
      failure,
      h(
        "div",
        { class: "execution-body" },
        h("div", { class: "graph-column" }, tools, graphBox),
        h("div", { class: "side-column" }, details, h("h2", {}, "Events"), events),
      ),
    ],
    async refresh() {
      const data = await getJson(`/api/executions/${encodeURIComponent(executionArn)}`);
      last = data;
      const x = data.execution;
      header.replaceChildren(
        h("h1", { class: "mono" }, x.name),
        h(
          "div",
          { class: "facts" },
          badge(x.status),
          h("span", {}, x.lifecycle),
          x.sessionId ? h("span", {}, "session ", h("span", { class: "mono" }, x.sessionId)) : "",
          x.destinationId ? h("span", {}, "destination ", h("span", { class: "mono" }, x.destinationId)) : "",
          x.sourceId ? h("span", {}, "source ", h("span", { class: "mono" }, x.sourceId)) : "",
          h("span", {}, `started ${time(x.startDate)}`),
          h("span", {}, `duration ${duration(x.startDate, x.stopDate)}`),
          h("span", { id: "retries" }, `${data.trace.retries} retries`),
          data.trace.current.length
            ? h("span", { id: "current" }, `now: ${data.trace.current.join(", ")}`)
            : "",
        ),
      );
      const f = data.trace.failure;
      failure.hidden = !(f || x.error);
      failure.replaceChildren(
        h("h2", {}, "Failed"),
        f
          ? h(
              "p",
              {},
              "in ",
              h(
                "a",
                {
                  href: "#",
                  class: "failed-state",
                  onclick: (e) => {
                    e.preventDefault();
                    select(f.state);
                  },
                },
                f.state,
              ),
              ": ",
              h("span", { class: "error-text", id: "failure-error" }, f.error ?? ""),
            )
          : "",
        f?.cause ? h("p", { class: "cause", id: "failure-cause" }, f.cause) : "",
        x.error && x.error !== f?.error
          ? h(
              "p",
              {},
              "execution: ",
              h("span", { class: "error-text" }, x.error),
              x.cause ? ` ${x.cause}` : "",
            )
          : "",
      );
      if (!drawing) {
        drawing = await drawGraph(graphBox, data.graph, { onSelect: select, cacheKey: x.stateMachineArn });
        if (f) select(f.state);
        paintTrace(drawing, data.graph, data.trace);
        focus(f?.state ?? data.trace.current.at(-1));
      }
      paintTrace(drawing, data.graph, data.trace);
      graphBox.dataset.status = x.status;
      renderDetails();
      renderEvents(events, data, select);
      return x.status === "RUNNING" ? undefined : "done";
    },
  };
}

function legend() {
  return [
    ["visited succeeded", "succeeded"],
    ["visited current", "running"],
    ["visited failed", "failed"],
    ["", "not entered"],
  ].map(([cls, text]) => h("span", { class: `legend-item ${cls}` }, h("i", {}), text));
}

function renderEvents(box, data, select) {
  const start = data.execution.startDate ? new Date(data.execution.startDate).getTime() : 0;
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  box.replaceChildren(
    h(
      "table",
      { class: "event-list" },
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, "#"), h("th", {}, "+s"), h("th", {}, "type"), h("th", {}, "state / error")),
      ),
      h(
        "tbody",
        {},
        data.events.map((e) =>
          h(
            "tr",
            {
              class: e.error ? "has-error" : "",
              "data-event": e.id,
              onclick: e.state ? () => select(e.state) : undefined,
            },
            h("td", {}, String(e.id)),
            h("td", {}, e.timestamp ? ((new Date(e.timestamp).getTime() - start) / 1000).toFixed(2) : ""),
            h("td", {}, e.type),
            h(
              "td",
              {},
              e.state ?? "",
              e.error ? h("div", { class: "error-text" }, e.error) : "",
              e.cause ? h("div", { class: "cause" }, e.cause) : "",
            ),
          ),
        ),
      ),
    ),
  );
  if (atBottom && data.execution.status === "RUNNING") box.scrollTop = box.scrollHeight;
}

// ---------- the simulated account ----------

function accountPage() {
  const body = h("div", {}, h("p", { class: "empty" }, "loading…"));
  const owner = (x) =>
    [
      x.session ? `session ${x.session}` : "",
      x.destination ? `destination ${x.destination}` : "",
      x.source ? `source ${x.source}` : "",
      x.role ? `(${x.role})` : "",
    ]
      .filter(Boolean)
      .join(" ");
  return {
    name: "account",
    frame: [
      h("h1", {}, "Simulated AWS account"),
      h("p", { class: "muted" }, "What the simulator holds (GET /_sim/resources, stream keys left out)."),
      body,
    ],
    async refresh() {
      const a = await getJson("/api/account");
      body.replaceChildren(
        h("h2", {}, "MediaLive channels"),
        table(
          a.medialive.channels,
          [
            ["id", (x) => h("span", { class: "mono" }, x.id)],
            ["name", (x) => x.name],
            ["state", (x) => badge(x.state)],
            ["class", (x) => x.channelClass],
            ["pipelines running", (x) => x.pipelinesRunning ?? ""],
            ["inputs", (x) => x.inputs.join(", ")],
            ["belongs to", owner],
            ["created by", (x) => x.createdBy ?? ""],
          ],
          "No channels.",
          { id: "medialive-channels" },
        ),
        h("h2", {}, "MediaLive inputs"),
        table(
          a.medialive.inputs,
          [
            ["id", (x) => h("span", { class: "mono" }, x.id)],
            ["name", (x) => x.name],
            ["type", (x) => x.type],
            ["state", (x) => badge(x.state)],
            ["attached to", (x) => x.attachedChannels.join(", ")],
            ["belongs to", owner],
          ],
          "No inputs.",
        ),
        h("h2", {}, "IVS channels"),
        table(
          a.ivs.channels,
          [
            ["name", (x) => x.name],
            ["type", (x) => x.type],
            ["stream", (x) => badge(x.stream)],
            ["belongs to", owner],
            ["arn", (x) => h("span", { class: "mono small" }, x.arn)],
          ],
          "No IVS channels.",
          { id: "ivs-channels" },
        ),
        h("h2", {}, "MediaConnect flows"),
        table(
          a.mediaconnect.flows,
          [
            ["name", (x) => x.name],
            ["status", (x) => badge(x.status)],
            ["active source", (x) => x.activeSource ?? "none"],
            ["sources", (x) => x.sources.length],
            ["outputs", (x) => x.outputs],
          ],
          "No flows.",
        ),
        h("h2", {}, "Platform ingest"),
        table(
          a.ingest,
          [
            ["url", (x) => h("span", { class: "mono small" }, x.url)],
            ["channel", (x) => x.channelId],
            ["receiving", (x) => badge(x.receiving ? "RECEIVING" : "NOT_RECEIVING")],
            ["refused", (x) => (x.refused ? "refused" : "")],
            ["interruptions", (x) => x.interruptions],
          ],
          "Nothing pushed to a platform.",
        ),
        h("h2", {}, "Input security groups and SSM parameters"),
        table(
          a.medialive.inputSecurityGroups,
          [
            ["id", (x) => h("span", { class: "mono" }, x.id)],
            ["state", (x) => badge(x.state)],
            ["inputs", (x) => x.inputs],
          ],
          "No input security groups.",
        ),
        table(
          a.ssm.parameters,
          [
            ["parameter", (x) => h("span", { class: "mono small" }, x.name)],
            ["type", (x) => x.type],
            ["version", (x) => x.version],
          ],
          "No parameters.",
        ),
      );
    },
  };
}

// ---------- fault injection ----------

const OPERATIONS = {
  medialive: [
    "*",
    "CreateChannel",
    "StartChannel",
    "StopChannel",
    "DeleteChannel",
    "DescribeChannel",
    "UpdateChannel",
    "CreateInput",
    "DeleteInput",
    "DescribeInput",
    "ListChannels",
    "ListAlerts",
  ],
  ivs: ["*", "CreateChannel", "DeleteChannel", "GetChannel", "ListStreamKeys", "GetStream", "StopStream"],
  mediaconnect: ["*", "CreateFlow", "StartFlow", "StopFlow", "DescribeFlow", "DeleteFlow"],
  ssm: ["*", "GetParameter", "PutParameter", "DeleteParameter"],
};
const ERRORS = [
  "TooManyRequestsException",
  "InternalServerErrorException",
  "BadRequestException",
  "ConflictException",
  "NotFoundException",
  "ServiceUnavailable",
  "ThrottlingException",
];

function faultsPage() {
  const service = h(
    "select",
    { name: "service", id: "fault-service" },
    Object.keys(OPERATIONS).map((x) => h("option", { value: x }, x)),
  );
  const operations = h("datalist", { id: "fault-operations" });
  const fillOperations = () =>
    operations.replaceChildren(...OPERATIONS[service.value].map((op) => h("option", { value: op })));
  service.addEventListener("change", fillOperations);
  fillOperations();
  const field = (label, input) => h("label", {}, h("span", {}, label), input);
  const operation = h("input", {
    name: "operation",
    id: "fault-operation",
    list: "fault-operations",
    required: true,
    value: "StartChannel",
  });
  const error = h("input", {
    name: "error",
    id: "fault-error",
    list: "fault-errors",
    value: "TooManyRequestsException",
  });
  const status = h("input", { name: "status", type: "number", min: 400, max: 599, placeholder: "default" });
  const times = h("input", { name: "times", id: "fault-times", type: "number", min: 1, value: 1 });
  const rate = h("input", {
    name: "rate",
    type: "number",
    min: 0,
    max: 1,
    step: 0.05,
    placeholder: "or a rate 0-1",
  });
  const delayMs = h("input", { name: "delayMs", type: "number", min: 0, placeholder: "0" });
  const after = h("input", { name: "after", type: "checkbox" });
  const message = h("p", { class: "form-message", id: "fault-message" });
  const form = h(
    "form",
    { class: "fault-form", id: "fault-form" },
    field("service", service),
    field("operation", operation),
    operations,
    field("error", error),
    h(
      "datalist",
      { id: "fault-errors" },
      ERRORS.map((x) => h("option", { value: x })),
    ),
    field("HTTP status", status),
    field("times", times),
    field("rate", rate),
    field("delay (ms)", delayMs),
    h("label", { class: "check" }, after, h("span", {}, "after the call took effect (a lost answer)")),
    h("button", { type: "submit" }, "Inject fault"),
    message,
  );
  const list = h("div", {}, h("p", { class: "empty" }, "loading…"));
  const refresh = async () => {
    const { faults } = await getJson("/api/faults");
    list.replaceChildren(
      table(
        faults ?? [],
        [
          ["service", (x) => x.service],
          ["operation", (x) => x.operation],
          ["error", (x) => x.error ?? ""],
          ["status", (x) => x.status ?? ""],
          ["times / rate", (x) => (x.rate !== undefined ? `rate ${x.rate}` : `${x.times ?? 1}`)],
          ["remaining", (x) => x.remaining ?? ""],
          ["hits", (x) => x.hits ?? 0],
          ["delay", (x) => (x.delayMs ? `${x.delayMs} ms` : "")],
          ["after", (x) => (x.after ? "yes" : "")],
        ],
        "No faults injected: every call succeeds.",
        { id: "faults" },
      ),
    );
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const spec = { service: service.value, operation: operation.value.trim() };
    if (error.value.trim()) spec.error = error.value.trim();
    if (status.value) spec.status = Number(status.value);
    if (rate.value) spec.rate = Number(rate.value);
    else if (times.value) spec.times = Number(times.value);
    if (delayMs.value) spec.delayMs = Number(delayMs.value);
    if (after.checked) spec.after = true;
    try {
      await getJson("/api/faults", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(spec),
      });
      message.textContent = `Injected: ${spec.service} ${spec.operation} ${spec.error ?? ""}`;
      message.className = "form-message ok";
      await refresh();
    } catch (err) {
      message.textContent = `Refused: ${err.message}`;
      message.className = "form-message error-text";
    }
  });
  const clear = h(
    "button",
    {
      type: "button",
      id: "clear-faults",
      onclick: async () => {
        await getJson("/api/faults", { method: "DELETE" });
        await refresh();
      },
    },
    "Clear every fault",
  );
  return {
    name: "faults",
    frame: [
      h("h1", {}, "Fault injection"),
      h(
        "p",
        { class: "muted" },
        "Make the simulated AWS fail: the next matching calls answer the error (see local/simulator/README.md).",
      ),
      form,
      h("h2", {}, "Active faults ", clear),
      list,
    ],
    refresh,
  };
}

window.addEventListener("hashchange", route);
route();
