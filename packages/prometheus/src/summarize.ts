/** Compact forms of Prometheus results: per-series statistics, a short shape, shared labels factored out. */

export type Labels = Record<string, string>;
export type Sample = [number, string];

export interface MatrixSeries {
  metric: Labels;
  values?: Sample[];
}

export interface SeriesSummary {
  /** Labels that differ between series (shared ones are in commonLabels). */
  labels: Labels;
  /** Samples in the range. */
  points: number;
  first: number | null;
  last: number | null;
  min: number | null;
  max: number | null;
  avg: number | null;
  /** Sparkline of the series over the range (one character per time bucket; blank = no data). */
  shape: string;
  /** Samples that were NaN or infinite (left out of min/max/avg). */
  nonFinite?: number;
}

export type Stat = 'max' | 'avg' | 'last' | 'min';

/** Prometheus sample value string -> number ("+Inf", "-Inf", "NaN" included). */
export function parseValue(v: string): number {
  switch (v) {
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    case 'NaN':
      return Number.NaN;
    default:
      return Number(v);
  }
}

const finiteOrNull = (n: number) => (Number.isFinite(n) ? n : null);

/** Labels every series shares with the same value (only when there are at least two series). */
export function commonLabels(metrics: Labels[]): Labels {
  if (metrics.length < 2) return {};
  const common: Labels = { ...metrics[0] };
  for (const m of metrics.slice(1)) {
    for (const k of Object.keys(common)) if (m[k] !== common[k]) delete common[k];
  }
  return common;
}

export function withoutLabels(metric: Labels, drop: Labels): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(metric)) if (!(k in drop)) out[k] = v;
  return out;
}

/** {a="1", b="2"}; the metric name leads, outside the braces, like PromQL. */
export function formatLabels(labels: Labels): string {
  const { __name__: name, ...rest } = labels;
  const inner = Object.entries(rest)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  if (name && !inner) return name;
  return `${name ?? ''}{${inner}}`;
}

const BARS = '▁▂▃▄▅▆▇█';

/** One character per bucket of the range, scaled between the series min and max. */
export function sparkline(
  values: Sample[],
  start: number,
  end: number,
  width: number,
  min: number,
  max: number,
): string {
  if (values.length === 0) return '';
  const sums = new Array<number>(width).fill(0);
  const counts = new Array<number>(width).fill(0);
  const span = Math.max(end - start, 1e-9);
  for (const [t, raw] of values) {
    const v = parseValue(raw);
    if (!Number.isFinite(v)) continue;
    const i = Math.min(width - 1, Math.max(0, Math.floor(((t - start) / span) * width)));
    sums[i]! += v;
    counts[i]!++;
  }
  const range = max - min;
  let out = '';
  for (let i = 0; i < width; i++) {
    if (counts[i] === 0) {
      out += ' ';
      continue;
    }
    const v = sums[i]! / counts[i]!;
    out += range > 0 ? BARS[Math.min(7, Math.max(0, Math.round(((v - min) / range) * 7)))] : BARS[3];
  }
  return out.replace(/\s+$/, '');
}

/** Statistics of one series. min/max/avg are over finite samples; avg = sum / count in sample order. */
export function summarizeSeries(
  series: MatrixSeries,
  drop: Labels,
  start: number,
  end: number,
  shapeWidth = 20,
): SeriesSummary {
  const values = series.values ?? [];
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let n = 0;
  let nonFinite = 0;
  for (const [, raw] of values) {
    const v = parseValue(raw);
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    n++;
  }
  const summary: SeriesSummary = {
    labels: withoutLabels(series.metric, drop),
    points: values.length,
    first: values.length ? finiteOrNull(parseValue(values[0]![1])) : null,
    last: values.length ? finiteOrNull(parseValue(values[values.length - 1]![1])) : null,
    min: n ? min : null,
    max: n ? max : null,
    avg: n ? sum / n : null,
    shape: n ? sparkline(values, start, end, shapeWidth, min, max) : '',
  };
  if (nonFinite) summary.nonFinite = nonFinite;
  return summary;
}

/** Sort key: larger first; series without a value last. */
export function byStat(stat: Stat): (a: Pick<SeriesSummary, Stat>, b: Pick<SeriesSummary, Stat>) => number {
  return (a, b) => (b[stat] ?? Number.NEGATIVE_INFINITY) - (a[stat] ?? Number.NEGATIVE_INFINITY);
}

/** Number for text: integers in full, others to 6 significant digits; null -> "-". */
export function num(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(6)));
}
