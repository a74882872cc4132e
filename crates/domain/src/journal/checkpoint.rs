//! Signed checkpoints of the journal.
//!
//! The hash chain finds an entry altered alone, but whoever can write the database can
//! rewrite an entry and recompute every later hash: the chain is then consistent again.
//! A checkpoint is the head (number and hash of the last entry, and a time) signed with
//! an Ed25519 key kept outside the database. Published and copied by third parties, it
//! pins the chain: a rewrite before it no longer matches its signed hash, and the
//! attacker cannot sign a new one without the private key (nor remove the copies).

use std::collections::BTreeMap;
use std::fmt;

use data_encoding::BASE64;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::BreakKind;

/// A signed head of the journal: entry `seq` had hash `hash` at time `at` (Unix ms).
/// The same fields, in the same JSON, are stored, published and exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    #[serde(rename = "numero")]
    pub seq: i64,
    #[serde(rename = "empreinte")]
    pub hash: String,
    /// Unix milliseconds.
    #[serde(rename = "horodatage")]
    pub at: i64,
    /// The 32 bytes of the Ed25519 public key, base64.
    #[serde(rename = "cle_publique")]
    pub public_key: String,
    /// The 64 bytes of the signature of [`message`], base64.
    pub signature: String,
}

impl Checkpoint {
    /// Whether the signature is valid for the public key the checkpoint names. Proves
    /// nothing alone (anyone can sign with their own key): see [`audit`].
    pub fn signature_valid(&self) -> bool {
        let (Ok(key), Ok(signature)) = (
            PublicKey::parse(&self.public_key),
            BASE64.decode(self.signature.as_bytes()),
        ) else {
            return false;
        };
        UnparsedPublicKey::new(&ED25519, key.0)
            .verify(&message(self.seq, &self.hash, self.at, &key), &signature)
            .is_ok()
    }

    /// The fingerprint of the signing key, or `?` if unreadable.
    pub fn key_id(&self) -> String {
        PublicKey::parse(&self.public_key)
            .map(|k| k.key_id())
            .unwrap_or_else(|_| "?".into())
    }
}

/// What is signed: an unambiguous encoding (version tag, then each field, strings
/// prefixed with their length) of the head and of the signing key.
fn message(seq: i64, hash: &str, at: i64, key: &PublicKey) -> Vec<u8> {
    let mut m = Vec::with_capacity(160);
    let text = |m: &mut Vec<u8>, b: &[u8]| {
        m.extend_from_slice(&(b.len() as u64).to_be_bytes());
        m.extend_from_slice(b);
    };
    text(&mut m, b"relais-journal-checkpoint-v1");
    m.extend_from_slice(&seq.to_be_bytes());
    text(&mut m, hash.as_bytes());
    m.extend_from_slice(&at.to_be_bytes());
    text(&mut m, &key.0);
    m
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "clé privée du journal illisible : attendue en PEM « PRIVATE KEY » (PKCS#8) ou en base64 (PKCS#8 ou graine de 32 octets)"
    )]
    PrivateUnreadable,
    #[error("clé privée du journal refusée : ce n’est pas une clé Ed25519 valide")]
    PrivateInvalid,
    #[error(
        "clé publique du journal illisible : attendue en base64 (32 octets) ou en PEM « PUBLIC KEY »"
    )]
    PublicUnreadable,
}

/// The private key that signs checkpoints. Its `Debug` shows the public key only.
pub struct SigningKey {
    pair: Ed25519KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.public_key().key_id())
    }
}

