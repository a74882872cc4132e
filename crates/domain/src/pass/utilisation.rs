//! Whether a pass may be used here and now, and, when not, why in words a mediator at the
//! counter can repeat to the person.

use super::code::CodePass;
use crate::calendrier::{civil_from_days, date_heure_fr};

/// Codes that match no pass (unknown or mistyped) a person may type in
/// [`FENETRE_ESSAIS_MS`]: enough for real typos, far too few to guess 70-bit codes.
pub const ESSAIS_PAR_PERSONNE: i64 = 10;

/// The same, for all the mediators at a lieu together.
pub const ESSAIS_PAR_LIEU: i64 = 30;

/// The window of those counts: 15 minutes.
pub const FENETRE_ESSAIS_MS: i64 = 15 * 60 * 1000;

/// A pass as the ledger knows it, seen from the lieu that presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtatPass {
    /// The last day of validity and the tolerance after it (days since 1970-01-01).
    pub dernier_jour: i64,
    pub grace_jours: i64,
    /// When and where it was used, if it was.
    pub utilise: Option<DejaUtilise>,
    /// Whether the presenting structure is qualified for the pass's programme.
    pub structure_qualifiee: bool,
    /// Whether the lieu's commune is in the programme's territory.
    pub dans_le_territoire: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DejaUtilise {
    /// Unix ms.
    pub le: i64,
    /// The structure (and lieu) where.
    pub ou: String,
}

/// Why a pass is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refus {
    #[error("ce code ne correspond à aucun pass")]
    Inconnu,
    #[error("ce code contient une faute de frappe{}", suggestion.map(|c| format!(" : vouliez-vous dire {c} ?")).unwrap_or_default())]
    FauteDeFrappe { suggestion: Option<CodePass> },
    #[error("ce pass a déjà été utilisé le {} ({})", date_heure_fr(.0.le), .0.ou)]
    DejaUtilise(DejaUtilise),
    #[error("ce pass était valable jusqu’au {}", jour_fr(*dernier_jour))]
    Expire { dernier_jour: i64 },
    #[error("votre structure n’est pas qualifiée pour ce programme de pass")]
    NonQualifie,
    #[error("ce pass n’est pas valable dans la commune de ce lieu")]
    HorsTerritoire,
}

impl Refus {
    /// A stable code for the API and the device's queue.
    pub fn code(&self) -> &'static str {
        match self {
            Refus::Inconnu => "inconnu",
            Refus::FauteDeFrappe { .. } => "faute_de_frappe",
            Refus::DejaUtilise(_) => "deja_utilise",
            Refus::Expire { .. } => "expire",
            Refus::NonQualifie => "non_qualifie",
            Refus::HorsTerritoire => "hors_territoire",
        }
    }
}

fn jour_fr(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{d:02}/{m:02}/{y}")
}

/// Whether the pass may be used on `aujourd_hui` (days since 1970-01-01, Paris). Checked
/// in this order: used already, expired, the structure, the territory.
pub fn decider(etat: &EtatPass, aujourd_hui: i64) -> Result<(), Refus> {
    if let Some(u) = &etat.utilise {
        return Err(Refus::DejaUtilise(u.clone()));
    }
    if aujourd_hui > etat.dernier_jour + etat.grace_jours {
        return Err(Refus::Expire {
            dernier_jour: etat.dernier_jour + etat.grace_jours,
        });
    }
    if !etat.structure_qualifiee {
        return Err(Refus::NonQualifie);
    }
    if !etat.dans_le_territoire {
        return Err(Refus::HorsTerritoire);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn etat() -> EtatPass {
        EtatPass {
            dernier_jour: 20_818,
            grace_jours: 31,
            utilise: None,
            structure_qualifiee: true,
            dans_le_territoire: true,
        }
    }

    #[test]
    fn a_pass_is_refused_for_the_first_reason_that_holds() {
        assert_eq!(decider(&etat(), 20_818), Ok(()));
        // Within the tolerance after the last day.
        assert_eq!(decider(&etat(), 20_849), Ok(()));
        let refus = decider(&etat(), 20_850).unwrap_err();
        assert_eq!(
            refus.to_string(),
            "ce pass était valable jusqu’au 31/01/2027"
        );
        let utilise = EtatPass {
            utilise: Some(DejaUtilise {
                le: 1_796_000_000_000,
                ou: "Médiathèque de Saint-Étienne".into(),
            }),
            structure_qualifiee: false,
            ..etat()
        };
        let refus = decider(&utilise, 20_900).unwrap_err();
        assert_eq!(refus.code(), "deja_utilise");
        assert!(
            refus.to_string().contains("Médiathèque de Saint-Étienne"),
            "{refus}"
        );
        let ailleurs = EtatPass {
            dans_le_territoire: false,
            ..etat()
        };
        assert_eq!(decider(&ailleurs, 20_818), Err(Refus::HorsTerritoire));
        let non_qualifie = EtatPass {
            structure_qualifiee: false,
            ..ailleurs
        };
        assert_eq!(decider(&non_qualifie, 20_818), Err(Refus::NonQualifie));
    }
}
