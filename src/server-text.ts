/**
 * Text a server (or a command) chose, made fit to quote in one of hail's messages: credentials
 * redacted (secrets.ts says which), control characters turned into spaces, cut short. This is
 * the one door through which outside text enters a message; hail's own words never pass it.
 */
import { longestCredential, redactCredentials } from "./secrets.js";

/** Characters a quoted server text keeps: enough for Hydra's sentences, little room for a flood. */
export const MAX_SERVER_TEXT = 200;

/** How far past the cut is read, as a multiple of the cut: slack for redactions that shorten the text. */
const READ_AHEAD = 4;

/**
 * `text` redacted, then cut to `max` characters. Only a window of it is redacted (a 32 MiB
 * body is not searched whole for every form of every secret), and a window cut short loses
 * its last characters after redaction (as many as the longest credential form, at least `max`):
 * a credential cut in half by the window matches no form, and must not show its first half.
 */
export function serverText(text: string, max = MAX_SERVER_TEXT): string {
  const longest = longestCredential();
  const windowLength = max * READ_AHEAD + longest;
  let redacted = redactCredentials(text.length > windowLength ? text.slice(0, windowLength) : text);
  if (text.length > windowLength) redacted = redacted.slice(0, Math.max(0, redacted.length - Math.max(longest, max)));
  return redacted.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim().slice(0, max);
}
