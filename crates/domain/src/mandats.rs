//! Mandates: a structure (the mandataire) acts for an usager in the démarche families the
//! usager agreed to, for a chosen duration; one authorization per family, revocable one by
//! one. The rules here decide what a new mandate replaces, what is active at an instant,
//! what a renewal changes, and the hash printed on the mandate; the OpenID Connect provider
//! the démarches call checks PKCE and codes with [`fournisseur`].

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use crate::ids::{PersonId, StructureId};

pub mod anomalies;
pub mod fournisseur;

/// How long a mandate is kept once it ended (every démarche expired, or revoked first):
/// its démarches, their uses, the usager's identity while no other mandate of theirs is
/// kept, and the details of the journal's entries about it. Six years (2,192 days), as
/// « Données personnelles » publishes; the database refuses to blank a journal entry
/// younger than five (migration 0026).
pub const CONSERVATION_MS: i64 = 2_192 * 24 * 60 * 60 * 1000;

/// The démarche families a mandate covers, with the codes démarche services know them by
/// (the national aidants' service's codes, kept for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Demarche {
    Papiers,
    Famille,
    Social,
    Travail,
    Logement,
    Transports,
    Argent,
    Justice,
    Etranger,
    Loisirs,
}

impl Demarche {
    pub const ALL: [Demarche; 10] = [
        Demarche::Papiers,
        Demarche::Famille,
        Demarche::Social,
        Demarche::Travail,
        Demarche::Logement,
        Demarche::Transports,
        Demarche::Argent,
        Demarche::Justice,
        Demarche::Etranger,
        Demarche::Loisirs,
    ];

    /// The code stored, sent as an OpenID Connect scope and in the claims.
    pub fn code(self) -> &'static str {
        match self {
            Demarche::Papiers => "papiers",
            Demarche::Famille => "famille",
            Demarche::Social => "social",
            Demarche::Travail => "travail",
            Demarche::Logement => "logement",
            Demarche::Transports => "transports",
            Demarche::Argent => "argent",
            Demarche::Justice => "justice",
            Demarche::Etranger => "etranger",
            Demarche::Loisirs => "loisirs",
        }
    }

    pub fn parse(code: &str) -> Option<Demarche> {
        Demarche::ALL.into_iter().find(|d| d.code() == code)
    }

    /// The family's name on screens and on the printed mandate.
    pub fn titre(self) -> &'static str {
        match self {
            Demarche::Papiers => "Papiers, citoyenneté, élections",
            Demarche::Famille => "Famille, scolarité",
            Demarche::Social => "Social, santé",
            Demarche::Travail => "Travail, formation",
            Demarche::Logement => "Logement",
            Demarche::Transports => "Transports, mobilité",
            Demarche::Argent => "Argent, impôts, consommation",
            Demarche::Justice => "Justice",
            Demarche::Etranger => "Étranger, Europe",
            Demarche::Loisirs => "Loisirs, sport, culture",
        }
    }

    /// What it covers, in words the usager knows.
    pub fn exemples(self) -> &'static str {
        match self {
            Demarche::Papiers => "carte d’identité, passeport, état civil, élections",
            Demarche::Famille => "allocations familiales, naissance, mariage, Pacs, école",
            Demarche::Social => "carte Vitale, chômage, handicap, RSA, personnes âgées",
            Demarche::Travail => "contrat, concours, retraite, démission, formation",
            Demarche::Logement => "aides au logement, logement social, fin de bail",
            Demarche::Transports => "carte grise, permis de conduire, amendes",
            Demarche::Argent => "impôts, banque, assurance, surendettement",
            Demarche::Justice => "casier judiciaire, plainte, aide juridictionnelle",
            Demarche::Etranger => "titre de séjour, attestation d’accueil",
            Demarche::Loisirs => "animaux, permis bateau ou de chasser, tourisme",
        }
    }
}

/// How long a mandate lasts; a year at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Duree {
    Jour,
    Mois,
    Semestre,
    Annee,
}

const JOUR_MS: i64 = 24 * 60 * 60 * 1000;

impl Duree {
    pub const ALL: [Duree; 4] = [Duree::Jour, Duree::Mois, Duree::Semestre, Duree::Annee];

