/**
 * Figures as data: pure functions from numbers to plotly specs ({ data, layout }). The CLI
 * exports them (export.ts, which adds the caption line and lints the result), notebooks display
 * them; neither computes anything else.
 *
 * Layout rules, so that nothing clips or collides (the lint in export.ts checks every export):
 * - margins are computed from the text they must hold (row labels, legend entries, titles);
 * - long category labels go on the vertical axis of horizontal bars, never rotated;
 * - legends sit to the right of the plot or below it in a reserved band, clear of axes, title
 *   and the caption line at the very bottom;
 * - one unit per quantity: accuracies and IoUs in percent, axis titles with their unit.
 */

export type Figure = { data: Record<string, unknown>[]; layout: Record<string, unknown> };

export const FONT = 'DejaVu Sans';
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
/** Average advance of a DejaVu Sans character at 12 px (measured in the export page: 6.9–7.3). */
const CHAR_12 = 7.4;
/** Height reserved at the bottom of every figure for the caption line (export.ts writes it). */
export const CAPTION_BAND = 30;

export function color(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** Text width in pixels at `size` px (an upper-ish estimate, for margins). */
export function textWidth(s: string, size = 12): number {
  return (s.length * CHAR_12 * size) / 12;
}

/** Break a title into lines of at most `max` characters (plotly's <br>). */
export function wrap(s: string, max: number): string {
  const out: string[] = [];
  let line = '';
  for (const w of s.split(' ')) {
    if (line && (line + ' ' + w).length > max) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out.join('<br>');
}

function titleBlock(title: string, width: number): { text: string; lines: number } {
  const text = wrap(title, Math.floor((width - 40) / 8.6));
  return { text, lines: text.split('<br>').length };
}

function baseLayout(
  title: string,
  x: string,
  y: string,
  size: { width: number; height: number; l: number; r: number; b: number; t?: number },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const t = titleBlock(title, size.width);
  // Plotly anchors a multi-line title by its first line; the others follow below it.
  const titleY = 1 - 31 / size.height;
  return {
    title: {
      text: t.text,
      font: { size: 15 },
      x: 0.02,
      xanchor: 'left',
      xref: 'container',
      y: titleY,
      yanchor: 'bottom',
      yref: 'container',
    },
    font: { family: FONT, size: 12 },
    xaxis: { title: { text: x }, zeroline: false, gridcolor: '#e5e5e5', automargin: false },
    yaxis: { title: { text: y }, zeroline: false, gridcolor: '#e5e5e5', automargin: false },
    width: size.width,
    height: size.height,
    margin: { l: size.l, r: size.r, t: size.t ?? 32 + 20 * t.lines, b: size.b + CAPTION_BAND },
    plot_bgcolor: '#ffffff',
    paper_bgcolor: '#ffffff',
    showlegend: true,
    ...extra,
  };
}

/** One line; `hue` picks its palette colour (default: its place in the list), so related lines can share one. */
export type Series = {
  name: string;
  x: number[];
  y: number[];
  lo?: number[];
  hi?: number[];
  dash?: string;
  hue?: number;
};

/** Lines, each with an optional shaded band (e.g. a 95% CI over seeds); the legend to the right. */
export function lineFigure(
  title: string,
  xTitle: string,
  yTitle: string,
  series: Series[],
  extra: Record<string, unknown> = {},
): Figure {
  const data: Record<string, unknown>[] = [];
  series.forEach((s, i) => {
    const c = color(s.hue ?? i);
    if (s.lo && s.hi) {
      data.push({
        x: [...s.x, ...[...s.x].reverse()],
        y: [...s.hi, ...[...s.lo].reverse()],
        fill: 'toself',
        fillcolor: hexAlpha(c, 0.15),
        line: { width: 0 },
        hoverinfo: 'skip',
        showlegend: false,
        type: 'scatter',
        mode: 'lines',
      });
    }
    data.push({
      x: s.x,
      y: s.y,
      name: s.name,
      type: 'scatter',
      // a line through one point draws nothing: a series that short is shown as its point
      mode: s.x.length < 2 ? 'lines+markers' : 'lines',
      line: { color: c, width: 2, dash: s.dash ?? 'solid' },
    });
  });
  const legendW = Math.min(320, 40 + Math.max(...series.map((s) => textWidth(s.name)), 0));
  const width = 80 + 460 + legendW;
  // The x range padded by 4% each side: a first tick label at the plot's corner would touch the
  // y axis's lowest tick label. A single x value is widened to ±1 first (padding a zero span put
  // the first tick, x − 0.04, at the corner).
  const xs = series.flatMap((s) => s.x).filter(Number.isFinite);
  const one = xs.length > 0 && Math.max(...xs) === Math.min(...xs) ? 1 : 0;
  const x0 = Math.min(...xs) - one,
    x1 = Math.max(...xs) + one;
  const xRange = xs.length ? [x0 - 0.04 * (x1 - x0), x1 + 0.04 * (x1 - x0)] : undefined;
  const layout = baseLayout(
    title,
    xTitle,
    yTitle,
    { width, height: 420, l: 80, r: legendW, b: 56 },
    {
      legend: { x: 1.02, xanchor: 'left', y: 1, yanchor: 'top', font: { size: 11 } },
      ...extra,
    },
  );
  if (xRange && !('xaxis' in extra))
    (layout as { xaxis: Record<string, unknown> }).xaxis = {
      ...(layout as { xaxis: Record<string, unknown> }).xaxis,
      range: xRange,
    };
  return { data, layout };
}

/** One row of a table figure: a label and, per metric, the mean, the CI half-width, each seed's value, the paper's
 * value. */
export type RowBars = {
  label: string;
  values: { metric: string; mean: number; err: number; seeds: number[]; paper?: number }[];
};

/**
 * A table as horizontal bars: one panel per metric, rows top to bottom in table order, the 95%
 * CI as an error bar, every seed as a point over its bar, and the paper's number (quoted) as a
 * diamond where it has one.
 */
export function rowsFigure(title: string, rows: RowBars[], unit = '%'): Figure {
  const metrics = [...new Set(rows.flatMap((r) => r.values.map((v) => v.metric)))];
  const labels = rows.map((r) => r.label);
  const l = Math.ceil(16 + Math.max(...labels.map((s) => textWidth(s)), 40));
  const panelW = 260,
    gap = 40;
  const width = l + metrics.length * panelW + (metrics.length - 1) * gap + 20;
  const legendBand = 28;
  const height = 90 + 34 * rows.length + 56 + legendBand;
  const data: Record<string, unknown>[] = [];
  const axes: Record<string, unknown> = {};
  const plotW = width - l - 20;
  let paperShown = false;
  metrics.forEach((m, k) => {
    const xa = k === 0 ? 'x' : `x${k + 1}`;
    const start = (k * (panelW + gap)) / plotW,
      end = (k * (panelW + gap) + panelW) / plotW;
    const vals = rows.map((r) => r.values.find((v) => v.metric === m));
    data.push({
      type: 'bar',
      orientation: 'h',
      name: m,
      x: vals.map((v) => v?.mean ?? null),
      y: labels,
      xaxis: xa,
      yaxis: 'y',
      marker: { color: hexAlpha(color(2 * k), 0.75) },
      error_x: {
        type: 'data',
        array: vals.map((v) => (v && Number.isFinite(v.err) ? v.err : 0)),
        visible: true,
        thickness: 1.2,
        color: '#333',
      },
      showlegend: false,
    });
    const seedX: number[] = [],
      seedY: string[] = [];
    vals.forEach((v, i) => v?.seeds.forEach((s) => (seedX.push(s), seedY.push(labels[i]))));
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: 'one seed',
      x: seedX,
      y: seedY,
      xaxis: xa,
      yaxis: 'y',
      marker: { color: '#222', size: 5, symbol: 'circle-open' },
      showlegend: k === 0,
    });
    const paper = vals
      .map((v, i) => [v?.paper, labels[i]] as const)
      .filter(([p]) => p !== undefined && Number.isFinite(p));
    if (paper.length) {
      data.push({
        type: 'scatter',
        mode: 'markers',
        name: 'paper (quoted, DIOR-RSVG)',
        x: paper.map(([p]) => p),
        y: paper.map(([, y]) => y),
        xaxis: xa,
        yaxis: 'y',
        marker: { color: '#111111', size: 11, symbol: 'diamond-open', line: { width: 2 } },
        showlegend: !paperShown,
      });
      paperShown = true;
    }
    axes[k === 0 ? 'xaxis' : `xaxis${k + 1}`] = {
      domain: [start, Math.min(1, end)],
      title: { text: `${m} (${unit})` },
      rangemode: 'tozero',
      zeroline: false,
      gridcolor: '#e5e5e5',
      anchor: 'y',
    };
  });
  const layout = baseLayout(
    title,
    '',
    '',
    { width, height, l, r: 20, b: 56 + legendBand },
    {
      ...axes,
      yaxis: { autorange: 'reversed', type: 'category', automargin: false, ticks: '', tickfont: { size: 12 } },
      // The legend in its own band under the axis titles, above the caption line.
      legend: { orientation: 'h', x: 0, xanchor: 'left', y: 0, yanchor: 'top', yref: 'paper', font: { size: 11 } },
      bargap: 0.35,
    },
  );
  // Place the legend band below the axis titles: paper y is relative to the plot area.
  const plotH = height - (layout.margin as { t: number }).t - (layout.margin as { b: number }).b;
  (layout.legend as Record<string, unknown>).y = -(50 / plotH);
  return { data, layout };
}

