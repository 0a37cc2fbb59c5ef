// Imported first by web-classes.test.ts: hail's own Headers, Request, Response and FormData in
// place of Node's, as in the bundle, before anything (ky) reads them.
import { HailFormData, HailHeaders, HailRequest, HailResponse } from "../../src/hydra/web-classes.js";

Object.assign(globalThis, { Headers: HailHeaders, Request: HailRequest, Response: HailResponse, FormData: HailFormData });
