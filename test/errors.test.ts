import assert from "node:assert/strict";
import { mkdtemp, open, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { asHailError, EXIT } from "../src/errors.js";

/** A system error as Node makes one (for codes a test cannot cause without a mount or a limit). */
function systemError(code: string, syscall: string, path: string, dest?: string): Error {
  const text = `${code}: ${syscall} '${path}'${dest === undefined ? "" : ` -> '${dest}'`}`;
  return Object.assign(new Error(text), { code, syscall, path, ...(dest === undefined ? {} : { dest }) });
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "hail-errors-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failureOf(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (err) {
    return err;
  }
  throw new Error("the action did not fail");
}

describe("asHailError: the machine's errors are 73 or 74, naming the path and the OS reason, never 70", () => {
  it("a symlink loop (ELOOP) and a name too long (ENAMETOOLONG), from the real file system: 73", async () => {
    const loop = join(dir, "loop");
    await symlink(loop, loop);
    const long = join(dir, "x".repeat(300));
    for (const [err, code, reason] of [
      [await failureOf(() => open(join(loop, "state.json"), "r")), "ELOOP", /symlink loop/],
      [await failureOf(() => open(long, "r")), "ENAMETOOLONG", /name too long/],
    ] as const) {
      const mapped = asHailError(err);
      assert.equal(mapped.exitCode, EXIT.cannotCreate, mapped.message);
      assert.ok(mapped.message.includes(code), mapped.message);
      assert.match(mapped.message, reason);
      assert.ok(mapped.message.includes(dir), mapped.message);
      assert.doesNotMatch(mapped.message, /unexpected error|\n\s+at /);
    }
  });

  it("a state file on a mount point (EBUSY on rename) is 73 and names where it was going", () => {
    const mapped = asHailError(systemError("EBUSY", "rename", "/var/lib/hail/.x.json.1.tmp", "/var/lib/hail/x.json"));
    assert.equal(mapped.exitCode, EXIT.cannotCreate);
    assert.equal(mapped.message, "cannot rename /var/lib/hail/.x.json.1.tmp to /var/lib/hail/x.json: it is busy (a mount point?) (EBUSY)");
    assert.equal(mapped.hint, "fix the path or its permissions", "what to do goes in the hint, printed in parentheses");
  });

  it("too many open files (EMFILE, ENFILE) and other I/O failures that may pass are 74", () => {
    const cases: Array<[string, RegExp]> = [
      ["EMFILE", /too many open files: raise its limit \(ulimit -n, or LimitNOFILE=/],
      ["ENFILE", /the system has too many open files/],
      ["EFBIG", /too large for the file system/],
      ["ENOSPC", /no space left/],
    ];
    for (const [code, reason] of cases) {
      const mapped = asHailError(systemError(code, "open", "/var/lib/hail/x.json"));
      assert.equal(mapped.exitCode, EXIT.ioError, `${code}: ${mapped.message}`);
      assert.match(mapped.message, reason);
      assert.ok(mapped.message.startsWith(`cannot open /var/lib/hail/x.json: `), mapped.message);
    }
  });

  it("an errno hail does not know is still a bug (70)", () => {
    assert.equal(asHailError(systemError("EWHATEVER", "open", "/x")).exitCode, EXIT.internal);
  });
});
