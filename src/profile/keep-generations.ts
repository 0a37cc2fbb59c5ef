/**
 * --keep-generations N: the generations to delete after a successful deployment, never the
 * current one nor the rollback target (the generation from before the attempt).
 */
export function generationsToDelete(all: readonly number[], keep: number, protect: readonly (number | null)[]): number[] {
  const newestFirst = [...all].sort((a, b) => b - a);
  const kept = new Set(newestFirst.slice(0, Math.max(keep, 1)));
  return newestFirst.filter((g) => !kept.has(g) && !protect.includes(g)).sort((a, b) => a - b);
}
