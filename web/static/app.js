// kpi dashboard: reads the catalogue from GET /v1/kpis and one KPI from
// GET /v1/kpis/{name}; every request carries the key typed in the header.
"use strict";
const $ = (id) => document.getElementById(id);
const colors = ["#3b6fd8", "#d8663b", "#2e9e6b", "#9b59b6", "#c0a020", "#555"];
let catalogue = [];

$("key").value = localStorage.getItem("kpi-key") || "";
$("key").addEventListener("change", () => {
  localStorage.setItem("kpi-key", $("key").value);
  loadCatalogue();
});

function headers() {
  const key = $("key").value.trim();
  return key ? { Authorization: "Bearer " + key } : {};
}

async function api(path) {
  const resp = await fetch(path, { headers: headers() });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.error || resp.status + " " + resp.statusText);
  return body;
}

function option(select, value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text || value;
  select.appendChild(o);
}

async function loadCatalogue() {
  try {
    const cat = await api("/v1/kpis");
    catalogue = cat.kpis;
    $("kpi").innerHTML = "";
    const groups = new Map();
    for (const k of catalogue) {
      if (!groups.has(k.category)) {
        const g = document.createElement("optgroup");
        g.label = k.category;
        groups.set(k.category, g);
        $("kpi").appendChild(g);
      }
      option(groups.get(k.category), k.name, k.name + " (" + k.unit + ")");
    }
    $("window").innerHTML = "";
    cat.windows.forEach((w) => option($("window"), w));
    $("window").value = "day";
    describe();
    $("error").textContent = "";
  } catch (e) {
    $("error").textContent = "Catalogue: " + e.message;
  }
}

function describe() {
  const k = catalogue.find((x) => x.name === $("kpi").value);
  if (!k) return;
  $("about").textContent = k.description + " Formula: " + k.formula + ".";
  $("group").innerHTML = '<option value="">(none)</option>';
  (k.dimensions || []).forEach((d) => option($("group"), d));
}
$("kpi").addEventListener("change", describe);

function queryString(format) {
  const p = new URLSearchParams({ from: $("from").value, to: $("to").value,
    window: $("window").value, tz: $("tz").value || "UTC" });
  if ($("group").value) p.set("group_by", $("group").value);
  if ($("compare").checked) p.set("compare", "previous");
  if (format) p.set("format", format);
  return p.toString();
}

$("csv").addEventListener("click", async (ev) => {
  ev.preventDefault();
  const resp = await fetch("/v1/kpis/" + $("kpi").value + "?" + queryString("csv"),
    { headers: headers() });
  const url = URL.createObjectURL(await resp.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: $("kpi").value + ".csv" });
  a.click();
  URL.revokeObjectURL(url);
});

$("query").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const ans = await api("/v1/kpis/" + $("kpi").value + "?" + queryString());
    render(ans);
    $("error").textContent = "";
  } catch (e) {
    $("error").textContent = e.message;
  }
});

function seriesOf(ans) {
  const dim = (ans.group_by || [])[0];
  const series = new Map();
  for (const r of ans.rows) {
    const name = dim ? (r.group || {})[dim] || "(empty)" : ans.kpi.name;
    if (!series.has(name)) series.set(name, []);
    series.get(name).push({ t: Date.parse(r.window_start), v: r.value });
  }
  return series;
}

function render(ans) {
  const series = seriesOf(ans);
  const points = [...series.values()].flat().filter((p) => p.v !== null);
  const svg = $("chart");
  svg.innerHTML = "";
  if (points.length) {
    const t0 = Math.min(...points.map((p) => p.t)), t1 = Math.max(...points.map((p) => p.t));
    const v1 = Math.max(...points.map((p) => p.v), 0) || 1;
    const x = (t) => (t1 === t0 ? 400 : 20 + ((t - t0) / (t1 - t0)) * 760);
    const y = (v) => 220 - (v / v1) * 200;
    [...series.entries()].slice(0, colors.length).forEach(([, pts], i) => {
      const d = pts.filter((p) => p.v !== null)
        .map((p, j) => (j ? "L" : "M") + x(p.t).toFixed(1) + " " + y(p.v).toFixed(1)).join(" ");
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", colors[i]);
      path.setAttribute("stroke-width", "2");
      svg.appendChild(path);
      // A dot per value, so that a single window still shows.
      pts.filter((p) => p.v !== null).forEach((p) => {
        const c = document.createElementNS("http://www.w3.org/2000/svg", "circle");
        c.setAttribute("cx", x(p.t).toFixed(1));
        c.setAttribute("cy", y(p.v).toFixed(1));
        c.setAttribute("r", "3");
        c.setAttribute("fill", colors[i]);
        svg.appendChild(c);
      });
    });
  }
  // Goal and previous-period columns appear when some row has them.
  const dims = ans.group_by || [];
  const goals = ans.rows.some((r) => r.goal), prev = ans.rows.some((r) => r.previous);
  const head = ["window start", ...dims, ans.kpi.name + " (" + ans.kpi.unit + ")"];
  if (goals) head.push("target", "progress", "status");
  if (prev) head.push("previous", "change");
  const tr0 = document.createElement("tr");
  head.forEach((h) => (tr0.appendChild(document.createElement("th")).textContent = h));
  $("rows").tHead.replaceChildren(tr0);
  const body = $("rows").tBodies[0];
  body.innerHTML = "";
  for (const r of ans.rows) {
    const tr = body.insertRow();
    const cells = [r.window_start, ...dims.map((d) => (r.group || {})[d] || ""), shown(r)];
    if (goals) {
      const g = r.goal || {};
      cells.push(g.target || "", pct(g.progress_percent), (g.status || "").replace("_", " "));
    }
    if (prev) {
      const p = r.previous || {};
      cells.push(r.previous ? shown(p) : "", pct(p.change_percent));
    }
    cells.forEach((c) => (tr.insertCell().textContent = c));
  }
}

// shown is a value as text: the exact decimal when there is one.
function shown(v) {
  if (v.exact) return v.exact;
  return v.value === null || v.value === undefined ? "null" : String(Math.round(v.value * 1e4) / 1e4);
}

function pct(p) {
  return p === null || p === undefined ? "" : (Math.round(p * 10) / 10) + " %";
}

const today = new Date();
$("to").value = today.toISOString().slice(0, 10);
$("from").value = new Date(today - 30 * 864e5).toISOString().slice(0, 10);
loadCatalogue();
