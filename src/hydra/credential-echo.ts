/**
 * Hydra's data (job names, store paths, output names) is what hail acts on, and messages quote
 * it as it is: it cannot be redacted without deploying or naming something else. So data that
 * carries a credential in a form hail sent it in (the Basic token, `user:password`, the login
 * body, the session cookie: a proxy echoing the request into an answer, a hostile server) is
 * refused whole, at the border. A password alone is not looked for here: in a name it can only
 * be a name that equals the password (a project called like it), and refusing every answer for
 * that would stop deployments.
 */
import { InvalidResponse } from "../errors.js";
import { containsSentCredential, longestCredential } from "../secrets.js";
import { formatPath, serverKey } from "./schema.js";

/** Every string in `data`, keys included, with where it is. */
function stringsIn(data: unknown): Array<{ text: string; path: (string | number)[] }> {
  const found: Array<{ text: string; path: (string | number)[] }> = [];
  const stack: Array<{ value: unknown; path: (string | number)[] }> = [{ value: data, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value === "string") found.push({ text: value, path });
    else if (Array.isArray(value)) {
      // Arrays of numbers (a gate's evaluation ids) can be long: only strings and objects are walked.
      value.forEach((child, i) => {
        if (typeof child === "string" || (typeof child === "object" && child !== null)) stack.push({ value: child, path: [...path, i] });
      });
    } else if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        found.push({ text: key, path: [...path, key] });
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return found;
}

/** The path of the first string in `data` that holds a remembered credential. */
function findCredential(data: unknown): string | undefined {
  const strings = stringsIn(data);
  // One search over all of them first: almost every answer holds none.
  if (!containsSentCredential(strings.map((s) => s.text).join("\u0000"))) return undefined;
  const hit = strings.find((s) => containsSentCredential(s.text));
  return hit === undefined ? undefined : formatPath(hit.path, "(body)", serverKey);
}

/** Throws InvalidResponse when `data` (parsed from `url`'s answer) carries a credential hail sent. */
export function refuseCredentialEcho(url: string, data: unknown): void {
  if (longestCredential() === 0) return;
  const field = findCredential(data);
  if (field === undefined) return;
  throw new InvalidResponse(
    url,
    `the answer carries a credential hail sent (in ${field}); refusing it rather than acting on it or repeating it. ` +
      "Does a proxy in front of Hydra echo requests into its answers?",
  );
}

/** Whether a path a server redirects to carries a credential, raw or percent-encoded. */
export function pathCarriesCredential(path: string): boolean {
  if (containsSentCredential(path)) return true;
  try {
    return containsSentCredential(decodeURIComponent(path));
  } catch {
    return false;
  }
}
