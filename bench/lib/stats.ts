// Small statistics helpers.

export function median(values: readonly number[]): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Picks a key by weight. */
export function weighted<K extends string>(weights: readonly (readonly [K, number])[]): () => K {
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  return () => {
    let r = Math.random() * total;
    for (const [k, w] of weights) if ((r -= w) < 0) return k;
    return weights[weights.length - 1][0];
  };
}

export const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];
