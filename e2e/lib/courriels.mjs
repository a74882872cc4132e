// The e-mails of a server without SMTP: `relais serve` writes each one as a `.eml` file in
// `<data dir>/courriels/` (its background worker sends the queued messages, so a file
// appears shortly after the action that queued it).
//
//   readMails(dataDir)                       every message, oldest first
//   waitForMail(dataDir, match, { timeoutMs, after })
//                                            polls until a message matches `match(mail)`
//                                            and is not in `after` (a list of file names)
//   linkIn(mail, pathPrefix)                 the first URL in the body whose path starts so
//
// A message is { file, headers (lower-case names), subject, to, body }, its body decoded from
// quoted-printable and its Subject from RFC 2047 encoded words.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Quoted-printable (RFC 2045 §6.7): soft line breaks joined, then =XX bytes, as UTF-8.
export function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? joined.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

// RFC 2047 encoded words (=?utf-8?b?…?= or =?utf-8?q?…?=) in a header value.
export function decodeHeader(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, charset, enc, data) => {
      const buf = enc.toLowerCase() === 'b'
        ? Buffer.from(data, 'base64')
        : Buffer.from(decodeQuotedPrintable(data.replace(/_/g, ' ')), 'utf8');
      return new TextDecoder(charset.toLowerCase()).decode(buf);
    });
}

export function parseMail(raw, file = null) {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  let body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const encoding = (headers['content-transfer-encoding'] || '').toLowerCase();
  if (encoding === 'quoted-printable') body = decodeQuotedPrintable(body);
  else if (encoding === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  body = body.replace(/\r\n/g, '\n');
  return {
    file,
    headers,
    subject: decodeHeader(headers.subject || ''),
    to: decodeHeader(headers.to || ''),
    body,
  };
}

export function mailDir(dataDir) {
  return join(dataDir, 'courriels');
}

export function mailFiles(dataDir) {
  const dir = mailDir(dataDir);
  if (!existsSync(dir)) return [];
  // lettre names the files with random ids: oldest first by modification time.
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => a.t - b.t || a.f.localeCompare(b.f))
    .map(({ f }) => f);
}

export function readMails(dataDir) {
  return mailFiles(dataDir).map((f) => parseMail(readFileSync(join(mailDir(dataDir), f), 'utf8'), f));
}

export async function waitForMail(dataDir, match, { timeoutMs = 10000, after = [] } = {}) {
  const known = new Set(after);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = readMails(dataDir).filter((m) => !known.has(m.file) && match(m));
    if (found.length > 0) return found[found.length - 1];
    if (Date.now() > deadline) {
      const all = readMails(dataDir).map((m) => `${m.file}: to ${m.to}, “${m.subject}”`);
      throw new Error(`no matching e-mail in ${mailDir(dataDir)} after ${timeoutMs} ms; there are:\n${all.join('\n') || '(none)'}`);
    }
    await sleep(100);
  }
}

// The first http(s) URL of the body whose path starts with `pathPrefix`.
export function linkIn(mail, pathPrefix) {
  for (const raw of mail.body.match(/https?:\/\/[^\s<>"]+/g) || []) {
    const url = new URL(raw);
    if (url.pathname.startsWith(pathPrefix)) return url;
  }
  throw new Error(`no link to ${pathPrefix}… in the e-mail “${mail.subject}”:\n${mail.body}`);
}
