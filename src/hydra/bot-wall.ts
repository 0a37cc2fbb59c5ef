/**
 * A bot wall in front of Hydra (hydra.nixos.org runs a proof-of-work check): it answers hail
 * with a challenge page meant for a browser, as a 403, 429 or 503, or even as a 200. Reported
 * as what it is, with what to do about it, never as "invalid JSON" or "wants a login": the
 * operator must ask Hydra's operators to let hail's User-Agent through. Pure functions.
 */
import { USER_AGENT } from "./user-agent.js";

/** Text found in the challenge pages of the bot checks in front of public sites. */
const WALLS: ReadonlyArray<{ name: string; marker: RegExp }> = [
  // Anubis (TecharoHQ): its title, the id of its challenge script, the path of its assets.
  { name: "Anubis", marker: /making sure you(?:'|’|&#39;|&#x27;)re not a bot|anubis_challenge|\/\.within\.website\// },
  // Cloudflare's managed challenge and its "Attention Required" block page.
  { name: "Cloudflare", marker: /cf-chl|cf_chl_opt|\/cdn-cgi\/challenge-platform\/|<title>just a moment\.\.\.<\/title>|attention required! \| cloudflare/ },
  { name: "a CAPTCHA", marker: /class="(?:g-recaptcha|h-captcha|cf-turnstile)"/ },
  { name: "a proof-of-work check", marker: /proof[- ]of[- ]work/ },
  { name: "a bot check", marker: /(?:checking|verifying) (?:that )?you are (?:not a bot|human)|are you a robot\?/ },
];

/** Bodies beyond this are no challenge page (those are a few kilobytes); not scanned. */
const MAX_SCANNED = 256 * 1024;

/** Which bot check the body is the page of; undefined for any body that is not HTML or has no marker. */
export function botWallName(body: string): string | undefined {
  const text = body.slice(0, MAX_SCANNED);
  if (!/^\s*</.test(text) && !/<html/i.test(text.slice(0, 1024))) return undefined;
  const lower = text.toLowerCase();
  return WALLS.find((wall) => wall.marker.test(lower))?.name;
}

/**
 * What to say when the body is a bot wall's page: the detail of a HydraUnavailable (exit 69, a
 * service hail cannot use right now, not bad data); undefined for any other answer.
 */
export function botWallText(status: number, body: string): string | undefined {
  const name = botWallName(body);
  if (name === undefined) return undefined;
  return (
    `HTTP ${status} with a challenge page of ${name}: Hydra's bot protection refused hail; ` +
    `ask its operators to allow User-Agent "${USER_AGENT}"`
  );
}
