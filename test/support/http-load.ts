// A bounded, fixed-rate HTTP load on one URL, for switches under traffic (blue-green vs
// stop-then-start): every request opens its own connection (as many clients behind a proxy
// do), so each one sees whatever answers at the moment it connects. Every request is
// recorded: its answer, or why it failed.
import http from "node:http";

export interface Answer {
  /** ms since the load started, when the request was sent and when it ended */
  sentAt: number;
  endedAt: number;
  /** the body of a 200 answer, trimmed; null for a failure */
  body: string | null;
  /** why it failed: "status 502", "ECONNREFUSED", "ECONNRESET", "timeout" …; null when it succeeded */
  failure: string | null;
}

export interface LoadSummary {
  sent: number;
  ok: number;
  failed: number;
  /** failure reason → count */
  failures: Record<string, number>;
  /** how many 200 answers carried each body */
  bodies: Record<string, number>;
  answers: Answer[];
}

export interface Load {
  /** ms since the load started */
  now(): number;
  /** stops sending, waits for the requests in flight, and sums up */
  stop(): Promise<LoadSummary>;
}

/** `ratePerSecond` requests a second to `url` until stop(); each fails after `requestTimeoutMs`. */
export function startLoad(url: string, ratePerSecond: number, requestTimeoutMs = 10_000): Load {
  const started = performance.now();
  const now = () => performance.now() - started;
  const answers: Answer[] = [];
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const tick = () => {
    // as many as the rate owes by now: a late timer does not lower the rate
    const due = Math.floor((now() / 1000) * ratePerSecond) + 1;
    while (sent < due) {
      sent += 1;
      const p = request(url, requestTimeoutMs, now).then((a) => {
        answers.push(a);
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
  };
  tick();
  const timer = setInterval(tick, Math.max(1, Math.floor(1000 / ratePerSecond / 2)));
  return {
    now,
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return summarize(answers.sort((a, b) => a.sentAt - b.sentAt));
    },
  };
}

function request(url: string, timeoutMs: number, now: () => number): Promise<Answer> {
  const sentAt = now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (body: string | null, failure: string | null) => {
      if (settled) return;
      settled = true;
      resolve({ sentAt, endedAt: now(), body, failure });
    };
    const req = http.get(url, { agent: false, headers: { connection: "close" }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (err: NodeJS.ErrnoException) => done(null, err.code ?? err.message));
      res.on("end", () => {
        if (res.statusCode === 200) done(Buffer.concat(chunks).toString().trim(), null);
        else done(null, `status ${String(res.statusCode)}`);
      });
      res.on("aborted", () => done(null, "aborted"));
    });
    req.on("timeout", () => {
      req.destroy();
      done(null, "timeout");
    });
    req.on("error", (err: NodeJS.ErrnoException) => done(null, err.code ?? err.message));
  });
}

export function summarize(answers: Answer[]): LoadSummary {
  const failures: Record<string, number> = {};
  const bodies: Record<string, number> = {};
  for (const a of answers) {
    if (a.failure !== null) failures[a.failure] = (failures[a.failure] ?? 0) + 1;
    else if (a.body !== null) bodies[a.body] = (bodies[a.body] ?? 0) + 1;
  }
  const failed = answers.filter((a) => a.failure !== null).length;
  return { sent: answers.length, ok: answers.length - failed, failed, failures, bodies, answers };
}

/** The trimmed body of a 200 answer from `url`, or null (another status, nothing listening). */
export async function fetchText(url: string): Promise<string | null> {
  try {
    const res = await fetch(url);
    return res.ok ? (await res.text()).trim() : null;
  } catch {
    return null;
  }
}
