// deploy: The verified release a pass goes by: its signer logged once per release and kept in the
// state file.
import type { Log } from "../log.js";
import type { ReleaseView } from "../release/confirm.js";
import { describeRelease } from "../release/confirm.js";
import type { State } from "../state/schema.js";
import type { StateStore } from "../state/state-store.js";
import { releaseRecord } from "../resolve/signed-decide.js";

/**
 * The verified release: its signer logged once per release, and kept in the state file (for
 * status and the metrics of later runs) when it changed.
 */
export async function noteRelease(
  deps: { log: Log; store: StateStore; now: () => Date },
  state: State,
  release: ReleaseView,
  session: { loggedRelease?: string },
): Promise<State> {
  const said = `${release.build} ${release.fingerprint} ${release.principal}`;
  const fields = { principal: release.principal, fingerprint: release.fingerprint, signedBuildId: release.build, expires: release.expires ?? undefined };
  if (session.loggedRelease === said) deps.log.debug(`release verified: ${describeRelease(release)}`, fields);
  else deps.log.info(`release verified: ${describeRelease(release)}`, fields);
  session.loggedRelease = said;
  const record = releaseRecord(state.release, release, deps.now().toISOString());
  if (JSON.stringify(record) === JSON.stringify(state.release)) return state;
  return deps.store.update((s) => ({ ...s, release: releaseRecord(s.release, release, deps.now().toISOString()) }));
}
