// @ts-check
// Inline SVG charts of an endpoint's stats `series` (24 buckets, oldest first:
// `{t, succeeded, failed, p50}`). Drawn in a fixed coordinate system and scaled
// by CSS; colours come from the stylesheet (classes), not from attributes.

import { count, ms, percent, s, when } from "./dom.js";

const W = 480;
const H = 160;
const PAD = { left: 44, right: 8, top: 10, bottom: 22 };
const plotW = W - PAD.left - PAD.right;
const plotH = H - PAD.top - PAD.bottom;

function frame(label, ...children) {
  return s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, class: "chart" }, ...children);
}

function hourLabel(iso) {
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** Horizontal grid lines with their labels, and time labels every sixth bucket. */
function axes(series, ticks) {
  const step = plotW / Math.max(1, series.length);
  return [
    ...ticks.map(({ y, label }) => [
      s("line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }),
      s("text", { class: "axis", x: PAD.left - 6, y: y + 4, "text-anchor": "end" }, label),
    ]),
    ...series
      .map((b, i) => (i % 6 === 0 ? s("text", { class: "axis", x: PAD.left + i * step + step / 2, y: H - 6, "text-anchor": "middle" }, hourLabel(b.t)) : null))
      .filter(Boolean),
  ];
}

function rateClass(rate) {
  if (rate === null) return "empty";
  if (rate >= 0.99) return "ok";
  if (rate >= 0.9) return "warn";
  return "bad";
}

/**
 * One bar per bucket, as tall as the bucket's success rate. A bucket without
 * attempts is a flat grey bar, so the time axis stays readable.
 */
export function successChart(series) {
  const step = plotW / Math.max(1, series.length);
  const bars = series.map((b, i) => {
    const total = b.succeeded + b.failed;
    const rate = total === 0 ? null : b.succeeded / total;
    const height = rate === null ? 2 : Math.max(2, rate * plotH);
    const tip =
      rate === null
        ? `${when(b.t)}: no attempts`
        : `${when(b.t)}: ${percent(rate)} of ${count(total)} attempts (${count(b.failed)} failed)`;
    return s(
      "g",
      { class: "bucket" },
      s("title", null, tip),
      s("rect", {
        class: `bar ${rateClass(rate)}`,
        x: (PAD.left + i * step + 1).toFixed(1),
        y: (PAD.top + plotH - height).toFixed(1),
        width: Math.max(1, step - 2).toFixed(1),
        height: height.toFixed(1),
        "data-rate": rate === null ? "" : rate.toFixed(4),
      }),
    );
  });
  const ticks = [0, 0.5, 1].map((r) => ({ y: PAD.top + plotH - r * plotH, label: `${r * 100}%` }));
  return frame("Success rate per hour", axes(series, ticks), bars);
}

/** A round upper bound for the latency axis: 1, 2 or 5 times a power of ten. */
function niceMax(value) {
  if (value <= 0) return 10;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= value);
}

/** p50 latency per bucket: a point per bucket that had attempts, joined where adjacent. */
export function latencyChart(series) {
  const step = plotW / Math.max(1, series.length);
  const max = niceMax(Math.max(0, ...series.map((b) => b.p50 ?? 0)));
  const x = (i) => PAD.left + i * step + step / 2;
  const y = (v) => PAD.top + plotH - (v / max) * plotH;

  const lines = [];
  let run = [];
  const flush = () => {
    if (run.length > 1) lines.push(s("polyline", { class: "line", points: run.join(" ") }));
    run = [];
  };
  const points = [];
  series.forEach((b, i) => {
    if (b.p50 === null) {
      flush();
      return;
    }
    run.push(`${x(i).toFixed(1)},${y(b.p50).toFixed(1)}`);
    points.push(
      s(
        "circle",
        { class: "point", cx: x(i).toFixed(1), cy: y(b.p50).toFixed(1), r: 3, "data-p50": b.p50 },
        s("title", null, `${when(b.t)}: p50 ${ms(b.p50)}`),
      ),
    );
  });
  flush();
  const ticks = [0, 0.5, 1].map((f) => ({ y: PAD.top + plotH - f * plotH, label: ms(f * max).replace(" ", "\u202f") }));
  return frame("Latency p50 per hour", axes(series, ticks), lines, points);
}

/** A small success-rate strip for a list of endpoints (no axes). */
export function sparkline(series) {
  const w = 120;
  const hgt = 28;
  const step = w / Math.max(1, series.length);
  return s(
    "svg",
    { viewBox: `0 0 ${w} ${hgt}`, class: "spark", role: "img", "aria-label": "Success rate, last 24 hours" },
    series.map((b, i) => {
      const total = b.succeeded + b.failed;
      const rate = total === 0 ? null : b.succeeded / total;
      const height = rate === null ? 2 : Math.max(2, rate * hgt);
      return s("rect", {
        class: `bar ${rateClass(rate)}`,
        x: (i * step + 0.5).toFixed(1),
        y: (hgt - height).toFixed(1),
        width: Math.max(1, step - 1).toFixed(1),
        height: height.toFixed(1),
      });
    }),
  );
}