impl SigningKey {
    /// A key in PKCS#8 DER (v1 as OpenSSL writes it, or v2).
    pub fn from_pkcs8(der: &[u8]) -> Result<SigningKey, KeyError> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map(|pair| SigningKey { pair })
            .map_err(|_| KeyError::PrivateInvalid)
    }

    /// A key as kept in a file or the environment: PEM `PRIVATE KEY` (PKCS#8), or base64
    /// of PKCS#8 DER, or base64 of the 32-byte seed.
    pub fn parse(text: &str) -> Result<SigningKey, KeyError> {
        let der = match pem_body(text, "PRIVATE KEY") {
            Some(body) => body,
            None => decode_base64(text).ok_or(KeyError::PrivateUnreadable)?,
        };
        if der.len() == 32 {
            return Ed25519KeyPair::from_seed_unchecked(&der)
                .map(|pair| SigningKey { pair })
                .map_err(|_| KeyError::PrivateInvalid);
        }
        Self::from_pkcs8(&der)
    }

    /// The key of a 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> SigningKey {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).expect("32 bytes make a seed");
        SigningKey { pair }
    }

    pub fn public_key(&self) -> PublicKey {
        let mut key = [0u8; 32];
        key.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(key)
    }

    /// Signs the head: entry `seq`, of hash `hash`, at `at` (Unix ms).
    pub fn sign(&self, seq: i64, hash: &str, at: i64) -> Checkpoint {
        let key = self.public_key();
        let signature = self.pair.sign(&message(seq, hash, at, &key));
        Checkpoint {
            seq,
            hash: hash.to_string(),
            at,
            public_key: key.to_base64(),
            signature: BASE64.encode(signature.as_ref()),
        }
    }
}

