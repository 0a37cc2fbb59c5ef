// A local stand-in for Hydra that behaves as Hydra does (README, "How hail reads Hydra"): absolute
// redirects from the job "latest" routes, 404/500 error shapes, HTML unless JSON is asked
// for, constituents sorted by job, and an optional binary cache. Tests declare builds as
// FakeBuild values and mutate them between polls. In private mode it wants a login session
// (POST /login, then the hydra_session cookie), as a Hydra with `private = 1` does.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { z } from "zod";

export interface FakeBuild {
  id: number; project: string; jobset: string; job: string;
  finished: boolean; buildstatus: number | null;
  jobsetevals: number[];
  outputs: Record<string, string | null>;
  system?: string; nixname?: string | null; stoptime?: number | null; starttime?: number | null; timestamp?: number;
  constituents?: number[];
}
export interface RawResponse { status: number; body: string; headers?: Record<string, string>; delayMs?: number }
export interface PrivateMode {
  user: string; password: string;
  /** Also refuse the binary cache without a session, as Hydra does. Default false: Nix cannot send hail's cookie. */
  privateCache?: boolean;
}
/** Listens on 127.0.0.1:`port`; 0 (the default) takes a free port. */
export interface HydraServerOptions { locationBase?: string; cacheDir?: string; private?: PrivateMode; port?: number }
/**
 * A bot wall in front of Hydra's pages (not its binary cache): every request whose User-Agent
 * `allow` does not match gets `page` (a file of fixtures/hydra/) as HTML with `status`.
 */
export interface BotWall { status: number; page: string; allow?: RegExp }
/** Changes the world on `POST /_control/ACTION` (the stand-in Hydra run by hand); its answer is sent as is. */
export type ControlHandler = (action: string) => Promise<RawResponse>;
export interface RecordedRequest { method: string; path: string; headers: Record<string, string | string[] | undefined>; body?: string }
type Responder = RawResponse | ((req: RecordedRequest) => RawResponse);
interface Override { match: string | RegExp; respond: Responder; remaining: number }
/** What the server sends: a RawResponse, or a binary cache file. */
type Reply = Omit<RawResponse, "body" | "headers"> & { body: string | Buffer; headers?: Record<string, string | string[]> };

const FIXTURES_DIR = new URL("../../fixtures/hydra/", import.meta.url);
const DEFAULT_SYSTEM = "x86_64-linux";
const BASE_TIME = 1_700_000_000;

