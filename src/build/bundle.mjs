// Bundles src/cli/main.ts into dist/hail.mjs, the single file `hail` ships (run by `npm run
// build` after tsc). Node parses all of it at every start, so what is not needed is left out
// and whitespace and syntax are minified; identifiers keep their names so that stack traces
// and error names stay readable.
//
// The file is a small ES module, the loader (src/compile-cache.ts), followed by the program
// itself in a comment: CommonJS that the loader reads back from the file and compiles with
// node:vm, with V8's code cache from an earlier run when there is a trusted one. V8 skips a
// comment at almost no cost; the same program as a string literal cost every start about 7 ms
// of CPU to scan and copy.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

// package.json's build script names the file (`--outfile=dist/hail.mjs`), as its `bin` does.
const { outfile } = parseArgs({ options: { outfile: { type: "string" } } }).values;
if (outfile === undefined) throw new Error("usage: node src/build/bundle.mjs --outfile=FILE");

const zodEnglishOnly = {
  // zod re-exports every locale (`z.locales`, about 390 KiB); hail uses none but English,
  // which zod's default config imports by itself.
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: args.importer, namespace: "zod-locales" } : undefined);
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) =>
      ({ contents: 'export { default as en } from "../locales/en.js";', resolveDir: path.dirname(args.path) }));
  },
};

/**
 * An ESM bundle imports every Node built-in any of its modules names at the top, so each
 * start would load them all (child_process, crypto, https, zlib… about 14 ms together),
 * whether the command needs them or not. Here a built-in is a CommonJS module that
 * `require`s it: esbuild loads it when the module that imports it is first run, and the
 * commands' modules (imported by `import()` in src/cli/main.ts) run only for that command.
 */
const lazyBuiltins = {
  name: "lazy-builtins",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => {
      if (args.namespace.startsWith("lazy-builtin")) return { path: args.path, external: true };
      // commander requires child_process when it loads but uses it only to run executable
      // subcommands, which hail has none of: it gets the module on its first use.
      const onUse = args.path === "node:child_process" && /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer);
      return { path: args.path, namespace: onUse ? "lazy-builtin-on-use" : "lazy-builtin" };
    });
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: "js" }));
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin-on-use" }, (args) => ({
      contents: `let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= require(${JSON.stringify(args.path)}))[key] });`,
      loader: "js",
    }));
  },
};

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The commit `hail --version`, hail_build_info and the JSON logs name (src/build-info.ts): the
 * short HEAD of the checkout this package is, `-dirty` when tracked files differ from it, or ""
 * outside git. A Nix build's source has no .git and its sandbox no git, and a tarball unpacked
 * inside someone else's repository must not take that repository's commit: only a checkout
 * whose top level is this package counts.
 */
function gitCommit() {
  const git = (...args) => execFileSync("git", ["-C", REPO, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    if (realpathSync(git("rev-parse", "--show-toplevel")) !== realpathSync(REPO)) return "";
    const dirty = git("status", "--porcelain", "--untracked-files=no") !== "";
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? "-dirty" : ""}`;
  } catch {
    return "";
  }
}

const { version } = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8"));
const define = Object.fromEntries([
  ["HAIL_BUILD_VERSION", JSON.stringify(version)],
  ["HAIL_BUILD_COMMIT", JSON.stringify(gitCommit())],
]);

/**
 * The first statement of dist/hail.mjs, for every command: a SIGUSR1 listener. Without one,
 * Node answers SIGUSR1 by opening its inspector on 127.0.0.1:9229, which anyone on the machine
 * can connect to and which evaluates any JavaScript in hail, a root process. A one-shot,
 * `plan`, `status`, `hold` and `release` simply ignore SIGUSR1 through it; the daemon adds its
 * "poll now" on top (src/daemon/signals.ts). It is never removed: with no listener left, libuv
 * sets SIGUSR1 back to its default action, which terminates the process.
 * Before this line runs (Node starting) only node's --disable-sigusr1 protects, which the
 * one-shot unit and the Nix package's bin/hail pass; not the daemon's entry points, as under
 * that flag Node 24 blocks SIGUSR1 and so the daemon's "poll now" (nix/package.nix says more).
 */
const IGNORE_SIGUSR1 = "process.on('SIGUSR1', function hailIgnoresSigusr1() {});";

/** The program: CommonJS, in the function the loader calls with (exports, require, module, __filename, __dirname). */
const program = await build({
  entryPoints: ["src/cli/main.ts"],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  write: false,
  logLevel: "warning",
  // Renaming identifiers as well saved nothing more that the bench could see.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [zodEnglishOnly, lazyBuiltins],
  define,
});
const code = `(function (exports, require, module, __filename, __dirname) {${program.outputFiles[0].text.replace(/^#!.*\n/, "")}\n})`;
// node:vm compiles it as a script: an import() there would need a module loader it does not have
if (/\bimport\s*\(/.test(code)) throw new Error("src/build/bundle.mjs: the program calls import(), which the loader's node:vm script cannot do");
/** Opens the comment that carries the program; src/compile-cache.ts looks for the same. */
const PROGRAM_MARK = "hail-program";
/** Names the cache files of this build: V8 tells a changed program only by its length. */
const buildId = createHash("sha256").update(carried(code)).digest("hex").slice(0, 16);

await build({
  stdin: {
    contents: `import { fileURLToPath } from "node:url"; import { runBundle } from "./src/compile-cache.ts"; ` +
      `runBundle(fileURLToPath(import.meta.url), ${JSON.stringify(buildId)});`,
    resolveDir: process.cwd(),
    sourcefile: "hail-loader.ts",
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile,
  logLevel: "warning",
  minifyWhitespace: true,
  minifySyntax: true,
  banner: { js: `#!/usr/bin/env node\n${IGNORE_SIGUSR1}` },
  footer: { js: carried(code) },
});
// esbuild marks its output executable only when the entry starts with a hashbang; this one is the banner's
chmodSync(outfile, 0o755);

/**
 * The program as the comment at the end of the file (src/compile-cache.ts, programIn, reads it
 * back): a "*\/" in it, which would end the comment, is carried as "*", U+00B7, "/"; the build
 * stops if the program has that itself. What is not ASCII stays as it is (esbuild leaves it in
 * regular expressions, where no escape would mean the same everywhere).
 */
function carried(program) {
  if (program.includes("*\u00b7/")) throw new Error('src/build/bundle.mjs: the program contains "*\u00b7/", which would be read back as "*\/"');
  return `\n/*${PROGRAM_MARK}\n${program.replaceAll("*/", "*\u00b7/")}\n*/\n`;
}