    pub fn code(self) -> &'static str {
        match self {
            Duree::Jour => "jour",
            Duree::Mois => "mois",
            Duree::Semestre => "semestre",
            Duree::Annee => "annee",
        }
    }

    pub fn parse(code: &str) -> Option<Duree> {
        Duree::ALL.into_iter().find(|d| d.code() == code)
    }

    pub fn libelle(self) -> &'static str {
        match self {
            Duree::Jour => "1 jour (jusqu’à demain)",
            Duree::Mois => "1 mois",
            Duree::Semestre => "6 mois",
            Duree::Annee => "1 an",
        }
    }

    /// Days of validity, counted from the instant the usager consents.
    pub fn jours(self) -> i64 {
        match self {
            Duree::Jour => 1,
            Duree::Mois => 31,
            Duree::Semestre => 182,
            Duree::Annee => 365,
        }
    }

    /// The end of a mandate that starts at `debut` (Unix ms).
    pub fn fin(self, debut: i64) -> i64 {
        debut + self.jours() * JOUR_MS
    }
}

/// What was chosen for a new mandate, before the usager consents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demande {
    pub structure: StructureId,
    pub aidant: PersonId,
    pub demarches: BTreeSet<Demarche>,
    pub duree: Duree,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemandeError {
    #[error("choisissez au moins une démarche")]
    AucuneDemarche,
    #[error("démarche « {0} » inconnue")]
    DemarcheInconnue(String),
    #[error("durée « {0} » inconnue : jour, mois, semestre ou annee")]
    DureeInconnue(String),
    #[error("la structure ne peut pas faire de démarche « {0} » : son référent l’a exclue")]
    DemarcheExclue(&'static str),
}

impl Demande {
    /// A request from a form's codes; `permises` are the families the structure allows.
    pub fn new(
        structure: StructureId,
        aidant: PersonId,
        demarches: &[&str],
        duree: &str,
        permises: &BTreeSet<Demarche>,
    ) -> Result<Demande, DemandeError> {
        let mut chosen = BTreeSet::new();
        for code in demarches {
            let d = Demarche::parse(code.trim())
                .ok_or_else(|| DemandeError::DemarcheInconnue(code.to_string()))?;
            if !permises.contains(&d) {
                return Err(DemandeError::DemarcheExclue(d.code()));
            }
            chosen.insert(d);
        }
        if chosen.is_empty() {
            return Err(DemandeError::AucuneDemarche);
        }
        let duree = Duree::parse(duree.trim())
            .ok_or_else(|| DemandeError::DureeInconnue(duree.to_string()))?;
        Ok(Demande {
            structure,
            aidant,
            demarches: chosen,
            duree,
        })
    }
}

/// One démarche family of a mandate: active from the consent to `fin`, unless revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autorisation {
    pub demarche: Demarche,
    pub fin: i64,
    pub revoquee_le: Option<i64>,
}

impl Autorisation {
    pub fn active(&self, now: i64) -> bool {
        self.revoquee_le.is_none() && now < self.fin
    }
}

/// Where a mandate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Etat {
    /// At least one authorization is active.
    Actif,
    /// Every authorization ended by itself.
    Expire,
    /// Every authorization ended, at least one revoked.
    Revoque,
}

impl Etat {
    pub fn libelle(self) -> &'static str {
        match self {
            Etat::Actif => "en cours",
            Etat::Expire => "terminé",
            Etat::Revoque => "révoqué",
        }
    }
}

/// A mandate's state at `now`, from its authorizations.
pub fn etat(autorisations: &[Autorisation], now: i64) -> Etat {
    if autorisations.iter().any(|a| a.active(now)) {
        Etat::Actif
    } else if autorisations.iter().any(|a| a.revoquee_le.is_some()) {
        Etat::Revoque
    } else {
        Etat::Expire
    }
}

/// The authorizations a new mandate replaces: those of the same structure and usager, still
/// active, on a family it covers again (the usager cannot hold two for one family in one
/// structure). `existantes` are (id, authorization) of the structure and usager.
pub fn remplacees<I: Copy>(
    existantes: &[(I, Autorisation)],
    nouvelles: &BTreeSet<Demarche>,
    now: i64,
) -> Vec<I> {
    existantes
        .iter()
        .filter(|(_, a)| a.active(now) && nouvelles.contains(&a.demarche))
        .map(|(id, _)| *id)
        .collect()
}