export class HydraTestServer {
  readonly url: string;
  locationBase: string;
  readonly requests: RecordedRequest[] = [];
  /** Every hydra_session value this server handed out, so tests can check none leaks. */
  readonly issuedSessions: string[] = [];
  private readonly sessions = new Set<string>();
  private privateMode: PrivateMode | undefined;
  private readonly builds = new Map<number, FakeBuild>();
  /** "project/jobset" of jobsets that exist before any build does (builds imply theirs) */
  private readonly jobsets = new Set<string>();
  /** project/old-name → new name, as Hydra's JobsetRenames table */
  private readonly renames = new Map<string, string>();
  /** A Hydra from before late 2021: no /build/ID/constituents route ("Page not found."). */
  withoutConstituentsRoute = false;
  /**
   * Close every connection after its answer, as happens to a daemon polling every few minutes
   * (Node's agent drops an idle connection after 5 s): the idle benchmark polls every
   * millisecond and must not measure a kept-alive connection instead.
   */
  closeConnections = false;
  /** Off unless set: `POST /_control/ACTION` goes to this handler. Hydra never uses the path. */
  control: ControlHandler | undefined;
  /** Off unless set: a bot wall answers before Hydra does (see BotWall). */
  botWall: BotWall | undefined;
  private overrides: Override[] = [];
  /** Static files by path (a release manifest and its .sig), served as a web server beside Hydra would. */
  private readonly files = new Map<string, Buffer>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly server: http.Server, private readonly cacheDir: string | undefined, locationBase: string | undefined) {
    const { port } = server.address() as AddressInfo; // listening on TCP, so never a pipe name
    this.url = `http://127.0.0.1:${port}`;
    this.locationBase = locationBase ?? this.url;
  }

  static async start(opts: HydraServerOptions = {}): Promise<HydraTestServer> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, "127.0.0.1", resolve);
    });
    const hydra = new HydraTestServer(server, opts.cacheDir, opts.locationBase);
    hydra.privateMode = opts.private;
    server.on("request", (req, res) => hydra.handle(req, res));
    return hydra;
  }

  addBuild(b: FakeBuild): void {
    this.builds.set(b.id, copyBuild(b));
  }

  updateBuild(id: number, patch: Partial<FakeBuild>): void {
    const current = this.builds.get(id);
    if (!current) throw new Error(`updateBuild: no build ${id} (add it first)`);
    this.builds.set(id, copyBuild({ ...current, ...patch, id }));
  }

  /**
   * As Hydra's "Restart": the build is queued again (finished = 0) and keeps its old
   * buildstatus and times, so every evaluation holding it is incomplete until finishBuild.
   */
  restartBuild(id: number): void {
    const current = this.builds.get(id);
    if (!current) throw new Error(`restartBuild: no build ${id} (add it first)`);
    const shown = renderBuild(current);
    const times = { starttime: shown["starttime"] as number | null, stoptime: shown["stoptime"] as number | null };
    this.builds.set(id, copyBuild({ ...current, ...times, finished: false }));
  }

  /** The queue runner finished the build (again), with this buildstatus. */
  finishBuild(id: number, buildstatus = 0): void {
    const current = this.builds.get(id);
    if (!current) throw new Error(`finishBuild: no build ${id} (add it first)`);
    const { starttime: _start, stoptime: _stop, ...rest } = current;
    this.builds.set(id, copyBuild({ ...rest, finished: true, buildstatus }));
  }

  /** A jobset (and its project) that exists in Hydra, with or without builds yet. */
  addJobset(project: string, jobset: string): void {
    this.jobsets.add(`${project}/${jobset}`);
  }

  /** A jobset renamed in Hydra: its old job and jobset URLs answer 301 to the new name. */
  renameJobset(project: string, from: string, to: string): void {
    this.renames.set(`${project}/${from}`, to);
  }

  removeBuild(id: number): void {
    this.builds.delete(id);
  }

  /** Strings match the request path with or without its query; regexes are tested on the path without query. */
  override(pathOrRegex: string | RegExp, response: Responder, opts: { times?: number } = {}): void {
    this.overrides.push({ match: pathOrRegex, respond: response, remaining: opts.times ?? Infinity });
  }

  /** Serves `body` at `filePath` (a path such as /releases/myapp.json) until removed; null removes it. */
  publishFile(filePath: string, body: string | Buffer | null): void {
    if (body === null) this.files.delete(filePath);
    else this.files.set(filePath, Buffer.from(body));
  }

  clearOverrides(): void {
    this.overrides = [];
  }

  /** Hydra forgets every session (a restart, or 7 days gone by): the next request gets 403. */
  expireSessions(): void {
    this.sessions.clear();
  }

  resetRequests(): void {
    this.requests.splice(0);
  }

  /** Adds (or replaces, by id) the builds of fixtures/hydra/FILE; every "@NAME@" must have a substitution. */
  loadScenario(file: string, substitutions: Record<string, string> = {}): void {
    const location = path.isAbsolute(file) ? file : new URL(file, FIXTURES_DIR);
    const text = readFileSync(location, "utf8");
    const raw: unknown = substitutePlaceholders(JSON.parse(text), substitutions, file);
    const parsed = scenarioSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`scenario ${file} is invalid: ${z.prettifyError(parsed.error)}`);
    for (const b of parsed.data.builds) this.addBuild(b);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    // Clients (undici's fetch) keep connections alive; without this close() waits for them.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const recorded: RecordedRequest = { method: req.method ?? "GET", path: req.url ?? "/", headers: { ...req.headers } };
    this.requests.push(recorded);
    if (this.closeConnections) res.shouldKeepAlive = false;
    // Overrides come first: they stand in for proxies, crashes and truncated bodies.
    void readBody(req)
      .then((body): Reply | Promise<Reply> => {
        if (body !== "") recorded.body = body;
        return this.takeOverride(recorded) ?? this.controlReply(recorded) ?? this.wallReply(recorded) ?? this.guard(recorded) ?? this.route(recorded);
      })
      .catch((err: unknown) => textReply(500, `test server error: ${String(err)}`))
      .then((r) => this.send(res, r));
  }

  private takeOverride(req: RecordedRequest): RawResponse | undefined {
    const pathname = req.path.split("?")[0] ?? req.path;
    const found = this.overrides.find((o) =>
      typeof o.match === "string" ? o.match === pathname || o.match === req.path : o.match.test(pathname));
    if (!found) return undefined;
    found.remaining -= 1;
    if (found.remaining <= 0) this.overrides = this.overrides.filter((o) => o !== found);
    return typeof found.respond === "function" ? found.respond(req) : found.respond;
  }

  private controlReply(req: RecordedRequest): Promise<RawResponse> | undefined {
    const action = /^\/_control\/([a-z-]+)$/.exec(req.path)?.[1];
    if (this.control === undefined || action === undefined) return undefined;
    if (req.method !== "POST") return Promise.resolve(textReply(405, "use POST\n"));
    return this.control(action);
  }

  private send(res: http.ServerResponse, r: Reply): void {
    const write = () => {
      const body = typeof r.body === "string" ? Buffer.from(r.body, "utf8") : r.body;
      // A test's own headers win, whatever their case (e.g. a lying Content-Length for a cut-off body).
      for (const [name, value] of Object.entries(defaultHeaders(r.body, body.length))) res.setHeader(name, value);
      for (const [name, value] of Object.entries(r.headers ?? {})) res.setHeader(name, value);
      res.writeHead(r.status);
      res.end(body);
    };
    if (!r.delayMs) return write();
    const timer = setTimeout(() => { this.timers.delete(timer); if (!res.destroyed) write(); }, r.delayMs);
    this.timers.add(timer);
  }

  private wallReply(req: RecordedRequest): RawResponse | undefined {
    const wall = this.botWall;
    if (wall === undefined || cacheFileFor(req.path.split("?")[0] ?? "/") !== undefined) return undefined;
    if (wall.allow?.test(headerOf(req, "user-agent") ?? "") === true) return undefined;
    const body = readFileSync(new URL(wall.page, FIXTURES_DIR), "utf8");
    return { status: wall.status, body, headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" } };
  }

  /** Private mode: POST /login opens a session; without one, everything else is refused. */
  private guard(req: RecordedRequest): Reply | undefined {
    const mode = this.privateMode;
    if (!mode) return undefined;
    const pathname = req.path.split("?")[0] ?? "/";
    if (pathname === "/login" && req.method === "POST") return this.login(req, mode);
    if (!mode.privateCache && cacheFileFor(pathname) !== undefined) return undefined;
    const session = sessionCookieOf(req);
    if (session !== undefined && this.sessions.has(session)) return undefined;
    return errorReply(403, "This page requires you to sign in.", wantsJson(req));
  }

  /** Hydra's XSRF check (Referer, else Origin, must start with its base), then the credentials. */
  private login(req: RecordedRequest, mode: PrivateMode): Reply {
    const json = wantsJson(req);
    const base = `${this.locationBase}/`;
    const from = headerOf(req, "referer") ?? headerOf(req, "origin");
    if (from === undefined || !`${from}/`.startsWith(base)) return errorReply(500, `POST requests should come from ‘${base}’.`, json);
    const { username, password } = loginParams(req);
    if (username === "") return errorReply(400, "You must specify a user name.", json);
    if (password === "") return errorReply(400, "You must specify a password.", json);
    if (username !== mode.user || password !== mode.password) return errorReply(403, "Bad username or password.", json);
    const session = randomBytes(20).toString("hex");
    this.sessions.add(session);
    this.issuedSessions.push(session);
    // status_found: a 302 to /current-user whose body is the user (JSON for JSON clients).
    const location = `${this.locationBase}/current-user`;
    const reply = json ? jsonReply(302, { username: mode.user, fullname: mode.user, emailaddress: "", userroles: [] }) : redirect(location);
    const expires = new Date(Date.now() + 7 * 86_400_000).toUTCString();
    // A sticky cookie first, as a load balancer in front adds one: the client must pick its own.
    const cookies = ["lb_route=node1; path=/", `hydra_session=${session}; path=/; expires=${expires}; HttpOnly`];
    return { ...reply, headers: { ...reply.headers, Location: location, "Set-Cookie": cookies } };
  }

  private async route(req: RecordedRequest): Promise<Reply> {
    const pathname = req.path.split("?")[0] ?? "/";
    const cacheReply = await this.serveCache(pathname);
    if (cacheReply) return cacheReply;
    const file = this.files.get(pathname);
    if (file !== undefined) return { status: 200, body: file, headers: { "Content-Type": "application/octet-stream" } };
    const json = wantsJson(req);
    const segments = decodeSegments(pathname);
    if (!segments) return errorReply(400, "Bad request path.", json);
    const [head, ...rest] = segments;
    if (head === "job" && rest.length >= 4) return this.routeJobLatest(rest, json);
    if (head === "build" && rest.length >= 1) return this.routeBuild(rest, json);
    if (head === "jobset" && rest[2] === "latest-eval") return this.routeLatestEval(rest, json);
    if (head === "jobset" && rest.length === 2) return this.routeJobset(rest, json);
    if (head === "api" && rest.length === 1 && rest[0] === "latestbuilds") return this.routeLatestBuilds(req.path);
    if (head === "eval" && rest.length === 1) return this.routeEval(rest[0] ?? "", json);
    return errorReply(404, "Page not found.", json);
  }

  private hasJobset(project: string, jobset: string): boolean {
    return this.jobsets.has(`${project}/${jobset}`) || [...this.builds.values()].some((b) => b.project === project && b.jobset === jobset);
  }

  private hasProject(project: string): boolean {
    return [...this.jobsets].some((j) => j.startsWith(`${project}/`)) || [...this.builds.values()].some((b) => b.project === project);
  }

  /** Controller/Job.pm: one lookup of (project, jobset), then the rename table, then 404. */
  private routeJobLatest([project = "", jobset = "", job = "", kind = "", ...extra]: string[], json: boolean): RawResponse {
    const all = [...this.builds.values()];
    if (!this.hasJobset(project, jobset)) {
      const renamed = this.renames.get(`${project}/${jobset}`);
      if (renamed !== undefined) return movedPermanently(`${this.locationBase}/job/${pathSuffix([project, renamed, job, kind, ...extra]).slice(1)}`);
      return errorReply(404, `Jobset ‘${jobset}’ doesn't exist.`, json);
    }
    const system = kind === "latest-for" ? extra.shift() : undefined;
    const known = kind === "latest" || kind === "latest-finished" || (kind === "latest-for" && system !== undefined);
    if (!known) return errorReply(404, "Page not found.", json);
    const build = pickLatest(all, { project, jobset, job, system, needCompleteEval: kind === "latest-finished" });
    if (!build) return errorReply(404, "There is no successful build to redirect to.", json);
    return redirect(`${this.locationBase}/build/${build.id}${pathSuffix(extra)}`);
  }

  private routeBuild([idText = "", ...extra]: string[], json: boolean): RawResponse {
    if (!/^\d+$/.test(idText)) return errorReply(500, `Invalid build ID ‘${idText}’.`, json);
    const build = this.builds.get(Number(idText));
    if (!build) return errorReply(404, `Build with ID ${idText} doesn't exist.`, json);
    if (extra.length === 0) return json ? jsonReply(200, renderBuild(build)) : htmlReply(200, `Build ${build.id}`, `Job ${build.job}`);
    if (extra.length === 1 && extra[0] === "constituents" && !this.withoutConstituentsRoute) {
      if (!json) return htmlReply(200, `Build ${build.id}`, "Constituents");
      return jsonReply(200, this.constituentsOf(build).map(renderBuild));
    }
    return errorReply(404, "Page not found.", json);
  }

  private constituentsOf(build: FakeBuild): FakeBuild[] {
    const found = (build.constituents ?? []).flatMap((id) => this.builds.get(id) ?? []);
    return found.sort((a, b) => (a.job < b.job ? -1 : a.job > b.job ? 1 : 0));
  }

  /** Controller/Jobset.pm: the project first, then the jobset (or its rename); JSON is Jobsets.as_json. */
  private routeJobset([project = "", jobset = ""]: string[], json: boolean): RawResponse {
    if (!this.hasProject(project)) return errorReply(404, `Project ‘${project}’ doesn't exist.`, json);
    if (!this.hasJobset(project, jobset)) {
      const renamed = this.renames.get(`${project}/${jobset}`);
      if (renamed !== undefined) return movedPermanently(`${this.locationBase}/jobset/${pathSuffix([project, renamed]).slice(1)}`);
      return errorReply(404, `Jobset ‘${jobset}’ doesn't exist.`, json);
    }
    if (!json) return htmlReply(200, `Jobset ${jobset}`, `of project ${project}`);
    return jsonReply(200, renderJobset(project, jobset));
  }

  /** Controller/API.pm latestbuilds: the newest finished builds (any status), filtered, as buildToHash. */
  private routeLatestBuilds(requestPath: string): RawResponse {
    const query = new URLSearchParams(requestPath.split("?")[1] ?? "");
    const nr = query.get("nr");
    if (nr === null) return errorReply(500, "Parameter not defined!", true);
    const filter = (name: "project" | "jobset" | "job", b: FakeBuild) => { const v = query.get(name); return v === null || v === "" || b[name] === v; };
    const found = [...this.builds.values()]
      .filter((b) => b.finished && filter("project", b) && filter("jobset", b) && filter("job", b))
      .sort((a, b) => b.id - a.id)
      .slice(0, Number(nr));
    return jsonReply(200, found.map(latestBuildHash));
  }

  private routeLatestEval([project = "", jobset = "", , ...extra]: string[], json: boolean): RawResponse {
    const evalId = latestCompleteEval([...this.builds.values()], project, jobset);
    if (evalId === undefined) return errorReply(404, "No evaluation found.", json);
    return redirect(`${this.locationBase}/eval/${evalId}${pathSuffix(extra)}?name=${encodeURIComponent(jobset)}`);
  }

  private routeEval(idText: string, json: boolean): RawResponse {
    const id = /^\d+$/.test(idText) ? Number(idText) : NaN;
    const members = [...this.builds.values()].filter((b) => b.jobsetevals.includes(id));
    if (members.length === 0) return errorReply(404, `Evaluation ${idText} doesn't exist.`, json);
    if (!json) return htmlReply(200, `Evaluation ${id}`, `${members.length} builds`);
    const timestamp = BASE_TIME + id;
    return jsonReply(200, {
      id, timestamp, checkouttime: 1, evaltime: 2, hasnewbuilds: 1,
      builds: members.map((b) => b.id).sort((a, b) => a - b), jobsetevalinputs: {}, flake: null,
    });
  }

  private async serveCache(pathname: string): Promise<Reply | undefined> {
    const file = cacheFileFor(pathname);
    if (file === undefined) return undefined;
    if (file === "refused" || !this.cacheDir) return textReply(404, "404");
    const full = path.resolve(this.cacheDir, file.relative);
    // The name patterns already exclude "..", this is the second line of defence.
    if (!full.startsWith(path.resolve(this.cacheDir) + path.sep)) return textReply(404, "404");
    try {
      return { status: 200, body: await readFile(full), headers: { "Content-Type": file.contentType } };
    } catch {
      return textReply(404, "404");
    }
  }
}

