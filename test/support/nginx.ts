// nginx (Debian's nginx-light) as a caching reverse proxy in front of the Hydra test server,
// with nix/nginx/hydra-cache.conf included as an operator would. Everything nginx writes —
// configuration, pid file, cache, temp files, logs — is in a temp dir of its own; it runs in
// the foreground as this process's child and is stopped by its pid.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port.js";

export const HYDRA_CACHE_CONF = fileURLToPath(new URL("../../nix/nginx/hydra-cache.conf", import.meta.url));
const NGINX = "/usr/sbin/nginx";

export class NginxProxy {
  private constructor(
    readonly url: string,
    readonly dir: string,
    private readonly child: ChildProcess,
    private readonly output: () => string,
  ) {}

  /** nginx listening on 127.0.0.1, proxying to `upstream` (http://HOST:PORT) through hydra-cache.conf. */
  static async start(upstream: string): Promise<NginxProxy> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "hail-nginx-"));
    let lastError = "";
    // nginx cannot report a port it chose: take a free one from the kernel and hand it over;
    // another process may take it in between, so try a few times.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const port = await freePort();
      await writeFile(path.join(dir, "nginx.conf"), nginxConf(dir, port, new URL(upstream).host));
      const child = spawn(NGINX, ["-p", `${dir}/`, "-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "error.log")], { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
      child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
      const spawnError = once(child, "error").then(([err]) => {
        throw new Error(`cannot start ${NGINX} (Debian package nginx-light; it is required): ${(err as Error).message}`);
      });
      const proxy = new NginxProxy(`http://127.0.0.1:${port}`, dir, child, () => output);
      if (await Promise.race([proxy.ready(), spawnError])) return proxy;
      lastError = `${output}\n${await readFile(path.join(dir, "error.log"), "utf8").catch(() => "")}`;
      await proxy.stopProcess();
    }
    await rm(dir, { recursive: true, force: true });
    throw new Error(`nginx did not start:\n${lastError}`);
  }

  /** The pid nginx wrote to its pid file. */
  async pid(): Promise<number> {
    return Number((await readFile(path.join(this.dir, "nginx.pid"), "utf8")).trim());
  }

  /** nginx's access log lines: `STATUS CACHE-STATUS REQUEST-URI`. */
  async accessLog(): Promise<string[]> {
    const text = await readFile(path.join(this.dir, "access.log"), "utf8").catch(() => "");
    return text.split("\n").filter((l) => l !== "");
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** True once nginx answers on its port; false when it exited first (e.g. the port was taken). */
  private async ready(): Promise<boolean> {
    const exited = once(this.child, "exit").then(() => false);
    const deadline = Date.now() + 10_000;
    const answers = (async () => {
      while (Date.now() < deadline && this.child.exitCode === null) {
        if (await connects(this.url)) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    })();
    return Promise.race([answers, exited]);
  }

  /** SIGQUIT (graceful) to the pid in the pid file or, before nginx wrote it, to the child; SIGKILL after 5 s. */
  private async stopProcess(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, "exit");
    const pid = await this.pid().catch(() => this.child.pid);
    if (pid !== undefined && pid === this.child.pid) process.kill(pid, "SIGQUIT");
    else this.child.kill("SIGQUIT");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    if (this.child.exitCode !== 0 && this.child.signalCode === null) throw new Error(`nginx exited ${String(this.child.exitCode)}:\n${this.output()}`);
  }
}

function nginxConf(dir: string, port: number, upstreamHost: string): string {
  const inDir = (name: string) => path.join(dir, name);
  // As root, nginx would switch its workers to nobody, who cannot write the temp dir.
  const user = process.getuid?.() === 0 ? "user root root;\n" : "";
  return `${user}daemon off;
worker_processes 1;
pid ${inDir("nginx.pid")};
events { worker_connections 4096; }
http {
  log_format cachelog '$status $upstream_cache_status $request_uri';
  access_log ${inDir("access.log")} cachelog;
  client_body_temp_path ${inDir("client_body")};
  proxy_temp_path ${inDir("proxy")};
  fastcgi_temp_path ${inDir("fastcgi")};
  proxy_cache_path ${inDir("cache")} keys_zone=hydra_latest:1m max_size=16m inactive=1m;
  upstream hydra { server ${upstreamHost}; }
  server {
    listen 127.0.0.1:${port};
    include ${HYDRA_CACHE_CONF};
  }
}
`;
}


function connects(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
