//! The code printed on a pass: 14 random symbols and a check symbol in Crockford's base 32
//! (no I, L, O nor U: nothing to mistake for 1, 0 or V), shown as three groups of five,
//! `7KQ4M-XW2PD-9TBRH`. 14 symbols are 70 random bits: guessing one code among millions
//! issued takes about 2^48 tries, which the redemption's rate limits make out of reach.
//!
//! The check symbol makes the code a word of a linear code over GF(32): read as a
//! polynomial in x, the symbols' Horner sum is zero. A single changed symbol changes the
//! sum by x^k·e (e ≠ 0), two adjacent symbols swapped by x^k·(x + 1)·(a − b) (a ≠ b): neither
//! is zero in a field, so every single typo and every adjacent swap is caught, the check
//! symbol's own included (`every_single_typo_and_adjacent_swap_is_caught` tries them all).
//! Damm's algorithm gives the same guarantee over a 32 × 32 table; no maintained Rust crate
//! does it in base 32, and these ten lines need no table.

use std::fmt;

/// Crockford's base 32: a symbol's value is its index.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Random symbols of a code (70 bits).
const RANDOM: usize = 14;

/// Symbols of a code, its check symbol included.
pub const LENGTH: usize = RANDOM + 1;

/// The random bytes a code is drawn from (the first 70 of their 72 bits).
pub const ENTROPY_BYTES: usize = 9;

/// Multiplication by x in GF(32) = GF(2)[x] / (x⁵ + x² + 1).
fn times_x(v: u8) -> u8 {
    let s = v << 1;
    if s & 0x20 == 0 { s } else { s ^ 0x25 }
}

/// The Horner sum of the symbols: zero for a valid code.
fn syndrome(values: &[u8]) -> u8 {
    values.iter().fold(0, |s, &v| times_x(s) ^ v)
}

/// A pass's code, valid by construction (its check symbol holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CodePass([u8; LENGTH]);

/// Why a typed code is not a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("le code compte {LENGTH} caractères (sans les tirets), celui-ci {0}")]
    Longueur(usize),
    #[error("le caractère « {caractere} » (position {position}) n’est pas dans un code de pass")]
    Caractere { position: usize, caractere: char },
    #[error("ce code contient une faute de frappe : un caractère est faux ou deux sont inversés")]
    Cle,
}

/// The value of a typed character: case ignored, I and L read as 1, O as 0, U as V.
fn value_of(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'I' | 'L' => '1',
        'O' => '0',
        'U' => 'V',
        c => c,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .and_then(|i| u8::try_from(i).ok())
}

impl CodePass {
    /// The code drawn from `entropy` (random bytes from the caller).
    pub fn from_entropy(entropy: [u8; ENTROPY_BYTES]) -> CodePass {
        let bits = entropy
            .iter()
            .fold(0u128, |acc, &b| (acc << 8) | u128::from(b));
        let mut values = [0u8; LENGTH];
        for (i, v) in values.iter_mut().take(RANDOM).enumerate() {
            *v = ((bits >> (72 - 5 * (i + 1))) & 0x1f) as u8;
        }
        values[RANDOM] = times_x(syndrome(&values[..RANDOM]));
        CodePass(values)
    }

    /// The symbols' values as typed, spaces and dashes left out.
    fn values(typed: &str) -> Result<Vec<u8>, CodeError> {
        let mut values = Vec::with_capacity(LENGTH);
        let mut position = 0;
        for c in typed.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            position += 1;
            let v = value_of(c).ok_or(CodeError::Caractere {
                position,
                caractere: c,
            })?;
            values.push(v);
        }
        if values.len() != LENGTH {
            return Err(CodeError::Longueur(values.len()));
        }
        Ok(values)
    }

    /// A code as a person typed it.
    pub fn parse(typed: &str) -> Result<CodePass, CodeError> {
        let values = Self::values(typed)?;
        if syndrome(&values) != 0 {
            return Err(CodeError::Cle);
        }
        let mut code = [0u8; LENGTH];
        code.copy_from_slice(&values);
        Ok(CodePass(code))
    }

    /// The valid codes one typo or one adjacent swap away from `typed` (which fails its
    /// check): the codes the person may have meant, to look up among those issued.
    pub fn voisins(typed: &str) -> Vec<CodePass> {
        let Ok(values) = Self::values(typed) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        let mut keep = |candidate: &[u8]| {
            if syndrome(candidate) == 0 {
                let mut code = [0u8; LENGTH];
                code.copy_from_slice(candidate);
                found.push(CodePass(code));
            }
        };
        let mut candidate = values.clone();
        for i in 0..LENGTH {
            for v in 0..32u8 {
                if v != values[i] {
                    candidate[i] = v;
                    keep(&candidate);
                }
            }
            candidate[i] = values[i];
            if i + 1 < LENGTH && values[i] != values[i + 1] {
                candidate.swap(i, i + 1);
                keep(&candidate);
                candidate.swap(i, i + 1);
            }
        }
        found.sort();
        found.dedup();
        found
    }

    /// The 15 symbols without dashes, as stored.
    pub fn compact(&self) -> String {
        self.0
            .iter()
            .map(|&v| char::from(ALPHABET[v as usize]))
            .collect()
    }
}