// ---- pure parts: selection, rendering, replies ----

interface LatestQuery { project: string; jobset: string; job: string; system: string | undefined; needCompleteEval: boolean }

/** Hydra's rule: highest id among finished, successful builds (and, for latest-finished, in a complete eval). */
export function pickLatest(builds: FakeBuild[], q: LatestQuery): FakeBuild | undefined {
  const candidates = builds.filter((b) =>
    b.project === q.project && b.jobset === q.jobset && b.job === q.job
    && b.finished && b.buildstatus === 0
    && (q.system === undefined || (b.system ?? DEFAULT_SYSTEM) === q.system)
    && (!q.needCompleteEval || b.jobsetevals.some((e) => evalIsComplete(builds, e))));
  return candidates.reduce<FakeBuild | undefined>((best, b) => (!best || b.id > best.id ? b : best), undefined);
}

/** An eval is complete when every build listing it (any job) has finished, green or not. */
function evalIsComplete(builds: FakeBuild[], evalId: number): boolean {
  return builds.filter((b) => b.jobsetevals.includes(evalId)).every((b) => b.finished);
}

function latestCompleteEval(builds: FakeBuild[], project: string, jobset: string): number | undefined {
  const evals = new Set(builds.filter((b) => b.project === project && b.jobset === jobset).flatMap((b) => b.jobsetevals));
  return [...evals].sort((a, b) => b - a).find((e) => evalIsComplete(builds, e));
}

