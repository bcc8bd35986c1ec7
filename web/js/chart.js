// chart.js: small SVG charts drawn from data, no library: a line chart
// for trends (blood pressure, HbA1c, eGFR) and a bar chart for counts
// (views per month). Each chart is an <svg role="img"> with a title and
// a description, and comes with its numbers as a table for screen
// readers and print. Depends on dom.js.

import { h, svg } from './dom.js';

const W = 640;
const H = 220;
const PAD = { l: 48, r: 16, t: 16, b: 36 };

function niceTicks(min, max, count = 5) {
  if (min === max) { min -= 1; max += 1; }
  const span = max - min;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Number(v.toFixed(10)));
  return { lo, hi, ticks };
}

const fmtTickDate = (t) => new Date(t).toLocaleDateString('en-GB', { month: 'short', year: '2-digit', timeZone: 'UTC' });
const fmtFullDate = (t) => new Date(t).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

// lines: [{ label, points: [{ t (ms), v }] }]. Returns a <figure>.
export function lineChart({ title, unit = '', lines, id }) {
  const pts = lines.flatMap((l) => l.points);
  const tMin = Math.min(...pts.map((p) => p.t));
  const tMax = Math.max(...pts.map((p) => p.t));
  const y = niceTicks(Math.min(...pts.map((p) => p.v)), Math.max(...pts.map((p) => p.v)));
  const x = (t) => PAD.l + (tMax === tMin ? 0.5 : (t - tMin) / (tMax - tMin)) * (W - PAD.l - PAD.r);
  const yy = (v) => H - PAD.b - ((v - y.lo) / (y.hi - y.lo)) * (H - PAD.t - PAD.b);
  const titleId = `${id}-t`;
  const descId = `${id}-d`;
  const last = lines.map((l) => `${l.label} ${l.points.at(-1).v}`).join(', ');

  const xTicks = [];
  const nx = Math.min(6, new Set(pts.map((p) => p.t)).size);
  for (let i = 0; i < nx; i++) xTicks.push(nx === 1 ? tMin : tMin + ((tMax - tMin) * i) / (nx - 1));

  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': `${titleId} ${descId}`,
    preserveAspectRatio: 'xMidYMid meet',
  },
  svg('title', { id: titleId }, `${title}${unit ? ` (${unit})` : ''}`),
  svg('desc', { id: descId }, `${pts.length} readings from ${fmtFullDate(tMin)} to ${fmtFullDate(tMax)}; latest ${last}`),
  y.ticks.map((v) => svg('g', { class: 'tick' },
    svg('line', { x1: PAD.l, x2: W - PAD.r, y1: yy(v), y2: yy(v), class: 'grid' }),
    svg('text', { x: PAD.l - 6, y: yy(v) + 4, 'text-anchor': 'end' }, String(v)))),
  xTicks.map((t) => svg('text', { x: x(t), y: H - PAD.b + 18, 'text-anchor': 'middle', class: 'xtick' }, fmtTickDate(t))),
  svg('line', { x1: PAD.l, x2: PAD.l, y1: PAD.t, y2: H - PAD.b, class: 'axis' }),
  svg('line', { x1: PAD.l, x2: W - PAD.r, y1: H - PAD.b, y2: H - PAD.b, class: 'axis' }),
  lines.map((l, i) => svg('g', { class: `series s${i}` },
    svg('polyline', { points: l.points.map((p) => `${x(p.t).toFixed(1)},${yy(p.v).toFixed(1)}`).join(' '), fill: 'none' }),
    l.points.map((p) => svg(i % 2 ? 'rect' : 'circle', i % 2
      ? { x: x(p.t) - 3.5, y: yy(p.v) - 3.5, width: 7, height: 7 }
      : { cx: x(p.t), cy: yy(p.v), r: 4 },
    svg('title', null, `${l.label} ${p.v}${unit ? ` ${unit}` : ''}, ${fmtFullDate(p.t)}`))))));

  const legend = lines.length > 1
    ? h('ul', { class: 'legend' }, lines.map((l, i) => h('li', { class: `s${i}` }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), l.label)))
    : null;

  return h('figure', { class: 'chart-figure', id },
    h('figcaption', null, `${title}${unit ? ` (${unit})` : ''}`),
    chart, legend, valuesTable(title, unit, lines));
}

function valuesTable(title, unit, lines) {
  const dates = [...new Set(lines.flatMap((l) => l.points.map((p) => p.t)))].sort((a, b) => b - a);
  const at = (l, t) => l.points.find((p) => p.t === t)?.v ?? '';
  return h('details', { class: 'chart-values' },
    h('summary', null, 'Show the values'),
    h('table', null,
      h('caption', { class: 'visually-hidden' }, `${title} values`),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Date'), lines.map((l) => h('th', { scope: 'col' }, `${l.label}${unit ? ` (${unit})` : ''}`)))),
      h('tbody', null, dates.map((t) => h('tr', null, h('td', null, fmtFullDate(t)), lines.map((l) => h('td', null, String(at(l, t)))))))));
}

// bars: [{ label, value }]. Returns a <figure>.
export function barChart({ title, bars, id, unit = '' }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const y = niceTicks(0, max, 4);
  const n = Math.max(1, bars.length);
  const bw = (W - PAD.l - PAD.r) / n;
  const yy = (v) => H - PAD.b - (v / y.hi) * (H - PAD.t - PAD.b);
  const titleId = `${id}-t`;
  const descId = `${id}-d`;
  const every = Math.ceil(n / 12);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart bars', role: 'img', 'aria-labelledby': `${titleId} ${descId}` },
    svg('title', { id: titleId }, title),
    svg('desc', { id: descId }, bars.map((b) => `${b.label}: ${b.value}`).join('; ')),
    y.ticks.map((v) => svg('g', { class: 'tick' },
      svg('line', { x1: PAD.l, x2: W - PAD.r, y1: yy(v), y2: yy(v), class: 'grid' }),
      svg('text', { x: PAD.l - 6, y: yy(v) + 4, 'text-anchor': 'end' }, String(v)))),
    bars.map((b, i) => svg('g', { class: 'bar' },
      svg('rect', { x: PAD.l + i * bw + bw * 0.15, y: yy(b.value), width: bw * 0.7, height: Math.max(0, H - PAD.b - yy(b.value)) },
        svg('title', null, `${b.label}: ${b.value}${unit ? ` ${unit}` : ''}`)),
      i % every === 0 ? svg('text', { x: PAD.l + i * bw + bw / 2, y: H - PAD.b + 18, 'text-anchor': 'middle', class: 'xtick' }, b.label) : null)),
    svg('line', { x1: PAD.l, x2: W - PAD.r, y1: H - PAD.b, y2: H - PAD.b, class: 'axis' }));
  return h('figure', { class: 'chart-figure', id },
    h('figcaption', null, title),
    chart,
    h('details', { class: 'chart-values' }, h('summary', null, 'Show the values'),
      h('table', null, h('caption', { class: 'visually-hidden' }, `${title} values`),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Label'), h('th', { scope: 'col' }, 'Value'))),
        h('tbody', null, bars.map((b) => h('tr', null, h('td', null, b.label), h('td', null, String(b.value))))))));
}
