// Failed requests during a service switch under a bounded load (issue 28 point 4): one real
// systemd booted with systemd-nspawn, the same tiny app deployed twice by mkServiceProfile
// profiles built with real Nix: (a) blue-green behind the profile's proxy, (b) a plain
// service switched stop-then-start, as nixpkgs' setupSystemdUnits does. For each, a fixed
// request rate on 127.0.0.1 runs while v1's profile is replaced by v2's (its bin/activate run
// inside the container, as hail runs it), and every request is counted. A benchmark, not a
// test: it prints the figures side by side, nothing is asserted.
import { fileURLToPath } from "node:url";
import { freePort } from "../support/free-port.js";
import { fetchText, startLoad, type LoadSummary } from "../support/http-load.js";
import { createNixLab, type NixLab } from "../support/nix-lab.js";
import { bootSystemdContainer, type SystemdContainer } from "../support/systemd-container.js";
import type { Section } from "./report.js";
import { sleep, waitFor } from "./proc.js";

const PROFILE_EXPRESSION = fileURLToPath(new URL("../support/service-profile.nix", import.meta.url));

interface Scenario {
  label: string;
  /** the URL the load hits */
  url: string;
  /** v1's and v2's profiles */
  profiles: [string, string];
}

interface Outcome {
  scenario: Scenario;
  load: LoadSummary;
  /** bin/activate of v2: wall time and exit code */
  switchMs: number;
  switchCode: number;
}

export interface BlueGreenSize {
  ratePerSecond: number;
  seconds: number;
}

export async function measureBlueGreen(size: BlueGreenSize): Promise<Section> {
  const lab = await createNixLab();
  let box: SystemdContainer | undefined;
  try {
    const scenarios = await buildScenarios(lab);
    box = await bootSystemdContainer({ binds: [lab.root] });
    const outcomes: Outcome[] = [];
    for (const scenario of scenarios) outcomes.push(await switchUnderLoad(box, scenario, size));
    return section(outcomes, size);
  } finally {
    await box?.poweroff();
    await lab.cleanup();
  }
}

/** Both profiles of both scenarios: the same app (v1 → v2), the same health check. */
async function buildScenarios(lab: NixLab): Promise<Scenario[]> {
  const [listen, blue, green, plain] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const build = (name: string, version: string, service: Record<string, unknown>) =>
    lab.buildExpression(PROFILE_EXPRESSION, { spec: JSON.stringify({ name, version, services: { web: service } }) });
  const blueGreen = (version: string) => ({
    app: { version, healthy: true },
    blueGreen: { listen, slots: [blue, green], drainSec: 2 },
    health: { http: "http://127.0.0.1:{port}/health", timeoutSec: 30 },
  });
  const stopStart = (version: string) => ({
    app: { version, healthy: true },
    environment: { PORT: String(plain) },
    switchMethod: "stop-start",
    health: { http: `http://127.0.0.1:${plain}/health`, timeoutSec: 30 },
  });
  return [
    { label: "blue-green", url: `http://127.0.0.1:${listen}/`, profiles: [await build("benchbg", "1", blueGreen("v1")), await build("benchbg", "2", blueGreen("v2"))] },
    { label: "stop-then-start", url: `http://127.0.0.1:${plain}/`, profiles: [await build("benchss", "1", stopStart("v1")), await build("benchss", "2", stopStart("v2"))] },
  ];
}

async function activate(box: SystemdContainer, profile: string): Promise<{ ms: number; code: number; stderr: string }> {
  const started = performance.now();
  const r = await box.exec([`${profile}/bin/activate`], { timeoutMs: 180_000 });
  return { ms: performance.now() - started, code: r.code, stderr: r.stderr };
}

/** v1 up and answering; the load starts; a second later v2's activate runs; the load runs its full time. */
async function switchUnderLoad(box: SystemdContainer, scenario: Scenario, size: BlueGreenSize): Promise<Outcome> {
  const first = await activate(box, scenario.profiles[0]);
  if (first.code !== 0) throw new Error(`${scenario.label}: v1's activate failed (exit ${first.code}):\n${first.stderr}`);
  await waitFor(async () => (await fetchText(scenario.url)) === "v1", `${scenario.label}: v1 answering at ${scenario.url}`, 60_000, 50);
  const load = startLoad(scenario.url, size.ratePerSecond);
  await sleep(1_000);
  const second = await activate(box, scenario.profiles[1]);
  const left = size.seconds * 1000 - load.now();
  if (left > 0) await sleep(left);
  const summary = await load.stop();
  await box.exec([`${scenario.profiles[1]}/bin/deactivate`]);
  return { scenario, load: summary, switchMs: second.ms, switchCode: second.code };
}

function section(outcomes: Outcome[], size: BlueGreenSize): Section {
  const rows = outcomes.flatMap(({ scenario, load, switchMs, switchCode }) => {
    const reasons = Object.entries(load.failures).map(([why, n]) => `${n} ${why}`).join(", ");
    const answers = Object.entries(load.bodies).map(([body, n]) => `${n} ${body}`).join(", ");
    return [
      { label: `${scenario.label}: failed requests`, value: `${load.failed}/${load.sent}`, raw: load.failed, note: reasons || "none failed" },
      { label: `${scenario.label}: answers`, value: String(load.ok), raw: load.ok, note: answers },
      { label: `${scenario.label}: switch (activate)`, value: `${(switchMs / 1000).toFixed(2)} s`, raw: switchMs, note: switchCode === 0 ? "exit 0" : `exit ${switchCode}` },
    ];
  });
  return {
    title: `Blue-green vs stop-then-start under load (${size.ratePerSecond} requests/s for ${size.seconds} s, one connection each)`,
    rows,
    lines: ["a real systemd 252 in systemd-nspawn; v1 → v2 by each profile's bin/activate, 1 s into the load; same app, same health check"],
  };
}
