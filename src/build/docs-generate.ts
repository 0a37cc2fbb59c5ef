// `npm run docs:generate`: writes docs/reference/{cli,config,exit-codes}.md from the option
// table (src/build/reference-pages.ts), to be committed with the change that made them differ.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { REFERENCE_PAGES } from "./reference-pages.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
for (const { path: file, render } of REFERENCE_PAGES) {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), render());
  console.log(`wrote ${file}`);
}