/** The full JSON object of /build/ID, with the defaults a real Hydra would fill in. */
export function renderBuild(b: FakeBuild): Record<string, unknown> {
  const timestamp = b.timestamp ?? BASE_TIME + b.id;
  const nixname = b.nixname !== undefined ? b.nixname : nameFromOutputs(b) ?? b.job;
  return {
    id: b.id,
    finished: b.finished ? 1 : 0,
    buildstatus: b.buildstatus,
    timestamp,
    starttime: b.starttime !== undefined ? b.starttime : b.finished ? timestamp + 5 : null,
    stoptime: b.stoptime !== undefined ? b.stoptime : b.finished ? timestamp + 60 : null,
    project: b.project, jobset: b.jobset, job: b.job,
    system: b.system ?? DEFAULT_SYSTEM,
    nixname, releasename: null, priority: 100,
    drvpath: `/nix/store/${fakeStoreHash(`drv-${b.id}`)}-${nixname ?? b.job}.drv`,
    jobsetevals: [...b.jobsetevals],
    buildoutputs: Object.fromEntries(Object.entries(b.outputs).map(([name, p]) => [name, { path: p }])),
    buildproducts: {},
    buildmetrics: {},
  };
}

/** Schema/Result/Jobsets.pm as_json, with the values of a freshly created jobset. */
function renderJobset(project: string, name: string): Record<string, unknown> {
  return {
    errortime: null, lastcheckedtime: BASE_TIME, triggertime: null, enabled: 1, keepnr: 3, checkinterval: 300,
    schedulingshares: 100, starttime: null, name, project, description: "", nixexprinput: "src", nixexprpath: "release.nix",
    errormsg: "", emailoverride: "", fetcherrormsg: "", type: 0, flake: "", enableemail: false,
    enable_dynamic_run_command: false, visible: true, inputs: {},
  };
}

