/**
 * The live dashboard (docs/dashboard.md): one WebSocket to /dashboard/live, one snapshot a
 * second, rendered into the page. Nothing here is secret; every value comes from the snapshot.
 */
import uPlot from "uplot";
import type { Snapshot, SnapshotNode } from "./snapshot.ts";

const PAGE = 100;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let last: Snapshot | null = null;
let page = 0;
let chart: uPlot | null = null;

function text(el: HTMLElement, value: string | number): void {
  el.textContent = String(value);
}

function cell(tr: HTMLTableRowElement, value: string, cls?: string): void {
  const td = document.createElement("td");
  td.textContent = value;
  if (cls) td.className = cls;
  tr.append(td);
}

const short = (id: string) => `${id.slice(0, 12)}…`;

function renderTotals(s: Snapshot): void {
  text($("t-nodes"), s.nodes.length);
  text($("t-inflight"), s.requests.in_flight);
  text($("t-queued"), s.requests.queued);
  const recent = s.throughput.slice(-10);
  text($("t-tps"), recent.length ? (recent.reduce((n, [, t]) => n + t, 0) / 10).toFixed(1) : "0");
  text($("t-size"), s.ledger?.size ?? "–");
}

function renderChart(s: Snapshot): void {
  const host = $("chart");
  const xs = s.throughput.map(([t]) => t);
  const ys = s.throughput.map(([, n]) => n);
  const data: uPlot.AlignedData = [xs, ys];
  if (!chart) {
    chart = new uPlot(
      {
        width: Math.max(200, host.clientWidth),
        height: 220,
        series: [{}, { label: "tokens/s", stroke: "#6cb6ff", fill: "rgba(108,182,255,0.15)" }],
        axes: [{ stroke: "#98a1ad" }, { stroke: "#98a1ad" }],
        legend: { show: false },
      },
      data,
      host,
    );
    new ResizeObserver(() => chart?.setSize({ width: Math.max(200, host.clientWidth), height: 220 })).observe(host);
  } else chart.setData(data);
}

function renderCoverage(s: Snapshot): void {
  const host = $("coverage");
  host.replaceChildren();
  if (s.coverage.length === 0) host.textContent = "no model is being served";
  for (const m of s.coverage) {
    const div = document.createElement("div");
    div.className = "coverage-model";
    const title = document.createElement("div");
    const missing = m.replicas.filter((r) => r === 0).length;
    title.innerHTML = "";
    title.append(
      `${m.model} `,
      Object.assign(document.createElement("span"), { className: "small mono", textContent: m.sha256.slice(0, 16) }),
    );
    if (missing > 0)
      title.append(Object.assign(document.createElement("span"), { className: "bad", textContent: ` — ${missing} layers uncovered` }));
    const layers = document.createElement("div");
    layers.className = "layers";
    const most = Math.max(1, ...m.replicas);
    m.replicas.forEach((r, i) => {
      const l = document.createElement("div");
      l.className = r === 0 ? "layer none" : "layer";
      if (r > 0) l.style.opacity = String(0.45 + (0.55 * r) / most);
      l.title = `layer ${i}: ${r} agent${r === 1 ? "" : "s"}`;
      l.textContent = String(r);
      layers.append(l);
    });
    div.append(title, layers);
    host.append(div);
  }
}

function matches(n: SnapshotNode, q: string): boolean {
  if (!q) return true;
  const hay = `${n.node_id} ${n.models.map((m) => m.id).join(" ")} ${n.consent}`.toLowerCase();
  return hay.includes(q.toLowerCase());
}

function renderNodes(s: Snapshot): void {
  const q = ($("filter") as HTMLInputElement).value.trim();
  const rows = s.nodes.filter((n) => matches(n, q)).sort((a, b) => b.reputation - a.reputation || a.node_id.localeCompare(b.node_id));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  page = Math.min(page, pages - 1);
  text($("page-info"), `${rows.length} agents · page ${page + 1}/${pages}`);
  const body = ($("nodes") as HTMLTableElement).tBodies[0]!;
  const fragment = document.createDocumentFragment();
  for (const n of rows.slice(page * PAGE, (page + 1) * PAGE)) {
    const tr = document.createElement("tr");
    tr.dataset.node = n.node_id;
    cell(tr, short(n.node_id), "mono");
    cell(tr, n.models.map((m) => m.id).join(", "));
    cell(tr, n.models.map((m) => `${m.layers[0]}–${m.layers[1] - 1}`).join(", "));
    cell(tr, String(n.sessions));
    cell(tr, n.reputation.toFixed(2));
    cell(tr, String(n.credits));
    cell(tr, n.mj_per_token === null ? "–" : `${n.mj_per_token.toFixed(1)} (${n.grade})`);
    cell(tr, n.consent, "wrap small");
    fragment.append(tr);
  }
  body.replaceChildren(fragment);
}

function renderExcluded(s: Snapshot): void {
  const ul = $("excluded");
  ul.replaceChildren();
  if (s.excluded.length === 0) ul.append(Object.assign(document.createElement("li"), { className: "small", textContent: "none" }));
  for (const e of s.excluded) {
    const li = document.createElement("li");
    li.append(
      Object.assign(document.createElement("span"), { className: "mono bad", textContent: short(e.node_id) }),
      ` ${e.reason ?? ""}`,
    );
    ul.append(li);
  }
}

function renderLedger(s: Snapshot): void {
  const l = s.ledger;
  text($("checkpoint"), l ? `checkpoint: size ${l.size}, root ${l.root ?? "–"}` : "this coordinator has no log key");
  text(
    $("witnesses"),
    l && l.witnesses.length
      ? `witnessed by ${l.witnesses.length}: ${l.witnesses.map((w) => short(w.replace("aria-node/", ""))).join(", ")}`
      : "no cosignatures yet",
  );
  const body = ($("entries") as HTMLTableElement).tBodies[0]!;
  body.replaceChildren(
    ...(l?.latest ?? []).map((e) => {
      const tr = document.createElement("tr");
      tr.dataset.key = e.key;
      cell(tr, String(e.index));
      cell(tr, e.type);
      cell(tr, e.key.length > 40 ? `${e.key.slice(0, 40)}…` : e.key, "mono");
      cell(tr, `${e.leaf_hash.slice(0, 16)}…`, "mono");
      cell(tr, new Date(e.at).toLocaleTimeString());
      return tr;
    }),
  );
}

function render(s: Snapshot): void {
  last = s;
  renderTotals(s);
  renderChart(s);
  renderCoverage(s);
  renderNodes(s);
  renderExcluded(s);
  renderLedger(s);
  document.body.dataset.snapshotAt = String(s.at);
}

function connect(delay = 500): void {
  const status = $("status");
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/dashboard/live`);
  ws.onopen = () => {
    status.textContent = "live";
    status.className = "pill live";
    delay = 500;
  };
  ws.onmessage = (event) => {
    try {
      const s = JSON.parse(String(event.data)) as Snapshot;
      if (s.type === "snapshot") render(s);
    } catch {
      // a malformed message: keep the last good view
    }
  };
  ws.onclose = () => {
    status.textContent = "reconnecting…";
    status.className = "pill down";
    setTimeout(() => connect(Math.min(delay * 2, 10_000)), delay);
  };
}

$("filter").addEventListener("input", () => {
  page = 0;
  if (last) renderNodes(last);
});
$("prev").addEventListener("click", () => {
  page = Math.max(0, page - 1);
  if (last) renderNodes(last);
});
$("next").addEventListener("click", () => {
  page++;
  if (last) renderNodes(last);
});
connect();
