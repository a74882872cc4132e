//! A programme's settings as its owner types them, checked field by field: funders and
//! their shares (co-financing), value, booklet size, budget, validity, territory, publics
//! and the services a pass pays for.

use std::collections::BTreeSet;

use iban::{Iban, IbanLike};

use super::reglement::PARTS_TOTAL;
use crate::comptes::{Siret, vocabulary};
use crate::territoires::Commune;

vocabulary! {
    /// What a pass pays for in a lieu.
    ServicePass {
        AtelierCollectif => "atelier_collectif", "Atelier collectif (deux heures au plus)";
        AccompagnementIndividuel => "accompagnement_individuel", "Accompagnement individuel";
        AideDemarches => "aide_demarches", "Aide aux démarches en ligne";
        Parcours => "parcours", "Parcours de plusieurs séances";
    }
}

impl ServicePass {
    /// What the activity report of a use of this service starts with: its type, if the
    /// service says it, and a theme, if it says one.
    pub fn activite(
        self,
    ) -> (
        Option<crate::activites::vocabulaires::TypeActivite>,
        Option<crate::activites::vocabulaires::Thematique>,
    ) {
        use crate::activites::vocabulaires::{Thematique, TypeActivite};
        match self {
            ServicePass::AtelierCollectif => (Some(TypeActivite::Collectif), None),
            ServicePass::AccompagnementIndividuel => (Some(TypeActivite::Individuel), None),
            ServicePass::AideDemarches => (
                Some(TypeActivite::Individuel),
                Some(Thematique::AideAuxDemarchesAdministratives),
            ),
            ServicePass::Parcours => (None, None),
        }
    }
}

vocabulary! {
    /// Whom a programme is meant for.
    Public {
        ToutPublic => "tout_public", "Tout public";
        DemandeursEmploi => "demandeurs_emploi", "Demandeurs d’emploi";
        Jeunes => "jeunes", "Jeunes de 16 à 25 ans";
        Seniors => "seniors", "Personnes âgées";
        MinimaSociaux => "minima_sociaux", "Allocataires de minima sociaux";
    }
}

vocabulary! {
    /// The kind of territory a programme covers.
    NiveauTerritoire {
        Commune => "commune", "Commune";
        Epci => "epci", "Intercommunalité (EPCI)";
        Departement => "departement", "Département";
    }
}

/// A funder's line as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinanceurSaisi {
    pub nom: String,
    pub siret: String,
    /// Its share in percent, as typed (`50`, `33,33`).
    pub part: String,
    pub iban: String,
    pub bic: String,
}

/// A funder, checked: it pays its share of every pass used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Financeur {
    pub nom: String,
    pub siret: Siret,
    /// Ten-thousandths of each pass it pays.
    pub part: u32,
    /// Electronic form, no spaces.
    pub iban: String,
    pub bic: String,
}

/// A programme as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeSaisi {
    pub nom: String,
    pub financeurs: Vec<FinanceurSaisi>,
    pub valeur_centimes: i64,
    pub taille_carnet: i64,
    pub budget_centimes: i64,
    pub achat_minimum_centimes: i64,
    /// The last day of validity (days since 1970-01-01), then `grace_jours` of tolerance.
    pub dernier_jour: i64,
    pub grace_jours: i64,
    pub territoires: Vec<(NiveauTerritoire, String)>,
    pub publics: BTreeSet<Public>,
    pub services: BTreeSet<ServicePass>,
}

/// A programme's settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reglages {
    pub nom: String,
    pub financeurs: Vec<Financeur>,
    pub valeur_centimes: i64,
    pub taille_carnet: i64,
    pub budget_centimes: i64,
    pub achat_minimum_centimes: i64,
    pub dernier_jour: i64,
    pub grace_jours: i64,
    pub territoires: Vec<(NiveauTerritoire, String)>,
    pub publics: BTreeSet<Public>,
    pub services: BTreeSet<ServicePass>,
}

/// What is wrong with a programme as typed, field by field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgrammeError {
    #[error("donnez un nom au programme")]
    Nom,
    #[error("indiquez au moins un financeur")]
    SansFinanceur,
    #[error("financeur {rang} : {raison}")]
    Financeur {
        rang: usize,
        champ: &'static str,
        raison: String,
    },
    #[error("les parts des financeurs font {0} % au lieu de 100 %")]
    Parts(String),
    #[error("la valeur d’un pass va de 1 à 100 €")]
    Valeur,
    #[error("un carnet compte 5 ou 10 pass")]
    TailleCarnet,
    #[error("le budget doit payer au moins un carnet")]
    Budget,
    #[error("l’achat minimum ne peut pas dépasser le budget")]
    AchatMinimum,
    #[error("la fin de validité est déjà passée")]
    DernierJour,
    #[error("le délai de tolérance va de 0 à 90 jours")]
    Grace,
    #[error("indiquez au moins une commune, une intercommunalité ou un département")]
    SansTerritoire,
    #[error("choisissez au moins un service payé par le pass")]
    SansService,
}

