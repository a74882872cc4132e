//! "Signaler une erreur": a visitor says what is wrong on a lieu's page; administrators
//! read the reports and pass them on to the producers.

use std::time::Duration;

use relais_domain::comptes::Email;
use relais_domain::ids::{LieuId, SignalementId};
use relais_store::signalements::{self as repo, NewSignalement, Signalement};
use relais_store::{Db, StoreError, sessions};

use crate::comptes::Client;

/// What can be wrong with a lieu: (wire value, French label).
pub const MOTIFS: &[(&str, &str)] = &[
    ("horaires", "Les horaires sont faux"),
    (
        "adresse",
        "L’adresse ou la position sur la carte est fausse",
    ),
    ("contact", "Le téléphone, le courriel ou le site est faux"),
    ("services", "Les services proposés ne sont pas les bons"),
    ("ferme", "Le lieu a fermé définitivement"),
    ("autre", "Autre chose"),
];

pub fn motif_label(value: &str) -> &str {
    MOTIFS
        .iter()
        .find(|(v, _)| *v == value)
        .map_or(value, |(_, l)| l)
}

/// Reports from one IP address within `WINDOW`: enough for a person, too few for a flood.
const PER_IP: i64 = 10;
const WINDOW: Duration = Duration::from_secs(60 * 60);
pub const MESSAGE_MAX: usize = 2000;

/// A field of the form that is not right, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    Motif,
    MessageEmpty,
    MessageTooLong,
    Email,
}

impl FieldError {
    pub fn field(&self) -> &'static str {
        match self {
            FieldError::Motif => "motif",
            FieldError::MessageEmpty | FieldError::MessageTooLong => "message",
            FieldError::Email => "email",
        }
    }

    pub fn message(&self) -> String {
        match self {
            FieldError::Motif => "Choisissez ce qui est faux.".to_string(),
            FieldError::MessageEmpty => {
                "Décrivez l’erreur : ce qui est écrit et ce qui serait juste.".to_string()
            }
            FieldError::MessageTooLong => {
                format!("Le message dépasse {MESSAGE_MAX} caractères : raccourcissez-le.")
            }
            FieldError::Email => {
                "Cette adresse électronique n’est pas valide (format attendu : nom@domaine.fr)."
                    .to_string()
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignalementError {
    #[error("le formulaire n’est pas complet")]
    Invalid(Vec<FieldError>),
    #[error("trop de signalements depuis cette adresse : réessayez dans une heure")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the visitor sent (the form's fields; a field left out is empty).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Report {
    pub motif: String,
    pub message: String,
    pub email: String,
}

/// Checks the report, counts it against the visitor's address, and stores it.
pub async fn report(
    db: &Db,
    lieu_id: &LieuId,
    r: &Report,
    client: &Client,
) -> Result<SignalementId, SignalementError> {
    let mut errors = Vec::new();
    if !MOTIFS.iter().any(|(v, _)| *v == r.motif) {
        errors.push(FieldError::Motif);
    }
    let message = r.message.trim();
    if message.is_empty() {
        errors.push(FieldError::MessageEmpty);
    } else if message.chars().count() > MESSAGE_MAX {
        errors.push(FieldError::MessageTooLong);
    }
    let email = match r.email.trim() {
        "" => None,
        e => match Email::parse(e) {
            Ok(e) => Some(e.as_str().to_string()),
            Err(_) => {
                errors.push(FieldError::Email);
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(SignalementError::Invalid(errors));
    }
    let now = relais_domain::calendrier::now_ms();
    let window = WINDOW.as_millis() as i64;
    let bucket = format!("signalement-ip:{}", client.ip);
    if !sessions::admit(db, &bucket, now, window, PER_IP).await? {
        return Err(SignalementError::TooMany);
    }
    let new = NewSignalement {
        lieu_id: lieu_id.clone(),
        motif: r.motif.clone(),
        message: message.to_string(),
        email,
    };
    Ok(repo::create(db, &new, now).await?)
}

/// The latest reports: administrators only (they may hold visitors' addresses).
pub async fn latest(
    db: &Db,
    _admin: &relais_domain::authz::AdminAccess,
) -> Result<Vec<Signalement>, StoreError> {
    repo::latest(db, 500).await
}
