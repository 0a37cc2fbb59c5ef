/**
 * A lock someone else holds, as lock.ts reports it (its `held` result): the fields read here.
 * Spelled out rather than imported, as lock.ts imports this file.
 */
interface Held {
  holder: { pid: number; hostname: string; command: string; since: string };
  where: string | null;
}

/** This very process: a profile named twice, through two spellings of its path. */
export function heldBySelf(lock: Held): boolean {
  return lock.where === null && lock.holder.pid === process.pid;
}

/** Who holds a lock, for an operator: pid, where it runs, what it does, since when. */
export function describeHolder(lock: Held): string {
  const { pid, hostname, command, since } = lock.holder;
  if (heldBySelf(lock)) return `this hail itself (pid ${pid}, ${command}): the profile is named twice, through two spellings of its path (a symlink?)`;
  if (lock.where === null) return `another hail (pid ${pid} on ${hostname}, ${command}, since ${since})`;
  return `another hail (pid ${pid}, ${command}, since ${since}) on ${lock.where}`;
}

/** What to do about it. */
export function lockAdvice(lock: Held): string {
  if (heldBySelf(lock)) return "Name each profile once in the config file";
  if (lock.where === null) return "One hail per profile: stop the other one, or wait for it to finish";
  return "One hail per profile: stop the other one; if it is gone for good, remove the lock file";
}
