// metrics: `--metrics-listen HOST:PORT`, `:PORT` or `PORT`; the host defaults to loopback.
import { UsageError } from "../errors.js";

/** `--metrics-listen HOST:PORT`, `:PORT` or `PORT`; the host defaults to loopback. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d+)$/.exec(text.trim());
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--metrics-listen ${text}: give HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:9851)`);
  }
  const host = match[1] ? match[1].replace(/^\[|\]$/g, "") : "127.0.0.1";
  return { host, port };
}

/**
 * Whether a bound address is reachable from this machine only: 127.0.0.0/8, ::1, and
 * 127.x as an IPv4-mapped IPv6 address. `0.0.0.0`, `::` and every other address are not.
 */
export function isLoopbackAddress(address: string): boolean {
  const v4 = address.replace(/^::ffff:/i, "");
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === "::1";
}
