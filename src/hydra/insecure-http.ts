/**
 * HTTPS by default: a URL hail trusts for what to deploy (a gate, a job, its login, a release
 * manifest) with plain `http://` to a host other than this machine is refused (64) unless the
 * operator says the network is trusted (--allow-insecure-http). Anyone on the way could steer
 * every host to another build. Loopback stays allowed: the demo and a proxy on the machine
 * itself. A pure check on the URL's text: no name is resolved, no request is made.
 */
import { isIPv4 } from "node:net";
import { UsageError } from "../errors.js";

const ALLOW_FLAG = "--allow-insecure-http";

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and localhost, as the URL parser normalises them. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost") return true;
  if (isIPv4(host)) return host.startsWith("127.");
  const v6 = host.replace(/^\[|\]$/g, "");
  return v6 === "::1" || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(v6);
}

/**
 * Throws a UsageError naming `flag` when `url` is plain HTTP off this machine and `allow` is
 * false. URLs that do not parse, and other schemes, are left to the flag's own checks.
 */
export function refuseInsecureUrl(url: string, flag: string, allow: boolean): void {
  if (allow) return;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return;
  }
  if (parsed.protocol !== "http:" || isLoopbackHost(parsed.hostname)) return;
  throw new UsageError(
    `${flag} ${parsed.protocol}//${parsed.host}${parsed.pathname}: plain http:// to ${parsed.hostname}, which is not this machine; ` +
      "anyone on the way could change what hail deploys, so hail refuses it",
    `use https://${parsed.host}${parsed.pathname}, or, on a network you trust, give ${ALLOW_FLAG} (config "allowInsecureHttp": true)`,
  );
}
