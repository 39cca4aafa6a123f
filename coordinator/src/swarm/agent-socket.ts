/**
 * What the Swarm remembers about each agent socket, stored as the socket's hibernation
 * attachment (so it survives the Durable Object being evicted between messages).
 */
import type { ConsentContract } from "../../../shared/consent/contract.ts";
import type { ModelShard } from "../../../shared/protocol/messages.ts";

export type SocketAttachment =
  | { state: "challenged"; nonce: string; connectedAt: number }
  | {
      state: "ready";
      nodeId: string;
      agentVersion: string;
      models: ModelShard[];
      maxSessions: number;
      connectedAt: number;
      /** Set when the agent announced it is shutting down: plan nothing new on it. */
      draining: boolean;
      /** The owner's consent contract in force (its signed form is in D1), and when it was issued. */
      consent: ConsentContract;
      consentIssuedAt: number;
    };

export type ReadyAttachment = Extract<SocketAttachment, { state: "ready" }>;

export function attachmentOf(ws: WebSocket): SocketAttachment | null {
  return (ws.deserializeAttachment() as SocketAttachment | null) ?? null;
}

/** Close a socket, ignoring the error thrown when it is already closed. */
export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason.slice(0, 120));
  } catch {
    // already closed
  }
}

/** Send a frame, reporting failure instead of throwing (the peer may be gone). */
export function sendQuietly(ws: WebSocket, frame: string | ArrayBuffer | Uint8Array): boolean {
  try {
    ws.send(frame);
    return true;
  } catch {
    return false;
  }
}

/** The models an agent announced, as the status, dashboard and admin listings show them. */
export function announcedModels(a: ReadyAttachment) {
  return a.models.map((m) => ({ id: m.id, sha256: m.sha256, layers: [m.layerBegin, m.layerEnd] as [number, number], n_layers: m.nLayers }));
}
