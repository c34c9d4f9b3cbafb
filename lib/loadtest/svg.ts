/**
 * SVG chart of a load study: latency (p50 dashed, p95 solid), throughput and failed requests
 * against load (requests per level, log scale), one colour per series. Pure: numbers in, text out.
 */
import type { LevelResult, Series } from "./stats";

export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

export interface ChartOptions {
  readonly title?: string;
  /** Optional caption under the title (machine, date). */
  readonly subtitle?: string;
  readonly width?: number;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fmt = (x: number) => (Math.round(x * 10) / 10).toString();

/** Smallest 1/2/5×10^k at or above x (x > 0); 1 for x <= 0. */
export function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const e = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 2, 5, 10]) if (m * e >= x - 1e-9 * e) return m * e;
  return 10 * e;
}

interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly lines: readonly { readonly value: (l: LevelResult) => number | null; readonly dash?: string }[];
  /** Fixed axis maximum (else niceMax of the data). */
  readonly max?: number;
}

const PANELS: readonly Panel[] = [
  {
    title: "latency of successful requests (p95 solid, p50 dashed)",
    unit: "ms",
    lines: [{ value: (l) => l.latencyMs?.p95 ?? null }, { value: (l) => l.latencyMs?.p50 ?? null, dash: "5 4" }],
  },
  { title: "throughput (successful requests per second)", unit: "req/s", lines: [{ value: (l) => l.throughput }] },
  {
    title: "failed requests (5xx, timeouts, connection errors, incomplete)",
    unit: "%",
    max: 100,
    lines: [{ value: (l) => (100 * l.failed) / l.requests }],
  },
];

/** Render the chart. Throws on an empty study (nothing to draw). */
export function renderChart(series: readonly Series[], opts: ChartOptions = {}): string {
  const levels = [...new Set(series.flatMap((s) => s.levels.map((l) => l.requests)))].sort((a, b) => a - b);
  if (levels.length === 0) throw new Error("renderChart: no levels to draw");
  const W = opts.width ?? 880;
  const left = 70;
  const right = 20;
  const panelH = 190;
  const gap = 60;
  const top = 70 + (opts.subtitle ? 18 : 0);
  const legendH = 24 * Math.ceil(series.length / 5);
  const H = top + legendH + PANELS.length * (panelH + gap) + 10;
  const plotW = W - left - right;
  const lo = Math.log2(levels[0]);
  const hi = Math.log2(levels[levels.length - 1]);
  const x = (n: number) => left + (hi === lo ? plotW / 2 : ((Math.log2(n) - lo) / (hi - lo)) * plotW);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="28" text-anchor="middle" font-size="18" font-weight="bold">${esc(opts.title ?? "load study")}</text>`,
  ];
  if (opts.subtitle)
    out.push(`<text x="${W / 2}" y="48" text-anchor="middle" fill="#555">${esc(opts.subtitle)}</text>`);
  series.forEach((s, i) => {
    const lx = left + (i % 5) * 160;
    const ly = top - 16 + 24 * Math.floor(i / 5);
    out.push(
      `<g class="legend"><line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="3"/>`,
      `<text x="${lx + 30}" y="${ly + 4}">${esc(s.label)}</text></g>`,
    );
  });

  PANELS.forEach((p, pi) => {
    const y0 = top + legendH + pi * (panelH + gap) + 20;
    const values = series.flatMap((s) =>
      s.levels.flatMap((l) =>
        p.lines.map((ln) => ln.value(l)).filter((v): v is number => v !== null && Number.isFinite(v)),
      ),
    );
    const max = p.max ?? niceMax(Math.max(0, ...values));
    const y = (v: number) => y0 + panelH - (v / max) * panelH;
    out.push(
      `<g class="panel" data-unit="${esc(p.unit)}">`,
      `<text x="${left}" y="${y0 - 8}" font-weight="bold">${esc(p.title)}</text>`,
    );
    for (let t = 0; t <= 4; t++) {
      const v = (max * t) / 4;
      out.push(
        `<line x1="${left}" y1="${fmt(y(v))}" x2="${W - right}" y2="${fmt(y(v))}" stroke="#ddd"/>`,
        `<text x="${left - 6}" y="${fmt(y(v) + 4)}" text-anchor="end">${esc(String(Number(v.toFixed(2))))}</text>`,
      );
    }
    out.push(
      `<text x="14" y="${y0 + panelH / 2}" transform="rotate(-90 14 ${y0 + panelH / 2})" text-anchor="middle">${esc(p.unit)}</text>`,
    );
    for (const n of levels) {
      out.push(`<text x="${fmt(x(n))}" y="${y0 + panelH + 16}" text-anchor="middle">${n}</text>`);
    }
    out.push(
      `<text x="${left + plotW / 2}" y="${y0 + panelH + 32}" text-anchor="middle" fill="#555">requests per level (n; connections = min(n, concurrency))</text>`,
    );
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${panelH}" fill="none" stroke="#999"/>`);
    series.forEach((s, si) => {
      const color = PALETTE[si % PALETTE.length];
      for (const ln of p.lines) {
        const pts = s.levels.flatMap((l) => {
          const v = ln.value(l);
          return v === null || !Number.isFinite(v) ? [] : [`${fmt(x(l.requests))},${fmt(y(v))}`];
        });
        if (pts.length === 0) continue;
        out.push(
          `<polyline class="series" data-series="${esc(s.label)}" points="${pts.join(" ")}" fill="none" stroke="${color}" stroke-width="2"${ln.dash ? ` stroke-dasharray="${ln.dash}"` : ""}/>`,
        );
        if (!ln.dash)
          for (const pt of pts)
            out.push(`<circle cx="${pt.split(",")[0]}" cy="${pt.split(",")[1]}" r="3" fill="${color}"/>`);
      }
    });
    out.push("</g>");
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