/** A heatmap with its values written in the cells (e.g. R_pos landscapes); sequential scale. */
export function heatmapFigure(
  title: string,
  xTitle: string,
  yTitle: string,
  x: (number | string)[],
  y: (number | string)[],
  z: number[][],
  text?: string[][],
  colorbarTitle = '',
): Figure {
  return {
    data: [
      {
        type: 'heatmap',
        x: x.map(String),
        y: y.map(String),
        z,
        colorscale: 'Viridis',
        showscale: true,
        colorbar: { title: { text: colorbarTitle, side: 'right' }, thickness: 14 },
        text: text ?? z.map((r) => r.map((v) => (Number.isFinite(v) ? v.toFixed(1) : '–'))),
        texttemplate: '%{text}',
        hoverinfo: 'skip',
      },
    ],
    layout: baseLayout(
      title,
      xTitle,
      yTitle,
      { width: 640, height: 480, l: 64, r: 40, b: 56 },
      {
        xaxis: { title: { text: xTitle }, type: 'category' },
        yaxis: { title: { text: yTitle }, type: 'category' },
        showlegend: false,
      },
    ),
  };
}

/**
 * A sweep as differences from its baseline cell, on a diverging scale centred on 0 with a fixed,
 * stated range (noise is not stretched into a pattern). `diff` in points; `sig` marks the cells
 * whose paired interval excludes 0 (drawn with an asterisk); `baseline` is the [row, column] of
 * the reference cell.
 */
export function diffHeatmapFigure(
  title: string,
  xTitle: string,
  yTitle: string,
  x: (number | string)[],
  y: (number | string)[],
  diff: number[][],
  halfWidth: number[][],
  sig: boolean[][],
  baseline: [number, number],
  range: number,
): Figure {
  const text = diff.map((row, i) =>
    row.map((d, j) => {
      if (i === baseline[0] && j === baseline[1]) return 'baseline';
      if (!Number.isFinite(d)) return '–';
      const hw = Number.isFinite(halfWidth[i][j]) ? ` ± ${halfWidth[i][j].toFixed(1)}` : '';
      return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)}${hw}${sig[i][j] ? ' *' : ''}`;
    }),
  );
  const fig = heatmapFigure(title, xTitle, yTitle, x, y, diff, text, `Δ vs baseline (points), fixed ±${range}`);
  Object.assign(fig.data[0], { colorscale: 'RdBu', reversescale: false, zmid: 0, zmin: -range, zmax: range });
  (fig.layout.margin as { r: number }).r = 60;
  fig.layout.width = 700;
  return fig;
}

function hexAlpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}