/// PKCS#8 DER as a PEM `PRIVATE KEY` block (what `relais journal init-key` writes).
pub fn pkcs8_pem(der: &[u8]) -> String {
    let body = BASE64.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

impl PublicKey {
    /// Base64 of the 32 bytes, or PEM `PUBLIC KEY` (as `openssl pkey -pubout` writes it).
    pub fn parse(text: &str) -> Result<PublicKey, KeyError> {
        let bytes = match pem_body(text, "PUBLIC KEY") {
            Some(der) => der
                .strip_prefix(&SPKI_PREFIX[..])
                .map(<[u8]>::to_vec)
                .ok_or(KeyError::PublicUnreadable)?,
            None => decode_base64(text).ok_or(KeyError::PublicUnreadable)?,
        };
        bytes
            .try_into()
            .map(PublicKey)
            .map_err(|_| KeyError::PublicUnreadable)
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(&self.0)
    }

    /// A short fingerprint to name the key: the first 16 hex digits of its SHA-256.
    pub fn key_id(&self) -> String {
        Sha256::digest(self.0)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    BASE64.decode(compact.as_bytes()).ok()
}

/// The decoded body of the PEM block labelled `label`, if `text` is one.
fn pem_body(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    decode_base64(&text[start..stop])
}

/// What the checkpoints say, before the entries are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    /// The hash each valid checkpoint gives its entry.
    pub expected: BTreeMap<i64, String>,
    /// The first (lowest entry number) fault in the checkpoints themselves.
    pub fault: Option<(i64, BreakKind)>,
    /// Checkpoints found valid (the database's and the external copies', once each).
    pub valid: usize,
}

/// Checks the checkpoints read from the database and from external copies.
///
/// Each must carry a valid signature and, when `trusted` is not empty, be signed by one
/// of those keys (else anyone could sign a rewritten chain with their own key). Each
/// external copy must be in the database, identical (the table is append-only: a copy
/// that is missing there was removed). The valid ones then give each entry's expected
/// hash; an external copy wins over a database row at the same number.
pub fn audit(stored: &[Checkpoint], external: &[Checkpoint], trusted: &[PublicKey]) -> Audit {
    let mut out = Audit::default();
    let fault = |seq: i64, kind: BreakKind, out: &mut Audit| {
        if out.fault.as_ref().is_none_or(|(s, _)| seq < *s) {
            out.fault = Some((seq, kind));
        }
    };
    let stored_by_seq: BTreeMap<i64, &Checkpoint> = stored.iter().map(|c| (c.seq, c)).collect();
    for (c, is_external) in stored
        .iter()
        .map(|c| (c, false))
        .chain(external.iter().map(|c| (c, true)))
    {
        if !c.signature_valid() {
            fault(c.seq, BreakKind::CheckpointSignatureInvalid, &mut out);
            continue;
        }
        let known = PublicKey::parse(&c.public_key)
            .map(|k| trusted.is_empty() || trusted.contains(&k))
            .unwrap_or(false);
        if !known {
            let key_id = c.key_id();
            fault(c.seq, BreakKind::CheckpointUnknownKey { key_id }, &mut out);
            continue;
        }
        if is_external {
            if stored_by_seq.get(&c.seq) != Some(&c) {
                fault(c.seq, BreakKind::CheckpointNotInDatabase, &mut out);
            }
            out.expected.insert(c.seq, c.hash.clone());
        } else {
            out.expected.entry(c.seq).or_insert_with(|| c.hash.clone());
        }
    }
    out.valid = out.expected.len();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{ChainCheck, Entry, GENESIS_HASH, JournalAction, NewEntry, Verification};

    /// A fixed key (the RFC 8032 test 1 seed), to sign in tests.
    fn key() -> SigningKey {
        let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&seed[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        SigningKey::parse(&BASE64.encode(&bytes)).unwrap()
    }

    fn other_key() -> SigningKey {
        SigningKey::parse(&BASE64.encode(&[7u8; 32])).unwrap()
    }

    fn chain(n: i64, details: &str) -> Vec<Entry> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let e = NewEntry::new(JournalAction::RoleGranted, "personne", "1")
                    .with_details(if seq == 2 { details } else { "{}" });
                let e = Entry::seal(e, seq, 1_000 + seq, &prev);
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn check(entries: &[Entry], audit: Audit) -> Verification {
        let mut c = ChainCheck::new().with_checkpoints(audit);
        for e in entries {
            if !c.push(e) {
                break;
            }
        }
        let last = entries.last();
        c.finish(Some(
            last.map(|e| (e.seq, e.hash.as_str()))
                .unwrap_or((0, GENESIS_HASH)),
        ))
    }

    #[test]
    fn a_signature_covers_every_field_and_the_key() {
        let k = key();
        // RFC 8032 test 1's public key.
        assert_eq!(
            k.public_key().to_base64(),
            "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        );
        let c = k.sign(5, &"a".repeat(64), 1_700_000_000_000);
        assert!(c.signature_valid());
        let mut forged = c.clone();
        forged.seq = 6;
        assert!(!forged.signature_valid());
        let mut forged = c.clone();
        forged.hash = "b".repeat(64);
        assert!(!forged.signature_valid());
        let mut forged = c.clone();
        forged.at += 1;
        assert!(!forged.signature_valid());
        let mut forged = c.clone();
        forged.public_key = other_key().public_key().to_base64();
        assert!(!forged.signature_valid());
        forged.signature = "pas du base64".into();
        assert!(!forged.signature_valid());
        // JSON as published.
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["numero"], 5);
        assert_eq!(serde_json::from_value::<Checkpoint>(json).unwrap(), c);
    }

    #[test]
    fn keys_are_read_in_every_documented_form_and_never_shown() {
        let k = key();
        let pair_doc = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        let pem = pkcs8_pem(pair_doc.as_ref());
        let from_pem = SigningKey::parse(&pem).unwrap();
        let from_b64 = SigningKey::parse(&BASE64.encode(pair_doc.as_ref())).unwrap();
        assert_eq!(from_pem.public_key(), from_b64.public_key());
        // OpenSSL's `genpkey -algorithm ed25519` (PKCS#8 v1) of the RFC 8032 seed.
        let openssl = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            SigningKey::parse(openssl).unwrap().public_key(),
            k.public_key()
        );
        let spki = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n";
        assert_eq!(PublicKey::parse(spki).unwrap(), k.public_key());
        assert_eq!(
            PublicKey::parse(&k.public_key().to_base64()).unwrap(),
            k.public_key()
        );
        assert_eq!(
            SigningKey::parse("n’importe quoi").unwrap_err(),
            KeyError::PrivateUnreadable
        );
        assert_eq!(
            SigningKey::parse(&BASE64.encode(b"trop court")).unwrap_err(),
            KeyError::PrivateInvalid
        );
        assert!(PublicKey::parse(&BASE64.encode(&[1u8; 31])).is_err());
        let shown = format!("{k:?}");
        assert_eq!(shown, format!("SigningKey({})", k.public_key().key_id()));
        assert_eq!(k.public_key().key_id().len(), 16);
    }

    #[test]
    fn a_whole_chain_rewrite_is_found_at_the_checkpoint() {
        let honest = chain(6, "{}");
        let k = key();
        let checkpoints = [k.sign(2, &honest[1].hash, 1), k.sign(5, &honest[4].hash, 2)];
        let trusted = [k.public_key()];
        let a = audit(&checkpoints, &[], &trusted);
        assert_eq!((a.valid, &a.fault), (2, &None));
        assert_eq!(
            check(&honest, a.clone()),
            Verification::Intact { entries: 6 }
        );
        // Entry 3 rewritten, every later hash recomputed: consistent, but not signed.
        let mut rewritten = chain(2, "{}");
        let tail = {
            let mut prev = rewritten[1].hash.clone();
            (3..=6)
                .map(|seq| {
                    let e = NewEntry::new(JournalAction::RoleRevoked, "personne", "1");
                    let e = Entry::seal(e, seq, 1_000 + seq, &prev);
                    prev.clone_from(&e.hash);
                    e
                })
                .collect::<Vec<_>>()
        };
        rewritten.extend(tail);
        assert_eq!(
            check(&rewritten, Audit::default()),
            Verification::Intact { entries: 6 }
        );
        let v = check(&rewritten, a.clone());
        assert_eq!(
            v,
            Verification::Broken {
                seq: 5,
                reason: BreakKind::CheckpointMismatch { since: 3 }
            }
        );
        assert!(
            v.to_string()
                .contains("entre l’entrée n° 3 et l’entrée n° 5"),
            "{v}"
        );
        // Entries removed after the last checkpoint's entry, and the head with them.
        assert_eq!(
            check(&honest[..4], a),
            Verification::Broken {
                seq: 5,
                reason: BreakKind::CheckpointBeyondEnd { checkpoint_seq: 5 }
            }
        );
    }

    #[test]
    fn forged_or_removed_checkpoints_are_found() {
        let c = chain(4, "{}");
        let k = key();
        let good = [k.sign(2, &c[1].hash, 1), k.sign(4, &c[3].hash, 2)];
        let trusted = [k.public_key()];
        // Signed by another key.
        let forged = [good[0].clone(), other_key().sign(4, &c[3].hash, 2)];
        let a = audit(&forged, &[], &trusted);
        let fault = a.fault.clone().unwrap();
        assert_eq!(fault.0, 4);
        assert!(matches!(fault.1, BreakKind::CheckpointUnknownKey { .. }));
        let v = check(&c, a);
        assert!(v.to_string().contains("clé inconnue"), "{v}");
        // Without a trusted key, any valid signature is taken (and the CLI warns).
        assert_eq!(audit(&forged, &[], &[]).fault, None);
        // A signature that does not match.
        let mut bad = good.clone();
        bad[1].hash = "f".repeat(64);
        assert_eq!(
            audit(&bad, &[], &trusted).fault,
            Some((4, BreakKind::CheckpointSignatureInvalid))
        );
        // Removed from the database, kept in a copy.
        assert_eq!(
            audit(&good[..1], &good, &trusted).fault,
            Some((4, BreakKind::CheckpointNotInDatabase))
        );
        assert_eq!(audit(&good, &good, &trusted).fault, None);
        // The earliest fault is reported, before a later chain break.
        let mut altered = c.clone();
        altered[3].content.details = "{\"x\":1}".into();
        assert_eq!(
            check(&altered, audit(&bad[..1], &[], &trusted)),
            Verification::Broken {
                seq: 4,
                reason: BreakKind::HashMismatch
            }
        );
    }
}