impl ProgrammeError {
    /// The form field the error belongs to.
    pub fn champ(&self) -> String {
        match self {
            ProgrammeError::Nom => "nom".into(),
            ProgrammeError::SansFinanceur | ProgrammeError::Parts(_) => "financeurs".into(),
            ProgrammeError::Financeur { rang, champ, .. } => format!("financeur{rang}_{champ}"),
            ProgrammeError::Valeur => "valeur".into(),
            ProgrammeError::TailleCarnet => "taille_carnet".into(),
            ProgrammeError::Budget => "budget".into(),
            ProgrammeError::AchatMinimum => "achat_minimum".into(),
            ProgrammeError::DernierJour => "dernier_jour".into(),
            ProgrammeError::Grace => "grace".into(),
            ProgrammeError::SansTerritoire => "territoires".into(),
            ProgrammeError::SansService => "services".into(),
        }
    }
}

/// Whether `commune` is in a territory made of `territoires` (an arrondissement counts as
/// its commune).
pub fn couvre(territoires: &[(NiveauTerritoire, String)], commune: &Commune) -> bool {
    territoires.iter().any(|(niveau, code)| match niveau {
        NiveauTerritoire::Commune => {
            commune.code.as_str() == code
                || commune
                    .commune_parent
                    .as_ref()
                    .is_some_and(|p| p.as_str() == code)
        }
        NiveauTerritoire::Epci => commune.epci.as_deref() == Some(code.as_str()),
        NiveauTerritoire::Departement => commune.departement == *code,
    })
}

/// Why an IBAN is refused.
pub const IBAN_INVALIDE: &str =
    "cet IBAN n’est pas valide (sa clé ou sa longueur ne correspondent pas)";

/// Why a BIC is refused.
pub const BIC_INVALIDE: &str = "un BIC compte 8 ou 11 caractères (par exemple CEPAFRPP751)";

/// A share typed in percent (`50`, `33,33`, `12.5`) in ten-thousandths.
pub fn part(typed: &str) -> Option<u32> {
    let t = typed.trim().trim_end_matches('%').trim().replace(',', ".");
    let (units, decimals) = t.split_once('.').unwrap_or((&t, ""));
    if units.is_empty()
        || decimals.len() > 2
        || !format!("{units}{decimals}")
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let units: u32 = units.parse().ok()?;
    let decimals: u32 = format!("{decimals:0<2}").parse().ok()?;
    let p = units.checked_mul(100)?.checked_add(decimals)?;
    (1..=PARTS_TOTAL).contains(&p).then_some(p)
}

/// An IBAN as typed (spaces, any case), in its electronic form if its length, key and
/// its country's format hold.
pub fn iban(typed: &str) -> Option<String> {
    typed
        .split_whitespace()
        .collect::<String>()
        .to_uppercase()
        .parse::<Iban>()
        .ok()
        .map(|i| i.electronic_str().to_string())
}

/// A BIC: 8 or 11 letters and digits, the bank (4 letters), the country (2 letters).
pub fn bic(typed: &str) -> Option<String> {
    let b: String = typed.split_whitespace().collect::<String>().to_uppercase();
    let ok = (b.len() == 8 || b.len() == 11)
        && b.bytes().all(|c| c.is_ascii_alphanumeric())
        && b.bytes().take(6).all(|c| c.is_ascii_alphabetic());
    ok.then_some(b)
}

fn financeur(rang: usize, f: &FinanceurSaisi) -> Result<Financeur, Vec<ProgrammeError>> {
    let erreur = |champ: &'static str, raison: &str| ProgrammeError::Financeur {
        rang,
        champ,
        raison: raison.to_string(),
    };
    let mut erreurs = Vec::new();
    let nom = f.nom.trim().to_string();
    if nom.is_empty() {
        erreurs.push(erreur("nom", "indiquez son nom"));
    }
    let siret = Siret::parse(&f.siret)
        .map_err(|e| erreurs.push(erreur("siret", &format!("SIRET : {e}"))))
        .ok();
    let part = part(&f.part);
    if part.is_none() {
        erreurs.push(erreur("part", "sa part est un pourcentage de 0,01 à 100"));
    }
    let iban = iban(&f.iban);
    if iban.is_none() {
        erreurs.push(erreur("iban", IBAN_INVALIDE));
    }
    let bic = bic(&f.bic);
    if bic.is_none() {
        erreurs.push(erreur(
            "bic",
            "un BIC compte 8 ou 11 caractères (par exemple CEPAFRPP751)",
        ));
    }
    match (siret, part, iban, bic) {
        (Some(siret), Some(part), Some(iban), Some(bic)) if erreurs.is_empty() => Ok(Financeur {
            nom,
            siret,
            part,
            iban,
            bic,
        }),
        _ => Err(erreurs),
    }
}

