// Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps,
// 6 digits, computed independently of the Rust code so that the browser tests check it.

import { createHmac } from 'node:crypto';

export const STEP_SECONDS = 30;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

// RFC 4648 base32, without padding; spaces (as shown to people) and '=' are ignored.
export function base32Decode(text) {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const index = ALPHABET.indexOf(ch);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(ch)} in ${JSON.stringify(text)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

export function stepOf(unixSeconds) {
  return Math.floor(unixSeconds / STEP_SECONDS);
}

export function currentStep(nowMs = Date.now()) {
  return stepOf(nowMs / 1000);
}

// Milliseconds left in the current step.
export function msLeftInStep(nowMs = Date.now()) {
  return STEP_SECONDS * 1000 - (nowMs % (STEP_SECONDS * 1000));
}

// The 6-digit code of one time step, as a string with its leading zeros.
export function codeAtStep(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac('sha1', secret).update(counter).digest();
  // Dynamic truncation (RFC 4226 §5.3).
  const offset = digest[digest.length - 1] & 0x0f;
  const binary = ((digest[offset] & 0x7f) << 24)
    | (digest[offset + 1] << 16)
    | (digest[offset + 2] << 8)
    | digest[offset + 3];
  return String(binary % 1_000_000).padStart(6, '0');
}

// A 6-digit code accepted at none of the steps around `step` (the server accepts ±1 step).
export function wrongCode(secret, step) {
  const accepted = new Set([-2, -1, 0, 1, 2].map((d) => codeAtStep(secret, step + d)));
  for (let n = 0; ; n++) {
    const code = String((123456 + n * 7919) % 1_000_000).padStart(6, '0');
    if (!accepted.has(code)) return code;
  }
}
