// Small DOM helpers: elements are built with textContent, never from HTML strings.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element: h("a", { href: "#/x", class: "y" }, "text", child). */
export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);

/** An SVG element. */
export const s = (tag, attrs, ...children) => build(document.createElementNS(SVG_NS, tag), attrs, children);

export async function getJson(path, init) {
  const res = await fetch(path, init);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const message = body?.error?.message ?? body?.message ?? `${res.status} ${res.statusText}`;
    throw Object.assign(new Error(message), { status: res.status, body });
  }
  return body;
}

export const executionHref = (arn) => `#/execution/${encodeURIComponent(arn)}`;
export const executionName = (arn) =>
  String(arn ?? "")
    .split(":")
    .at(-1);

/** A link to an execution, named by its execution name. */
export const executionLink = (arn) =>
  arn ? h("a", { href: executionHref(arn), class: "mono" }, executionName(arn)) : "";

/** A status badge: `<span class="badge status-failed">FAILED</span>`. */
export const badge = (status) =>
  status
    ? h(
        "span",
        {
          class: `badge status-${String(status)
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, "-")}`,
        },
        status,
      )
    : "";

export function time(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour12: false });
}

export function duration(fromIso, toIso) {
  if (!fromIso) return "";
  const ms = (toIso ? new Date(toIso) : new Date()).getTime() - new Date(fromIso).getTime();
  if (!(ms >= 0)) return "";
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  const total = Math.round(ms / 1000);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

/**
 * A table from rows: columns are [title, row => cell]. An empty list shows `empty` instead.
 */
export function table(rows, columns, empty, attrs = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    attrs,
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        columns.map(([title]) => h("th", {}, title)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          {},
          columns.map(([, cell]) => h("td", {}, cell(row) ?? "")),
        ),
      ),
    ),
  );
}
