//! What the statistics of the activities mean, computed here from participations one by one:
//! the reference every faster computation (the database's) must equal, and the statistical
//! secrecy of public figures.
//!
//! A participation is one person in one activity; every figure counts participations unless
//! it says otherwise. A followed beneficiary is one person however many times they came; an
//! anonymous participation is one anonymous person.

use std::collections::{BTreeMap, BTreeSet};

use super::vocabulaires::{
    Genre, Materiel, StatutSocial, Thematique, TrancheAge, TrancheDuree, TypeActivite, TypeLieu,
};
use crate::calendrier::civil_from_days;
use crate::ids::{ActiviteId, BeneficiaireId, LieuId, PersonId, StructureId};
use crate::territoires::{Commune, Territoires};

/// One person in one activity, with what the statistics read of both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participation {
    pub activite: ActiviteId,
    pub mediateur: PersonId,
    pub structure: StructureId,
    /// Midnight UTC of the activity's day.
    pub date: i64,
    pub type_activite: TypeActivite,
    pub duree: u32,
    pub type_lieu: TypeLieu,
    pub lieu: Option<LieuId>,
    /// Where the activity took place (INSEE code).
    pub commune: String,
    pub thematiques: BTreeSet<Thematique>,
    pub materiel: BTreeSet<Materiel>,
    /// `None`: an anonymous participant.
    pub beneficiaire: Option<BeneficiaireId>,
    /// Their first accompaniment (for an anonymous one: not « déjà accompagné »).
    pub premier: bool,
    pub genre: Genre,
    pub tranche: TrancheAge,
    pub statut: StatutSocial,
    /// Where the beneficiary lives (INSEE code), if known.
    pub commune_beneficiaire: Option<String>,
}

/// Which participations a figure counts. An empty set does not filter; a participation
/// passes when it matches every filter given (one value of each set, any of the thématiques).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filtres {
    /// First and last day (midnight UTC), both included.
    pub du: Option<i64>,
    pub au: Option<i64>,
    pub types: BTreeSet<TypeActivite>,
    pub mediateurs: BTreeSet<PersonId>,
    pub structures: BTreeSet<StructureId>,
    pub lieux: BTreeSet<LieuId>,
    /// The communes of the territories asked (INSEE codes): where the activity took place.
    pub communes: BTreeSet<String>,
    pub thematiques: BTreeSet<Thematique>,
}

impl Filtres {
    pub fn garde(&self, p: &Participation) -> bool {
        let any = |set_empty: bool, hit: bool| set_empty || hit;
        self.du.is_none_or(|d| p.date >= d)
            && self.au.is_none_or(|d| p.date <= d)
            && any(self.types.is_empty(), self.types.contains(&p.type_activite))
            && any(
                self.mediateurs.is_empty(),
                self.mediateurs.contains(&p.mediateur),
            )
            && any(
                self.structures.is_empty(),
                self.structures.contains(&p.structure),
            )
            && any(
                self.lieux.is_empty(),
                p.lieu.as_ref().is_some_and(|l| self.lieux.contains(l)),
            )
            && any(self.communes.is_empty(), self.communes.contains(&p.commune))
            && any(
                self.thematiques.is_empty(),
                !self.thematiques.is_disjoint(&p.thematiques),
            )
    }
}

/// The headline figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
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

/// Every figure of a dashboard: the totals, the monthly series and the distributions (in
/// participations). Zeros are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub totaux: Totaux,
    pub par_mois: BTreeMap<(i64, u32), u64>,
    pub par_type: BTreeMap<TypeActivite, u64>,
    pub par_duree: BTreeMap<TrancheDuree, u64>,
    pub par_type_lieu: BTreeMap<TypeLieu, u64>,
    /// One participation counts under each of its thématiques, and each of its matériels.
    pub par_thematique: BTreeMap<Thematique, u64>,
    pub par_materiel: BTreeMap<Materiel, u64>,
    pub par_genre: BTreeMap<Genre, u64>,
    pub par_tranche: BTreeMap<TrancheAge, u64>,
    pub par_statut: BTreeMap<StatutSocial, u64>,
    /// Followed beneficiaries' communes (anonymous ones and unknown communes left out).
    pub par_commune_beneficiaire: BTreeMap<String, u64>,
}

