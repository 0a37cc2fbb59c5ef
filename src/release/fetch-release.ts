/**
 * Fetching a signed release (docs/signed-releases.md): the manifest at --release-manifest and
 * its signature at URL.sig, through a client with the Hydra client's rules (deadline, 32 MiB
 * bound, retries, netrc credentials, redirects only on the manifest's own host).
 */
import { HydraUnavailable, ReleaseRejected } from "../errors.js";
import { HydraNotFound } from "../hydra/not-found.js";

/** The one request fetching needs; production passes a HydraClient on the manifest's host. */
export interface ReleaseFiles {
  /** the exact bytes: the manifest is verified over them, never over a decoded and re-encoded copy */
  getFile(url: string): Promise<Uint8Array>;
}

export interface FetchedRelease {
  url: string;
  manifestBytes: Uint8Array;
  signatureText: string;
}

/** Where `ssh-keygen -Y sign FILE` puts the signature of FILE, and so where hail looks for it. */
export function signatureUrlOf(manifestUrl: string): string {
  return `${manifestUrl}.sig`;
}

/**
 * Both files, asked for together. An unreachable server is 69 (tried again at the next poll);
 * no manifest at the URL is 69 too (nothing to deploy from, and nothing refused); a manifest
 * without its signature is refused (65): unsigned is never deployed.
 */
export async function fetchRelease(files: ReleaseFiles, url: string): Promise<FetchedRelease> {
  const sigUrl = signatureUrlOf(url);
  const [manifest, signature] = await Promise.allSettled([files.getFile(url), files.getFile(sigUrl)]);
  if (manifest.status === "rejected") {
    if (manifest.reason instanceof HydraNotFound) {
      throw new HydraUnavailable(url, "no release manifest there (HTTP 404)").withHint(
        "publish the release with `hail sign … --output FILE` and both files where --release-manifest points, or fix --release-manifest",
      );
    }
    throw manifest.reason;
  }
  if (signature.status === "rejected") {
    if (signature.reason instanceof HydraNotFound) {
      throw new ReleaseRejected("signature-missing", url, `there is no signature at ${sigUrl} (HTTP 404); an unsigned manifest is never deployed`).withHint(
        "publish FILE.sig that `hail sign` (or `ssh-keygen -Y sign -n hail-release FILE`) wrote beside the manifest",
      );
    }
    throw signature.reason;
  }
  return { url, manifestBytes: manifest.value, signatureText: new TextDecoder().decode(signature.value) };
}
