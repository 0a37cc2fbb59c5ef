/**
 * Puts hail's own Headers, Request, Response and FormData (web-classes.ts) in place of Node's
 * globals, before ky is loaded: the HTTP layer imports this module first (http-fetch.ts,
 * client.ts), so the shipped bundle, `node --import tsx src/cli/main.ts` and every unit test
 * run the same classes, with nothing to remember (no bundler define, no test preload).
 *
 * Node defines these globals as lazy getters that load undici on the first read; assigning
 * goes through their setters, which load nothing. ky reads `globalThis.Request` (and the
 * others) when it is imported and for every request, so it must find ours by then.
 */
import { HailFormData, HailHeaders, HailRequest, HailResponse } from "./web-classes.js";

Object.assign(globalThis, { Headers: HailHeaders, Request: HailRequest, Response: HailResponse, FormData: HailFormData });
