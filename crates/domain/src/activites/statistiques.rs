//! What the statistics of the activities mean, computed here from participations one by one:
//! the reference every faster computation (the database's) must equal, and the statistical
//! secrecy of public figures.
//!
//! A participation is one person in one activity; every figure counts participations unless
//! it says otherwise. A followed beneficiary is one person however many times they came; an
//! anonymous participation is one anonymous person.

use std::collections::{BTreeMap, BTreeSet};

use super::vocabulaires::{
    Genre, StatutSocial, Thematique, TrancheAge, TrancheDuree, TypeActivite, TypeLieu,
};
use crate::calendrier::civil_from_days;
use crate::ids::{ActiviteId, BeneficiaireId};

/// One person in one activity, with what the statistics read of both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participation {
    pub activite: ActiviteId,
    /// Midnight UTC of the activity's day.
    pub date: i64,
    pub type_activite: TypeActivite,
    pub duree: u32,
    pub type_lieu: TypeLieu,
    pub thematiques: BTreeSet<Thematique>,
    /// `None`: an anonymous participant.
    pub beneficiaire: Option<BeneficiaireId>,
    /// Their first accompaniment (for an anonymous one: not « déjà accompagné »).
    pub premier: bool,
    pub genre: Genre,
    pub tranche: TrancheAge,
    pub statut: StatutSocial,
}

/// The headline figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totaux {
    pub activites: u64,
    pub activites_individuelles: u64,
    pub activites_collectives: u64,
    pub participations: u64,
    /// Followed beneficiaries (each once) and anonymous participations.
    pub beneficiaires: u64,
    pub beneficiaires_suivis: u64,
    pub beneficiaires_anonymes: u64,
    /// Participations that were a first accompaniment.
    pub nouveaux: u64,
}

pub fn totaux(participations: &[Participation]) -> Totaux {
    let mut activites: BTreeMap<ActiviteId, TypeActivite> = BTreeMap::new();
    let mut suivis: BTreeSet<BeneficiaireId> = BTreeSet::new();
    let mut t = Totaux::default();
    for p in participations {
        activites.insert(p.activite, p.type_activite);
        t.participations += 1;
        match p.beneficiaire {
            Some(b) => {
                suivis.insert(b);
            }
            None => t.beneficiaires_anonymes += 1,
        }
        t.nouveaux += u64::from(p.premier);
    }
    t.activites = activites.len() as u64;
    t.activites_individuelles = activites
        .values()
        .filter(|a| **a == TypeActivite::Individuel)
        .count() as u64;
    t.activites_collectives = t.activites - t.activites_individuelles;
    t.beneficiaires_suivis = suivis.len() as u64;
    t.beneficiaires = t.beneficiaires_suivis + t.beneficiaires_anonymes;
    t
}

/// Year and month of a day.
pub fn mois(date: i64) -> (i64, u32) {
    let (y, m, _) = civil_from_days(date.div_euclid(86_400_000));
    (y, m)
}

/// Participations per month.
pub fn par_mois(participations: &[Participation]) -> BTreeMap<(i64, u32), u64> {
    let mut series = BTreeMap::new();
    for p in participations {
        *series.entry(mois(p.date)).or_insert(0) += 1;
    }
    series
}

/// Participations by a value of each: `key` gives one value, or several (thématiques).
pub fn repartition<K: Ord, I: IntoIterator<Item = K>>(
    participations: &[Participation],
    key: impl Fn(&Participation) -> I,
) -> BTreeMap<K, u64> {
    let mut counts = BTreeMap::new();
    for p in participations {
        for k in key(p) {
            *counts.entry(k).or_insert(0) += 1;
        }
    }
    counts
}

/// Participations by duration bucket.
pub fn par_duree(participations: &[Participation]) -> BTreeMap<TrancheDuree, u64> {
    repartition(participations, |p| [TrancheDuree::de(p.duree)])
}

/// Participations by thématique: one participation counts under each of its thématiques.
pub fn par_thematique(participations: &[Participation]) -> BTreeMap<Thematique, u64> {
    repartition(participations, |p| p.thematiques.clone())
}

/// Counts under this are not published: one person could be recognised.
pub const SEUIL_SECRET: u64 = 11;

