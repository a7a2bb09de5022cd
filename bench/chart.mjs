// Latency versus offered rate, one line per target, p50 and p99 side by side, drawn as SVG and
// rasterised with resvg (a wasm/prebuilt renderer: no native build tools needed).
import { Resvg } from '@resvg/resvg-js';

const COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#9d755d'];
const escapeXml = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function panel({ x0, y0, width, height, title, rates, series, pick }) {
  const values = series
    .flatMap((line) => line.points.filter((p) => !p.saturated).map(pick))
    .filter((v) => v > 0);
  const low = 10 ** Math.floor(Math.log10(Math.min(...values, 1)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(...values, 10)));
  const yOf = (v) =>
    y0 + height - ((Math.log10(Math.max(v, low)) - Math.log10(low)) / Math.log10(high / low)) * height;
  const xOf = (index) => x0 + ((index + 0.5) / rates.length) * width;
  const parts = [
    `<text x="${x0 + width / 2}" y="${y0 - 12}" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${x0}" y="${y0}" width="${width}" height="${height}" fill="none" stroke="#999"/>`,
  ];
  for (let decade = low; decade <= high; decade *= 10) {
    const y = yOf(decade);
    parts.push(`<line x1="${x0}" x2="${x0 + width}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end" font-size="11">${decade} ms</text>`);
  }
  rates.forEach((rate, index) => {
    parts.push(
      `<text x="${xOf(index)}" y="${y0 + height + 16}" text-anchor="middle" font-size="11">${rate}/s</text>`,
    );
  });
  series.forEach((line, lineIndex) => {
    const color = COLORS[lineIndex % COLORS.length];
    const drawn = line.points
      .map((point) => ({ point, index: rates.indexOf(point.rate) }))
      .filter(({ point, index }) => index >= 0 && !point.saturated && pick(point) > 0);
    if (drawn.length > 1) {
      const path = drawn.map(({ point, index }) => `${xOf(index)},${yOf(pick(point))}`).join(' ');
      parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    for (const { point, index } of drawn) {
      parts.push(`<circle cx="${xOf(index)}" cy="${yOf(pick(point))}" r="3.5" fill="${color}"/>`);
    }
    for (const point of line.points.filter((p) => p.saturated)) {
      const x = xOf(rates.indexOf(point.rate));
      parts.push(
        `<text x="${x}" y="${y0 + 14 + lineIndex * 12}" text-anchor="middle" font-size="11" fill="${color}">✕ saturated</text>`,
      );
    }
  });
  return parts.join('\n');
}

/** series: [{ name, points: [{ rate, p50, p99, saturated }] }] → PNG bytes. */
export function latencyChartPng({ title, rates, series }) {
  const width = 1100;
  const height = 520;
  const legend = series
    .map((line, index) => {
      const x = 80 + (index % 4) * 250;
      const y = height - 52 + Math.floor(index / 4) * 20;
      const color = COLORS[index % COLORS.length];
      return `<rect x="${x}" y="${y}" width="14" height="14" fill="${color}"/><text x="${x + 20}" y="${y + 12}" font-size="12">${escapeXml(line.name)}</text>`;
    })
    .join('\n');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="24" text-anchor="middle" font-size="17" font-weight="bold">${escapeXml(title)}</text>
${panel({ x0: 80, y0: 70, width: 440, height: 340, title: 'p50 latency (open loop, from scheduled send)', rates, series, pick: (p) => p.p50 })}
${panel({ x0: 620, y0: 70, width: 440, height: 340, title: 'p99 latency', rates, series, pick: (p) => p.p99 })}
${legend}
</svg>`;
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } })
    .render()
    .asPng();
  return { svg, png };
}