/// The figures of the participations `filtres` keeps, one by one.
pub fn figures(participations: &[Participation], filtres: &Filtres) -> Figures {
    let kept: Vec<Participation> = participations
        .iter()
        .filter(|p| filtres.garde(p))
        .cloned()
        .collect();
    Figures {
        totaux: totaux(&kept),
        par_mois: par_mois(&kept),
        par_type: repartition(&kept, |p| [p.type_activite]),
        par_duree: repartition(&kept, |p| [TrancheDuree::de(p.duree)]),
        par_type_lieu: repartition(&kept, |p| [p.type_lieu]),
        par_thematique: repartition(&kept, |p| p.thematiques.clone()),
        par_materiel: repartition(&kept, |p| p.materiel.clone()),
        par_genre: repartition(&kept, |p| [p.genre]),
        par_tranche: repartition(&kept, |p| [p.tranche]),
        par_statut: repartition(&kept, |p| [p.statut]),
        par_commune_beneficiaire: repartition(&kept, |p| {
            p.beneficiaire
                .and(p.commune_beneficiaire.clone())
                .into_iter()
        }),
    }
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
    repartition(participations, |p| [mois(p.date)])
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

/// Which participation of each followed beneficiary is their first accompaniment: the one
/// of their earliest activity (by day, then by activity); `(activite, beneficiaire)` pairs.
pub fn premiers(
    participations: impl IntoIterator<Item = (ActiviteId, i64, BeneficiaireId)>,
) -> BTreeSet<(ActiviteId, BeneficiaireId)> {
    let mut first: BTreeMap<BeneficiaireId, (i64, ActiviteId)> = BTreeMap::new();
    for (activite, date, b) in participations {
        let e = first.entry(b).or_insert((date, activite));
        if (date, activite) < *e {
            *e = (date, activite);
        }
    }
    first.into_iter().map(|(b, (_, a))| (a, b)).collect()
}

/// The territory of public statistics: the nation, or a région, département, EPCI or
/// commune (where the activities took place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Perimetre {
    France,
    Region(String),
    Departement(String),
    Epci(String),
    Commune(String),
}

impl Perimetre {
    /// `france`, `region:84`, `departement:42`, `epci:244200770` or `commune:42218`.
    pub fn parse(s: &str) -> Option<Perimetre> {
        let (kind, code) = s.split_once(':').unwrap_or((s, ""));
        let code = code.trim().to_string();
        let valid =
            !code.is_empty() && code.len() <= 9 && code.chars().all(|c| c.is_ascii_alphanumeric());
        match kind.trim() {
            "france" => Some(Perimetre::France),
            "region" if valid => Some(Perimetre::Region(code)),
            "departement" if valid => Some(Perimetre::Departement(code)),
            "epci" if valid => Some(Perimetre::Epci(code)),
            "commune" if valid => Some(Perimetre::Commune(code)),
            _ => None,
        }
    }

    pub fn code(&self) -> String {
        match self {
            Perimetre::France => "france".into(),
            Perimetre::Region(c) => format!("region:{c}"),
            Perimetre::Departement(c) => format!("departement:{c}"),
            Perimetre::Epci(c) => format!("epci:{c}"),
            Perimetre::Commune(c) => format!("commune:{c}"),
        }
    }

    /// Its name, `None` if no such territory.
    pub fn nom(&self, t: &Territoires) -> Option<String> {
        match self {
            Perimetre::France => Some("France entière".into()),
            Perimetre::Region(c) => t
                .regions
                .iter()
                .find(|r| &r.code == c)
                .map(|r| format!("Région {}", r.nom)),
            Perimetre::Departement(c) => t
                .departements
                .iter()
                .find(|d| &d.code == c)
                .map(|d| format!("{} ({})", d.nom, d.code)),
            Perimetre::Epci(c) => t.epci.iter().find(|e| &e.code == c).map(|e| e.nom.clone()),
            Perimetre::Commune(c) => t
                .communes
                .iter()
                .find(|m| m.code.as_str() == c)
                .map(|m| format!("{} ({})", m.nom, m.departement)),
        }
    }

