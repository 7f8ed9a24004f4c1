const encoder = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

/** Lower-case hex of HMAC-SHA256(secret, message). Used by tests and senders' examples. */
export async function hmacSha256Hex(secret: string, message: string | Uint8Array): Promise<string> {
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), bytesOf(message));
  return toHex(new Uint8Array(signature));
}

/**
 * True when `hexSignature` is HMAC-SHA256(secret, message). WebCrypto's verify compares in
 * constant time; a signature that is not well-formed hex of the right length is simply false.
 * Give the message as the bytes received: text would be re-encoded, and bytes that are not
 * valid UTF-8 would then no longer be the bytes the sender signed.
 */
export async function verifyHmacSha256Hex(secret: string, message: string | Uint8Array, hexSignature: string): Promise<boolean> {
  const signature = fromHex(hexSignature);
  if (signature?.length !== 32) return false;
  return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, bytesOf(message));
}

export async function sha256Hex(message: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(message))));
}

function bytesOf(message: string | Uint8Array): Uint8Array {
  return typeof message === "string" ? encoder.encode(message) : message;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
