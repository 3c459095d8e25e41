// tfprod dashboard: polls the controller API (bearer token) and draws what it answers.
// No build step, no library. The token lives in sessionStorage only; it is taken from the
// URL fragment (#token=..., never sent to a server) and the fragment is then cleared.
"use strict";

const POLL_MS = 1500;
const KEEP_POINTS = 400; // per deployment: 10 minutes at 1.5 s
const EXPLAIN_EVERY = 4; // polls between two reads of the explanations
const TOKEN_KEY = "tfprod-controller-token";
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];
const API = new URL("../v1/deployments", location.href).pathname;

const $ = (id) => document.getElementById(id);
const buffers = {}; // deployment -> {weights: [[t, {v: w}]], metrics: [[t, [version figures]]], seen}
const colors = {}; // version -> color
let selected = null;
let polls = 0;
let polling = false;

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

function takeTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

async function api(path, method = "GET") {
  const init = { method, cache: "no-store", headers: token() ? { Authorization: "Bearer " + token() } : {} };
  if (method === "POST") {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify({ by: "dashboard" });
  }
  const response = await fetch(API + path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.error || response.statusText);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const svg = ["svg", "g", "path", "line", "rect", "text", "title", "circle"].includes(tag);
  const node = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.setAttribute("class", value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function fill(node, ...children) { node.replaceChildren(...children); return node; }

function colorOf(version) {
  if (!(version in colors)) colors[version] = COLORS[Object.keys(colors).length % COLORS.length];
  return colors[version];
}

const fmt = (value, digits = 3) => (value === null || value === undefined ? "n/a" : Number(value).toPrecision(digits));
const percent = (value) => (value === null || value === undefined ? "n/a" : (100 * value).toFixed(2) + "%");
const clock = (t) => new Date(t).toLocaleTimeString();
const weightsText = (weights) => Object.entries(weights).map(([v, w]) => `${v} ${w}%`).join(", ");

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
}

function keep(list, point) {
  list.push(point);
  if (list.length > KEEP_POINTS) list.splice(0, list.length - KEEP_POINTS);
}

// One chart: series [{name, points: [[t, y]]}], decision markers [{t, label}], step lines or not.
function chart(svg, series, { step = false, markers = [], yMax = null, unit = "" } = {}) {
  const W = 480, H = 150, L = 40, R = 8, T = 8, B = 18;
  const times = series.flatMap((s) => s.points.map((p) => p[0])).concat(markers.map((m) => m.t));
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v !== null);
  fill(svg);
  if (!times.length) {
    svg.append(el("text", { x: L, y: H / 2 }, "no data yet"));
    return;
  }
  const t0 = Math.min(...times), t1 = Math.max(...times, t0 + 1000);
  const top = yMax ?? (Math.max(...values, 0) * 1.1 || 1);
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => H - B - (v / top) * (H - T - B);
  svg.append(
    el("line", { x1: L, y1: y(0), x2: W - R, y2: y(0), stroke: "#cbd5e1" }),
    el("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#cbd5e1" }),
    el("text", { x: 2, y: T + 8 }, fmt(top, 3) + unit),
    el("text", { x: 2, y: H - B }, "0"),
    el("text", { x: L, y: H - 4 }, clock(t0)),
    el("text", { x: W - R, y: H - 4, "text-anchor": "end" }, clock(t1)),
  );
  for (const marker of markers) {
    svg.append(el("line", { x1: x(marker.t), y1: T, x2: x(marker.t), y2: H - B, stroke: "#94a3b8", "stroke-dasharray": "2 2" },
      el("title", {}, `${clock(marker.t)} ${marker.label}`)));
  }
  for (const s of series) {
    let d = "";
    let previous = null;
    for (const [t, v] of s.points) {
      if (v === null) { previous = null; continue; }
      if (previous === null) d += `M${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      else if (step) d += `H${x(t).toFixed(1)}V${y(v).toFixed(1)}`;
      else d += `L${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      previous = v;
    }
    svg.append(el("path", { d, fill: "none", stroke: colorOf(s.name), "stroke-width": 2 }, el("title", {}, s.name)));
  }
}

function renderList(deployments) {
  const now = Date.now();
  const rows = deployments.map((d) => {
    const buffer = (buffers[d.deployment] ??= { weights: [], metrics: [], seen: null });
    keep(buffer.weights, [now, d.weights]);
    Object.keys(d.weights).forEach(colorOf);
    return el("tr", { class: d.deployment === selected ? "selected" : "", "data-deployment": d.deployment, onclick: () => { selected = d.deployment; poll(); } },
      el("td", {}, d.deployment),
      el("td", { class: "phase-cell" }, el("span", { class: "phase phase-" + d.phase }, d.phase ?? "not started")),
      el("td", { class: "weights-cell" }, weightsText(d.weights)),
      el("td", {}, d.step === null ? "-" : d.step + 1),
      el("td", {}, d.generation));
  });
  fill($("deployments").tBodies[0], ...rows);
}

