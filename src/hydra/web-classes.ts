/**
 * Headers, Request and Response as small classes of our own, put in place of Node's globals
 * by web-globals.ts, which the HTTP layer imports before ky: the bundle, code run from source
 * and the unit tests all run these.
 *
 * Why: on Node 20 the first touch of any of Node's classes loads undici, Node's fetch, whose
 * start-up compiles its WebAssembly HTTP parser. ky builds a Request when it is imported and
 * for every request, so a one-shot `hail plan` paid for undici without using it, and a daemon
 * kept undici's code and parser in memory (npm run bench: cold start and daemon memory).
 * Requests go over node:http (http-fetch.ts); these classes carry what ky and hail use:
 * headers (case-insensitive, Set-Cookie kept apart), a request's method, URL, signal, redirect
 * mode and a body given as bytes or text, and a response's status, headers and body stream.
 */

type HeadersInput = HailHeaders | RequestInit["headers"];

export class HailHeaders {
  readonly #map = new Map<string, string[]>();

  constructor(init?: HeadersInput | null) {
    if (init == null) return;
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === "function") {
      for (const [name, value] of init as Iterable<[string, string]>) this.append(name, value);
    } else {
      for (const [name, value] of Object.entries(init)) this.append(name, String(value));
    }
  }

  append(name: string, value: string): void {
    const key = headerName(name);
    const values = this.#map.get(key);
    const v = headerValue(value);
    if (values === undefined) this.#map.set(key, [v]);
    else values.push(v);
  }

  set(name: string, value: string): void {
    this.#map.set(headerName(name), [headerValue(value)]);
  }

  get(name: string): string | null {
    return this.#map.get(name.toLowerCase())?.join(", ") ?? null;
  }

  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }

  delete(name: string): void {
    this.#map.delete(name.toLowerCase());
  }

  getSetCookie(): string[] {
    return [...(this.#map.get("set-cookie") ?? [])];
  }

  forEach(callback: (value: string, name: string, headers: HailHeaders) => void): void {
    for (const [name, value] of this) callback(value, name, this);
  }

  /** As fetch's Headers: sorted names, values joined, each Set-Cookie on its own. */
  *entries(): IterableIterator<[string, string]> {
    for (const name of [...this.#map.keys()].sort()) {
      const values = this.#map.get(name) ?? [];
      if (name === "set-cookie") for (const v of values) yield [name, v];
      else yield [name, values.join(", ")];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function headerName(name: string): string {
  if (!TOKEN.test(name)) throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
  return name.toLowerCase();
}

function headerValue(value: string): string {
  const v = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  if (/[\0\r\n]/.test(v)) throw new TypeError("invalid header value");
  return v;
}

type BodyInput = string | URLSearchParams | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array> | null | undefined;

/** A body known in full, as bytes, with the Content-Type fetch would give it. */
function bytesOf(body: Exclude<BodyInput, ReadableStream<Uint8Array>>): { bytes: Uint8Array | null; type: string | null } {
  if (body == null) return { bytes: null, type: null };
  if (typeof body === "string") return { bytes: Buffer.from(body), type: "text/plain;charset=UTF-8" };
  if (body instanceof URLSearchParams) return { bytes: Buffer.from(body.toString()), type: "application/x-www-form-urlencoded;charset=UTF-8" };
  if (body instanceof ArrayBuffer) return { bytes: new Uint8Array(body.slice(0)), type: null };
  if (ArrayBuffer.isView(body)) return { bytes: new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)), type: null };
  throw new TypeError("unsupported BodyInit type");
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes.slice());
      controller.close();
    },
  });
}

const METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);

export class HailRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: HailHeaders;
  readonly signal: AbortSignal;
  readonly redirect: "error" | "follow" | "manual";
  /** bytes for what hail sends; a stream only from test tools that build Requests (nock's) */
  #body: Uint8Array | ReadableStream<Uint8Array> | null;

  constructor(input: string | URL | HailRequest, init: RequestInit = {}) {
    const from = input instanceof HailRequest ? input : undefined;
    this.url = from?.url ?? new URL(String(input)).href;
    const method = init.method ?? from?.method ?? "GET";
    this.method = METHODS.has(method.toUpperCase()) ? method.toUpperCase() : method;
    this.headers = new HailHeaders(init.headers ?? from?.headers);
    this.signal = init.signal ?? from?.signal ?? new AbortController().signal;
    this.redirect = init.redirect ?? from?.redirect ?? "follow";
    if (init.body != null) {
      if (this.method === "GET" || this.method === "HEAD") throw new TypeError("Request with GET/HEAD method cannot have body.");
      if (init.body instanceof ReadableStream) {
        this.#body = init.body as ReadableStream<Uint8Array>;
      } else {
        const { bytes, type } = bytesOf(init.body as Exclude<BodyInput, ReadableStream<Uint8Array>>);
        this.#body = bytes;
        if (type !== null && !this.headers.has("content-type")) this.headers.set("content-type", type);
      }
    } else {
      this.#body = from === undefined ? null : from.#takeBody();
    }
  }

  /** The body for a copy: bytes are shared, a stream is split in two. */
  #takeBody(): Uint8Array | ReadableStream<Uint8Array> | null {
    if (!(this.#body instanceof ReadableStream)) return this.#body;
    const [mine, theirs] = this.#body.tee();
    this.#body = mine;
    return theirs;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#body instanceof Uint8Array ? streamOf(this.#body) : this.#body;
  }

  get bodyUsed(): boolean {
    return false;
  }

  clone(): HailRequest {
    return new HailRequest(this);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.#body instanceof ReadableStream ? await readAll(this.#body) : (this.#body ?? new Uint8Array(0));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return Buffer.from(await this.arrayBuffer()).toString("utf8");
  }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    chunks.push(value);
  }
}

export class HailResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: HailHeaders;
  readonly redirected = false;
  readonly type = "default";
  readonly url = "";
  #body: ReadableStream<Uint8Array> | null;
  #used = false;

  constructor(body?: BodyInput, init: ResponseInit = {}) {
    this.status = init.status ?? 200;
    if (this.status < 200 || this.status > 599) throw new RangeError(`invalid response status ${this.status}`);
    this.statusText = init.statusText ?? "";
    this.headers = new HailHeaders(init.headers as HeadersInput | undefined);
    if (body instanceof ReadableStream) {
      this.#body = body;
    } else {
      const { bytes, type } = bytesOf(body);
      this.#body = bytes === null ? null : streamOf(bytes);
      if (type !== null && !this.headers.has("content-type")) this.headers.set("content-type", type);
    }
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#body;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  clone(): HailResponse {
    if (this.#used) throw new TypeError("Response.clone: body already used");
    let other: ReadableStream<Uint8Array> | null = null;
    if (this.#body !== null) [this.#body, other] = this.#body.tee();
    return new HailResponse(other, { status: this.status, statusText: this.statusText, headers: this.headers as unknown as Headers });
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#used) throw new TypeError("Body is unusable: body has already been read");
    this.#used = true;
    if (this.#body === null) return new ArrayBuffer(0);
    const all = await readAll(this.#body);
    return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.arrayBuffer());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}

/** Never a body hail sends; ky only asks whether a body is one. */
export class HailFormData {}