/** Controller/API.pm buildToHash: buildstatus only when finished, priority only when not. */
function latestBuildHash(b: FakeBuild): Record<string, unknown> {
  const rendered = renderBuild(b);
  const common = { id: b.id, project: b.project, jobset: b.jobset, job: b.job, system: rendered["system"], nixname: rendered["nixname"], finished: b.finished ? 1 : 0, timestamp: rendered["timestamp"] };
  return b.finished ? { ...common, buildstatus: b.buildstatus } : { ...common, priority: 100 };
}

function nameFromOutputs(b: FakeBuild): string | undefined {
  const out = b.outputs["out"] ?? Object.values(b.outputs).find((p) => p);
  return out ? /^\/nix\/store\/[0-9a-z]{32}-(.+)$/.exec(out)?.[1] : undefined;
}

const NIX_BASE32 = "0123456789abcdfghijklmnpqrsvwxyz";
function fakeStoreHash(seed: string): string {
  const digest = createHash("sha256").update(seed).digest();
  return Array.from({ length: 32 }, (_, i) => NIX_BASE32[(digest[i] ?? 0) % 32]).join("");
}

function copyBuild(b: FakeBuild): FakeBuild {
  const copy: FakeBuild = { ...b, jobsetevals: [...b.jobsetevals], outputs: { ...b.outputs } };
  if (b.constituents) copy.constituents = [...b.constituents];
  return copy;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => resolve(Buffer.concat(chunks).toString("utf8"))).on("error", reject);
  });
}

