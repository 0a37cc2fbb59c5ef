// release: The --allowed-signers file: read under the trusted-file rules and parsed, at every pass.
import { UsageError } from "../errors.js";
import { readFlagFile } from "../flag-file.js";
import type { AllowedSigner } from "./allowed-signers.js";
import { parseAllowedSigners } from "./allowed-signers.js";

/**
 * The --allowed-signers file, read at every pass so that a rotated key (a line added, an old
 * one removed) counts from the next poll on, without a restart. It decides what root deploys,
 * so it is read only under the trusted-file rules of every other file a flag names (64 else).
 */
export async function loadAllowedSigners(path: string): Promise<AllowedSigner[]> {
  const got = await readFlagFile("--allowed-signers", path);
  if (got.kind === "unusable") throw new UsageError(`--allowed-signers ${path}: ${got.problem}`);
  const signers = parseAllowedSigners(got.text, path);
  if (signers.length === 0) throw new UsageError(`--allowed-signers ${path} lists no key: nobody could sign a release hail deploys`, "add a line `PRINCIPAL namespaces=\"hail-release\" ssh-ed25519 AAAA…`");
  return signers;
}
