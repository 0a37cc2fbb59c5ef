// A real systemd (PID 1 of its own PID namespace) booted with systemd-nspawn, for tests that
// need a service manager: this machine's own PID 1 is not systemd. The container shares the
// host's /usr (read-only), /nix (read-write: hail realises store paths in it) and network
// namespace, so a test's 127.0.0.1 servers are reachable from inside and its services'
// ports from outside. Its root is a tmpfs (--volatile=yes): nothing it writes outlives it.
// Commands run inside with nsenter, so they talk to the container's systemd as on a host.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { execa } from "execa";

/**
 * Host units the container must not start: they would take ports in the shared network
 * namespace (nginx, prometheus, the node exporter, postgresql), or create a nix-daemon socket in
 * the shared /nix (an unmasked boot left /nix/var/nix/daemon-socket/socket behind on the host).
 */
export const MASKED_UNITS = [
  "nix-daemon.socket",
  "nix-daemon.service",
  "nginx.service",
  "prometheus.service",
  "prometheus-node-exporter.service",
  "postgresql.service",
  "smartmontools.service",
  "ipmievd.service",
] as const;

/** PATH inside the container: the host's own tools (systemctl, nix-store) as a root shell has them. */
export const CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** the whole environment of the command (nothing of the test's own is passed); PATH defaults to CONTAINER_PATH */
  env?: NodeJS.ProcessEnv;
  /** a safety net, not a timing assumption */
  timeoutMs?: number;
}

export interface SystemdContainer {
  /** the machine name, unique per boot */
  readonly name: string;
  readonly nspawnPid: number;
  /** the container's systemd, as the host sees its pid */
  readonly systemdPid: number;
  /** runs argv inside every namespace of the container; never rejects on a non-zero exit */
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** a long-running command inside (a daemon); the caller stops it by its pid, or poweroff() ends it */
  spawn(argv: string[], env?: NodeJS.ProcessEnv): ContainerProcess;
  /** `systemctl ARGS…` inside */
  systemctl(...args: string[]): Promise<ExecResult>;
  /** what nspawn and the container's console printed so far */
  bootLog(): string;
  /** shuts the container down (SIGTERM to the nspawn pid, as systemd-nspawn documents) and waits until it is gone */
  poweroff(): Promise<void>;
}

export interface BootOptions {
  /** host directories bound read-write at the same path inside (a test's temp dirs) */
  binds: string[];
  /** safety net for the boot, generous: a shared machine can be slow */
  bootTimeoutMs?: number;
}

/** The nspawn command line: a pure function, so a reader sees exactly what boots. */
export function nspawnArgs(name: string, binds: string[]): string[] {
  return [
    "-D", "/",
    "--volatile=yes",
    "-M", name,
    // the host has no systemd or D-Bus to register the machine with
    "--register=no",
    "--keep-unit",
    "--boot",
    "--link-journal=no",
    // no interactive console: the test's stdin is not a terminal
    "--console=read-only",
    "--bind=/nix",
    ...binds.map((dir) => `--bind=${dir}`),
    "--",
    "systemd.firstboot=off",
    "systemd.unit=multi-user.target",
    ...MASKED_UNITS.map((unit) => `systemd.mask=${unit}`),
  ];
}

const BOOT_LOG_LIMIT = 256 * 1024;
const booted = new Set<number>();

// A test process that dies without its after() hook must not leave a container running:
// SIGTERM makes systemd-nspawn power the container off even after this process is gone.
process.on("exit", () => {
  for (const pid of booted) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
});

export async function bootSystemdContainer(opts: BootOptions): Promise<SystemdContainer> {
  const name = `hail-test-${randomUUID().slice(0, 8)}`;
  const nspawn = execa("systemd-nspawn", nspawnArgs(name, opts.binds), { reject: false, stdin: "ignore", all: true, buffer: false });
  if (nspawn.pid === undefined) throw new Error("systemd-nspawn did not start (is systemd-container installed?)");
  const nspawnPid = nspawn.pid;
  booted.add(nspawnPid);
  let log = "";
  nspawn.all?.on("data", (chunk: Buffer) => {
    if (log.length < BOOT_LOG_LIMIT) log += chunk.toString();
  });
  let ended = false;
  const exited = nspawn.then(() => {
    ended = true;
    booted.delete(nspawnPid);
  });

  const poweroff = async () => {
    if (!ended) {
      try {
        process.kill(nspawnPid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    const timer = setTimeout(() => {
      if (!ended) process.kill(nspawnPid, "SIGKILL");
    }, 90_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    const systemdPid = await waitForChild(nspawnPid, () => ended, opts.bootTimeoutMs ?? 120_000, () => log);
    const container = makeContainer(name, nspawnPid, systemdPid, () => log, poweroff);
    await waitUntilBooted(container, () => ended, opts.bootTimeoutMs ?? 120_000);
    return container;
  } catch (err) {
    await poweroff();
    throw err;
  }
}

/** nsenter into every namespace of the container's systemd: the command runs as on that host */
function nsenter(systemdPid: number, argv: string[], env: NodeJS.ProcessEnv = {}) {
  return execa("nsenter", ["-t", String(systemdPid), "-a", "--", ...argv], { env: { PATH: CONTAINER_PATH, LANG: "C.UTF-8", ...env }, extendEnv: false, reject: false, stdin: "ignore" });
}

export type ContainerProcess = ReturnType<typeof nsenter>;

function makeContainer(name: string, nspawnPid: number, systemdPid: number, bootLog: () => string, poweroff: () => Promise<void>): SystemdContainer {
  const exec = async (argv: string[], opts: ExecOptions = {}): Promise<ExecResult> => {
    const child = nsenter(systemdPid, argv, opts.env);
    // a safety net: the command (and nsenter's pid-namespace child with it) is killed, the test fails
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    const r = await child.finally(() => clearTimeout(timer));
    if (r.signal === "SIGKILL") throw new Error(`${argv.join(" ")} in container ${name} did not end in time; stderr:\n${r.stderr}`);
    return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    name,
    nspawnPid,
    systemdPid,
    exec,
    spawn: (argv, env) => nsenter(systemdPid, argv, env),
    systemctl: (...args) => exec(["systemctl", "--no-pager", ...args]),
    bootLog,
    poweroff,
  };
}

/** The container's systemd is systemd-nspawn's direct child; it exists a moment after nspawn starts. */
async function waitForChild(pid: number, ended: () => boolean, timeoutMs: number, log: () => string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !ended()) {
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
    for (const child of children.split(/\s+/).filter(Boolean)) {
      const comm = await readFile(`/proc/${child}/comm`, "utf8").catch(() => "");
      if (comm.trim() === "systemd") return Number(child);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`systemd-nspawn (pid ${pid}) ${ended() ? "exited" : "started no systemd"} before the container booted; its output:\n${log()}`);
}

/**
 * Waits until `systemctl is-system-running` says the boot is over: "running", or "degraded"
 * (some host units fail in a container). Before systemd listens on its socket the call fails;
 * it is asked again until the safety timeout.
 */
async function waitUntilBooted(c: SystemdContainer, ended: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline && !ended()) {
    const r = await c.exec(["systemctl", "is-system-running", "--wait"], { timeoutMs: Math.max(1_000, deadline - Date.now()) }).catch((err: Error) => ({ code: -1, stdout: "", stderr: err.message }));
    last = `${r.stdout}${r.stderr}`.trim();
    if (r.stdout.trim() === "running" || r.stdout.trim() === "degraded") return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the systemd in container ${c.name} did not finish booting (last answer: ${last}); its output:\n${c.bootLog()}`);
}