impl ProgrammeSaisi {
    /// The settings, or every error with its field. `aujourd_hui`: days since 1970-01-01.
    pub fn verifier(&self, aujourd_hui: i64) -> Result<Reglages, Vec<ProgrammeError>> {
        let mut erreurs = Vec::new();
        let nom = self.nom.trim().to_string();
        if nom.is_empty() {
            erreurs.push(ProgrammeError::Nom);
        }
        let mut financeurs = Vec::new();
        for (i, f) in self.financeurs.iter().enumerate() {
            match financeur(i + 1, f) {
                Ok(f) => financeurs.push(f),
                Err(e) => erreurs.extend(e),
            }
        }
        if self.financeurs.is_empty() {
            erreurs.push(ProgrammeError::SansFinanceur);
        } else if financeurs.len() == self.financeurs.len() {
            let total: u32 = financeurs.iter().map(|f| f.part).sum();
            if total != PARTS_TOTAL {
                erreurs.push(ProgrammeError::Parts(format!(
                    "{},{:02}",
                    total / 100,
                    total % 100
                )));
            }
        }
        if !(100..=10_000).contains(&self.valeur_centimes) {
            erreurs.push(ProgrammeError::Valeur);
        }
        if ![5, 10].contains(&self.taille_carnet) {
            erreurs.push(ProgrammeError::TailleCarnet);
        }
        if self.budget_centimes < self.valeur_centimes * self.taille_carnet.max(1) {
            erreurs.push(ProgrammeError::Budget);
        }
        if self.achat_minimum_centimes < 0 || self.achat_minimum_centimes > self.budget_centimes {
            erreurs.push(ProgrammeError::AchatMinimum);
        }
        if self.dernier_jour < aujourd_hui {
            erreurs.push(ProgrammeError::DernierJour);
        }
        if !(0..=90).contains(&self.grace_jours) {
            erreurs.push(ProgrammeError::Grace);
        }
        if self.territoires.is_empty() {
            erreurs.push(ProgrammeError::SansTerritoire);
        }
        if self.services.is_empty() {
            erreurs.push(ProgrammeError::SansService);
        }
        if !erreurs.is_empty() {
            return Err(erreurs);
        }
        Ok(Reglages {
            nom,
            financeurs,
            valeur_centimes: self.valeur_centimes,
            taille_carnet: self.taille_carnet,
            budget_centimes: self.budget_centimes,
            achat_minimum_centimes: self.achat_minimum_centimes,
            dernier_jour: self.dernier_jour,
            grace_jours: self.grace_jours,
            territoires: self.territoires.clone(),
            publics: self.publics.clone(),
            services: self.services.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn saisi() -> ProgrammeSaisi {
        ProgrammeSaisi {
            nom: "Pass numérique Loire 2027".into(),
            financeurs: vec![
                FinanceurSaisi {
                    nom: "Département de la Loire".into(),
                    siret: "21420218600018".into(),
                    part: "60".into(),
                    iban: "FR76 3000 6000 0112 3456 7890 189".into(),
                    bic: "AGRIFRPP".into(),
                },
                FinanceurSaisi {
                    nom: "État".into(),
                    siret: "13002526500013".into(),
                    part: "40,00 %".into(),
                    iban: "FR7630001007941234567890185".into(),
                    bic: "BDFEFRPPCCT".into(),
                },
            ],
            valeur_centimes: 1000,
            taille_carnet: 10,
            budget_centimes: 2_000_000,
            achat_minimum_centimes: 0,
            dernier_jour: 21_000,
            grace_jours: 31,
            territoires: vec![(NiveauTerritoire::Departement, "42".into())],
            publics: BTreeSet::from([Public::ToutPublic]),
            services: BTreeSet::from([ServicePass::AtelierCollectif]),
        }
    }

    #[test]
    fn a_programme_with_its_funders_is_accepted() {
        let r = saisi().verifier(20_800).unwrap();
        assert_eq!(r.financeurs[0].part, 6000);
        assert_eq!(r.financeurs[1].part, 4000);
        assert_eq!(r.financeurs[0].iban, "FR7630006000011234567890189");
    }

    #[test]
    fn each_error_names_its_field() {
        let mut p = saisi();
        p.nom = " ".into();
        p.financeurs[1].part = "30".into();
        p.financeurs[0].iban = "FR76 3000 6000 0112 3456 7890 188".into();
        p.taille_carnet = 7;
        p.dernier_jour = 100;
        let erreurs = p.verifier(20_800).unwrap_err();
        let champs: Vec<String> = erreurs.iter().map(ProgrammeError::champ).collect();
        assert_eq!(
            champs,
            ["nom", "financeur1_iban", "taille_carnet", "dernier_jour"],
            "{erreurs:?}"
        );
        // Shares are added only once every funder reads.
        let mut p = saisi();
        p.financeurs[1].part = "30".into();
        assert_eq!(
            p.verifier(20_800),
            Err(vec![ProgrammeError::Parts("90,00".into())])
        );
    }

    #[test]
    fn shares_read_as_people_type_them() {
        assert_eq!(part("50"), Some(5000));
        assert_eq!(part("33,33"), Some(3333));
        assert_eq!(part("12.5 %"), Some(1250));
        assert_eq!(part("0"), None);
        assert_eq!(part("100,01"), None);
        assert_eq!(part("1,234"), None);
        assert_eq!(part("-5"), None);
        assert_eq!(part("cinquante"), None);
    }
}
