//! One report as a mediator fills it in: the activity, where and how long, what about, and
//! who took part — followed beneficiaries, and anonymous ones counted by category. Checked
//! whole before anything is written, every error naming its field.

use std::collections::{BTreeMap, BTreeSet};

use super::vocabulaires::{
    Autonomie, Genre, Materiel, NiveauAtelier, StatutSocial, StructureDeRedirection, Thematique,
    ThematiqueDemarche, Thematiques, TrancheAge, TypeActivite, TypeLieu, VocabulaireError, duree,
    materiel,
};
use crate::calendrier::days_from_civil;
use crate::ids::{BeneficiaireId, LieuId};

/// The first day a report may be dated: reports began in 2020.
pub const PREMIER_JOUR_MS: i64 = 18_262 * 86_400_000;

/// Longest free texts, in characters.
pub const TITRE_MAX: usize = 120;
pub const PRECISIONS_MAX: usize = 300;

/// Anonymous participants of a workshop (or the one person of an individual
/// accompaniment who gave no name), counted by category. What a category leaves out of the
/// total is « non communiqué ».
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anonymes {
    pub total: u32,
    /// Of them, how many had already been accompanied.
    pub deja_accompagnes: u32,
    pub genres: BTreeMap<Genre, u32>,
    pub tranches: BTreeMap<TrancheAge, u32>,
    pub statuts: BTreeMap<StatutSocial, u32>,
}

/// One anonymous participant, as the statistics count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonneAnonyme {
    pub deja_accompagne: bool,
    pub genre: Genre,
    pub tranche: TrancheAge,
    pub statut: StatutSocial,
}

/// The `n`th value when `counts` are laid end to end, `fallback` past their end.
fn nth<K: Copy>(counts: &BTreeMap<K, u32>, n: u32, fallback: K) -> K {
    let mut seen = 0u64;
    for (k, c) in counts {
        seen += u64::from(*c);
        if u64::from(n) < seen {
            return *k;
        }
    }
    fallback
}

/// The counts of a category's known values (`unknown` and zeros left out).
fn known<K: Ord + Copy>(counts: &BTreeMap<K, u32>, unknown: K) -> BTreeMap<K, u32> {
    counts
        .iter()
        .filter(|(k, n)| **k != unknown && **n > 0)
        .map(|(k, n)| (*k, *n))
        .collect()
}

fn known_total<K: Ord + Copy>(counts: &BTreeMap<K, u32>, unknown: K) -> u64 {
    known(counts, unknown).values().map(|n| u64::from(*n)).sum()
}

impl Anonymes {
    /// The category (its label) whose known counts exceed the total, if any.
    fn excedent(&self) -> Option<&'static str> {
        let total = u64::from(self.total);
        if self.deja_accompagnes > self.total {
            Some("déjà accompagnés")
        } else if known_total(&self.genres, Genre::NonCommunique) > total {
            Some("genre")
        } else if known_total(&self.tranches, TrancheAge::NonCommunique) > total {
            Some("tranche d’âge")
        } else if known_total(&self.statuts, StatutSocial::NonCommunique) > total {
            Some("statut")
        } else {
            None
        }
    }

    /// One person per participant, so that every statistic counts people the same way:
    /// each category's counts are handed out in order (its marginal figures are exact; the
    /// report says nothing of how categories combine), the rest « non communiqué ».
    pub fn personnes(&self) -> Vec<PersonneAnonyme> {
        let genres = known(&self.genres, Genre::NonCommunique);
        let tranches = known(&self.tranches, TrancheAge::NonCommunique);
        let statuts = known(&self.statuts, StatutSocial::NonCommunique);
        (0..self.total)
            .map(|i| PersonneAnonyme {
                deja_accompagne: i < self.deja_accompagnes,
                genre: nth(&genres, i, Genre::NonCommunique),
                tranche: nth(&tranches, i, TrancheAge::NonCommunique),
                statut: nth(&statuts, i, StatutSocial::NonCommunique),
            })
            .collect()
    }
}

/// A report as entered, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rapport {
    pub type_activite: TypeActivite,
    /// Midnight UTC of the day (see `calendrier`).
    pub date: i64,
    pub duree: u32,
    pub type_lieu: TypeLieu,
    /// One of the mediator's lieux, for [`TypeLieu::LieuActivite`].
    pub lieu: Option<LieuId>,
    /// The commune's INSEE code: the lieu's, the one typed (home, elsewhere), or the
    /// employer structure's (remote); resolved before the check.
    pub commune: String,
    pub thematiques: BTreeSet<Thematique>,
    pub demarches: BTreeSet<ThematiqueDemarche>,
    pub materiel: BTreeSet<Materiel>,
    /// Individual accompaniments only.
    pub autonomie: Option<Autonomie>,
    /// Workshops only.
    pub niveau: Option<NiveauAtelier>,
    pub orientation: Option<StructureDeRedirection>,
    /// The administrative procedure's name, if any.
    pub precisions_demarche: String,
    /// A workshop's title.
    pub titre_atelier: String,
    pub suivis: BTreeSet<BeneficiaireId>,
    pub anonymes: Anonymes,
}

