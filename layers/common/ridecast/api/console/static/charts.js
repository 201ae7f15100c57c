// SVG charts drawn in the browser from the API's figures (no image is built on the server). Bars are laid
// out left to right in the SVG's own coordinates; in a right-to-left page the whole chart is mirrored by CSS
// (its text kept upright), so time still flows the way the reader reads.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 480;
const HEIGHT = 200;
const MARGIN = { top: 12, right: 8, bottom: 36, left: 36 };

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A bar chart: bars [{label, value, title}], values from 0 to `max` (default: the largest value). */
export function barChart({ title, bars, max, formatValue = String }) {
  const chart = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-label": title,
    class: "chart",
  });
  chart.append(svg("title", {}, title));
  const top = max ?? Math.max(1, ...bars.map((bar) => bar.value));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const step = plotWidth / Math.max(1, bars.length);
  const axis = svg("g", { class: "axis" });
  axis.append(
    svg("line", { x1: MARGIN.left, y1: MARGIN.top + plotHeight, x2: WIDTH - MARGIN.right, y2: MARGIN.top + plotHeight }),
    svg("text", { x: MARGIN.left - 4, y: MARGIN.top + 4, "text-anchor": "end" }, formatValue(top)),
    svg("text", { x: MARGIN.left - 4, y: MARGIN.top + plotHeight, "text-anchor": "end" }, formatValue(0)),
  );
  chart.append(axis);
  const labelEvery = Math.ceil(bars.length / 12);
  bars.forEach((bar, index) => {
    const height = top ? (bar.value / top) * plotHeight : 0;
    const x = MARGIN.left + index * step;
    const rect = svg("rect", {
      class: "bar",
      x: x + step * 0.1,
      y: MARGIN.top + plotHeight - height,
      width: step * 0.8,
      height: Math.max(height, 0),
    });
    rect.append(svg("title", {}, bar.title ?? `${bar.label}: ${formatValue(bar.value)}`));
    chart.append(rect);
    if (index % labelEvery === 0) {
      chart.append(
        svg("text", { class: "label", x: x + step / 2, y: HEIGHT - MARGIN.bottom + 14, "text-anchor": "middle" }, bar.label),
      );
    }
  });
  return chart;
}
