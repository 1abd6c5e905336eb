// Admins: a small live dashboard, GET /api/v1/admin/stats polled every few seconds, each
// figure with a sparkline of its recent values (inline SVG).
import { useEffect, useState } from "preact/hooks";
import { html, formatDuration } from "./lib.js";
import { client, state } from "./store.js";

const EVERY_MS = 5000;
const KEEP = 60; // samples: five minutes

// Each figure: the keys it may come under (first present wins), its title and a hint.
const FIGURES = [
  [["connections"], "Connections", "open WebSocket sessions on this node"],
  [["users_online", "sessions"], "Users online", "people with at least one session"],
  [["rooms"], "Live rooms", "conversations with joined sessions"],
  [["messages_per_minute"], "Messages / min", "stored in the last 60 seconds"],
  [["messages_stored"], "Messages stored", "by this node since it started"],
];

function figure(sample, keys) {
  const key = keys.find((k) => sample && typeof sample[k] === "number");
  return key === undefined ? null : sample[key];
}

export function Sparkline({ values, label }) {
  const width = 160;
  const height = 40;
  if (values.length < 2) return html`<svg class="spark" width=${width} height=${height} role="img" aria-label=${`${label}: not enough samples yet`}></svg>`;
  const max = Math.max(1, ...values) * 1.25; // headroom: a steady figure is a line, not a block
  const step = width / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`);
  const area = `0,${height} ${points.join(" ")} ${width},${height}`;
  return html`<svg class="spark" width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} role="img" preserveAspectRatio="none"
    aria-label=${`${label}, last ${values.length} samples, from ${Math.min(...values)} to ${Math.max(...values)}`}>
    <polygon points=${area} class="spark-area" />
    <polyline points=${points.join(" ")} class="spark-line" fill="none" vector-effect="non-scaling-stroke" />
  </svg>`;
}

export function Dashboard() {
  const [samples, setSamples] = useState([]);
  const [error, setError] = useState(null);
  const [health, setHealth] = useState(null);

  useEffect(() => {
    let live = true;
    let timer = null;
    if (!state.me.instance_admin) {
      setError("forbidden"); // the server answers 403 to anyone else: no request, no console error
      return undefined;
    }
    const tick = async () => {
      try {
        const stats = await client.api("GET", "/api/v1/admin/stats");
        if (!live) return;
        setError(null);
        setSamples((list) => [...list.slice(-(KEEP - 1)), stats]);
      } catch (e) {
        if (!live) return;
        setError(e.status === 404 ? "missing" : e.status === 403 ? "forbidden" : e.message);
        if (e.status === 404 || e.status === 403) return; // asking again would not help
      }
      if (live) timer = setTimeout(tick, EVERY_MS);
    };
    tick();
    fetch("/health").then((r) => r.json()).then((h) => live && setHealth(h), () => {});
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, []);

  const last = samples[samples.length - 1];
  return html`<main class="page" aria-labelledby="dash-title">
    <div class="row between">
      <h1 id="dash-title">Dashboard</h1>
      <span class="muted small" data-testid="dash-status">
        ${last ? `Updated every ${EVERY_MS / 1000} s · server up ${formatDuration(last.uptime_s)}` : "Waiting for the first sample…"}
      </span>
    </div>
    ${error === "missing"
      ? html`<p class="banner" role="status">This server has no <code>GET /api/v1/admin/stats</code> yet; the figures appear once it does.</p>`
      : error === "forbidden"
        ? html`<p class="banner" role="status">The server shows these figures to instance admins only.</p>`
        : error ? html`<p class="error" role="alert">${error}</p>` : null}
    <div class="stats" data-testid="dashboard">
      ${FIGURES.filter(([keys]) => !last || figure(last, keys) !== null).map(([keys, title, hint]) => {
        const key = keys[0];
        const values = samples.map((s) => figure(s, keys) || 0);
        return html`<section class="card stat" aria-labelledby=${`stat-${key}`} data-testid=${`stat-${key}`}>
          <h2 id=${`stat-${key}`} class="stat-title">${title}</h2>
          <p class="stat-value">${last ? figure(last, keys) : "–"}</p>
          <${Sparkline} values=${values} label=${title} />
          <p class="muted small">${hint}</p>
        </section>`;
      })}
    </div>
    ${health
      ? html`<p class="muted small">Server ${health.version} · database ${health.database}${health.redis ? ` · redis ${health.redis}` : ""}</p>`
      : null}
  </main>`;
}