/// What is wrong in a report; [`RapportError::champ`] names the form field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RapportError {
    #[error("Date : une activité ne peut pas être datée d’un jour à venir.")]
    DateAVenir,
    #[error("Date : les comptes rendus commencent le 1er janvier 2020.")]
    DateTropAncienne,
    #[error("{0}")]
    Duree(VocabulaireError),
    #[error("{0}")]
    Thematiques(VocabulaireError),
    #[error("{0}")]
    Materiel(VocabulaireError),
    #[error("Lieu : choisissez l’un de vos lieux d’activité.")]
    LieuManquant,
    #[error("Lieu : un lieu d’activité ne se choisit que pour une activité dans ce lieu.")]
    LieuEnTrop,
    #[error("Commune : indiquez la commune où l’activité a eu lieu.")]
    CommuneManquante,
    #[error("Autonomie : elle se précise pour un accompagnement individuel seulement.")]
    AutonomieEnAtelier,
    #[error("Niveau : il se précise pour un atelier collectif seulement.")]
    NiveauEnIndividuel,
    #[error("Participants : indiquez au moins une personne.")]
    AucunParticipant,
    #[error("Participants : un accompagnement individuel concerne une seule personne.")]
    PlusieursEnIndividuel,
    #[error(
        "Participants anonymes : plus de personnes comptées par {0} que de participants anonymes."
    )]
    AnonymesIncoherents(&'static str),
    #[error("{libelle} : {max} caractères au plus.")]
    TropLong {
        champ: &'static str,
        libelle: &'static str,
        max: usize,
    },
}

impl RapportError {
    /// The form field the error belongs to (its `name`).
    pub fn champ(&self) -> &'static str {
        match self {
            RapportError::DateAVenir | RapportError::DateTropAncienne => "date",
            RapportError::Duree(_) => "duree",
            RapportError::Thematiques(_) => "thematiques",
            RapportError::Materiel(_) => "materiel",
            RapportError::LieuManquant | RapportError::LieuEnTrop => "lieu",
            RapportError::CommuneManquante => "commune",
            RapportError::AutonomieEnAtelier => "autonomie",
            RapportError::NiveauEnIndividuel => "niveau",
            RapportError::AucunParticipant
            | RapportError::PlusieursEnIndividuel
            | RapportError::AnonymesIncoherents(_) => "participants",
            RapportError::TropLong { champ, .. } => champ,
        }
    }
}

/// An INSEE commune code: five characters, digits or Corsica's 2A/2B.
pub(crate) fn code_commune(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5
        && (b[..2].iter().all(u8::is_ascii_digit) || b[..2] == *b"2A" || b[..2] == *b"2B")
        && b[2..].iter().all(u8::is_ascii_digit)
}

impl Rapport {
    /// Every error of the report (none: it may be written), `aujourd_hui` being today's
    /// midnight UTC.
    pub fn verifier(&self, aujourd_hui: i64) -> Vec<RapportError> {
        let mut errors = Vec::new();
        if self.date > aujourd_hui {
            errors.push(RapportError::DateAVenir);
        } else if self.date < PREMIER_JOUR_MS {
            errors.push(RapportError::DateTropAncienne);
        }
        if let Err(e) = duree(self.duree) {
            errors.push(RapportError::Duree(e));
        }
        if let Err(e) = Thematiques::new(self.thematiques.clone(), self.demarches.clone()) {
            errors.push(RapportError::Thematiques(e));
        }
        if let Err(e) = materiel(self.materiel.clone()) {
            errors.push(RapportError::Materiel(e));
        }
        match (self.type_lieu, &self.lieu) {
            (TypeLieu::LieuActivite, None) => errors.push(RapportError::LieuManquant),
            (TypeLieu::LieuActivite, Some(_)) | (_, None) => {}
            (_, Some(_)) => errors.push(RapportError::LieuEnTrop),
        }
        if !code_commune(&self.commune) && !errors.contains(&RapportError::LieuManquant) {
            errors.push(RapportError::CommuneManquante);
        }
        let individuel = self.type_activite == TypeActivite::Individuel;
        if !individuel && self.autonomie.is_some() {
            errors.push(RapportError::AutonomieEnAtelier);
        }
        if individuel && self.niveau.is_some() {
            errors.push(RapportError::NiveauEnIndividuel);
        }
        let participants = self.participants();
        if participants == 0 {
            errors.push(RapportError::AucunParticipant);
        } else if individuel && participants > 1 {
            errors.push(RapportError::PlusieursEnIndividuel);
        }
        if let Some(categorie) = self.anonymes.excedent() {
            errors.push(RapportError::AnonymesIncoherents(categorie));
        }
        for (champ, libelle, text, max) in [
            (
                "titre_atelier",
                "Titre de l’atelier",
                &self.titre_atelier,
                TITRE_MAX,
            ),
            (
                "precisions_demarche",
                "Nom de la démarche",
                &self.precisions_demarche,
                PRECISIONS_MAX,
            ),
        ] {
            if text.chars().count() > max {
                errors.push(RapportError::TropLong {
                    champ,
                    libelle,
                    max,
                });
            }
        }
        errors
    }

