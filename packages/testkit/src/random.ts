/**
 * mulberry32: a tiny seeded generator of numbers in [0, 1), so a synthetic fleet or a fuzz corpus is
 * the same on every run and a failing case can be replayed from its seed. Kept bit-for-bit: the
 * prediction-quality figures in docs/benchmarks.md were measured on its output.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
