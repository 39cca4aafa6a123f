/**
 * A consent contract as the agent sends it: signed by the node key over a domain-separated
 * canonical form, with the time it was issued, so the coordinator can store it, log it, and show
 * anyone that the node's owner — not the coordinator — set these terms.
 */
import { z } from "zod";
import { canonicalSignatureHolds, hexBytes, signCanonical } from "../ledger/signed-json.ts";
import { type ConsentContract, ConsentContractSchema } from "./contract.ts";

export const SignedConsentSchema = z.strictObject({
  body: z.strictObject({
    v: z.literal(1),
    node: hexBytes(32),
    /** Unix ms; a newer contract replaces an older one. */
    issued_at: z.number().int().nonnegative(),
    contract: ConsentContractSchema,
  }),
  signature: hexBytes(64),
});
export type SignedConsent = z.infer<typeof SignedConsentSchema>;

const PREFIX = "aria-consent:v1\n";

export function signConsent(contract: ConsentContract, node: string, secretKey: Uint8Array, issuedAt: number): SignedConsent {
  const body = { v: 1 as const, node, issued_at: issuedAt, contract };
  return { body, signature: signCanonical(PREFIX, body, secretKey) };
}

/** True when the signature is the named node's over this body; never throws. */
export function consentSignatureHolds(signed: SignedConsent): Promise<boolean> {
  return canonicalSignatureHolds(PREFIX, signed.body, signed.signature, signed.body.node);
}