impl fmt::Display for CodePass {
    /// Three groups of five: `7KQ4M-XW2PD-9TBRH`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.compact();
        write!(f, "{}-{}-{}", &s[..5], &s[5..10], &s[10..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(entropy: [u8; ENTROPY_BYTES]) -> CodePass {
        CodePass::from_entropy(entropy)
    }

    #[test]
    fn a_code_reads_back_whatever_the_case_and_dashes() {
        let c = code([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11]);
        let shown = c.to_string();
        assert_eq!(shown.len(), LENGTH + 2);
        assert_eq!(CodePass::parse(&shown), Ok(c));
        assert_eq!(CodePass::parse(&shown.to_lowercase()), Ok(c));
        assert_eq!(CodePass::parse(&c.compact()), Ok(c));
        assert_eq!(
            CodePass::parse(&format!(" {} ", shown.replace('-', " "))),
            Ok(c)
        );
        assert_eq!(CodePass::parse("ABC"), Err(CodeError::Longueur(3)));
        assert_eq!(
            CodePass::parse("7KQ4M-XW2PD-9TB#H"),
            Err(CodeError::Caractere {
                position: 14,
                caractere: '#'
            })
        );
    }

    #[test]
    fn letters_people_confuse_with_digits_read_as_those_digits() {
        // A code of zeros and ones: its check symbol, whatever it is, is typed as is.
        let c = code([0; ENTROPY_BYTES]);
        let typed = c.compact().replacen('0', "O", 3).replacen('0', "o", 2);
        assert_eq!(CodePass::parse(&typed), Ok(c));
    }

    proptest! {
        /// Every single typo (any symbol of the alphabet in place of another, at every
        /// position) and every swap of two different adjacent symbols is refused, for
        /// random codes; and the code meant is among the suggestions.
        #[test]
        fn every_single_typo_and_adjacent_swap_is_caught(entropy in any::<[u8; ENTROPY_BYTES]>()) {
            let c = code(entropy);
            let symbols: Vec<char> = c.compact().chars().collect();
            for i in 0..LENGTH {
                for &a in ALPHABET {
                    let a = char::from(a);
                    if a == symbols[i] {
                        continue;
                    }
                    let mut typo = symbols.clone();
                    typo[i] = a;
                    let typed: String = typo.iter().collect();
                    prop_assert_eq!(CodePass::parse(&typed), Err(CodeError::Cle));
                    prop_assert!(CodePass::voisins(&typed).contains(&c));
                }
                if i + 1 < LENGTH && symbols[i] != symbols[i + 1] {
                    let mut swapped = symbols.clone();
                    swapped.swap(i, i + 1);
                    let typed: String = swapped.iter().collect();
                    prop_assert_eq!(CodePass::parse(&typed), Err(CodeError::Cle));
                    prop_assert!(CodePass::voisins(&typed).contains(&c));
                }
            }
        }

        /// Codes spread over the whole space: the 70 bits drawn are the code's.
        #[test]
        fn the_random_bits_are_kept(entropy in any::<[u8; ENTROPY_BYTES]>()) {
            let mut other = entropy;
            other[8] ^= 0x40; // one of the 70 bits
            prop_assert_ne!(code(entropy), code(other));
        }
    }
}
