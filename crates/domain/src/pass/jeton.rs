//! The token in a pass's QR code: what a lieu needs to tell a genuine pass without a
//! network — its code, programme, value and last valid day — signed with Ed25519 by
//! Relais. A lieu's device keeps the public keys; a forged or altered token fails the
//! signature, a genuine one already used is told by the ledger once online.
//!
//! Layout (100 bytes, then base64url without padding, 134 characters): version 1, the
//! key's number (u32), the code's 15 symbols, the programme (i64), the value in cents
//! (u32), the last valid day (days since 1970-01-01, i32), all big-endian; then the
//! 64-byte signature of those 36 bytes.

use data_encoding::BASE64URL_NOPAD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use super::code::{CodePass, LENGTH};
use crate::ids::ProgrammeId;

const VERSION: u8 = 1;
const CONTENT: usize = 1 + 4 + LENGTH + 8 + 4 + 4;
const SIGNATURE: usize = 64;

/// What a token says of its pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContenuJeton {
    pub code: CodePass,
    pub programme: ProgrammeId,
    pub valeur_centimes: u32,
    /// The last day the pass may be used (days since 1970-01-01, Paris).
    pub dernier_jour: i32,
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JetonError {
    #[error("ce QR code n’est pas celui d’un pass numérique")]
    Illisible,
    #[error("ce pass est signé d’une clé que Relais ne connaît pas")]
    CleInconnue,
    #[error("ce pass est falsifié : sa signature ne correspond pas à son contenu")]
    Signature,
}

impl JetonError {
    /// A stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            JetonError::Illisible => "jeton_illisible",
            JetonError::CleInconnue => "jeton_cle_inconnue",
            JetonError::Signature => "jeton_falsifie",
        }
    }
}

/// A signing key and its number.
pub struct CleJetons {
    pub numero: u32,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for CleJetons {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CleJetons({})", self.numero)
    }
}

/// A key's public half, as lieux keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClePublique {
    pub numero: u32,
    pub octets: [u8; 32],
}

impl CleJetons {
    /// The key of a 32-byte seed (kept by Relais, never shown).
    pub fn from_seed(numero: u32, seed: &[u8; 32]) -> CleJetons {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).expect("32 bytes make a seed");
        CleJetons { numero, pair }
    }

    pub fn publique(&self) -> ClePublique {
        let mut octets = [0u8; 32];
        octets.copy_from_slice(self.pair.public_key().as_ref());
        ClePublique {
            numero: self.numero,
            octets,
        }
    }

    pub fn signer(&self, c: &ContenuJeton) -> String {
        let mut bytes = Vec::with_capacity(CONTENT + SIGNATURE);
        bytes.push(VERSION);
        bytes.extend_from_slice(&self.numero.to_be_bytes());
        bytes.extend_from_slice(c.code.compact().as_bytes());
        bytes.extend_from_slice(&c.programme.0.to_be_bytes());
        bytes.extend_from_slice(&c.valeur_centimes.to_be_bytes());
        bytes.extend_from_slice(&c.dernier_jour.to_be_bytes());
        let signature = self.pair.sign(&bytes);
        bytes.extend_from_slice(signature.as_ref());
        BASE64URL_NOPAD.encode(&bytes)
    }
}

/// The content of `jeton` if one of `cles` signed it.
pub fn lire(jeton: &str, cles: &[ClePublique]) -> Result<ContenuJeton, JetonError> {
    let bytes = BASE64URL_NOPAD
        .decode(jeton.trim().as_bytes())
        .map_err(|_| JetonError::Illisible)?;
    if bytes.len() != CONTENT + SIGNATURE || bytes[0] != VERSION {
        return Err(JetonError::Illisible);
    }
    let (content, signature) = bytes.split_at(CONTENT);
    let numero = u32::from_be_bytes(content[1..5].try_into().expect("4 bytes"));
    let cle = cles
        .iter()
        .find(|k| k.numero == numero)
        .ok_or(JetonError::CleInconnue)?;
    UnparsedPublicKey::new(&ED25519, &cle.octets)
        .verify(content, signature)
        .map_err(|_| JetonError::Signature)?;
    let code = std::str::from_utf8(&content[5..5 + LENGTH])
        .ok()
        .and_then(|s| CodePass::parse(s).ok())
        .ok_or(JetonError::Illisible)?;
    let at = 5 + LENGTH;
    Ok(ContenuJeton {
        code,
        programme: ProgrammeId(i64::from_be_bytes(
            content[at..at + 8].try_into().expect("8 bytes"),
        )),
        valeur_centimes: u32::from_be_bytes(content[at + 8..at + 12].try_into().expect("4 bytes")),
        dernier_jour: i32::from_be_bytes(content[at + 12..at + 16].try_into().expect("4 bytes")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contenu() -> ContenuJeton {
        ContenuJeton {
            code: CodePass::from_entropy([7; 9]),
            programme: ProgrammeId(42),
            valeur_centimes: 1000,
            dernier_jour: 20_819,
        }
    }

    #[test]
    fn a_genuine_token_reads_back_and_a_forged_one_does_not() {
        let cle = CleJetons::from_seed(3, &[1; 32]);
        let jeton = cle.signer(&contenu());
        assert_eq!(jeton.len(), 134);
        assert_eq!(lire(&jeton, &[cle.publique()]), Ok(contenu()));

        // Another key signing the same content under the same number: refused.
        let faussaire = CleJetons::from_seed(3, &[2; 32]);
        assert_eq!(
            lire(&faussaire.signer(&contenu()), &[cle.publique()]),
            Err(JetonError::Signature)
        );
        // A key Relais does not know.
        let inconnue = CleJetons::from_seed(9, &[1; 32]);
        assert_eq!(
            lire(&inconnue.signer(&contenu()), &[cle.publique()]),
            Err(JetonError::CleInconnue)
        );
        assert_eq!(
            lire("bonjour", &[cle.publique()]),
            Err(JetonError::Illisible)
        );
    }

    #[test]
    fn every_altered_byte_is_refused() {
        let cle = CleJetons::from_seed(3, &[1; 32]);
        let bytes = BASE64URL_NOPAD
            .decode(cle.signer(&contenu()).as_bytes())
            .unwrap();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut altered = bytes.clone();
                altered[i] ^= 1 << bit;
                let refused = lire(&BASE64URL_NOPAD.encode(&altered), &[cle.publique()]);
                assert!(refused.is_err(), "octet {i}, bit {bit} : {refused:?}");
            }
        }
    }
}
