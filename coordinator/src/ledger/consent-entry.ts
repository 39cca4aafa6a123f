/**
 * The log entry of a consent event (docs/ledger.md, docs/consent.md): a node's owner granted,
 * changed or revoked its contract. The signed contract goes in whole, so anyone can check that the
 * owner's key — not the coordinator — set the terms the coordinator routed by.
 */
import type { LogEntry } from "../../../shared/ledger/entry.ts";
import { canonicalBytes } from "../../../shared/ledger/jcs.ts";
import type { ConsentEvent } from "../swarm/agent-registry.ts";

export function consentEntry({ event, signed }: ConsentEvent): LogEntry {
  return {
    key: `consent/${signed.body.node}/${signed.body.issued_at}`,
    type: "consent",
    bytes: canonicalBytes({ type: "consent", v: 1, event, node: signed.body.node, consent: signed }),
  };
}
