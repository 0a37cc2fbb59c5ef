import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../../src/errors.js";
import { buildIdFromPath, parseJobUrl, urlOnBase } from "../../src/hydra/job-url.js";

describe("parseJobUrl", () => {
  const good: Array<[string, { baseUrl: string; project: string; jobset: string; job: string }]> = [
    [
      "https://hydra.example/job/acme/production/release_gate",
      { baseUrl: "https://hydra.example", project: "acme", jobset: "production", job: "release_gate" },
    ],
    [
      "https://hydra.example/job/acme/production/release_gate/",
      { baseUrl: "https://hydra.example", project: "acme", jobset: "production", job: "release_gate" },
    ],
    [
      "https://h.example/hydra/job/P/JS/J",
      { baseUrl: "https://h.example/hydra", project: "P", jobset: "JS", job: "J" },
    ],
    [
      "http://10.0.0.5:3000/ci/hydra/job/nixos/release-24.11/tested.x86_64-linux",
      {
        baseUrl: "http://10.0.0.5:3000/ci/hydra",
        project: "nixos",
        jobset: "release-24.11",
        job: "tested.x86_64-linux",
      },
    ],
    [
      "  HTTPS://Hydra.Example/job/acme/production/app  ",
      { baseUrl: "https://hydra.example", project: "acme", jobset: "production", job: "app" },
    ],
  ];
  for (const [input, expected] of good) {
    it(`parses ${JSON.stringify(input)}`, () => {
      const { baseUrl, project, jobset, job } = expected;
      assert.deepEqual(parseJobUrl(input), { ...expected, url: `${baseUrl}/job/${project}/${jobset}/${job}` });
    });
  }

  const bad: Array<[string, string]> = [
    ["hydra.example/job/acme/production/gate", "not a URL"],
    ["ftp://hydra.example/job/acme/production/gate", "unsupported scheme ftp:"],
    ["https://hydra.example/job/acme/production", "not a Hydra job URL"],
    ["https://hydra.example/acme/production/gate", "not a Hydra job URL"],
    ["https://hydra.example/job/acme/production/gate/latest", "not a Hydra job URL"],
    ["https://hydra.example/job/acme//gate", "not a Hydra job URL"],
    ["https://hydra.example/job/acme/production/gate?x=1", "no query string"],
    ["https://hydra.example/job/acme/production/gate#top", "no query string or fragment"],
    ["https://hydra.example/build/123", "not a Hydra job URL"],
    ["", "not a URL"],
  ];
  for (const [input, reason] of bad) {
    it(`refuses ${JSON.stringify(input)} (${reason})`, () => {
      assert.throws(
        () => parseJobUrl(input),
        (err: unknown) =>
          err instanceof UsageError &&
          err.exitCode === 64 &&
          err.message.includes(reason) &&
          err.message.includes("https://hydra.example/job/PROJECT/JOBSET/JOB"),
      );
    });
  }

  it("refuses credentials in the URL without repeating them", () => {
    assert.throws(
      () => parseJobUrl("https://deploy:hunter2@hydra.example/job/acme/production/gate"),
      (err: unknown) =>
        err instanceof UsageError &&
        err.message.includes("netrc") &&
        !err.message.includes("hunter2") &&
        !err.message.includes("deploy:"),
    );
  });
});

describe("buildIdFromPath", () => {
  const cases: Array<[string, number | undefined]> = [
    ["/build/281734", 281734],
    ["/hydra/build/17", 17],
    ["/build/281734/constituents", 281734],
    ["/build/5/download/1/x.tar", 5],
    ["/job/acme/production/release_gate/latest-finished", undefined],
    ["/build/abc", undefined],
    ["/build/12abc", undefined],
    ["/build/", undefined],
    ["/build/99999999999999999999", undefined],
  ];
  for (const [path, expected] of cases) {
    it(`${path} -> ${String(expected)}`, () => assert.equal(buildIdFromPath(path), expected));
  }
});

describe("urlOnBase", () => {
  const cases: Array<[string, string, string]> = [
    ["https://hydra.example", "/job/acme/prod/gate/latest", "https://hydra.example/job/acme/prod/gate/latest"],
    // Hydra behind /hydra that knows its prefix: not doubled.
    ["https://h.example/hydra", "/hydra/job/a/b/c/latest", "https://h.example/hydra/job/a/b/c/latest"],
    // A proxy that hides the prefix from Hydra (NixOS/hydra#1202): prefix added back.
    ["https://h.example/hydra", "/job/a/b/c/latest", "https://h.example/hydra/job/a/b/c/latest"],
    ["https://h.example/hydra", "/hydrant/x", "https://h.example/hydra/hydrant/x"],
  ];
  for (const [base, path, expected] of cases) {
    it(`${base} + ${path}`, () => assert.equal(urlOnBase(base, path), expected));
  }
});
