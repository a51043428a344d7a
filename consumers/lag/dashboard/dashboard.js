// sharebus-lag's dashboard: reads the daemon's own API and redraws itself every few seconds
// (?refresh=SECONDS, default 5).  Every name from the API is put in as text, never as HTML.
"use strict";

const refreshSeconds = Math.max(1, Number(new URLSearchParams(location.search).get("refresh")) || 5);
const STATUS_ORDER = ["OK", "WARN", "REWIND", "STALL", "STOP", "ERR"];
const PALETTE = ["#1d3557", "#e76f51", "#2a9d57", "#e9a100", "#7b5ea7", "#457b9d", "#c1121f", "#6c757d"];
let chart = null;
let chartKey = "";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return e;
}

function count(n) {
  return n == null ? "–" : Number(n).toLocaleString("en");
}

function duration(s) {
  if (s == null) return "–";
  if (s === 0) return "0 s";
  if (s < 1) return "< 1 s";
  if (s < 120) return Math.round(s) + " s";
  if (s < 7200) return Math.round(s / 60) + " min";
  if (s < 172800) return (s / 3600).toFixed(1) + " h";
  return (s / 86400).toFixed(1) + " d";
}

function badge(status) {
  return el("span", { class: "status status-" + status }, status);
}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

function renderGroups(groups) {
  const body = document.querySelector("#groups tbody");
  body.replaceChildren();
  const worstFirst = [...groups].sort((a, b) => STATUS_ORDER.indexOf(b.status) - STATUS_ORDER.indexOf(a.status));
  for (const g of worstFirst) {
    body.append(el("tr", { "data-group": g.group, "data-status": g.status },
      el("td", {}, badge(g.status)), el("td", {}, g.group), el("td", { class: "num" }, count(g.lag)),
      el("td", { class: "num" }, duration(g.lag_seconds)), el("td", { class: "num" }, count(g.partitions.length)),
      el("td", {}, g.reason)));
  }
  document.getElementById("groups-empty").hidden = groups.length > 0;
  const byStatus = {};
  for (const g of groups) byStatus[g.status] = (byStatus[g.status] || 0) + 1;
  const parts = STATUS_ORDER.filter((s) => byStatus[s]).map((s) => byStatus[s] + " " + s);
  document.getElementById("summary").textContent = groups.length + " groups" + (parts.length ? ": " + parts.join(", ") : "");
}

function renderPartitions(groups) {
  const box = document.getElementById("partitions");
  const open = new Set([...box.querySelectorAll("details[open]")].map((d) => d.dataset.group));
  box.replaceChildren();
  for (const g of groups) {
    const rows = g.partitions.map((p) => el("tr", { "data-partition": p.topic + "/" + p.partition },
      el("td", {}, p.topic), el("td", { class: "num" }, p.partition), el("td", {}, badge(p.status)),
      el("td", { class: "num" }, count(p.committed)), el("td", { class: "num" }, count(p.log_end)),
      el("td", { class: "num" }, count(p.lag)), el("td", { class: "num" }, duration(p.lag_seconds)),
      el("td", {}, p.reason)));
    const table = el("table", {}, el("thead", {}, el("tr", {}, ...["topic", "partition", "status", "committed",
      "log end", "behind", "oldest unread", "reason"].map((h) => el("th", {}, h)))), el("tbody", {}, ...rows));
    const d = el("details", { "data-group": g.group }, el("summary", {}, badge(g.status), " ", g.group, " – ",
      count(g.lag) + " behind"), table);
    d.open = open.has(g.group) || g.status !== "OK";
    box.append(d);
  }
}

function renderChart(history) {
  const measure = document.getElementById("measure").value;
  const names = history.groups.map((g) => g.group);
  const data = [history.t, ...history.groups.map((g) => g[measure])];
  const key = measure + "|" + names.join("\n");
  const box = document.getElementById("chart");
  const width = Math.max(320, box.clientWidth - 16);
  if (chart && key === chartKey) {
    chart.setData(data);
    return;
  }
  if (chart) chart.destroy();
  chartKey = key;
  const series = [{}, ...names.map((n, i) => ({ label: n, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false,
    value: (u, v) => (measure === "lag" ? count(v) : duration(v)) }))];
  chart = new uPlot({
    width, height: 300, series, scales: { x: { time: true } },
    axes: [{}, { label: measure === "lag" ? "messages behind" : "seconds behind", size: 70 }],
    legend: { live: true },
  }, data, box);
}

function renderScorecard(sc) {
  const body = document.querySelector("#scorecard tbody");
  const dead = document.querySelector("#dead-letters tbody");
  body.replaceChildren();
  dead.replaceChildren();
  const totals = document.getElementById("scorecard-totals");
  if (!sc.departments) {
    totals.textContent = sc.error || "not counted yet";
    return;
  }
  const t = sc.totals;
  totals.textContent = t.datasets + " datasets, " + count(t.changes_last_day) + " changes in the last day; " +
    t.datasets_silent_last_day + " silent for a day, " + t.datasets_without_subscribers + " without a subscriber" +
    (sc.registry && sc.registry.error ? "; registry: " + sc.registry.error : "") +
    " (counted " + new Date(sc.counted_at).toLocaleTimeString() + ")";
  for (const d of sc.departments) {
    for (const ds of d.datasets) {
      const subs = el("td", {});
      for (const s of ds.subscribers) {
        subs.append(el("div", { "data-subscriber": s.group }, badge(s.status), " ", s.group, " (", duration(s.lag_seconds), ")"));
      }
      if (!ds.subscribers.length) subs.append(el("span", { class: "silent" }, "no subscriber"));
      const day = el("td", { class: "num" + (ds.changes_last_day ? "" : " silent") }, count(ds.changes_last_day));
      body.append(el("tr", { "data-dataset": ds.topic }, el("td", {}, d.department), el("td", {}, ds.dataset),
        el("td", {}, ds.schema_version == null ? "–" : "v" + ds.schema_version),
        el("td", { class: "num" }, count(ds.changes_last_hour)), day, subs,
        el("td", { class: "num" }, d.rejects ? count(d.rejects.last_day) : "–")));
    }
  }
  for (const q of sc.dead_letters) {
    dead.append(el("tr", { "data-topic": q.topic }, el("td", {}, q.topic), el("td", { class: "num" }, count(q.last_hour)),
      el("td", { class: "num" }, count(q.last_day)), el("td", { class: "num" }, count(q.kept))));
  }
}

async function refresh() {
  try {
    const list = await getJson("/api/v1/groups");
    const groups = await Promise.all(list.groups.map((g) => getJson("/api/v1/groups/" + encodeURIComponent(g.group))));
    renderGroups(groups);
    renderPartitions(groups);
    renderChart(await getJson("/api/v1/history"));
    renderScorecard(await getJson("/api/v1/scorecard"));
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById("updated").textContent = "cannot reach sharebus-lag: " + e.message;
  }
}

document.getElementById("measure").addEventListener("change", () => { chartKey = ""; refresh(); });
refresh();
setInterval(refresh, refreshSeconds * 1000);
