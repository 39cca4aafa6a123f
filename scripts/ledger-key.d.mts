/** A new Ed25519 log key named `origin`: the private key (ARIA_LEDGER_KEY) and its verifier key. */
export function makeLedgerKey(origin?: string): { skey: string; vkey: string };
