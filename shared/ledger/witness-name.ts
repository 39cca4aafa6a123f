/**
 * The key name an agent cosigns checkpoints under (docs/ledger.md, "Witnesses"): its node id is
 * its public key, so the name itself says which key checks the cosignature.
 */
const PREFIX = "aria-node/";
const NAME = /^aria-node\/([0-9a-f]{64})$/;

export function witnessName(nodeId: string): string {
  return `${PREFIX}${nodeId}`;
}

/** The node id (public key, hex) a witness name stands for, or null for any other name. */
export function nodeOfWitnessName(name: string): string | null {
  return NAME.exec(name)?.[1] ?? null;
}
