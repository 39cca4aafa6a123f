/**
 * A consent contract as the agent sends it: signed by the node key over a domain-separated
 * canonical form, with the time it was issued, so the coordinator can store it, log it, and show
 * anyone that the node's owner — not the coordinator — set these terms.
 */
import { z } from "zod";
import { fromHex, toHex } from "../crypto/hex.ts";
import { concatBytes, utf8 } from "../ledger/bytes.ts";
import { ed25519Sign, ed25519VerifyFast } from "../ledger/ed25519-sync.ts";
import { canonicalBytes } from "../ledger/jcs.ts";
import { type ConsentContract, ConsentContractSchema } from "./contract.ts";

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes} bytes of lowercase hex`);

export const SignedConsentSchema = z.strictObject({
  body: z.strictObject({
    v: z.literal(1),
    node: hex(32),
    /** Unix ms; a newer contract replaces an older one. */
    issued_at: z.number().int().nonnegative(),
    contract: ConsentContractSchema,
  }),
  signature: hex(64),
});
export type SignedConsent = z.infer<typeof SignedConsentSchema>;

const PREFIX = "aria-consent:v1\n";

function signedBytes(body: SignedConsent["body"]): Uint8Array {
  return concatBytes(utf8(PREFIX), canonicalBytes(body));
}

export function signConsent(contract: ConsentContract, node: string, secretKey: Uint8Array, issuedAt: number): SignedConsent {
  const body = { v: 1 as const, node, issued_at: issuedAt, contract };
  return { body, signature: toHex(ed25519Sign(signedBytes(body), secretKey)) };
}

/** True when the signature is the named node's over this body; never throws. */
export async function consentSignatureHolds(signed: SignedConsent): Promise<boolean> {
  try {
    return await ed25519VerifyFast(fromHex(signed.signature), signedBytes(signed.body), fromHex(signed.body.node));
  } catch {
    return false;
  }
}
