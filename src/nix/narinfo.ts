/** A binary cache's description of one store path (the fields hail uses). */
export interface Narinfo {
  storePath: string;
  fileSize: number | null;
  narSize: number;
  references: string[];
}

/** Parses a `.narinfo` file ("Key: value" lines); null when it lacks what hail needs. */
export function parseNarinfo(text: string): Narinfo | null {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const storePath = fields.get("StorePath");
  const narSize = Number(fields.get("NarSize"));
  if (!storePath || !Number.isFinite(narSize)) return null;
  const fileSize = fields.has("FileSize") ? Number(fields.get("FileSize")) : null;
  return {
    storePath,
    narSize,
    fileSize: fileSize !== null && Number.isFinite(fileSize) ? fileSize : null,
    references: (fields.get("References") ?? "").split(/\s+/).filter(Boolean),
  };
}

/** `/nix/store/<hash>-name` → `<hash>`, the narinfo file's name in a cache. */
export function hashPart(storePath: string): string {
  const base = storePath.slice(storePath.lastIndexOf("/") + 1);
  return base.slice(0, 32);
}
