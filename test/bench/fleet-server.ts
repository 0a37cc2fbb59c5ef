// The Hydra test server for the fleet simulation, in a process of its own so that serving
// does not take CPU from the simulated agents. Started by fleet.ts with fork(); it answers
// messages on the IPC channel: offer a new gate build, count requests, list them, close.
import { HydraTestServer } from "../support/hydra-server.js";
import { greenGate } from "../e2e/world.js";

export type ServerMessage =
  | { kind: "offer"; gateId: number; evalId: number; storePath: string; stoptime: number }
  | { kind: "count" }
  | { kind: "log" }
  | { kind: "close" };
export type ServerReply =
  | { kind: "ready"; url: string }
  | { kind: "count"; requests: number }
  | { kind: "log"; requests: { path: string; forwardedFor: string | null }[] }
  | { kind: "offered" };

const send = (reply: ServerReply) => process.send?.(reply);

const initialPath = process.argv[2];
if (initialPath === undefined || process.send === undefined) {
  throw new Error("fleet-server.ts is started by fleet.ts with fork(), with the initial store path as argument");
}
const hydra = await HydraTestServer.start();
for (const b of greenGate(100, 10, initialPath)) hydra.addBuild(b);

process.on("message", (message: ServerMessage) => {
  switch (message.kind) {
    case "offer":
      for (const b of greenGate(message.gateId, message.evalId, message.storePath)) hydra.addBuild({ ...b, stoptime: message.stoptime });
      send({ kind: "offered" });
      return;
    case "count":
      send({ kind: "count", requests: hydra.requests.length });
      return;
    case "log":
      send({ kind: "log", requests: hydra.requests.map((q) => ({ path: q.path, forwardedFor: typeof q.headers["x-forwarded-for"] === "string" ? q.headers["x-forwarded-for"] : null })) });
      return;
    case "close":
      void hydra.close().then(() => process.disconnect());
      return;
  }
});
send({ kind: "ready", url: hydra.url });
