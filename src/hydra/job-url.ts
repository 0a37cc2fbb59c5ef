/**
 * Hydra URL shapes: the job URL an operator types, and the paths Hydra redirects to.
 * Pure functions; the client uses them to keep every request on the configured base.
 */
import { UsageError } from "../errors.js";

export interface JobUrl {
  /** Everything before `/job/`, without a trailing slash: `https://h.example/hydra`. */
  baseUrl: string;
  project: string;
  jobset: string;
  job: string;
  /** `${baseUrl}/job/${project}/${jobset}/${job}` */
  url: string;
}

const EXPECTED_SHAPE =
  "expected a Hydra job URL like https://hydra.example/job/PROJECT/JOBSET/JOB " +
  "(a path prefix such as https://host/hydra/job/… is fine)";

/** Parse an operator-given job URL; anything else is a usage error showing the expected shape. */
export function parseJobUrl(text: string): JobUrl {
  const parsed = parseHttpUrl(text.trim());
  const segments = parsed.pathname.replace(/\/$/, "").split("/").slice(1);
  const [marker, project, jobset, job] = segments.slice(-4);
  const prefix = segments.slice(0, -4);
  if (
    segments.length < 4 ||
    marker !== "job" ||
    project === undefined ||
    jobset === undefined ||
    job === undefined ||
    segments.some((segment) => segment === "")
  ) {
    throw new UsageError(`not a Hydra job URL: ${parsed.href}; ${EXPECTED_SHAPE}`);
  }
  const baseUrl = [parsed.origin, ...prefix].join("/");
  return { baseUrl, project, jobset, job, url: `${baseUrl}/job/${project}/${jobset}/${job}` };
}

function parseHttpUrl(text: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(text)}; ${EXPECTED_SHAPE}`);
  }
  // Never echo userinfo back: it may hold a password.
  if (parsed.username !== "" || parsed.password !== "") {
    throw new UsageError(
      `the job URL for ${parsed.host} contains credentials; remove them and put them in a netrc file (--netrc-file)`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`unsupported scheme ${parsed.protocol} in ${parsed.href}; ${EXPECTED_SHAPE}`);
  }
  if (text.includes("?") || text.includes("#")) {
    throw new UsageError(`a job URL takes no query string or fragment: ${parsed.href}; ${EXPECTED_SHAPE}`);
  }
  return parsed;
}

/**
 * The build id in a redirect path such as `/build/123` or `/hydra/build/123/constituents`.
 * Hydra's project, jobset and job names cannot start with a digit, so `/build/<digits>` is
 * always a build.
 */
export function buildIdFromPath(path: string): number | undefined {
  const match = /\/build\/(\d+)(?:\/.*)?$/.exec(path);
  if (match?.[1] === undefined) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : undefined;
}

/**
 * The URL on the configured base for a path Hydra redirected to. Hydra builds Location from
 * the proxy's view of the host (NixOS/hydra#1202), so only its path is trusted; a path that
 * already carries the base's prefix is not prefixed twice.
 */
export function urlOnBase(baseUrl: string, path: string): string {
  const prefix = new URL(baseUrl).pathname.replace(/\/$/, "");
  const rest = prefix !== "" && path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
  return `${baseUrl}${rest}`;
}

/**
 * The job a redirect path names, on the configured base: `/job/P/JS/J/latest-finished` after a
 * 301 for a renamed jobset. Undefined for any other path.
 */
export function jobUrlFromPath(baseUrl: string, path: string): JobUrl | undefined {
  const prefix = new URL(baseUrl).pathname.replace(/\/$/, "");
  const rest = prefix !== "" && path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
  const match = /^\/job\/([^/]+)\/([^/]+)\/([^/]+)(?:\/.*)?$/.exec(rest);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  let names: string[];
  try {
    names = [match[1], match[2], match[3]].map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const [project = "", jobset = "", job = ""] = names;
  return { baseUrl, project, jobset, job, url: `${baseUrl}/job/${project}/${jobset}/${job}` };
}
