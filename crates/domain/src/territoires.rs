//! French territories of the Code officiel géographique: communes, EPCI, départements, régions.

use serde::Serialize;
use std::fmt;

/// Why a territory code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error(
        "le code INSEE « {0} » doit compter 5 caractères : 2 chiffres (ou 2A, 2B) puis 3 chiffres"
    )]
    Insee(String),
    #[error("le code postal « {0} » doit compter 5 chiffres")]
    Postal(String),
}

/// A commune's INSEE code: `75056`, `2A004`, `97411`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CodeInsee(String);

impl CodeInsee {
    pub fn parse(raw: &str) -> Result<Self, CodeError> {
        let s = raw.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        let dep_ok = b.len() == 5
            && ((b[0].is_ascii_digit() && b[1].is_ascii_digit())
                || (b[0] == b'2' && (b[1] == b'A' || b[1] == b'B')));
        if dep_ok && b[2..].iter().all(u8::is_ascii_digit) {
            Ok(Self(s))
        } else {
            Err(CodeError::Insee(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CodeInsee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A French postal code: five digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CodePostal(String);

impl CodePostal {
    pub fn parse(raw: &str) -> Result<Self, CodeError> {
        let s = raw.trim();
        if s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_string()))
        } else {
            Err(CodeError::Postal(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a row is a commune or one of the municipal arrondissements of Paris, Lyon, Marseille.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommuneKind {
    CommuneActuelle,
    ArrondissementMunicipal,
}

impl CommuneKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CommuneActuelle => "commune-actuelle",
            Self::ArrondissementMunicipal => "arrondissement-municipal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "commune-actuelle" => Some(Self::CommuneActuelle),
            "arrondissement-municipal" => Some(Self::ArrondissementMunicipal),
            _ => None,
        }
    }
}

/// The whole commune an INSEE code belongs to: for a municipal arrondissement of Paris
/// (75101–75120), Lyon (69381–69389) or Marseille (13201–13216), its commune (75056,
/// 69123, 13055); any other code is its own. Producers write either, so the merge and the
/// search treat them as one place. The ranges are the law's (loi PLM), not data.
pub fn commune_entiere(code_insee: &str) -> &str {
    const CITIES: [(&str, &str, &str); 3] = [
        ("75101", "75120", "75056"),
        ("69381", "69389", "69123"),
        ("13201", "13216", "13055"),
    ];
    CITIES
        .iter()
        .find(|(first, last, _)| code_insee.len() == 5 && (*first..=*last).contains(&code_insee))
        .map_or(code_insee, |(_, _, commune)| commune)
}

/// A point in WGS 84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

impl Point {
    /// Great-circle distance in metres (haversine on a 6,371 km sphere).
    pub fn distance_m(self, other: Point) -> f64 {
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dla = la2 - la1;
        let dlo = (other.lon - self.lon).to_radians();
        let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * 6_371_000.0 * h.sqrt().min(1.0).asin()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Commune {
    pub code: CodeInsee,
    pub nom: String,
    pub kind: CommuneKind,
    /// For an arrondissement municipal, the commune it belongs to.
    pub commune_parent: Option<CodeInsee>,
    pub departement: String,
    pub region: String,
    pub epci: Option<String>,
    pub codes_postaux: Vec<CodePostal>,
    /// 0 when the census has no figure yet (communes created in 2025–26).
    pub population: u32,
    pub position: Option<Point>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Epci {
    /// SIREN of the EPCI.
    pub code: String,
    pub nom: String,
    /// CC, CA, CU, METRO or MET69.
    pub kind: String,
    pub population: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Departement {
    pub code: String,
    pub nom: String,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    pub code: String,
    pub nom: String,
}

/// Every territory, as shipped in `data/territoires` and kept in the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Territoires {
    pub regions: Vec<Region>,
    pub departements: Vec<Departement>,
    pub epci: Vec<Epci>,
    pub communes: Vec<Commune>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insee_codes() {
        assert!(CodeInsee::parse("75056").is_ok());
        assert_eq!(CodeInsee::parse("2a004").unwrap().as_str(), "2A004");
        assert!(CodeInsee::parse("97411").is_ok());
        for bad in ["7505", "750566", "2C004", "ab123", "75 56", ""] {
            assert!(CodeInsee::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn postal_codes() {
        assert!(CodePostal::parse("42000").is_ok());
        assert!(CodePostal::parse("4200").is_err());
        assert!(CodePostal::parse("42a00").is_err());
    }

    #[test]
    fn arrondissements_belong_to_their_commune() {
        for (code, commune) in [
            ("75101", "75056"),
            ("75120", "75056"),
            ("69383", "69123"),
            ("13216", "13055"),
            ("75056", "75056"),
            ("75121", "75121"),
            ("69380", "69380"),
            ("13200", "13200"),
            ("42218", "42218"),
            ("7510", "7510"),
        ] {
            assert_eq!(commune_entiere(code), commune, "{code}");
        }
    }

    #[test]
    fn distance_paris_lyon() {
        let paris = Point {
            lat: 48.8566,
            lon: 2.3522,
        };
        let lyon = Point {
            lat: 45.7640,
            lon: 4.8357,
        };
        let d = paris.distance_m(lyon);
        assert!((390_000.0..395_000.0).contains(&d), "{d}");
    }
}
