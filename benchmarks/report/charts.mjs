// Small self-contained SVG charts for the benchmark report: grouped bars and lines, with a value
// axis from zero, gridlines, labelled values and a legend. Plain SVG 1.1 text, no scripts, so the
// files render on any Markdown viewer and diff as text.

const W = 640;
const H = 320;
const PAD = { left: 64, right: 16, top: 40, bottom: 56 };
const COLORS = ["#2f6fb0", "#e07b28", "#3a9a5b", "#b03a48", "#7a5bb0", "#8c8c8c"];

function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A "nice" axis maximum and tick step covering `max`. */
function niceAxis(max) {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: Math.ceil(max / step) * step, step };
}

function label(v) {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function frame(title, yLabel, top, step) {
  const plotH = H - PAD.top - PAD.bottom;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text transform="translate(16 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
  for (let v = 0; v <= top + step / 2; v += step) {
    const y = PAD.top + plotH - (v / top) * plotH;
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#dddddd"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${label(v)}</text>`);
  }
  return parts;
}

function legend(series) {
  return series.map((s, i) => {
    const x = PAD.left + i * 150;
    const y = H - 14;
    return `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 16}" y="${y}">${esc(s.name)}</text>`;
  });
}

/**
 * Grouped bars: `groups` are the x categories; each series has one value per group (null: no bar).
 * @example barChart({ title: "tok/s", yLabel: "tokens/s", groups: ["0.7B", "2B"], series: [{ name: "1 thread", values: [40, 12] }] })
 */
export function barChart({ title, yLabel, groups, series }) {
  const max = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v != null)));
  const { top, step } = niceAxis(max);
  const parts = frame(title, yLabel, top, step);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const gw = plotW / groups.length;
  const bw = (gw * 0.8) / series.length;
  groups.forEach((g, gi) => {
    const x0 = PAD.left + gi * gw + gw * 0.1;
    series.forEach((s, si) => {
      const v = s.values[gi];
      if (v == null) return;
      const h = (v / top) * plotH;
      const x = x0 + si * bw;
      const y = PAD.top + plotH - h;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[si % COLORS.length]}"/>`,
      );
      parts.push(
        `<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="10">${label(v)}</text>`,
      );
    });
    parts.push(`<text x="${(PAD.left + gi * gw + gw / 2).toFixed(1)}" y="${PAD.top + plotH + 16}" text-anchor="middle">${esc(g)}</text>`);
  });
  parts.push(...legend(series), "</svg>");
  return `${parts.join("\n")}\n`;
}

/**
 * Lines over numeric x values (evenly spaced by index, labelled with the value: 32, 64 … 1024).
 * @example lineChart({ title: "context", yLabel: "tokens/s", xLabel: "position", xs: [32, 1024], series: [{ name: "decode", values: [12, 11] }] })
 */
export function lineChart({ title, yLabel, xLabel, xs, series }) {
  const max = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v != null)));
  const { top, step } = niceAxis(max);
  const parts = frame(title, yLabel, top, step);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const xAt = (i) => PAD.left + (xs.length === 1 ? plotW / 2 : (i / (xs.length - 1)) * (plotW - 40) + 20);
  xs.forEach((x, i) => {
    parts.push(`<text x="${xAt(i).toFixed(1)}" y="${PAD.top + plotH + 16}" text-anchor="middle">${esc(x)}</text>`);
  });
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${PAD.top + plotH + 32}" text-anchor="middle">${esc(xLabel)}</text>`);
  series.forEach((s, si) => {
    const color = COLORS[si % COLORS.length];
    const pts = s.values.map((v, i) => (v == null ? null : [xAt(i), PAD.top + plotH - (v / top) * plotH])).filter(Boolean);
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ")}"/>`,
    );
    s.values.forEach((v, i) => {
      if (v == null) return;
      const x = xAt(i);
      const y = PAD.top + plotH - (v / top) * plotH;
      parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}"/>`);
      parts.push(`<text x="${x.toFixed(1)}" y="${(y - 6).toFixed(1)}" text-anchor="middle" font-size="10">${label(v)}</text>`);
    });
  });
  parts.push(...legend(series), "</svg>");
  return `${parts.join("\n")}\n`;
}
