/**
 * Schemas for the JSON Hydra really sends (docs/how-it-works.md, "How hail reads Hydra"), not what its
 * OpenAPI file claims. Every body from Hydra is parsed from `unknown` through one of these.
 */
import * as z from "zod";
import { serverText } from "../server-text.js";
import type { ShowKey } from "../zod-error.js";

// describeZodError lives below every room that parses JSON (state, release, cli use it too)
export { describeZodError, formatPath, type ShowKey } from "../zod-error.js";

/** A value Hydra may send as null or leave out: both become null. */
function nullish<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((value) => value ?? null);
}

// Hydra sends 0/1; its OpenAPI file says boolean. Accept both, hand out a boolean.
const FinishedSchema = z
  .union([z.boolean(), z.literal(0), z.literal(1)])
  .transform((value) => value === true || value === 1);

const BuildOutputSchema = z.object({ path: z.string().nullable() });

export const BuildSchema = z.object({
  id: z.number().int().nonnegative(),
  finished: FinishedSchema,
  // null while queued; a restarted build keeps its old status, so read `finished` first.
  buildstatus: nullish(z.number().int()),
  project: z.string(),
  jobset: z.string(),
  job: z.string(),
  system: nullish(z.string()),
  nixname: nullish(z.string()),
  releasename: nullish(z.string()),
  timestamp: nullish(z.number()),
  starttime: nullish(z.number()),
  stoptime: nullish(z.number()),
  // Unordered: every evaluation that holds the build (builds are reused across evals).
  jobsetevals: z.array(z.number().int()),
  buildoutputs: z.record(z.string(), BuildOutputSchema),
});

export type HydraBuild = z.infer<typeof BuildSchema>;

/** `/build/ID/constituents`: an array, `[]` for a build that is not an aggregate. */
export const ConstituentsSchema = z.array(BuildSchema);

/** `/jobset/P/JS` (Jobsets.as_json): only that it is a jobset matters. */
export const JobsetSchema = z.object({ name: z.string(), project: z.string() });

/** `/api/latestbuilds` (API.pm buildToHash): the newest finished builds. */
export const LatestBuildsSchema = z.array(z.object({ id: z.number().int(), job: z.string() }));

/** The body of Hydra's JSON errors, e.g. a 404 from `latest`. */
export const HydraErrorBodySchema = z.object({ error: z.string() });

/** A key of Hydra's JSON (a record's, such as buildoutputs, is Hydra's text): quoted as a server's. */
export const serverKey: ShowKey = (key) => serverText(key, 60);