function renderDetail(detail, history) {
  $("detail").hidden = false;
  $("detail-name").textContent = detail.deployment;
  const phase = $("detail-phase");
  phase.textContent = detail.phase ?? "not started";
  phase.className = "phase phase-" + detail.phase;
  const step = detail.step;
  $("detail-step").textContent = step === null ? "no canary ramp" :
    `step ${step.index + 1}/${step.steps}: ${step.version} at ${step.percent}% for ${step.seconds_in_step.toFixed(0)} s` +
    (step.seconds_to_next_step === null ? "" : `, ${step.next_percent}% in ${step.seconds_to_next_step.toFixed(0)} s at the earliest`);
  const rollback = detail.rollback;
  $("detail-rollback").textContent = rollback === null ? "" :
    `rollback (${rollback.kind}) of ${rollback.versions.join(", ")} to ${rollback.fallback}: ${rollback.cause}` + (rollback.committed ? " (committed)" : "");
  fill($("checks").tBodies[0], ...detail.checks.map((c) => el("tr", {},
    el("td", {}, c.name), el("td", { class: "outcome-" + c.outcome }, c.outcome ?? "not looked"),
    el("td", {}, c.reason), el("td", {}, c.checked_at ? clock(c.checked_at) : "-"), el("td", {}, c.consecutive_fails))));
  const buffer = buffers[detail.deployment];
  const versions = Object.keys(detail.weights);
  const markers = history.decisions.map((d) => ({ t: Date.parse(d.at), label: `${d.action}: ${d.reason}` }))
    .filter((m) => m.t >= Date.now() - 600000);
  // Weights change at decisions: before the first polled point they held since the last
  // decision at or before it.
  const first = buffer.weights[0];
  const since = markers.filter((m) => m.t <= first[0]).pop();
  const points = since ? [[since.t, first[1]], ...buffer.weights] : buffer.weights;
  chart($("weights-chart"), versions.map((v) => ({ name: v, points: points.map(([t, w]) => [t, w[v] ?? 0]) })),
    { step: true, markers: markers.filter((m) => m.t >= points[0][0]), yMax: 100 });
  fill($("legend"), ...versions.map((v) => el("span", {}, el("i", { class: "swatch", "data-color": colorOf(v) }), v)));
  for (const swatch of $("legend").querySelectorAll("i")) swatch.style.background = swatch.dataset.color;
  fill($("history"), ...history.decisions.slice(-15).reverse().map((d) => el("li", {}, `${clock(d.at)} ${d.action}: ${d.reason}`)));
}

function renderMetrics(metrics) {
  const buffer = buffers[metrics.deployment];
  if (metrics.observed_at && metrics.observed_at !== buffer.seen && metrics.versions.length) {
    buffer.seen = metrics.observed_at;
    keep(buffer.metrics, [Date.parse(metrics.observed_at), metrics.versions]);
  }
  const names = [...new Set(buffer.metrics.flatMap(([, vs]) => vs.map((v) => v.version)))];
  const series = (field, scale) => names.map((name) => ({ name, points: buffer.metrics.map(([t, vs]) => {
    const found = vs.find((v) => v.version === name);
    return [t, found && found[field] !== null ? found[field] * scale : null];
  }) }));
  chart($("rate-chart"), series("requests_per_second", 1));
  chart($("error-chart"), series("error_rate", 100));
  chart($("p95-chart"), series("p95_latency_seconds", 1000), { unit: "" });
  const errors = Object.entries(metrics.source_errors ?? {}).map(([source, error]) => `${source}: ${error}`);
  $("metrics-note").textContent = [
    metrics.window_seconds ? `last observation ${clock(metrics.observed_at)}, over ${metrics.window_seconds.toFixed(1)} s` : metrics.missing,
    ...errors,
  ].filter(Boolean).join("; ");
  renderDrift(metrics);
}

function renderDrift(metrics) {
  const box = $("drift");
  if (metrics.drift === null || metrics.drift === undefined) {
    fill(box, el("p", { class: "note" }, "threshold" in metrics ? "no drift reading yet" : "no drift monitor declared"));
    return;
  }
  if (!metrics.drift.length) { fill(box, el("p", { class: "note" }, "the gateways export no drift score yet")); return; }
  const threshold = metrics.drift_threshold ?? null;
  const top = Math.max(threshold ?? 0, ...metrics.drift.map((f) => f.score ?? 0)) * 1.1 || 1;
  const rowH = 16, W = 480, L = 110;
  const svg = el("svg", { viewBox: `0 0 ${W} ${rowH * metrics.drift.length + 14}`, id: "drift-chart" });
  metrics.drift.forEach((f, i) => {
    const width = ((f.score ?? 0) / top) * (W - L - 60);
    svg.append(
      el("text", { x: 0, y: i * rowH + 11 }, f.feature),
      el("rect", { x: L, y: i * rowH + 2, width: Math.max(width, 1), height: rowH - 4, class: threshold !== null && f.score > threshold ? "bar over" : "bar" }),
      el("text", { x: L + width + 4, y: i * rowH + 11 }, fmt(f.score) + (f.detected ? " drift" : "")));
  });
  const tx = L + (threshold / top) * (W - L - 60);
  if (threshold !== null) svg.append(el("line", { x1: tx, y1: 0, x2: tx, y2: rowH * metrics.drift.length, stroke: "#b91c1c", "stroke-dasharray": "3 2" }),
    el("text", { x: tx + 2, y: rowH * metrics.drift.length + 12 }, `threshold ${threshold}`));
  fill(box, svg);
}

