// Unit files as mkServiceProfile renders them: systemd's quoting of exec arguments and
// environment values, every feature accepted by `systemd-analyze verify` (works without a
// systemd PID 1), and the evaluation errors a profile author sees.
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { createNixLab, type NixLab } from "../support/nix-lab.js";
import { buildProfile, evaluationError } from "./fake-host.js";

const HARD = ["two words", "100%", 'say "hi"', "it's", "$HOME", "back\\slash", "tab\there"];

describe("unit files rendered by mkServiceProfile", () => {
  let lab: NixLab;
  let profile = "";
  const unit = (name: string) => readFile(path.join(profile, "units", name), "utf8");
  before(async () => {
    lab = await createNixLab();
    profile = await buildProfile(lab, {
      name: "every",
      services: {
        web: {
          description: "web at 100% (demo)",
          app: { version: "v1" },
          environment: { PORT: "18080", WEIRD: `a b %c "d" 'e' $f \\g` },
          serviceConfig: { Restart: "on-failure", ProtectSystem: true, ExecStartPre: ["/bin/true", "/bin/true"] },
          unitConfig: { After: "network.target" },
          health: { command: ["/bin/sh", "-c", "exit 0"], timeoutSec: 5 },
        },
        echo: { exec: ["/bin/echo", ...HARD], serviceConfig: { Type: "oneshot" }, timer: { onCalendar: "hourly" } },
        sock: { exec: "-/bin/cat", socket: { listenStream: "127.0.0.1:18090" } },
        bg: {
          app: { version: "v1" },
          blueGreen: { listen: 18100, slots: [18101, 18102] },
          health: { http: "http://127.0.0.1:{port}/health" },
        },
      },
    });
  });
  after(async () => {
    await lab?.cleanup();
  });

  it("quotes every exec argument as one word: %% for %, $$ for $, C escapes for \\ \" and tab", async () => {
    const text = await unit("every-echo.service");
    assert.ok(
      text.includes(String.raw`ExecStart="/bin/echo" "two words" "100%%" "say \"hi\"" "it's" "$$HOME" "back\\slash" "tab\there"` + "\n"),
      text,
    );
  });

  it("quotes environment values: %% for %, $ left alone (Environment= does not expand it)", async () => {
    const text = await unit("every-web.service");
    assert.ok(text.includes(String.raw`Environment="WEIRD=a b %%c \"d\" 'e' $f \\g"` + "\n"), text);
    assert.ok(text.includes('Environment="PORT=18080"\n'), text);
  });

  it("writes settings raw (a list repeats the key, a bool is true/false) and a string exec as is", async () => {
    const web = await unit("every-web.service");
    for (const line of ["Description=web at 100%% (demo)", "After=network.target", "ExecStartPre=/bin/true\nExecStartPre=/bin/true", "ProtectSystem=true", "WantedBy=multi-user.target"]) {
      assert.ok(web.includes(`${line}\n`), `${line} in:\n${web}`);
    }
    assert.ok((await unit("every-sock.service")).includes("ExecStart=-/bin/cat\n"));
    assert.ok((await unit("every-sock.socket")).includes("ListenStream=127.0.0.1:18090\n"));
    assert.ok((await unit("every-echo.timer")).includes("OnCalendar=hourly\n"));
  });

  it("blue-green: a template with PORT=%i, a front socket on listen, one adapter per slot", async () => {
    assert.ok((await unit("every-bg@.service")).includes('Environment="PORT=%i"\n'));
    assert.ok((await unit("every-bg.socket")).includes("ListenStream=18100\n"));
    assert.match(await unit("every-bg.service"), /ExecStart="\/nix\/store\/[^"]+\/lib\/systemd\/systemd-socket-proxyd" "\/run\/hail-services\/every\/bg\/every-bg\/live\.sock"\n/);
    assert.ok((await unit("every-bg-slot-18101.socket")).includes("ListenStream=/run/hail-services/every/bg/every-bg/slot-18101.sock\n"));
    assert.match(await unit("every-bg-slot-18102.service"), /systemd-socket-proxyd" "127\.0\.0\.1:18102"\n/);
  });

  it("systemd-analyze verify accepts every unit (plain, socket, timer, blue-green)", async () => {
    const files = (await readdir(path.join(profile, "units"))).map((f) => path.join(profile, "units", f));
    assert.equal(files.length, 12);
    const r = await execa("systemd-analyze", ["verify", ...files], { reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
  });

  it("a health command becomes a script of the profile, arguments quoted for the shell", async () => {
    assert.equal(await readFile(path.join(profile, "health", "every-web.service"), "utf8"), "#!/bin/bash\nexec '/bin/sh' '-c' 'exit 0'\n");
  });
});

describe("mkServiceProfile refuses a bad profile at evaluation, saying what to change", () => {
  const web = { exec: ["/bin/true"] };
  const cases: [string, object, RegExp][] = [
    ["a bad namespace", { name: "My_App", services: { web } }, /name = "My_App" is not a valid namespace: it must match \^\[a-z\]\[a-z0-9-\]\*\$/],
    ["no command", { name: "app", services: { web: {} } }, /service web of app: no command: set `exec/],
    ["an unknown switch method", { name: "app", services: { web: { ...web, switchMethod: "bounce" } } }, /switchMethod is "bounce"; use one of restart, reload, stop-start, keep-old/],
    ["reload without ExecReload", { name: "app", services: { web: { ...web, switchMethod: "reload" } } }, /switchMethod = "reload" needs serviceConfig\.ExecReload/],
    ["a newline in an environment value", { name: "app", services: { web: { ...web, environment: { A: "x\ny" } } } }, /environment variable A contains a newline/],
    ["one blue-green slot", { name: "app", services: { web: { ...web, blueGreen: { listen: 1, slots: [2] } } } }, /blueGreen needs `listen = PORT; slots = \[ PORT_A PORT_B \];`/],
  ];
  for (const [what, spec, message] of cases) {
    it(what, async () => {
      assert.match(await evaluationError(spec), message);
    });
  }
});