/// The usager's key: HMAC-SHA256 of their FranceConnect `sub` under the instance's secret
/// `sel`, in hex. The same person is recognised; a stolen base names no one at FranceConnect.
pub fn cle_usager(sel: &[u8], sub: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, sel);
    data_encoding::HEXLOWER.encode(ring::hmac::sign(&key, sub.as_bytes()).as_ref())
}

/// What a mandate's printed copy and its hash are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation<'a> {
    pub aidant: PersonId,
    pub structure: StructureId,
    /// The salted hash of the usager's FranceConnect `sub`.
    pub usager: &'a str,
    pub demarches: &'a BTreeSet<Demarche>,
    pub debut: i64,
    pub fin: i64,
    /// SHA-256 of the text of the mandate template the usager read.
    pub modele: &'a str,
}

impl Attestation<'_> {
    /// SHA-256 (hex) of the mandate's fields in a fixed order, one per line: printed on
    /// both copies as text and QR code, so that a copy can be checked against the journal.
    pub fn empreinte(&self) -> String {
        let demarches: Vec<&str> = self.demarches.iter().map(|d| d.code()).collect();
        let text = format!(
            "relais-mandat-v1\naidant={}\nstructure={}\nusager={}\ndemarches={}\ndebut={}\nfin={}\nmodele={}\n",
            self.aidant,
            self.structure,
            self.usager,
            demarches.join(","),
            self.debut,
            self.fin,
            self.modele
        );
        data_encoding::HEXLOWER.encode(&Sha256::digest(text.as_bytes()))
    }
}

/// The text of the mandate the usager reads before consenting and that both copies print,
/// version 1. Its SHA-256 (`modele`) enters each mandate's `empreinte`: a new wording is a
/// new version, never an edit of this one.
pub const TEXTE_MANDAT: &str = "\
Par ce mandat, l’usager (le mandant) autorise la structure (le mandataire) à réaliser en son \
nom, par l’intermédiaire de ses aidants habilités, les démarches administratives en ligne des \
familles listées ci-dessous, jusqu’à la date de fin indiquée (articles 1984 et suivants du Code \
civil).

L’aidant agit uniquement pour ces démarches, dans l’intérêt de l’usager et avec lui. Il ne lui \
demande jamais ses mots de passe. Chaque utilisation du mandat est inscrite dans un journal \
que l’usager peut lire en se connectant à Relais avec FranceConnect.

L’usager peut mettre fin au mandat, ou à une seule famille de démarches, à tout moment : dans \
son espace Relais, ou en le demandant à la structure. La fin prend effet immédiatement.

Relais garde l’identité transmise par FranceConnect (nom, prénoms, date et lieu de naissance, \
sexe, adresse électronique) et le journal des utilisations pendant la durée du mandat, puis \
pendant la durée de conservation publiée sur la page « Données personnelles ». L’usager peut \
consulter et télécharger ces données dans son espace.

Le mandat est établi en deux exemplaires, un pour l’usager, un pour la structure. Son \
empreinte, imprimée en texte et en code QR, permet de vérifier qu’un exemplaire est \
conforme à celui que Relais a enregistré.";

