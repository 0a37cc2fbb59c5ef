/**
 * The release manifest (docs/signed-releases.md): which gate build a release key approved, and
 * the out path of each of its constituents. Bytes in, a checked value out; nothing here fetches.
 */
import * as z from "zod";
import { ReleaseRejected } from "../errors.js";
import { serverKey } from "../hydra/schema.js";
import { describeZodError } from "../zod-error.js";
import { DEFAULT_STORE_DIR, isPlainStorePath } from "../nix/store-path-shape.js";
import { serverText } from "../server-text.js";

/** The SSHSIG namespace of every release signature (`ssh-keygen -Y sign -n hail-release`). */
export const RELEASE_NAMESPACE = "hail-release";

export interface ReleaseManifest {
  "hail-release": 1;
  /** PROJECT/JOBSET/JOB of the gate */
  job: string;
  /** the gate build the release key approved */
  build: number;
  /** constituent name → out path */
  constituents: Record<string, string>;
  /** RFC 3339; after it the manifest is refused */
  expires?: string;
}

// Hydra's project, jobset and job names: no "/", no whitespace, no shell characters.
const HYDRA_NAME = "[A-Za-z0-9_][A-Za-z0-9._+-]{0,199}";
const JOB = new RegExp(`^${HYDRA_NAME}/${HYDRA_NAME}/${HYDRA_NAME}$`);
const CONSTITUENT = new RegExp(`^${HYDRA_NAME}$`);

/** The manifest's schema, with out paths under `storeDir` (checked as hail checks Hydra's). */
export function releaseManifestSchemaFor(storeDir: string) {
  const outPath = z.string().refine((path) => isPlainStorePath(path, storeDir), {
    message: `not a plain store path under ${storeDir} (<hash>-<name>, not a .drv)`,
  });
  return z
    .object({
      "hail-release": z.literal(1),
      job: z.string().regex(JOB, "expected PROJECT/JOBSET/JOB"),
      build: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
      constituents: z.record(z.string(), outPath).superRefine((constituents, ctx) => {
        const names = Object.keys(constituents);
        if (names.length === 0) ctx.addIssue({ code: "custom", message: "names no constituent" });
        for (const name of names) if (!CONSTITUENT.test(name)) ctx.addIssue({ code: "custom", path: [name], message: "not a Hydra job name" });
      }),
      expires: z.iso.datetime({ offset: true }).optional(),
    })
    .strict();
}

export const releaseManifestSchema = releaseManifestSchemaFor(DEFAULT_STORE_DIR);

/** The largest manifest hail reads: thousands of constituents, and no room for a flood. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** The manifest in `bytes` (UTF-8 JSON), or ReleaseRejected("manifest-invalid") naming the field. */
export function parseReleaseManifest(bytes: Uint8Array, url: string, storeDir: string = DEFAULT_STORE_DIR): ReleaseManifest {
  const invalid = (detail: string) => new ReleaseRejected("manifest-invalid", url, `the manifest is not valid: ${detail}`);
  if (bytes.length > MAX_MANIFEST_BYTES) throw invalid(`it is ${bytes.length} bytes, more than the ${MAX_MANIFEST_BYTES} hail reads`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw invalid(`not UTF-8 JSON (${serverText(err instanceof Error ? err.message : String(err), 120)})`);
  }
  const parsed = releaseManifestSchemaFor(storeDir).safeParse(json);
  if (!parsed.success) throw invalid(describeZodError(parsed.error, "(manifest)", serverKey));
  const { expires, ...rest } = parsed.data;
  return expires === undefined ? rest : { ...rest, expires };
}
