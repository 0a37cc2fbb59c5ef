// root basics: Flags that take a file (--netrc-file, --allowed-signers …): read under the trusted-
// file rules, bounded.
import { describeError, EXIT, asHailError } from "./errors.js";
import { octal, readableByOthers, readTrusted } from "./trusted-file.js";

/**
 * Files the operator names by a flag (--config, --netrc-file, --hydra-password-file,
 * --allowed-signers): read only when root or hail's user owns them and nobody else can write
 * them (a file another user can change would steer root hail: which Hydra, which profile,
 * which credentials, which release key), when they
 * are regular files (a FIFO would block hail for ever) and no larger than their limit.
 * A final symlink is followed (agenix and NixOS's environment.etc link such files into
 * place); the file finally opened is the one checked.
 */
export const FLAG_FILE_LIMITS = {
  /** a config file with a thousand targets is some 500 KiB */
  "--config": 4 * 1024 ** 2,
  "--netrc-file": 1024 ** 2,
  "--hydra-password-file": 1024 ** 2,
  /** who may sign releases: a few lines per key */
  "--allowed-signers": 1024 ** 2,
} as const;

export type FileFlag = keyof typeof FLAG_FILE_LIMITS;

export type FlagFileRead =
  | { kind: "read"; text: string; /** group or others may read it */ exposed: boolean; mode: number }
  | { kind: "unusable"; /** what is wrong and what to do, after "FLAG PATH: " */ problem: string };

/** Reads the file or says why not; an I/O failure that may pass (EMFILE, EIO) is thrown (74). */
export async function readFlagFile(flag: FileFlag, path: string): Promise<FlagFileRead> {
  try {
    const got = await readTrusted(path, { maxBytes: FLAG_FILE_LIMITS[flag], followLink: true });
    if (got.kind === "missing") return { kind: "unusable", problem: "cannot read it (it does not exist); fix the path" };
    if (got.kind === "refused") return { kind: "unusable", problem: `refused: ${got.refusal.why}; ${got.refusal.fix}` };
    return { kind: "read", text: got.text, exposed: readableByOthers(got.mode), mode: got.mode };
  } catch (err) {
    if (asHailError(err).exitCode === EXIT.ioError) throw err;
    return { kind: "unusable", problem: `cannot read it (${describeError(err)}); fix the path or its permissions` };
  }
}

/**
 * The warning for a secret that others can read. A warning, not a refusal (OpenSSH refuses
 * such a key): the secret is out already, and refusing it would stop deployments on every
 * host whose netrc is shared with curl and other tools at /etc/netrc (hail's default, often
 * 0644) the moment hail is upgraded, for no gain. The warning comes at every start and says
 * what to do.
 */
export function exposedSecretWarning(flag: FileFlag, path: string, mode: number): string {
  return `${flag} ${path} is readable by other users (mode ${octal(mode)}): anyone on this host can read the credentials in it; chmod 600 ${path}, and change them if others could read it`;
}
