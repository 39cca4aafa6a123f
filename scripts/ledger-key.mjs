// Make a signing key for the provenance log: prints the private key (ARIA_LEDGER_KEY, in the
// signed-note private-key form) and its verifier key. Usage: node scripts/ledger-key.mjs [origin]
// Also imported by `npm start` and the tests (makeLedgerKey).
import { createHash, generateKeyPairSync } from "node:crypto";
import { pathToFileURL } from "node:url";

/** A new Ed25519 log key named `origin`: { skey, vkey }. */
export function makeLedgerKey(origin = "aria.local/ledger") {
  if (!origin || /[\s+]/.test(origin)) throw new Error(`the origin must be a name without spaces or '+', got '${origin}'`);
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d, "base64url");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url");
  // Key ID: the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
  const keyId = createHash("sha256")
    .update(Buffer.concat([Buffer.from(`${origin}\n`), Buffer.from([1]), pub]))
    .digest()
    .subarray(0, 4)
    .toString("hex");
  return {
    skey: `PRIVATE+KEY+${origin}+${keyId}+${Buffer.concat([Buffer.from([1]), seed]).toString("base64")}`,
    vkey: `${origin}+${keyId}+${Buffer.concat([Buffer.from([1]), pub]).toString("base64")}`,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    const { skey, vkey } = makeLedgerKey(process.argv[2]);
    console.log(`ARIA_LEDGER_KEY=${skey}`);
    console.log(`ARIA_LEDGER_VKEY=${vkey}`);
  } catch (err) {
    console.error(`ledger-key: ${err.message}`);
    process.exit(2);
  }
}
