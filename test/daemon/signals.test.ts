import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { answerSignal, surviveSignals, SURVIVED_SIGNALS } from "../../src/daemon/signals.js";
import { memoryLog } from "../deploy/fake-world.js";

// process.emit runs the listeners as a delivered signal would, without sending one. Node's own
// report-on-signal listener would answer an emitted SIGUSR2 too (node --test on Node 24 turns
// it on): it writes a report.*.json into the working directory, so it is off while these run.
const reportOnSignal = process.report.reportOnSignal;
before(() => {
  process.report.reportOnSignal = false;
});
after(() => {
  process.report.reportOnSignal = reportOnSignal;
});

describe("answerSignal", () => {
  it("installs one listener per signal for good; a new answer replaces the old one behind it", () => {
    const before = process.listenerCount("SIGUSR2");
    const heard: string[] = [];
    answerSignal("SIGUSR2", () => heard.push("first"));
    answerSignal("SIGUSR2", () => heard.push("second"));
    assert.equal(process.listenerCount("SIGUSR2"), before + 1, "one listener, never removed");
    process.emit("SIGUSR2", "SIGUSR2");
    assert.deepEqual(heard, ["second"]);
  });
});

describe("surviveSignals", () => {
  it("a daemon: SIGHUP says a restart applies changes, the others are logged, nothing stops", () => {
    const log = memoryLog();
    surviveSignals(log, false);
    for (const signal of SURVIVED_SIGNALS) process.emit(signal, signal);
    const lines = log.lines.filter((l) => l.level === "warn").map((l) => l.msg);
    assert.equal(lines.length, SURVIVED_SIGNALS.length);
    assert.match(lines[0] ?? "", /^received SIGHUP: hail reads its configuration only when it starts; restart it to apply changes \(hail carries on\)$/);
    assert.match(lines[1] ?? "", /^received SIGUSR2: hail gives this signal no meaning and ignores it/);
    assert.match(lines[3] ?? "", /^received SIGALRM: hail gives this signal no meaning and ignores it/);
  });

  it("a one-shot: each signal lets the pass carry on to its end", () => {
    const log = memoryLog();
    surviveSignals(log, true);
    for (const signal of SURVIVED_SIGNALS) process.emit(signal, signal);
    const lines = log.lines.map((l) => l.msg);
    assert.equal(lines.length, SURVIVED_SIGNALS.length);
    for (const line of lines) assert.match(line, /this one-shot pass carries on to its end/);
  });
});