function intervalBar(low, high, effect) {
  const svg = el("svg", { viewBox: "0 0 120 14", class: "interval" });
  if (low === null || high === null) return fill(svg, el("text", { x: 0, y: 11 }, "no bound yet"));
  const span = Math.max(Math.abs(low), Math.abs(high), Math.abs(effect ?? 0)) * 1.1 || 1;
  const x = (v) => 60 + (v / span) * 58;
  svg.append(el("line", { x1: 60, y1: 0, x2: 60, y2: 14, stroke: "#94a3b8" }),
    el("line", { x1: x(low), y1: 7, x2: x(high), y2: 7, stroke: "#2563eb", "stroke-width": 3 }));
  if (effect !== null) svg.append(el("circle", { cx: x(effect), cy: 7, r: 3, fill: "#1e293b" }));
  return svg;
}

function renderAb(ab) {
  $("ab-summary").textContent = ab.ab_test === null ? ab.missing :
    `${ab.ab_test.treatment} vs ${ab.ab_test.control} at alpha ${ab.ab_test.significance_level}` +
    (ab.result ? `: ${ab.result}` : "") + (ab.reason ? ` (${ab.reason})` : "") + (ab.missing ? `: ${ab.missing}` : "");
  $("ab").hidden = !(ab.metrics ?? []).length;
  fill($("ab").tBodies[0], ...(ab.metrics ?? []).map((m) => el("tr", {},
    el("td", {}, `${m.metric} (${m.direction})`), el("td", {}, fmt(m.effect)),
    el("td", {}, `[${fmt(m.interval[0])}, ${fmt(m.interval[1])}]`), el("td", {}, intervalBar(m.interval[0], m.interval[1], m.effect)),
    el("td", {}, percent(m.relative_lift)), el("td", {}, fmt(m.statistical_significance)),
    el("td", {}, `${m.control_samples} / ${m.treatment_samples}`), el("td", {}, m.decision + (m.winner ? ` (${m.winner})` : "")))));
}

function renderExplanations(document) {
  const box = $("explanations");
  if (document.missing) { fill(box, el("p", { class: "note" }, "no explainer"), el("p", { class: "note" }, document.missing)); return; }
  if (!document.explanations.length) { fill(box, el("p", { class: "note" }, "no explanation yet")); return; }
  fill(box, ...document.explanations.map((e) => el("div", { class: "explanation" },
    el("strong", {}, `${e.method} on ${e.version}`), ` prediction ${JSON.stringify(e.prediction)}; `,
    (e.ranking ?? []).slice(0, 5).map((f) => `${f} ${fmt(e.attributions?.[f])}`).join(", "))));
}

async function poll() {
  if (polling) return;
  polling = true;
  try {
    const list = await api("");
    if (!list.deployments.some((d) => d.deployment === selected)) selected = list.deployments[0]?.deployment ?? null;
    renderList(list.deployments);
    if (selected) {
      const path = "/" + encodeURIComponent(selected);
      const [detail, history, ab, metrics] = await Promise.all([api(path), api(path + "/history"), api(path + "/ab"), api(path + "/metrics")]);
      renderDetail(detail, history);
      renderMetrics(metrics);
      renderAb(ab);
      if (polls % EXPLAIN_EVERY === 0) renderExplanations(await api(path + "/explanations?limit=5"));
    }
    polls += 1;
    showError("");
    $("status").textContent = "updated " + clock(Date.now());
  } catch (error) {
    const hint = token() ? "" : " (give the controller token above; tfprod up: the admin token file)";
    showError(error instanceof ApiError ? `controller API refused (${error.status}): ${error.message}${hint}` : `controller unreachable: ${error.message}`);
    $("status").textContent = "not updated since " + clock(Date.now());
  } finally {
    polling = false;
  }
}

async function command(kind) {
  const result = $("command-result");
  result.className = "";
  result.textContent = `${kind}: sending`;
  try {
    await api("/" + encodeURIComponent(selected) + "/" + kind, "POST");
    result.textContent = `${kind} accepted for ${selected}: applied at the controller's next tick`;
  } catch (error) {
    result.className = "refused";
    result.textContent = `${kind} refused (${error.status ?? "unreachable"}): ${error.message}`;
  }
  poll();
}

takeTokenFromFragment();
$("token").value = token();
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  polls = 0;
  poll();
});
$("forget").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); $("token").value = ""; poll(); });
for (const button of document.querySelectorAll("#commands button")) {
  button.addEventListener("click", () => command(button.dataset.command));
}
poll();
setInterval(poll, POLL_MS);
