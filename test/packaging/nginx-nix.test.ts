// nix/nginx/hydra-cache.nix, the NixOS example for the caching proxy in front of Hydra:
// evaluated offline with nix-instantiate (no nixpkgs here), it must give services.nginx the
// very snippet the nginx test runs (nix/nginx/hydra-cache.conf) and the cache zone it needs.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { execa } from "execa";
import { HYDRA_CACHE_CONF } from "../support/nginx.js";
import { REPO } from "./unit-file.js";

interface NginxConfig {
  enable: boolean;
  appendHttpConfig: string;
  upstreams: { hydra: { servers: Record<string, unknown> } };
  virtualHosts: Record<string, { extraConfig: string }>;
}

describe("nix/nginx/hydra-cache.nix", () => {
  it("gives services.nginx the tested snippet, the hydra upstream and the hydra_latest cache zone", async () => {
    const file = path.join(REPO, "nix", "nginx", "hydra-cache.nix");
    const expr = `(import ${JSON.stringify(file)} { hydraAddress = "10.0.0.5:3000"; serverName = "cache.example"; }).services.nginx`;
    const r = await execa("nix-instantiate", ["--store", "dummy://", "--eval", "--strict", "--json", "--expr", expr], { reject: false });
    if (r.code === "ENOENT") assert.fail("nix-instantiate is required for this test");
    assert.equal(r.exitCode, 0, r.stderr);
    const nginx = JSON.parse(r.stdout) as NginxConfig;
    assert.equal(nginx.enable, true);
    assert.deepEqual(Object.keys(nginx.upstreams.hydra.servers), ["10.0.0.5:3000"]);
    assert.deepEqual(Object.keys(nginx.virtualHosts), ["cache.example"]);
    assert.equal(nginx.virtualHosts["cache.example"]?.extraConfig, await readFile(HYDRA_CACHE_CONF, "utf8"));
    assert.match(nginx.appendHttpConfig, /^proxy_cache_path \S+ keys_zone=hydra_latest:/m);
    assert.match(await readFile(HYDRA_CACHE_CONF, "utf8"), /proxy_cache hydra_latest;/, "the snippet uses the zone the module declares");
  });
});

describe("README's nginx example", () => {
  it("has every directive of nix/nginx/hydra-cache.conf, as written there", async () => {
    const readme = await readFile(path.join(REPO, "docs", "fleet.md"), "utf8");
    const block = /```nginx\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, "README has an nginx code block");
    const inReadme = new Set(block.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()));
    const directives = (await readFile(HYDRA_CACHE_CONF, "utf8")).split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
    assert.ok(directives.length > 10);
    assert.deepEqual(directives.filter((d) => !inReadme.has(d)), []);
  });
});