    /// Followed and anonymous participants together.
    pub fn participants(&self) -> u32 {
        u32::try_from(self.suivis.len())
            .unwrap_or(u32::MAX)
            .saturating_add(self.anonymes.total)
    }
}

/// Midnight UTC of a civil date, for tests and the demo data.
pub fn jour(year: i64, month: u32, day: u32) -> i64 {
    days_from_civil(year, month, day) * 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn individuel() -> Rapport {
        Rapport {
            type_activite: TypeActivite::Individuel,
            date: jour(2026, 12, 1),
            duree: 30,
            type_lieu: TypeLieu::LieuActivite,
            lieu: Some(LieuId("0123456789abcdef".into())),
            commune: "42218".into(),
            thematiques: BTreeSet::from([Thematique::Email]),
            demarches: BTreeSet::new(),
            materiel: BTreeSet::from([Materiel::Telephone]),
            autonomie: Some(Autonomie::PartiellementAutonome),
            niveau: None,
            orientation: None,
            precisions_demarche: String::new(),
            titre_atelier: String::new(),
            suivis: BTreeSet::from([BeneficiaireId(1)]),
            anonymes: Anonymes::default(),
        }
    }

    #[test]
    fn a_complete_report_has_no_error() {
        assert_eq!(individuel().verifier(jour(2026, 12, 7)), []);
        assert_eq!(PREMIER_JOUR_MS, jour(2020, 1, 1));
    }

    #[test]
    fn each_error_names_its_field() {
        let today = jour(2026, 12, 7);
        let r = Rapport {
            date: jour(2026, 12, 8),
            duree: 0,
            lieu: None,
            thematiques: BTreeSet::new(),
            niveau: Some(NiveauAtelier::Debutant),
            suivis: BTreeSet::from([BeneficiaireId(1), BeneficiaireId(2)]),
            titre_atelier: "x".repeat(TITRE_MAX + 1),
            ..individuel()
        };
        let fields: Vec<&str> = r.verifier(today).iter().map(RapportError::champ).collect();
        assert_eq!(
            fields,
            [
                "date",
                "duree",
                "thematiques",
                "lieu",
                "niveau",
                "participants",
                "titre_atelier"
            ]
        );
        let home = Rapport {
            type_lieu: TypeLieu::Domicile,
            commune: String::new(),
            ..individuel()
        };
        assert_eq!(
            home.verifier(today),
            [RapportError::LieuEnTrop, RapportError::CommuneManquante]
        );
        let old = Rapport {
            date: jour(2019, 12, 31),
            ..individuel()
        };
        assert_eq!(old.verifier(today), [RapportError::DateTropAncienne]);
        assert_eq!(
            RapportError::DateAVenir.to_string(),
            "Date : une activité ne peut pas être datée d’un jour à venir."
        );
    }

    #[test]
    fn a_workshop_counts_anonymous_people_by_category() {
        let atelier = Rapport {
            type_activite: TypeActivite::Collectif,
            autonomie: None,
            niveau: Some(NiveauAtelier::Debutant),
            titre_atelier: "Premiers pas sur la tablette".into(),
            anonymes: Anonymes {
                total: 5,
                deja_accompagnes: 2,
                genres: BTreeMap::from([(Genre::Feminin, 3), (Genre::Masculin, 1)]),
                tranches: BTreeMap::from([(TrancheAge::SoixanteDixPlus, 5)]),
                statuts: BTreeMap::new(),
            },
            ..individuel()
        };
        assert_eq!(atelier.verifier(jour(2026, 12, 7)), []);
        assert_eq!(atelier.participants(), 6);
        let people = atelier.anonymes.personnes();
        assert_eq!(people.len(), 5);
        let count = |g| people.iter().filter(|p| p.genre == g).count();
        assert_eq!(
            (
                count(Genre::Feminin),
                count(Genre::Masculin),
                count(Genre::NonCommunique)
            ),
            (3, 1, 1)
        );
        assert_eq!(people.iter().filter(|p| p.deja_accompagne).count(), 2);
        assert!(
            people
                .iter()
                .all(|p| p.tranche == TrancheAge::SoixanteDixPlus)
        );
        assert!(
            people
                .iter()
                .all(|p| p.statut == StatutSocial::NonCommunique)
        );

        let trop = Rapport {
            anonymes: Anonymes {
                total: 2,
                genres: BTreeMap::from([(Genre::Feminin, 3)]),
                ..Anonymes::default()
            },
            ..atelier.clone()
        };
        assert_eq!(
            trop.verifier(jour(2026, 12, 7)),
            [RapportError::AnonymesIncoherents("genre")]
        );
        let personne = Rapport {
            suivis: BTreeSet::new(),
            anonymes: Anonymes::default(),
            ..atelier
        };
        assert_eq!(
            personne.verifier(jour(2026, 12, 7)),
            [RapportError::AucunParticipant]
        );
    }
}