/// SHA-256 (hex) of `TEXTE_MANDAT`: the `modele` of the mandates signed now.
pub fn modele() -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(TEXTE_MANDAT.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_780_000_000_000;

    fn toutes() -> BTreeSet<Demarche> {
        Demarche::ALL.into_iter().collect()
    }

    #[test]
    fn codes_round_trip_and_are_the_national_ones() {
        let codes: Vec<&str> = Demarche::ALL.iter().map(|d| d.code()).collect();
        assert_eq!(
            codes,
            [
                "papiers",
                "famille",
                "social",
                "travail",
                "logement",
                "transports",
                "argent",
                "justice",
                "etranger",
                "loisirs"
            ]
        );
        for d in Demarche::ALL {
            assert_eq!(Demarche::parse(d.code()), Some(d));
        }
        for d in Duree::ALL {
            assert_eq!(Duree::parse(d.code()), Some(d));
        }
        assert_eq!(Demarche::parse("Papiers"), None);
    }

    #[test]
    fn durations_end_a_year_at_most_after_consent() {
        assert_eq!(Duree::Jour.fin(T0) - T0, JOUR_MS);
        assert_eq!(Duree::Mois.fin(T0) - T0, 31 * JOUR_MS);
        assert_eq!(Duree::Semestre.fin(T0) - T0, 182 * JOUR_MS);
        assert_eq!(Duree::Annee.fin(T0) - T0, 365 * JOUR_MS);
        assert!(Duree::ALL.iter().all(|d| d.jours() <= 365));
    }

    #[test]
    fn a_request_says_what_is_wrong() {
        let (s, p) = (StructureId(1), PersonId(2));
        let ok = Demande::new(s, p, &["social", "papiers", "social"], "mois", &toutes()).unwrap();
        assert_eq!(
            ok.demarches.iter().copied().collect::<Vec<_>>(),
            [Demarche::Papiers, Demarche::Social]
        );
        assert_eq!(
            Demande::new(s, p, &[], "mois", &toutes()),
            Err(DemandeError::AucuneDemarche)
        );
        assert_eq!(
            Demande::new(s, p, &["impots"], "mois", &toutes()),
            Err(DemandeError::DemarcheInconnue("impots".into()))
        );
        assert_eq!(
            Demande::new(s, p, &["social"], "2 ans", &toutes()),
            Err(DemandeError::DureeInconnue("2 ans".into()))
        );
        let sans_argent: BTreeSet<Demarche> = toutes()
            .into_iter()
            .filter(|d| *d != Demarche::Argent)
            .collect();
        assert_eq!(
            Demande::new(s, p, &["argent"], "jour", &sans_argent),
            Err(DemandeError::DemarcheExclue("argent"))
        );
    }

    #[test]
    fn a_new_mandate_replaces_the_active_authorization_of_a_family_it_covers() {
        let a = |d: Demarche, fin: i64, revoquee_le: Option<i64>| Autorisation {
            demarche: d,
            fin,
            revoquee_le,
        };
        let existantes = [
            (1, a(Demarche::Social, T0 + JOUR_MS, None)),
            (2, a(Demarche::Papiers, T0 + JOUR_MS, None)),
            (3, a(Demarche::Social, T0 - 1, None)),
            (4, a(Demarche::Logement, T0 + JOUR_MS, Some(T0 - 5))),
            (5, a(Demarche::Logement, T0 + JOUR_MS, None)),
        ];
        let nouvelles: BTreeSet<Demarche> = [Demarche::Social, Demarche::Logement].into();
        assert_eq!(remplacees(&existantes, &nouvelles, T0), vec![1, 5]);
    }

    #[test]
    fn a_mandate_is_active_while_one_family_is() {
        let a = |fin: i64, revoquee_le: Option<i64>| Autorisation {
            demarche: Demarche::Social,
            fin,
            revoquee_le,
        };
        assert_eq!(
            etat(&[a(T0 + 1, None), a(T0 + 1, Some(T0))], T0),
            Etat::Actif
        );
        assert_eq!(etat(&[a(T0, None)], T0), Etat::Expire, "ends at its end");
        assert_eq!(
            etat(&[a(T0 - 1, None), a(T0 + 1, Some(T0))], T0),
            Etat::Revoque
        );
    }

    #[test]
    fn the_printed_hash_changes_with_every_field() {
        let demarches: BTreeSet<Demarche> = [Demarche::Social].into();
        let autres: BTreeSet<Demarche> = [Demarche::Social, Demarche::Papiers].into();
        let base = Attestation {
            aidant: PersonId(1),
            structure: StructureId(2),
            usager: "abc",
            demarches: &demarches,
            debut: T0,
            fin: Duree::Mois.fin(T0),
            modele: "m1",
        };
        let h = base.empreinte();
        assert_eq!(h.len(), 64);
        assert_eq!(h, base.clone().empreinte(), "stable");
        let variants = [
            Attestation {
                aidant: PersonId(9),
                ..base.clone()
            },
            Attestation {
                structure: StructureId(9),
                ..base.clone()
            },
            Attestation {
                usager: "abd",
                ..base.clone()
            },
            Attestation {
                demarches: &autres,
                ..base.clone()
            },
            Attestation {
                debut: T0 + 1,
                ..base.clone()
            },
            Attestation {
                fin: T0,
                ..base.clone()
            },
            Attestation {
                modele: "m2",
                ..base.clone()
            },
        ];
        for v in variants {
            assert_ne!(v.empreinte(), h, "{v:?}");
        }
    }
}
