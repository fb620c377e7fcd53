/** Small statistics for the report: percentiles of samples, and the spread of repetitions. */

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Rounds to 3 significant decimals at most (enough for ms and ratios, short in JSON). */
export function round(n: number): number {
  if (!Number.isFinite(n)) return n;
  const digits = Math.abs(n) >= 100 ? 1 : 3;
  return Number(n.toFixed(digits));
}

/** The p-th percentile (0-100) by nearest rank; NaN for no samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] ?? NaN)
      : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
  return {
    median: round(median),
    min: round(sorted[0] ?? NaN),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

/** One spread per key, from repetitions that each measured the same keys. */
export function spreads(reps: Record<string, number>[]): Record<string, Spread> {
  const out: Record<string, Spread> = {};
  for (const key of Object.keys(reps[0] ?? {})) out[key] = spread(reps.map((r) => r[key] ?? NaN));
  return out;
}

/** chainr / baseline of one figure's median; null when either is missing. */
export function ratio(chainr: Spread | undefined, baseline: Spread | undefined): number | null {
  if (!chainr || !baseline || !(baseline.median > 0) || !Number.isFinite(chainr.median))
    return null;
  return round(chainr.median / baseline.median);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
