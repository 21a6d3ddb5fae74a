/**
 * Figures as data: pure functions from numbers to plotly specs ({ data, layout }). The CLI
 * exports them (figures.ts), notebooks display them; neither computes anything else.
 */

export type Figure = { data: Record<string, unknown>[]; layout: Record<string, unknown> };

export const FONT = 'DejaVu Sans';
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function color(i: number): string {
  return PALETTE[i % PALETTE.length];
}

function baseLayout(title: string, x: string, y: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: { text: title, font: { size: 15 } },
    font: { family: FONT, size: 12 },
    xaxis: { title: { text: x }, zeroline: false, gridcolor: '#e5e5e5' },
    yaxis: { title: { text: y }, zeroline: false, gridcolor: '#e5e5e5' },
    width: 640,
    height: 400,
    margin: { l: 64, r: 20, t: 48, b: 56 },
    plot_bgcolor: '#ffffff',
    paper_bgcolor: '#ffffff',
    legend: { orientation: 'h', y: -0.2 },
    ...extra,
  };
}

export type Series = { name: string; x: number[]; y: number[]; lo?: number[]; hi?: number[]; dash?: string };

/** Lines, each with an optional shaded band (e.g. a 95% CI over seeds). */
export function lineFigure(
  title: string,
  xTitle: string,
  yTitle: string,
  series: Series[],
  extra: Record<string, unknown> = {},
): Figure {
  const data: Record<string, unknown>[] = [];
  series.forEach((s, i) => {
    const c = color(i);
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
      mode: 'lines',
      line: { color: c, width: 2, dash: s.dash ?? 'solid' },
    });
  });
  return { data, layout: baseLayout(title, xTitle, yTitle, extra) };
}

export type Bar = { group: string; name: string; value: number; err?: number };

/** Grouped bars with error bars (rows × metrics). */
export function barFigure(title: string, yTitle: string, bars: Bar[]): Figure {
  const names = [...new Set(bars.map((b) => b.name))];
  const groups = [...new Set(bars.map((b) => b.group))];
  const data = names.map((n, i) => {
    const bs = groups.map((g) => bars.find((b) => b.group === g && b.name === n));
    return {
      type: 'bar',
      name: n,
      x: groups,
      y: bs.map((b) => b?.value ?? null),
      error_y: {
        type: 'data',
        array: bs.map((b) => (b?.err !== undefined && Number.isFinite(b.err) ? b.err : 0)),
        visible: true,
        thickness: 1.2,
      },
      marker: { color: color(i) },
    };
  });
  return { data, layout: baseLayout(title, '', yTitle, { barmode: 'group' }) };
}

/** A heatmap with its values written in the cells. */
export function heatmapFigure(
  title: string,
  xTitle: string,
  yTitle: string,
  x: (number | string)[],
  y: (number | string)[],
  z: number[][],
  text?: string[][],
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
        text: text ?? z.map((r) => r.map((v) => (Number.isFinite(v) ? v.toFixed(1) : '–'))),
        texttemplate: '%{text}',
        hoverinfo: 'skip',
      },
    ],
    layout: baseLayout(title, xTitle, yTitle, {
      xaxis: { title: { text: xTitle }, type: 'category' },
      yaxis: { title: { text: yTitle }, type: 'category' },
    }),
  };
}

function hexAlpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}
