// Cognito's Secure Remote Password sign-in (USER_SRP_AUTH), with native BigInt and WebCrypto:
// the password never leaves the browser, only a proof that we know it. The arithmetic follows
// AWS's own client (amazon-cognito-identity-js, AuthenticationHelper): the 3072-bit group of
// RFC 5054, g = 2, SHA-256, and the HKDF step Cognito names "Caldera Derived Key".
// tests/browser/test_srp.py checks every value below against pycognito's implementation.

const N_HEX =
  "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
  "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
  "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
  "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
  "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
  "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
  "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
  "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";
const N = BigInt("0x" + N_HEX);
const G = 2n;
const INFO = new TextEncoder().encode("Caldera Derived Key");
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export class SrpError extends Error {}

/** Hex of a non-negative BigInt as Cognito hashes it: even length, and a leading 00 when the
 * top bit is set (a two's-complement positive number, as Java's BigInteger writes it). */
export function padHex(value) {
  let hex = value.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  else if ("89abcdef".includes(hex[0])) hex = "00" + hex;
  return hex;
}

function hexToBytes(hex) {
  if (hex.length % 2 || /[^0-9a-f]/i.test(hex)) throw new SrpError("not a hex string");
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function parseHex(hex) {
  if (typeof hex !== "string" || !/^[0-9a-f]+$/i.test(hex)) throw new SrpError("not a hex number");
  return BigInt("0x" + hex);
}

/** Standard base64, decoded as Python's base64.b64decode does by default: characters outside
 * the alphabet are skipped. Cognito's SECRET_BLOCK is plain base64; the local stand-in (moto)
 * sends a UUID there, whose hyphens are skipped the same way by every other client. */
export function base64ToBytes(text) {
  const digits = [];
  for (const ch of text.split("=")[0]) {
    const value = BASE64.indexOf(ch);
    if (value >= 0) digits.push(value);
  }
  const out = [];
  for (let i = 0; i + 1 < digits.length; i += 4) {
    const [a, b, c = 0, d = 0] = digits.slice(i, i + 4);
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out.push((n >> 16) & 255);
    if (i + 2 < digits.length) out.push((n >> 8) & 255);
    if (i + 3 < digits.length) out.push(n & 255);
  }
  return new Uint8Array(out);
}

function bytesToBase64(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += BASE64[(n >> 18) & 63] + BASE64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? BASE64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? BASE64[n & 63] : "=";
  }
  return out;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** SHA-256 of the bytes a hex string spells, as a BigInt. */
async function hashHex(hex) {
  return BigInt("0x" + bytesToHex(await sha256(hexToBytes(hex))));
}

function modPow(base, exponent, modulus) {
  let result = 1n;
  base %= modulus;
  if (base < 0n) base += modulus;
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
    exponent >>= 1n;
  }
  return result;
}

/** A fresh private value a (128 random bytes, as AWS's clients draw it) and the public A = g^a mod N. */
export function newEphemeral(random = crypto.getRandomValues(new Uint8Array(128))) {
  const a = BigInt("0x" + bytesToHex(random)) % N;
  const A = modPow(G, a, N);
  if (A === 0n) throw new SrpError("A is zero; draw again");
  return { a, A, srpA: A.toString(16) };
}

/** Cognito's TIMESTAMP: "Sat Nov 29 16:30:00 UTC 2026", UTC, day of month without a leading zero. */
export function cognitoTimestamp(date = new Date()) {
  const two = (n) => String(n).padStart(2, "0");
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()} ${time} UTC ${date.getUTCFullYear()}`;
}

/**
 * The 16-byte key both sides derive: S = (B - k g^x)^(a + u x) mod N, then HKDF(S, salt = u).
 * ``username`` is Cognito's USER_ID_FOR_SRP, ``saltHex`` and ``srpB`` the challenge's SALT and SRP_B.
 */
export async function passwordKey({ poolName, username, password, a, A, srpB, saltHex }) {
  const B = parseHex(srpB);
  if (B % N === 0n) throw new SrpError("the server's B is zero mod N");
  const u = await hashHex(padHex(A) + padHex(B));
  if (u === 0n) throw new SrpError("u is zero");
  const k = await hashHex(padHex(N) + padHex(G));
  const identity = bytesToHex(await sha256(new TextEncoder().encode(`${poolName}${username}:${password}`)));
  // The salt is hashed as a number, as AWS's own client does (pycognito hashes the hex as sent:
  // the two differ only for a salt starting with "00" and a digit below 8).
  const x = await hashHex(padHex(parseHex(saltHex)) + identity);
  const base = (((B - k * modPow(G, x, N)) % N) + N) % N;
  const S = modPow(base, a + u * x, N);
  const ikm = await crypto.subtle.importKey("raw", hexToBytes(padHex(S)), "HKDF", false, ["deriveBits"]);
  const params = { name: "HKDF", hash: "SHA-256", salt: hexToBytes(padHex(u)), info: INFO };
  return new Uint8Array(await crypto.subtle.deriveBits(params, ikm, 128));
}

/** PASSWORD_CLAIM_SIGNATURE: base64 HMAC-SHA256, under the derived key, of
 * poolName | USER_ID_FOR_SRP | SECRET_BLOCK (decoded) | TIMESTAMP. */
export async function claimSignature({ key, poolName, username, secretBlock, timestamp }) {
  const utf8 = (text) => new TextEncoder().encode(text);
  const message = concat(utf8(poolName), utf8(username), base64ToBytes(secretBlock), utf8(timestamp));
  const hmac = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return bytesToBase64(new Uint8Array(await crypto.subtle.sign("HMAC", hmac, message)));
}

/**
 * The PASSWORD_VERIFIER answer to a USER_SRP_AUTH challenge. ``userPoolId`` is "region_name":
 * the part after "_" is the pool name SRP hashes. Returns the ChallengeResponses, and the
 * derived key (for tests; it is not sent anywhere).
 */
export async function passwordVerifier({ userPoolId, password, ephemeral, challenge, now = new Date() }) {
  const poolName = String(userPoolId).split("_")[1];
  if (!poolName) throw new SrpError("the user pool id has no name part");
  const { USER_ID_FOR_SRP: username, SALT: saltHex, SRP_B: srpB, SECRET_BLOCK: secretBlock } = challenge;
  if (!username || !saltHex || !srpB || !secretBlock) throw new SrpError("the challenge lacks a parameter");
  const key = await passwordKey({ poolName, username, password, a: ephemeral.a, A: ephemeral.A, srpB, saltHex });
  const timestamp = cognitoTimestamp(now);
  const signature = await claimSignature({ key, poolName, username, secretBlock, timestamp });
  return {
    key: bytesToHex(key),
    responses: {
      USERNAME: challenge.USERNAME || username,
      PASSWORD_CLAIM_SECRET_BLOCK: secretBlock,
      PASSWORD_CLAIM_SIGNATURE: signature,
      TIMESTAMP: timestamp,
    },
  };
}
