// Fake NixOS systems for end-to-end tests: real store paths built with nix-build (no nixpkgs)
// that look like a system.build.toplevel to hail: `nixos-version`, `kernel`, `initrd` and
// `kernel-modules` links into a kernel derivation shared by systems with the same kernel,
// a `switch-inhibitors` file (NixOS 26.05) and a `bin/switch-to-configuration` script that
// records its argument.
import { chmod, mkdir, realpath, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { NixLab } from "./nix-lab.js";

export interface FakeSystemSpec {
  name: string;
  version: string;
  /** systems with the same kernel string share the same kernel, initrd and modules paths */
  kernel: string;
  /** shell lines run by switch-to-configuration after it recorded its argument */
  switchExtra?: string;
  /** shell lines run by switch-to-configuration first, before it records or activates anything */
  switchBefore?: string;
  /** build a closure that is not a system (no nixos-version, no switch-to-configuration) */
  notASystem?: boolean;
  /** the bytes of its switch-inhibitors file: DEFAULT_INHIBITORS when not given, none when null */
  inhibitors?: string | null;
}

/** What a 26.05 system with one inhibitor writes; every fake system has it unless told otherwise. */
export const DEFAULT_INHIBITORS = '{"dbus-implementation":"dbus"}';

// switch-to-configuration appends "$out $1" to $HAIL_TEST_SWITCH_LOG when it is set; `extra`
// can make it fail (exit 3), hang (sleep) or signal hail ($PPID) mid-switch. Like NixOS's
// activation script, `switch` points $HAIL_TEST_CURRENT_SYSTEM (a stand-in for
// /run/current-system) at the system, before `extra` runs; `boot` does not.
const SYSTEM_EXPRESSION = `
{ name, version, kernel, switchExtra, switchBefore, notASystem, inhibitors, hasInhibitors, nonce }:
let
  kernelDrv = derivation {
    name = "fake-kernel-\${kernel}";
    system = builtins.currentSystem;
    builder = "/bin/sh";
    inherit nonce;
    args = [ "-c" ''
      /bin/mkdir -p "$out/lib/modules"
      echo ${"$"}{kernel} > "$out/bzImage"
      echo ${"$"}{kernel} > "$out/initrd"
    '' ];
  };
in derivation {
  name = "nixos-system-\${name}-\${version}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  inherit version switchExtra switchBefore notASystem inhibitors hasInhibitors nonce;
  kernelPath = kernelDrv;
  args = [ "-c" ''
    /bin/mkdir -p "$out/bin"
    /bin/ln -s "$kernelPath/bzImage" "$out/kernel"
    /bin/ln -s "$kernelPath/initrd" "$out/initrd"
    /bin/ln -s "$kernelPath/lib/modules" "$out/kernel-modules"
    if [ "$notASystem" = 1 ]; then
      printf '#!/bin/sh\\necho not a system\\n' > "$out/bin/activate"
      /bin/chmod +x "$out/bin/activate"
      exit 0
    fi
    printf '%s\\n' "$version" > "$out/nixos-version"
    if [ "$hasInhibitors" = 1 ]; then printf '%s' "$inhibitors" > "$out/switch-inhibitors"; fi
    printf '#!/bin/sh\\nout=%s\\n%s\\necho "switch-to-configuration $1 $out"\\nif [ -n "$HAIL_TEST_SWITCH_LOG" ]; then echo "$out $1" >> "$HAIL_TEST_SWITCH_LOG"; fi\\nif [ "$1" = switch ] && [ -n "$HAIL_TEST_CURRENT_SYSTEM" ]; then /bin/ln -sfn "$out" "$HAIL_TEST_CURRENT_SYSTEM"; fi\\n%s\\n' "$out" "$switchBefore" "$switchExtra" > "$out/bin/switch-to-configuration"
    /bin/chmod +x "$out/bin/switch-to-configuration"
  '' ];
}
`;

export interface FakeSystem {
  path: string;
  /** the bytes of its switch-inhibitors file, null when it has none */
  inhibitors: string | null;
  /** where its kernel, initrd and kernel-modules links point (kept in the store) */
  bootLinks: Record<string, string>;
}

const BOOT_LINKS = ["kernel", "initrd", "kernel-modules"];

/**
 * Builds the systems, publishes them (with their kernels) to the lab's cache and removes the
 * systems locally, so hail must substitute them.
 */
export async function publishedSystems(lab: NixLab, ...specs: FakeSystemSpec[]): Promise<FakeSystem[]> {
  const file = path.join(lab.root, "nixos-system.nix");
  await writeFile(file, SYSTEM_EXPRESSION);
  const systems: FakeSystem[] = [];
  for (const spec of specs) {
    const inhibitors = spec.inhibitors === undefined ? DEFAULT_INHIBITORS : spec.inhibitors;
    const built = await lab.buildExpression(file, {
      name: spec.name,
      version: spec.version,
      kernel: spec.kernel,
      switchExtra: spec.switchExtra ?? "",
      switchBefore: spec.switchBefore ?? "",
      notASystem: spec.notASystem ? "1" : "0",
      inhibitors: inhibitors ?? "",
      hasInhibitors: inhibitors === null ? "0" : "1",
    });
    const bootLinks = Object.fromEntries(await Promise.all(BOOT_LINKS.map(async (l) => [l, await realpath(path.join(built, l))] as const)));
    systems.push({ path: built, inhibitors, bootLinks });
  }
  await lab.publish(...systems.map((s) => s.path));
  await lab.deleteLocal(...systems.map((s) => s.path));
  return systems;
}

/**
 * A stand-in for /run/booted-system: a directory whose boot links are those of `system`, and
 * its switch-inhibitors file (`inhibitors` instead, when given; none when null).
 */
export async function bootedSystemLike(dir: string, system: FakeSystem, inhibitors = system.inhibitors): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [link, target] of Object.entries(system.bootLinks)) await symlink(target, path.join(dir, link));
  if (inhibitors !== null) await writeFile(path.join(dir, "switch-inhibitors"), inhibitors);
  return dir;
}

/** TZ for a hail run outside (UTC) and inside (UTC+12) the window of windowAwayFromNow(). */
export const OUTSIDE_WINDOW = { TZ: "UTC" };
export const INSIDE_WINDOW = { TZ: "Etc/GMT-12" };

/** [h-1:30, h+1:30) around h = the UTC hour + 12: TZ=UTC is far outside, UTC+12 inside. */
export function windowAwayFromNow(): string {
  const h = (new Date().getUTCHours() + 12) % 24;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad((h + 23) % 24)}:30-${pad((h + 1) % 24)}:30`;
}

/**
 * The files of a --nixos test in `root`: the switch log (HAIL_TEST_SWITCH_LOG), the metrics
 * file, and a fake reboot command that appends its arguments, "|"-separated, as a line of the
 * reboot log.
 */
export async function rebootFiles(root: string): Promise<{ switchLog: string; rebootLog: string; metricsFile: string; rebootScript: string }> {
  const rebootLog = path.join(root, "reboots.log");
  const rebootScript = path.join(root, "fake-reboot");
  await writeFile(rebootScript, `#!/bin/sh\nprintf '%s|' "$@" >> ${rebootLog}\necho >> ${rebootLog}\n`);
  await chmod(rebootScript, 0o755);
  return { switchLog: path.join(root, "switches.log"), rebootLog, metricsFile: path.join(root, "metrics.prom"), rebootScript };
}
