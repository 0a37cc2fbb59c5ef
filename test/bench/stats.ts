// Small pure helpers for the benchmark: order statistics, request-rate buckets, histograms.

/** The q-quantile (0..1) by linear interpolation between closest ranks; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? NaN;
  const b = sorted[hi] ?? NaN;
  return a + (b - a) * (pos - lo);
}

export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

export function mean(samples: readonly number[]): number {
  return samples.length === 0 ? NaN : samples.reduce((s, x) => s + x, 0) / samples.length;
}

/** Counts per bucket of `bucketMs` over [from, to): events outside are ignored. */
export function bucketCounts(times: readonly number[], bucketMs: number, from: number, to: number): number[] {
  const counts = new Array<number>(Math.ceil((to - from) / bucketMs)).fill(0);
  for (const t of times) {
    if (t < from || t >= to) continue;
    const i = Math.floor((t - from) / bucketMs);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts;
}

export interface RateSummary {
  requests: number;
  /** requests per second over the whole window */
  meanPerSecond: number;
  /** the busiest bucket, as requests per second */
  peakPerSecond: number;
  peakToMean: number;
}

/** Mean and peak request rate over [from, to), the peak taken over buckets of `bucketMs`. */
export function rateSummary(times: readonly number[], bucketMs: number, from: number, to: number): RateSummary {
  const counts = bucketCounts(times, bucketMs, from, to);
  const requests = counts.reduce((s, c) => s + c, 0);
  const meanPerSecond = (requests * 1000) / (to - from);
  const peakPerSecond = (Math.max(0, ...counts) * 1000) / bucketMs;
  return { requests, meanPerSecond, peakPerSecond, peakToMean: meanPerSecond === 0 ? NaN : peakPerSecond / meanPerSecond };
}

/** A row of `#` proportional to `value / max`, at most `width` wide. */
export function bar(value: number, max: number, width = 40): string {
  if (max <= 0) return "";
  return "#".repeat(Math.round((value / max) * width));
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function formatRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : "n/a";
}