function headerOf(req: RecordedRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The hydra_session value of the Cookie header, if any. */
function sessionCookieOf(req: RecordedRequest): string | undefined {
  for (const pair of (headerOf(req, "cookie") ?? "").split(";")) {
    const [name, ...value] = pair.trim().split("=");
    if (name === "hydra_session") return value.join("=");
  }
  return undefined;
}

const loginBodySchema = z.object({ username: z.string().optional(), password: z.string().optional() });

/** Hydra takes JSON (REST deserialize) or form parameters. */
function loginParams(req: RecordedRequest): { username: string; password: string } {
  const body = req.body ?? "";
  if ((headerOf(req, "content-type") ?? "").includes("application/json")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = {};
    }
    const fields = loginBodySchema.safeParse(parsed);
    return { username: fields.data?.username ?? "", password: fields.data?.password ?? "" };
  }
  const form = new URLSearchParams(body);
  return { username: form.get("username") ?? "", password: form.get("password") ?? "" };
}

function wantsJson(req: RecordedRequest): boolean {
  const accept = req.headers["accept"];
  return (Array.isArray(accept) ? accept.join(",") : accept ?? "").includes("application/json");
}

function decodeSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** Extra segments after a "latest" route, passed through into the redirect as Hydra does. */
function pathSuffix(extra: string[]): string {
  return extra.map((s) => `/${encodeURIComponent(s)}`).join("");
}

