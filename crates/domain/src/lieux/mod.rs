//! Lieux de médiation numérique: a lieu with every field of the national schema
//! "Lieux de médiation numérique" v1.0.1 (LaMednum/standard-mediation-num), and the
//! reading and writing of the schema's rows (v1.0.x, and v0.1 mapped to v1).
//!
//! - `vocabulaires`: the schema's closed lists, exact French values.
//! - `valeurs`: pivot (SIRET, RNA), telephone, date, web address.
//! - `schema`: a row (field name → text) → `Lieu` plus warnings, or the errors that
//!   make it unusable; a `Lieu` → a v1.0.1 row.
//! - `v0`: legacy v0.1 values and what they become in v1.
//! - `fichier`: a producer's CSV or JSON file as rows of text (encoding guessed, streamed).
//! - `mapping`: a producer's own format mapped to the schema by a TOML file.
//! - `rejet`: the rows an import leaves out, and why.

pub mod fichier;
pub mod fusion;
pub mod mapping;
pub mod proposition;
pub mod rejet;
pub mod schema;
pub mod v0;
pub mod valeurs;
pub mod vocabulaires;

pub use rejet::{Rejection, RejectionReason};
pub use schema::{
    COLUMNS, Issue, Reading, Reason, Refusal, Row, SchemaVersion, read_row, write_row,
};
pub use valeurs::{Date, Pivot, Telephone};
pub use vocabulaires::{
    Dispositif, FormationLabel, Frais, Itinerance, ModaliteAcces, ModaliteAccompagnement,
    PriseEnCharge, Public, Service, Typologie, Vocabulary, joined,
};

use crate::comptes::Email;
use crate::territoires::{CodeInsee, CodePostal, Commune, Point};

/// Where a lieu, or a source's row, is: its commune and its coordinates, which are the
/// commune's when the row gave none (`approximate`).
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub code_insee: Option<String>,
    pub position: Option<Point>,
    pub approximate: bool,
}

impl Location {
    /// In `commune`, at the lieu's own coordinates, else at the commune's (approximate).
    pub fn new(coordonnees: Option<Point>, commune: Option<&Commune>) -> Location {
        let town_hall = commune.and_then(|c| c.position);
        Location {
            code_insee: commune.map(|c| c.code.as_str().to_string()),
            position: coordonnees.or(town_hall),
            approximate: coordonnees.is_none() && town_hall.is_some(),
        }
    }
}

/// A lieu de médiation numérique as the national schema v1.0.1 describes it. List
/// fields of a vocabulary are sorted in the vocabulary's order, without duplicates.
#[derive(Debug, Clone, PartialEq)]
pub struct Lieu {
    /// The producer's own id (`unique` within a file).
    pub id: String,
    pub pivot: Option<Pivot>,
    pub nom: String,
    pub adresse: Adresse,
    /// WGS 84; latitude in −90..90, longitude in −180..180.
    pub coordonnees: Option<Point>,
    pub typologies: Vec<Typologie>,
    pub telephone: Option<Telephone>,
    pub courriels: Vec<Email>,
    /// `http://` or `https://` addresses (sites, social networks).
    pub sites_web: Vec<String>,
    /// The OSM `opening_hours` text, as given.
    pub horaires: Option<String>,
    /// At most 280 characters.
    pub presentation_resume: Option<String>,
    pub presentation_detail: Option<String>,
    pub source: Option<String>,
    pub itinerance: Vec<Itinerance>,
    pub structure_parente: Option<String>,
    pub date_maj: Date,
    pub services: Vec<Service>,
    pub publics: Vec<Public>,
    pub prise_en_charge: Vec<PriseEnCharge>,
    pub frais: Vec<Frais>,
    pub dispositifs: Vec<Dispositif>,
    pub formations_labels: Vec<FormationLabel>,
    pub autres_formations_labels: Vec<String>,
    pub modalites_acces: Vec<ModaliteAcces>,
    pub modalites_accompagnement: Vec<ModaliteAccompagnement>,
    /// Page of the lieu on acceslibre.beta.gouv.fr.
    pub fiche_acces_libre: Option<String>,
    /// Online booking page.
    pub prise_rdv: Option<String>,
}

/// Where a lieu is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adresse {
    /// Number and street: `12 BIS RUE DE LECLERCQ`.
    pub adresse: String,
    pub complement: Option<String>,
    pub code_postal: CodePostal,
    pub commune: String,
    pub code_insee: Option<CodeInsee>,
}

/// The most characters `presentation_resume` may hold (v1; v0 allowed 500).
pub const RESUME_MAX_CHARS: usize = 280;