    /// The territory a hub coordinator's scope names: `departement:42` and the like, a
    /// département's or region's code (« 42 », « 84 ») or name (« Loire »), case and
    /// accents aside. `None` if it names none.
    pub fn du_hub(scope: &str, t: &Territoires) -> Option<Perimetre> {
        let scope = scope.trim();
        if let Some(p) = Perimetre::parse(scope).filter(|p| p.nom(t).is_some()) {
            return Some(p);
        }
        let key = crate::text::search_key(scope);
        let same = |code: &str, nom: &str| code == scope || crate::text::search_key(nom) == key;
        if let Some(d) = t.departements.iter().find(|d| same(&d.code, &d.nom)) {
            return Some(Perimetre::Departement(d.code.clone()));
        }
        t.regions
            .iter()
            .find(|r| same(&r.code, &r.nom))
            .map(|r| Perimetre::Region(r.code.clone()))
    }

    /// The communes it holds, as a [`Filtres::communes`] (empty for the nation: no filter).
    pub fn communes(&self, t: &Territoires) -> BTreeSet<String> {
        let keep = |c: &Commune| match self {
            Perimetre::France => false,
            Perimetre::Region(r) => &c.region == r,
            Perimetre::Departement(d) => &c.departement == d,
            Perimetre::Epci(e) => c.epci.as_deref() == Some(e.as_str()),
            Perimetre::Commune(m) => {
                c.code.as_str() == m || c.commune_parent.as_ref().is_some_and(|p| p.as_str() == m)
            }
        };
        t.communes
            .iter()
            .filter(|c| keep(c))
            .map(|c| c.code.as_str().to_string())
            .collect()
    }
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
            mediateur: PersonId(1),
            structure: StructureId(1),
            date,
            type_activite: TypeActivite::Individuel,
            duree: 30,
            type_lieu: TypeLieu::LieuActivite,
            lieu: None,
            commune: "42218".into(),
            thematiques: BTreeSet::from([Thematique::Email]),
            materiel: BTreeSet::new(),
            beneficiaire: beneficiaire.map(BeneficiaireId),
            premier: false,
            genre: Genre::NonCommunique,
            tranche: TrancheAge::NonCommunique,
            statut: StatutSocial::NonCommunique,
            commune_beneficiaire: None,
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
        let counts =
            figures(&[both, participation(2, None, 0)], &Filtres::default()).par_thematique;
        assert_eq!(
            counts,
            BTreeMap::from([(Thematique::Email, 2), (Thematique::Sante, 1)])
        );
    }

    #[test]
    fn territories_are_named_by_kind_and_code() {
        assert_eq!(Perimetre::parse("france"), Some(Perimetre::France));
        assert_eq!(Perimetre::parse(""), None);
        assert_eq!(
            Perimetre::parse("departement:42"),
            Some(Perimetre::Departement("42".into()))
        );
        assert_eq!(Perimetre::parse("region:84").unwrap().code(), "region:84");
        for bad in [
            "departement:",
            "canton:1",
            "commune:42 218",
            "epci:1234567890",
        ] {
            assert_eq!(Perimetre::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_hub_scope_names_its_territory() {
        use crate::territoires::{Departement, Region};
        let t = Territoires {
            regions: vec![Region {
                code: "84".into(),
                nom: "Auvergne-Rhône-Alpes".into(),
            }],
            departements: vec![Departement {
                code: "42".into(),
                nom: "Loire".into(),
                region: "84".into(),
            }],
            ..Territoires::default()
        };
        let loire = Some(Perimetre::Departement("42".into()));
        for scope in ["Loire", "loire ", "42", "departement:42"] {
            assert_eq!(Perimetre::du_hub(scope, &t), loire, "{scope}");
        }
        for scope in ["84", "auvergne rhone alpes"] {
            assert_eq!(
                Perimetre::du_hub(scope, &t),
                Some(Perimetre::Region("84".into()))
            );
        }
        assert_eq!(Perimetre::du_hub("Rhône", &t), None);
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
