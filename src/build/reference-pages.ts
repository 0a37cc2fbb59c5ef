// build: The generated reference pages and the command that refreshes them.
import { cliReference } from "./reference-cli.js";
import { configReference } from "./reference-config.js";
import { exitCodesReference } from "./reference-exit-codes.js";

/**
 * The reference pages made from the option table and the exit-code words: `npm run
 * docs:generate` writes them, test/docs/reference-generated.test.ts checks the checked-in ones.
 */
export const REFERENCE_PAGES: readonly { readonly path: string; readonly render: () => string }[] = [
  { path: "docs/reference/cli.md", render: cliReference },
  { path: "docs/reference/config.md", render: configReference },
  { path: "docs/reference/exit-codes.md", render: exitCodesReference },
];

export const REFRESH_COMMAND = "npm run docs:generate";
