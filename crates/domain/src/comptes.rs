//! Professionals, the structures that employ them, and their roles.

pub mod registre;
pub mod sessions;

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompteError {
    #[error("le SIRET doit compter 14 chiffres")]
    SiretFormat,
    #[error("ce SIRET n’existe pas : sa clé de contrôle est fausse (vérifiez chaque chiffre)")]
    SiretKey,
    #[error("l’adresse électronique « {0} » n’est pas valide")]
    Email(String),
    #[error("le mot de passe doit compter au moins {MIN_PASSWORD_CHARS} caractères")]
    PasswordTooShort,
    #[error("le mot de passe ne doit pas dépasser {MAX_PASSWORD_CHARS} caractères")]
    PasswordTooLong,
}

/// A SIRET, the 14-digit number of a French establishment, checked with its Luhn key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Siret(String);

/// La Poste's establishments share one SIREN and use another key: the sum of the digits
/// is a multiple of 5.
const LA_POSTE_SIREN: &str = "356000000";

impl Siret {
    pub fn parse(raw: &str) -> Result<Siret, CompteError> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CompteError::SiretFormat);
        }
        let valid = if digits.starts_with(LA_POSTE_SIREN) && digits != "35600000000048" {
            digits
                .bytes()
                .map(|b| u32::from(b - b'0'))
                .sum::<u32>()
                .is_multiple_of(5)
        } else {
            luhn(&digits)
        };
        if valid {
            Ok(Siret(digits))
        } else {
            Err(CompteError::SiretKey)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn siren(&self) -> &str {
        &self.0[..9]
    }
}

impl fmt::Display for Siret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let double = d * 2;
                if double > 9 { double - 9 } else { double }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// An e-mail address, trimmed and lowercased: the login of a local account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, CompteError> {
        let s = raw.trim().to_lowercase();
        let valid = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && domain.contains('.')
                    && !domain.contains("..")
                    && !s.contains(char::is_whitespace)
                    && !domain.contains('@')
            });
        if valid {
            Ok(Email(s))
        } else {
            Err(CompteError::Email(raw.trim().to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const MIN_PASSWORD_CHARS: usize = 12;
/// Bounds the hashing work an attacker can ask for.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Length is what makes a password strong; no composition rules (ANSSI and NIST advice).
pub fn check_password(password: &str) -> Result<(), CompteError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        Err(CompteError::PasswordTooShort)
    } else if n > MAX_PASSWORD_CHARS {
        Err(CompteError::PasswordTooLong)
    } else {
        Ok(())
    }
}

/// A closed list of values: an enum with its stable value (stored and exchanged), its
/// French label (the value itself when none is given), its index in `ALL` (for bitsets)
/// and its parser. Shared with the other modules of the crate (`lieux` uses it).
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal $(, $label:literal)?;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable value stored and exchanged.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),* }
            }

            /// The French label shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $crate::comptes::vocabulary!(@label $wire $(, $label)?)),* }
            }

            /// The position of this value in `ALL`: a stable bit number for bitsets.
            pub fn index(self) -> usize {
                self as usize
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($wire => Some($name::$variant),)* _ => None }
            }
        }
    };
    (@label $wire:literal) => { $wire };
    (@label $wire:literal, $label:literal) => { $label };
}
pub(crate) use vocabulary;

vocabulary! {
    /// A role within one structure.
    Role {
        Mediateur => "mediateur", "Médiateur numérique";
        Aidant => "aidant", "Aidant habilité";
        Prescripteur => "prescripteur", "Prescripteur";
        Referent => "referent", "Référent de structure";
    }
}

vocabulary! {
    /// A role beyond any one structure.
    GlobalRole {
        Financeur => "financeur", "Financeur";
        CoordinateurHub => "coordinateur_hub", "Coordinateur de hub";
        Administrateur => "administrateur", "Administrateur national";
    }
}

vocabulary! {
    /// The legal kind of a structure.
    StructureKind {
        Collectivite => "collectivite", "Collectivité territoriale";
        Administration => "administration", "Administration ou opérateur de l’État";
        Association => "association", "Association";
        Entreprise => "entreprise", "Entreprise";
        Autre => "autre", "Autre";
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sirets() {
        assert_eq!(
            Siret::parse("130 025 265 00013").unwrap().as_str(),
            "13002526500013"
        ); // DINUM
        assert_eq!(Siret::parse("13002526500013").unwrap().siren(), "130025265");
        assert_eq!(Siret::parse("13002526500014"), Err(CompteError::SiretKey));
        assert_eq!(Siret::parse("1300252650001"), Err(CompteError::SiretFormat));
        assert_eq!(
            Siret::parse("1300252650001A"),
            Err(CompteError::SiretFormat)
        );
        // A La Poste establishment: valid by the sum-of-digits rule, not by Luhn.
        assert!(Siret::parse("35600000049837").is_ok());
        assert!(!luhn("35600000049837"));
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse("  Agent@Exemple.GOUV.fr ").unwrap().as_str(),
            "agent@exemple.gouv.fr"
        );
        for bad in [
            "",
            "agent",
            "agent@",
            "@exemple.fr",
            "agent@exemple",
            "a b@exemple.fr",
            "agent@exemple..fr",
            "a@b@c.fr",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert_eq!(check_password("court"), Err(CompteError::PasswordTooShort));
        assert!(check_password("une phrase de passe").is_ok());
        assert_eq!(
            check_password(&"x".repeat(257)),
            Err(CompteError::PasswordTooLong)
        );
    }

    #[test]
    fn vocabularies_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        for r in GlobalRole::ALL {
            assert_eq!(GlobalRole::parse(r.as_str()), Some(*r));
        }
        for k in StructureKind::ALL {
            assert_eq!(StructureKind::parse(k.as_str()), Some(*k));
        }
    }

    proptest! {
        /// Changing any one digit of a valid SIRET breaks its key.
        #[test]
        fn one_wrong_digit_is_caught(pos in 0usize..14, delta in 1u8..10) {
            let valid = "13002526500013";
            let mut bytes = valid.as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(Siret::parse(&changed), Err(CompteError::SiretKey));
        }
    }
}
