// Writes hail(1) to the file named on the command line (`npm run build`: dist/hail.1), for
// the npm tarball (package.json `man`) and the Nix package (share/man/man1). The page itself
// is src/cli/man-page.ts, made from the option table.
import { readFileSync, writeFileSync } from "node:fs";
import { manPage } from "../cli/man-page.js";

const [out] = process.argv.slice(2);
if (out === undefined) throw new Error("usage: node --import tsx src/build/man-page.ts FILE");
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
writeFileSync(out, manPage(version));
