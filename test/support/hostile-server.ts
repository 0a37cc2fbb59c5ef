// A server that answers badly on purpose, in front of the Hydra test server: a path given a
// behaviour gets it (a dripping body, a lying Content-Length, an oversized stream, huge headers,
// HTML, a redirect elsewhere); every other request is passed through to the upstream server.
// It records, per hostile answer, how many body bytes it managed to send and whether the client
// hung up before the end, so a test can see that hail stopped reading without timing anything.
import http from "node:http";
import type { AddressInfo } from "node:net";

/** What the server saw of one hostile answer. */
export interface Delivery {
  path: string;
  /** body bytes written (accepted by the socket) */
  bytesSent: number;
  /** the client closed the connection before the body was complete */
  closedEarly: boolean;
}

export type Behaviour = (req: http.IncomingMessage, res: http.ServerResponse, delivery: Delivery) => void;

export class HostileServer {
  readonly url: string;
  readonly deliveries: Delivery[] = [];
  /** the path of every request, hostile or passed through */
  readonly requests: string[] = [];
  private readonly behaviours: Array<{ match: string | RegExp; behaviour: Behaviour }> = [];
  private readonly sockets = new Set<import("node:net").Socket>();

  private constructor(private readonly server: http.Server, private readonly upstream: URL) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  /** `upstream`: where requests without a behaviour go (the Hydra test server's URL). */
  static async start(upstream: string): Promise<HostileServer> {
    let self: HostileServer | undefined;
    const server = http.createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => self?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    self = new HostileServer(server, new URL(upstream));
    return self;
  }

  /** Answer requests whose path is `match` (or matches it) with `behaviour`, from now on. */
  on(match: string | RegExp, behaviour: Behaviour): void {
    this.behaviours.unshift({ match, behaviour });
  }

  /** Forget every behaviour and delivery: everything passes through again. */
  reset(): void {
    this.behaviours.splice(0);
    this.deliveries.splice(0);
    this.requests.splice(0);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? "/", this.url).pathname;
    this.requests.push(path);
    const found = this.behaviours.find(({ match }) => (typeof match === "string" ? match === path : match.test(path)));
    if (found === undefined) return this.pass(req, res);
    const delivery: Delivery = { path, bytesSent: 0, closedEarly: false };
    this.deliveries.push(delivery);
    res.on("close", () => {
      if (!res.writableFinished) delivery.closedEarly = true;
    });
    found.behaviour(req, res, delivery);
  }

  private pass(req: http.IncomingMessage, res: http.ServerResponse): void {
    const target = new URL(req.url ?? "/", this.upstream);
    const out = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on("error", () => res.destroy());
    req.pipe(out);
  }
}

/** Write `chunk` and count it; false once the client is gone. Waits for the socket to drain. */
async function send(res: http.ServerResponse, delivery: Delivery, chunk: Buffer): Promise<boolean> {
  if (res.destroyed) return false;
  const accepted = res.write(chunk);
  delivery.bytesSent += chunk.length;
  if (!accepted) {
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    });
  }
  return !res.destroyed;
}

const JSON_TYPE = { "content-type": "application/json" };

/** A plain answer. */
export function answer(status: number, body: string, headers: Record<string, string> = JSON_TYPE): Behaviour {
  return (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

/** 200 and then one byte of `body` a second (the start of a build's JSON), for ever. */
export function drip(body = '{"id": 100, "finished": 1, "buildstatus": 0, '): Behaviour {
  return (_req, res, delivery) => {
    res.writeHead(200, JSON_TYPE);
    let i = 0;
    const timer = setInterval(() => {
      void send(res, delivery, Buffer.from(body[i % body.length] ?? " "));
      i += 1;
    }, 1000);
    res.on("close", () => clearInterval(timer));
  };
}

/** Content-Length `declared`, then fewer bytes, and the connection held open (or, with `hangUp`, closed). */
export function wrongLength(declared = 100_000, body = '{"id": 100', hangUp = false): Behaviour {
  return (_req, res, delivery) => {
    res.writeHead(200, { ...JSON_TYPE, "content-length": String(declared) });
    void send(res, delivery, Buffer.from(body)).then(() => {
      if (hangUp) res.socket?.end();
    });
  };
}

/**
 * A body of `total` bytes (JSON whitespace inside an array), streamed as fast as the client
 * reads it; with `declareLength`, announced by Content-Length, else chunked.
 */
export function oversized(total: number, declareLength: boolean): Behaviour {
  return (_req, res, delivery) => {
    res.writeHead(200, { ...JSON_TYPE, ...(declareLength ? { "content-length": String(total) } : {}) });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    void (async () => {
      if (!(await send(res, delivery, Buffer.from("[")))) return;
      let left = total - 2;
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        if (!(await send(res, delivery, piece))) return;
        left -= piece.length;
      }
      if (await send(res, delivery, Buffer.from("]"))) res.end();
    })();
  };
}

/** A redirect to `location`. */
export function redirect(location: string, status = 302): Behaviour {
  return answer(status, "", { location });
}

/** A 200 whose headers weigh `bytes`. */
export function hugeHeaders(bytes: number): Behaviour {
  return (_req, res) => {
    res.writeHead(200, { ...JSON_TYPE, "x-padding": "a".repeat(bytes) });
    res.end("{}");
  };
}