/// A distribution as published: each count, or `None` where it is secret. A count from 1
/// to [`SEUIL_SECRET`] − 1 is secret (primary secrecy); if that hides exactly one count of the
/// distribution, the smallest other non-zero count is hidden too, so that the total minus
/// the others cannot give it back (secondary secrecy). Zeros are published: they single no
/// one out. (A distribution with one non-zero count under the threshold has nothing else to
/// hide: its total is then secret too, which is the caller's to show.)
pub fn secret_statistique<K: Ord + Clone>(counts: &BTreeMap<K, u64>) -> BTreeMap<K, Option<u64>> {
    let secret = |n: u64| (1..SEUIL_SECRET).contains(&n);
    let mut published: BTreeMap<K, Option<u64>> = counts
        .iter()
        .map(|(k, n)| (k.clone(), (!secret(*n)).then_some(*n)))
        .collect();
    if published.values().filter(|v| v.is_none()).count() == 1 {
        let smallest = counts
            .iter()
            .filter(|(k, n)| **n > 0 && published[*k].is_some())
            .min_by_key(|(_, n)| **n)
            .map(|(k, _)| k.clone());
        if let Some(k) = smallest {
            published.insert(k, None);
        }
    }
    published
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activites::rapport::jour;
    use proptest::prelude::*;

    fn participation(activite: i64, beneficiaire: Option<i64>, date: i64) -> Participation {
        Participation {
            activite: ActiviteId(activite),
            date,
            type_activite: TypeActivite::Individuel,
            duree: 30,
            type_lieu: TypeLieu::LieuActivite,
            thematiques: BTreeSet::from([Thematique::Email]),
            beneficiaire: beneficiaire.map(BeneficiaireId),
            premier: false,
            genre: Genre::NonCommunique,
            tranche: TrancheAge::NonCommunique,
            statut: StatutSocial::NonCommunique,
        }
    }

    #[test]
    fn totals_count_people_once_and_anonymous_ones_each_time() {
        let d = jour(2026, 3, 4);
        let atelier = |b| Participation {
            type_activite: TypeActivite::Collectif,
            ..participation(2, b, d)
        };
        let rows = [
            Participation {
                premier: true,
                ..participation(1, Some(10), d)
            },
            atelier(Some(10)),
            atelier(None),
            atelier(None),
            participation(3, Some(11), jour(2026, 4, 1)),
        ];
        assert_eq!(
            totaux(&rows),
            Totaux {
                activites: 3,
                activites_individuelles: 2,
                activites_collectives: 1,
                participations: 5,
                beneficiaires: 4,
                beneficiaires_suivis: 2,
                beneficiaires_anonymes: 2,
                nouveaux: 1,
            }
        );
        assert_eq!(
            par_mois(&rows),
            BTreeMap::from([((2026, 3), 4), ((2026, 4), 1)])
        );
    }

    #[test]
    fn a_participation_counts_under_each_thematique() {
        let both = Participation {
            thematiques: BTreeSet::from([Thematique::Email, Thematique::Sante]),
            ..participation(1, None, 0)
        };
        let counts = par_thematique(&[both, participation(2, None, 0)]);
        assert_eq!(
            counts,
            BTreeMap::from([(Thematique::Email, 2), (Thematique::Sante, 1)])
        );
    }

    #[test]
    fn small_counts_are_secret_and_cannot_be_recovered() {
        let counts = BTreeMap::from([("a", 120), ("b", 4), ("c", 30), ("d", 0)]);
        let published = secret_statistique(&counts);
        assert_eq!(
            published,
            BTreeMap::from([("a", Some(120)), ("b", None), ("c", None), ("d", Some(0))]),
            "b alone hidden would be the total minus the others: c, the smallest, goes too"
        );
        let two = BTreeMap::from([("a", 3), ("b", 5), ("c", 40)]);
        assert_eq!(
            secret_statistique(&two),
            BTreeMap::from([("a", None), ("b", None), ("c", Some(40))])
        );
    }

    proptest! {
        /// Whatever the counts, no published distribution hides exactly one non-zero count,
        /// and no count in 1..SEUIL is shown.
        #[test]
        fn secrecy_holds(counts in proptest::collection::vec(0u64..40, 1..8)) {
            let counts: BTreeMap<usize, u64> = counts.into_iter().enumerate().collect();
            let published = secret_statistique(&counts);
            let hidden = published.values().filter(|v| v.is_none()).count();
            prop_assert!(hidden != 1 || counts.values().filter(|n| **n > 0).count() == 1);
            for (k, v) in &published {
                if let Some(n) = v {
                    prop_assert!(*n == 0 || *n >= SEUIL_SECRET);
                    prop_assert_eq!(*n, counts[k]);
                }
            }
        }
    }
}
