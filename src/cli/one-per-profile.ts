/**
 * One hail per profile: the first profile given twice, as the indexes of its two places (the
 * earlier first), or null when every one is given once.
 */
export function profileGivenTwice(profiles: readonly string[]): [first: number, again: number] | null {
  const seen = new Map<string, number>();
  for (const [again, profile] of profiles.entries()) {
    const first = seen.get(profile);
    if (first !== undefined) return [first, again];
    seen.set(profile, again);
  }
  return null;
}
