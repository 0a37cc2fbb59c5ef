/**
 * `hail sign`: the release manager's command (docs/signed-releases.md, "Signing a release").
 * It resolves the gate as a host would, writes the manifest and has ssh-keygen sign it; both
 * files appear together or not at all.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { createHydraClient } from "../agent/hydra-client.js";
import { storeDirFromEnv } from "../resolve/store-path.js";
import { UsageError } from "../errors.js";
import { refuseInsecureUrl } from "../hydra/insecure-http.js";
import { parseJobUrl } from "../hydra/job-url.js";
import { createLog, type Log } from "../log.js";
import { buildReleaseManifest, checkKeyFile, createSignRunner, signReleaseFile } from "../release/sign.js";
import type { OptionValues } from "./option-table.js";
import { flagOf, OPTIONS, parsedOption } from "./option-table.js";
import { hydraLoginChoice, logChoice, netrcChoice } from "./options.js";
import { resolveGateRelease } from "./sign-gate.js";

type SignOptions = OptionValues<"gateJob" | "key" | "output" | "expires" | "netrcFile" | "hydraUser" | "hydraPasswordFile" | "allowInsecureHttp" | "timeout" | "logFormat" | "logLevel">;

/** What the flags ask for, checked before any request. */
function signRequest(raw: SignOptions, given: (option: string) => boolean) {
  if (raw.gateJob === undefined) throw new UsageError("hail sign needs --gate-job URL: the release gate whose latest-finished build to sign");
  refuseInsecureUrl(raw.gateJob, "--gate-job", raw.allowInsecureHttp === true);
  if (raw.key === undefined || raw.key === "") throw new UsageError("hail sign needs --key FILE: the release key ssh-keygen signs with");
  // --output's default ("out") belongs to run and plan; sign's names a file and has none
  if (!given("output") || raw.output === "") throw new UsageError("hail sign needs --output FILE: where to write the manifest (and FILE.sig)");
  checkKeyFile(existsSync(raw.key), raw.key);
  const output = resolve(raw.output);
  if (!existsSync(dirname(output))) throw new UsageError(`--output ${raw.output}: the directory ${dirname(output)} does not exist`, "create it, or write the manifest elsewhere");
  const expiresMs = raw.expires === undefined ? null : OPTIONS.expires.parse(raw.expires, flagOf("expires"));
  return { job: parseJobUrl(raw.gateJob), key: raw.key, output, expiresMs };
}

export async function signCommand(raw: SignOptions, cmd: Command | null = null): Promise<number> {
  const request = signRequest(raw, (option) => cmd?.getOptionValueSource(option) === "cli");
  const { logFormat, logLevel } = logChoice(raw, process.stderr.isTTY === true);
  const log = createLog({ format: logFormat, level: logLevel, color: logFormat === "pretty" && process.stderr.isTTY === true });
  const config = { netrc: netrcChoice(raw.netrcFile), hydraLogin: hydraLoginChoice(raw), timeoutMs: parsedOption(raw, "timeout"), target: { source: { job: request.job } } };
  const hydra = await createHydraClient(config, log);
  const release = await resolveGateRelease(hydra, request.job, storeDirFromEnv(process.env));
  for (const { name, why } of release.skipped) log.warn(`constituent ${name} is left out of the release: ${why}`, { constituent: name });
  const expires = request.expiresMs === null ? null : new Date(Date.now() + request.expiresMs);
  const bytes = buildReleaseManifest(release.job, release.build, release.constituents, expires);
  await writeSigned(bytes, request.output, request.key, log);
  log.info(`signed gate build ${release.build} of ${release.job}: ${request.output} and ${request.output}.sig`, {
    build: release.build,
    constituents: Object.keys(release.constituents).length,
    expires: expires?.toISOString() ?? null,
  });
  process.stdout.write(`${request.output}\n${request.output}.sig\n`);
  return 0;
}

/**
 * Manifest and signature are made in a directory beside FILE and moved into place, the
 * signature first: a failed signing leaves no unsigned manifest behind, and never half a file.
 */
async function writeSigned(bytes: Uint8Array, output: string, key: string, log: Log): Promise<void> {
  const work = await mkdtemp(join(dirname(output), ".hail-sign-"));
  try {
    const file = join(work, basename(output));
    await writeFile(file, bytes, { mode: 0o644 });
    log.debug(`signing ${output} with ssh-keygen -Y sign -f ${key} -n hail-release`);
    await signReleaseFile(createSignRunner(), file, key, output);
    await rename(`${file}.sig`, `${output}.sig`);
    await rename(file, output);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