/** Only the names Nix asks a binary cache for; anything else (including "..") is not a cache file. */
function cacheFileFor(pathname: string): { relative: string; contentType: string } | "refused" | undefined {
  if (pathname === "/nix-cache-info") return { relative: "nix-cache-info", contentType: "text/x-nix-cache-info" };
  const narinfo = /^\/([0-9a-z]{32}\.narinfo)$/.exec(pathname);
  if (narinfo?.[1]) return { relative: narinfo[1], contentType: "text/x-nix-narinfo" };
  const nar = /^\/nar\/([0-9a-z]+\.nar(?:\.[a-z0-9]+)?)$/.exec(pathname);
  if (nar?.[1]) return { relative: path.join("nar", nar[1]), contentType: "application/x-nix-nar" };
  // Anything else under /nar/ is a traversal attempt or junk: answer it here, never route it.
  if (pathname.startsWith("/nar/")) return "refused";
  return undefined;
}

function redirect(location: string): RawResponse {
  return { status: 302, body: `<html><body>Redirecting to <a href="${escapeHtml(location)}">${escapeHtml(location)}</a></body></html>`, headers: { Location: location, "Content-Type": "text/html; charset=utf-8" } };
}

/** A renamed jobset: Catalyst's redirect with status 301. */
function movedPermanently(location: string): RawResponse {
  return { ...redirect(location), status: 301 };
}

function jsonReply(status: number, value: unknown): RawResponse {
  return { status, body: JSON.stringify(value), headers: { "Content-Type": "application/json" } };
}

function textReply(status: number, text: string): RawResponse {
  return { status, body: text, headers: { "Content-Type": "text/plain; charset=utf-8" } };
}

function htmlReply(status: number, title: string, text: string): RawResponse {
  const body = `<!DOCTYPE html>\n<html><head><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>\n`;
  return { status, body, headers: { "Content-Type": "text/html; charset=utf-8" } };
}

/** Hydra's error pages: {"error": ...} for JSON clients, an HTML page for everyone else. */
function errorReply(status: number, message: string, json: boolean): RawResponse {
  return json ? jsonReply(status, { error: message }) : htmlReply(status, "Error", message);
}

/** Overrides rarely name a Content-Type: JSON-looking bodies get Hydra's JSON type, the rest HTML. */
function defaultHeaders(body: string | Buffer, length: number): Record<string, string> {
  const start = typeof body === "string" ? body.trimStart()[0] : undefined;
  const contentType = start === "{" || start === "[" ? "application/json" : "text/html; charset=utf-8";
  return { "Content-Type": contentType, "Content-Length": String(length) };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function substitutePlaceholders(value: unknown, subs: Record<string, string>, file: string): unknown {
  if (typeof value === "string") {
    return value.replace(/@([A-Za-z0-9_-]+)@/g, (_, name: string) => {
      const replacement = subs[name];
      if (replacement === undefined) throw new Error(`scenario ${file} uses @${name}@ but no substitution for "${name}" was given`);
      return replacement;
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitutePlaceholders(v, subs, file));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitutePlaceholders(v, subs, file)]));
  }
  return value;
}

const fakeBuildSchema = z.strictObject({
  id: z.int(), project: z.string(), jobset: z.string(), job: z.string(),
  finished: z.boolean(), buildstatus: z.int().nullable(),
  jobsetevals: z.array(z.int()),
  outputs: z.record(z.string(), z.string().nullable()),
  system: z.string().exactOptional(),
  nixname: z.string().nullable().exactOptional(),
  stoptime: z.number().nullable().exactOptional(),
  starttime: z.number().nullable().exactOptional(),
  timestamp: z.number().exactOptional(),
  constituents: z.array(z.int()).exactOptional(),
});
const scenarioSchema = z.strictObject({ description: z.string(), builds: z.array(fakeBuildSchema) });
