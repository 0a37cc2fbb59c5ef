// Changes the stand-in Hydra's world while a newcomer watches hail react: a new good build, a
// build whose activation fails, a failed gate. Each is a new evaluation of myproject/main
// with its own release_gate; the myapp builds are real (nix-build, signed into the served
// binary cache, then deleted from the local store so hail has to substitute them).
import { createHash } from "node:crypto";
import type { HydraTestServer, RawResponse } from "../support/hydra-server.js";
import type { NixLab } from "../support/nix-lab.js";

/** Where the printed daemon command serves /metrics, /healthz and POST /poll. */
export const METRICS_LISTEN = "127.0.0.1:9851";

/** The actions of POST /_control/ACTION and of the prompt's words, with what each does. */
export const ACTIONS = {
  publish: { word: "publish", what: "a new version of myapp whose activation succeeds" },
  "publish-broken": { word: "broken", what: "a new version of myapp whose bin/activate exits 1" },
  "fail-gate": { word: "fail", what: "a new release_gate build that failed" },
} as const;
export type Action = keyof typeof ACTIONS;

export interface Next { evalId: number; gateId: number; version: number }

export class WorldControl {
  private queue: Promise<unknown> = Promise.resolve();
  /** the newest green gate build, the one Hydra's latest-finished points at */
  private greenGate: number | undefined;

  constructor(private readonly lab: NixLab, private readonly hydra: HydraTestServer, private next: Next, greenGate?: number) {
    this.greenGate = greenGate;
    hydra.addJobset("myproject", "main");
  }

  /** Serves POST /_control/ACTION on the stand-in Hydra, and says each answer here too. */
  attach(): void {
    this.hydra.control = async (action) => {
      const reply = await this.handle(action);
      console.log(`POST /_control/${action}:\n${reply.body.trimEnd()}`);
      return reply;
    };
  }

  /** An unknown action is a 404 that lists the known ones. */
  private async handle(action: string): Promise<RawResponse> {
    if (!(action in ACTIONS)) return { status: 404, body: `no such action ${action}; try ${Object.keys(ACTIONS).join(", ")}\n` };
    try {
      return { status: 200, body: `${await this.run(action as Action)}\n`, headers: { "Content-Type": "text/plain; charset=utf-8" } };
    } catch (err) {
      return { status: 500, body: `${action} failed: ${err instanceof Error ? err.message : String(err)}\n` };
    }
  }

  /** One action at a time, in the order asked; resolves to what a hail daemon does next. */
  run(action: Action): Promise<string> {
    const step = this.queue.then(() => (action === "fail-gate" ? this.failGate() : this.publish(action === "publish-broken")));
    this.queue = step.catch(() => undefined);
    return step;
  }

  /** Waits for the action under way, if any (before the lab directory is removed). */
  async settle(): Promise<void> {
    await this.queue;
  }

  private async publish(broken: boolean): Promise<string> {
    const { evalId, gateId, version } = this.take();
    const app = await this.lab.buildApp("myapp", String(version), broken
      ? { activate: `echo "myapp ${version}: this activation fails on purpose" >&2\nexit 1` }
      : {});
    await this.lab.publish(app);
    await this.lab.deleteLocal(app);
    this.addEval(evalId, gateId, app, 0);
    const before = this.greenGate;
    this.greenGate = gateId;
    const offered = `Hydra: eval ${evalId}, release_gate ${gateId} (green) with myapp ${gateId + 1} = ${app} (version ${version}).`;
    const poll = `A daemon deploys it at its next poll; to poll now: curl -X POST http://${METRICS_LISTEN}/poll`;
    if (!broken) return [offered, poll].join("\n");
    return [offered, poll,
      "Its bin/activate exits 1: hail switches the profile to it, sees the activation fail, rolls back",
      `to the generation it had${before === undefined ? "" : ` (from gate ${before})`} and records this path as failed (a one-shot exits 1).`,
      "After that `hail plan` says skip: hail does not retry it until Hydra offers a different build."].join("\n");
  }

  private failGate(): Promise<string> {
    const { evalId, gateId, version } = this.take();
    this.addEval(evalId, gateId, madeUpStorePath(`myapp-${version}`), 1);
    const still = this.greenGate === undefined ? "no green gate build yet" : `release_gate ${this.greenGate}`;
    return Promise.resolve([
      `Hydra: eval ${evalId}, release_gate ${gateId} FAILED (its myapp ${gateId + 1} failed to build).`,
      `latest-finished still points at ${still}: hail never sees the failed gate and changes nothing.`,
    ].join("\n"));
  }

  private take(): Next {
    const taken = this.next;
    this.next = { evalId: taken.evalId + 1, gateId: taken.gateId + 10, version: taken.version + 1 };
    return taken;
  }

  /** release_gate `gateId`, myapp gateId+1 and tests gateId+2, all in eval `evalId` and finished. */
  private addEval(evalId: number, gateId: number, app: string, status: 0 | 1): void {
    const common = { project: "myproject", jobset: "main", finished: true, jobsetevals: [evalId] };
    this.hydra.addBuild({ ...common, id: gateId + 2, job: "tests", buildstatus: 0, outputs: { out: madeUpStorePath(`tests-${evalId}`) } });
    this.hydra.addBuild({ ...common, id: gateId + 1, job: "myapp", buildstatus: status, outputs: { out: app } });
    this.hydra.addBuild({
      ...common, id: gateId, job: "release_gate", buildstatus: status,
      outputs: { out: madeUpStorePath(`release_gate-${evalId}`) }, constituents: [gateId + 1, gateId + 2],
    });
  }
}

/** A well-formed store path that hail never realises (the gate's and the tests' outputs). */
function madeUpStorePath(name: string): string {
  const alphabet = "0123456789abcdfghijklmnpqrsvwxyz";
  const digest = createHash("sha256").update(`hail-stand-in-${name}`).digest();
  return `/nix/store/${Array.from(digest.subarray(0, 32), (byte) => alphabet[byte % 32]).join("")}-${name}`;
}
