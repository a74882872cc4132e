//! Version 1 of the activity reports (the conseillers numériques' « CRA » until 2024):
//! one report counted a session's participants by category, with no person behind them.
//! Its vocabularies, and the mapping of each to version 2 ([`super::vocabulaires`]).
//!
//! The mapping is deterministic: where version 1 has a coarser category than version 2
//! (ages 18–35 and 60+), the count is split by a fixed share, rounded half up, so that the
//! same file always imports to the same figures.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::rapport::{Anonymes, PREMIER_JOUR_MS, code_commune};
use super::vocabulaires::{
    StatutSocial, StructureDeRedirection, Thematique, TrancheAge, TypeActivite, TypeLieu,
};
use crate::calendrier::parse_date_iso;
use crate::comptes::vocabulary;
use crate::text::search_key;

vocabulary! {
    /// Where the session took place.
    Canal {
        Rattachement => "rattachement";
        AutreLieu => "autre lieu";
        Distance => "distance";
        Domicile => "domicile";
    }
}

impl Canal {
    pub fn vers_v2(self) -> TypeLieu {
        match self {
            Canal::Rattachement => TypeLieu::LieuActivite,
            Canal::AutreLieu => TypeLieu::Autre,
            Canal::Distance => TypeLieu::ADistance,
            Canal::Domicile => TypeLieu::Domicile,
        }
    }
}

vocabulary! {
    ActiviteV1 {
        Individuel => "individuel";
        Collectif => "collectif";
        Ponctuel => "ponctuel", "Demande ponctuelle";
    }
}

impl ActiviteV1 {
    /// A one-off request was one person helped.
    pub fn vers_v2(self) -> TypeActivite {
        match self {
            ActiviteV1::Individuel | ActiviteV1::Ponctuel => TypeActivite::Individuel,
            ActiviteV1::Collectif => TypeActivite::Collectif,
        }
    }
}

vocabulary! {
    ThemeV1 {
        EquipementInformatique => "equipement informatique";
        Vocabulaire => "vocabulaire";
        Internet => "internet";
        Securite => "securite";
        Courriel => "courriel";
        Echanger => "echanger";
        TraitementTexte => "traitement texte";
        ContenusNumeriques => "contenus numeriques";
        TrouverEmploi => "trouver emploi";
        TpePme => "tpe/pme";
        AccompagnerEnfant => "accompagner enfant";
        DemarcheEnLigne => "demarche en ligne";
        FraudeEtHarcelement => "fraude et harcelement";
        Sante => "sante";
        Smartphone => "smartphone";
        Budget => "budget";
        Scolaire => "scolaire";
        Diagnostic => "diagnostic";
        Autre => "autre";
    }
}

impl ThemeV1 {
    /// The version 2 thématiques this theme becomes; « autre » has none.
    pub fn vers_v2(self) -> &'static [Thematique] {
        use Thematique as T;
        match self {
            ThemeV1::EquipementInformatique => {
                &[T::PrendreEnMainDuMateriel, T::GereSesContenusNumeriques]
            }
            ThemeV1::Smartphone => &[T::PrendreEnMainDuMateriel],
            ThemeV1::Vocabulaire => &[T::CultureNumerique],
            ThemeV1::Internet => &[T::NavigationSurInternet],
            ThemeV1::Securite | ThemeV1::FraudeEtHarcelement => &[T::SecuriteNumerique],
            ThemeV1::Courriel => &[T::Email],
            ThemeV1::Echanger => &[T::ReseauxSociaux],
            ThemeV1::TraitementTexte => &[T::Bureautique],
            ThemeV1::ContenusNumeriques => &[T::GereSesContenusNumeriques],
            ThemeV1::TrouverEmploi => &[T::InsertionProfessionnelle],
            ThemeV1::TpePme => &[T::Entrepreneuriat],
            ThemeV1::AccompagnerEnfant => &[T::Parentalite],
            ThemeV1::DemarcheEnLigne => &[T::AideAuxDemarchesAdministratives],
            ThemeV1::Sante => &[T::Sante],
            ThemeV1::Budget => &[T::BanqueEtAchatsEnLigne],
            ThemeV1::Scolaire => &[T::ScolariteEtNumerique],
            ThemeV1::Diagnostic => &[T::DiagnosticNumerique],
            ThemeV1::Autre => &[],
        }
    }
}

/// A version 1 report's participants by age.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AgesV1 {
    pub moins12ans: u32,
    pub de12a18ans: u32,
    pub de18a35ans: u32,
    pub de35a60ans: u32,
    pub plus60ans: u32,
}

/// The share of the 18–35 who were 18–24, and of the 60+ who were 60–69 (the shares the
/// national migration of these reports used), in ten-thousandths.
pub const PART_18_24: u32 = 2_915;
pub const PART_60_69: u32 = 4_805;

/// `n × part / 10 000`, rounded half up.
fn share(n: u32, part: u32) -> u32 {
    let scaled = u64::from(n) * u64::from(part);
    u32::try_from((scaled + 5_000) / 10_000).unwrap_or(n)
}

impl AgesV1 {
    pub fn total(&self) -> u32 {
        self.moins12ans + self.de12a18ans + self.de18a35ans + self.de35a60ans + self.plus60ans
    }

    /// The same people in version 2's bands; the total is kept exactly. (35–39 year-olds
    /// counted as 35–60 land in 40–59: version 1 cannot tell them apart.)
    pub fn vers_v2(&self) -> Vec<(TrancheAge, u32)> {
        let jeunes = share(self.de18a35ans, PART_18_24);
        let sexagenaires = share(self.plus60ans, PART_60_69);
        vec![
            (TrancheAge::MoinsDeDouze, self.moins12ans),
            (TrancheAge::DouzeDixHuit, self.de12a18ans),
            (TrancheAge::DixHuitVingtQuatre, jeunes),
            (TrancheAge::VingtCinqTrenteNeuf, self.de18a35ans - jeunes),
            (TrancheAge::QuaranteCinquanteNeuf, self.de35a60ans),
            (TrancheAge::SoixanteSoixanteNeuf, sexagenaires),
            (TrancheAge::SoixanteDixPlus, self.plus60ans - sexagenaires),
        ]
    }
}

vocabulary! {
    StatutV1 {
        Etudiant => "etudiant";
        SansEmploi => "sansEmploi";
        EnEmploi => "enEmploi";
        Retraite => "retraite";
        Heterogene => "heterogene";
    }
}

impl StatutV1 {
    pub fn vers_v2(self) -> StatutSocial {
        match self {
            StatutV1::Etudiant => StatutSocial::Scolarise,
            StatutV1::SansEmploi => StatutSocial::SansEmploi,
            StatutV1::EnEmploi => StatutSocial::EnEmploi,
            StatutV1::Retraite => StatutSocial::Retraite,
            StatutV1::Heterogene => StatutSocial::NonCommunique,
        }
    }
}

/// A version 1 duration in minutes: its categories (« 0-30 », « 30-60 », « 60 », « 90 »)
/// become a value inside the same statistics bucket (15, 45, 60, 90); any other value is
/// minutes. `None`: not a duration.
pub fn duree_v1(valeur: &str) -> Option<u32> {
    match valeur.trim() {
        "0-30" => Some(15),
        "30-60" => Some(45),
        v => v.parse().ok().filter(|m| *m > 0),
    }
}

/// Where a version 1 report's free-named organisation sends people, in version 2's list:
/// recognised by words in its name, whatever their case and accents.
pub fn organisme_vers_v2(nom: &str) -> StructureDeRedirection {
    use StructureDeRedirection as S;
    // Whole words only: « ants » must not be found in « enfants ».
    let key = format!(" {} ", search_key(nom));
    let has = |words: &[&str]| words.iter().any(|w| key.contains(&format!(" {w} ")));
    if has(&["caf", "cpam", "carsat", "ants", "dgfip", "impots", "msa"]) {
        S::OperateurOuOrganismeEnCharge
    } else if has(&["pole emploi", "france travail", "mission locale", "cip"]) {
        S::InsertionProfessionnelle
    } else if has(&["france services", "maison france services"]) {
        S::AideAuxDemarchesAdministratives
    } else if has(&["ccas", "assistante sociale", "assistant social", "cefs"]) {
        S::AideSociale
    } else if has(&["tiers lieu", "fablab", "fab lab", "mediatheque"]) {
        S::MediationNumerique
    } else if has(&["mairie", "prefecture", "police", "gendarmerie"]) {
        S::Administration
    } else {
        S::Autre
    }
}

/// A version 1 report's participants by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StatutsV1 {
    pub etudiant: u32,
    pub sans_emploi: u32,
    pub en_emploi: u32,
    pub retraite: u32,
    pub heterogene: u32,
}

/// A version 1 duration: a category (text) or minutes (number or text).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DureeV1 {
    Minutes(u32),
    Texte(String),
}

/// One version 1 report as its export holds it (one JSON object per line); fields this
/// import does not use are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CraV1 {
    /// The report's identifier in version 1: importing the same file twice adds nothing.
    pub id: String,
    /// The conseiller's e-mail address, to find their account.
    pub conseiller: String,
    pub cra: ContenuV1,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContenuV1 {
    pub canal: String,
    pub activite: String,
    pub nb_participants: u32,
    #[serde(default)]
    pub nb_participants_recurrents: u32,
    #[serde(default)]
    pub age: AgesV1,
    #[serde(default)]
    pub statut: StatutsV1,
    pub themes: Vec<String>,
    pub duree: DureeV1,
    /// Organisations the participants were sent to, each with a count.
    #[serde(default)]
    pub organismes: Vec<BTreeMap<String, u32>>,
    /// ISO 8601 date, or date and time.
    pub date_accompagnement: String,
    pub code_commune: String,
}

/// A version 1 report in version 2's terms: anonymous participants counted by category.
/// Its thématiques may be empty (« autre » alone has no version 2 equivalent: nothing is
/// invented).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportV1 {
    pub id: String,
    pub conseiller: String,
    pub type_activite: TypeActivite,
    pub date: i64,
    pub duree: u32,
    pub type_lieu: TypeLieu,
    pub commune: String,
    pub thematiques: BTreeSet<Thematique>,
    pub anonymes: Anonymes,
    /// Where most participants were sent, if anywhere.
    pub orientation: Option<StructureDeRedirection>,
}

/// Why one line of a version 1 file cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErreurV1 {
    #[error("ligne {ligne} : ce n’est pas un compte rendu lisible ({raison}).")]
    Illisible { ligne: usize, raison: String },
    #[error("ligne {ligne}, champ « {champ} » : {raison}.")]
    Champ {
        ligne: usize,
        champ: &'static str,
        raison: String,
    },
}

/// Reads line `ligne` (numbered from 1) of a version 1 file.
pub fn lire_ligne(ligne: usize, texte: &str) -> Result<ImportV1, ErreurV1> {
    let cra: CraV1 = serde_json::from_str(texte).map_err(|e| ErreurV1::Illisible {
        ligne,
        raison: e.to_string(),
    })?;
    let champ = |champ: &'static str, raison: String| ErreurV1::Champ {
        ligne,
        champ,
        raison,
    };
    let c = &cra.cra;
    let type_lieu = Canal::parse(&c.canal)
        .ok_or_else(|| champ("canal", format!("valeur inconnue « {} »", c.canal)))?
        .vers_v2();
    let type_activite = ActiviteV1::parse(&c.activite)
        .ok_or_else(|| champ("activite", format!("valeur inconnue « {} »", c.activite)))?
        .vers_v2();
    if !(1..=100).contains(&c.nb_participants) {
        return Err(champ(
            "nbParticipants",
            format!("{} n’est pas entre 1 et 100", c.nb_participants),
        ));
    }
    if c.nb_participants_recurrents > c.nb_participants {
        return Err(champ(
            "nbParticipantsRecurrents",
            "plus que de participants".into(),
        ));
    }
    if c.age.total() > c.nb_participants {
        return Err(champ("age", "plus de personnes que de participants".into()));
    }
    let s = &c.statut;
    let statuts = [
        (StatutV1::Etudiant, s.etudiant),
        (StatutV1::SansEmploi, s.sans_emploi),
        (StatutV1::EnEmploi, s.en_emploi),
        (StatutV1::Retraite, s.retraite),
        (StatutV1::Heterogene, s.heterogene),
    ];
    if statuts.iter().map(|(_, n)| n).sum::<u32>() > c.nb_participants {
        return Err(champ(
            "statut",
            "plus de personnes que de participants".into(),
        ));
    }
    if c.themes.is_empty() {
        return Err(champ("themes", "aucun thème".into()));
    }
    let mut thematiques = BTreeSet::new();
    for t in &c.themes {
        let theme =
            ThemeV1::parse(t).ok_or_else(|| champ("themes", format!("thème inconnu « {t} »")))?;
        thematiques.extend(theme.vers_v2());
    }
    let duree = match &c.duree {
        DureeV1::Minutes(m) => Some(*m).filter(|m| *m > 0),
        DureeV1::Texte(t) => duree_v1(t),
    }
    .ok_or_else(|| champ("duree", "ni une catégorie ni un nombre de minutes".into()))?;
    let date = c
        .date_accompagnement
        .get(..10)
        .and_then(parse_date_iso)
        .filter(|d| *d >= PREMIER_JOUR_MS)
        .ok_or_else(|| {
            champ(
                "dateAccompagnement",
                format!(
                    "« {} » n’est pas une date depuis le 1er janvier 2020",
                    c.date_accompagnement
                ),
            )
        })?;
    if !code_commune(&c.code_commune) {
        return Err(champ(
            "codeCommune",
            format!("« {} » n’est pas un code INSEE de commune", c.code_commune),
        ));
    }
    let mut sent: BTreeMap<StructureDeRedirection, u32> = BTreeMap::new();
    for (nom, n) in c.organismes.iter().flatten() {
        *sent.entry(organisme_vers_v2(nom)).or_insert(0) += n;
    }
    let orientation = sent
        .iter()
        .filter(|(_, n)| **n > 0)
        .max_by_key(|(_, n)| **n)
        .map(|(s, _)| *s);
    Ok(ImportV1 {
        type_activite,
        date,
        duree,
        type_lieu,
        commune: c.code_commune.clone(),
        thematiques,
        anonymes: Anonymes {
            total: c.nb_participants,
            deja_accompagnes: c.nb_participants_recurrents,
            genres: BTreeMap::new(),
            tranches: c.age.vers_v2().into_iter().collect(),
            statuts: statuts.iter().map(|(s, n)| (s.vers_v2(), *n)).collect(),
        },
        orientation,
        id: cra.id,
        conseiller: cra.conseiller,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_theme_maps_to_known_thematiques() {
        assert_eq!(ThemeV1::ALL.len(), 19);
        for t in ThemeV1::ALL {
            assert_eq!(ThemeV1::parse(t.as_str()), Some(*t));
            assert!(t.vers_v2().len() <= 2);
        }
        assert_eq!(
            ThemeV1::parse("demarche en ligne").map(ThemeV1::vers_v2),
            Some(&[Thematique::AideAuxDemarchesAdministratives][..])
        );
        assert_eq!(ActiviteV1::Ponctuel.vers_v2(), TypeActivite::Individuel);
        assert_eq!(
            Canal::parse("rattachement").map(Canal::vers_v2),
            Some(TypeLieu::LieuActivite)
        );
    }

    #[test]
    fn ages_are_split_by_fixed_shares() {
        let ages = AgesV1 {
            moins12ans: 1,
            de12a18ans: 2,
            de18a35ans: 100,
            de35a60ans: 4,
            plus60ans: 10,
        };
        let v2 = ages.vers_v2();
        assert_eq!(v2[2], (TrancheAge::DixHuitVingtQuatre, 29));
        assert_eq!(v2[3], (TrancheAge::VingtCinqTrenteNeuf, 71));
        assert_eq!(
            v2[5],
            (TrancheAge::SoixanteSoixanteNeuf, 5),
            "4.805 rounds up"
        );
        assert_eq!(v2[6], (TrancheAge::SoixanteDixPlus, 5));
    }

    #[test]
    fn durations_and_organisations() {
        assert_eq!(duree_v1("0-30"), Some(15));
        assert_eq!(duree_v1("30-60"), Some(45));
        assert_eq!(duree_v1("90"), Some(90));
        assert_eq!(duree_v1("140"), Some(140));
        assert_eq!(duree_v1("0"), None);
        assert_eq!(duree_v1("une heure"), None);
        use StructureDeRedirection as S;
        for (nom, attendu) in [
            ("CAF", S::OperateurOuOrganismeEnCharge),
            ("Pôle emploi", S::InsertionProfessionnelle),
            ("Mission locale", S::InsertionProfessionnelle),
            ("France Services", S::AideAuxDemarchesAdministratives),
            ("CCAS", S::AideSociale),
            ("Tiers-lieu / fablab", S::MediationNumerique),
            ("Sous-préfecture", S::Administration),
            ("Mairie", S::Administration),
            ("Association du quartier", S::Autre),
            ("Maison des enfants", S::Autre),
        ] {
            assert_eq!(organisme_vers_v2(nom), attendu, "{nom}");
        }
    }

    const LIGNE: &str = r#"{"id":"5f1a","conseiller":"conseiller@exemple.fr","cra":{"canal":"rattachement","activite":"collectif","nbParticipants":6,"nbParticipantsRecurrents":2,"age":{"de18a35ans":4,"plus60ans":2},"statut":{"sansEmploi":3,"retraite":2},"themes":["courriel","demarche en ligne","autre"],"duree":"30-60","organismes":[{"CAF":2},{"Mission locale":1}],"dateAccompagnement":"2022-03-01T00:00:00.000Z","codeCommune":"42218","inconnu":true}}"#;

    #[test]
    fn a_line_becomes_a_version_2_report() {
        let r = lire_ligne(1, LIGNE).unwrap();
        assert_eq!(
            (r.type_activite, r.type_lieu, r.duree, r.commune.as_str()),
            (TypeActivite::Collectif, TypeLieu::LieuActivite, 45, "42218")
        );
        assert_eq!(r.date, crate::activites::rapport::jour(2022, 3, 1));
        assert_eq!(
            r.thematiques,
            BTreeSet::from([
                Thematique::Email,
                Thematique::AideAuxDemarchesAdministratives
            ])
        );
        assert_eq!((r.anonymes.total, r.anonymes.deja_accompagnes), (6, 2));
        assert_eq!(r.anonymes.tranches[&TrancheAge::DixHuitVingtQuatre], 1);
        assert_eq!(r.anonymes.tranches[&TrancheAge::VingtCinqTrenteNeuf], 3);
        assert_eq!(r.anonymes.statuts[&StatutSocial::SansEmploi], 3);
        assert_eq!(
            r.orientation,
            Some(StructureDeRedirection::OperateurOuOrganismeEnCharge)
        );
    }

    #[test]
    fn a_bad_line_names_its_number_and_field() {
        let bad = |from: &str, to: &str| {
            lire_ligne(7, &LIGNE.replace(from, to))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad(r#""canal":"rattachement""#, r#""canal":"bureau""#),
            "ligne 7, champ « canal » : valeur inconnue « bureau »."
        );
        assert_eq!(
            bad(r#""nbParticipants":6"#, r#""nbParticipants":0"#),
            "ligne 7, champ « nbParticipants » : 0 n’est pas entre 1 et 100."
        );
        assert_eq!(
            bad("\"courriel\"", "\"jardinage\""),
            "ligne 7, champ « themes » : thème inconnu « jardinage »."
        );
        assert_eq!(
            bad("2022-03-01T00:00:00.000Z", "2019-12-31"),
            "ligne 7, champ « dateAccompagnement » : « 2019-12-31 » n’est pas une date depuis le 1er janvier 2020."
        );
        assert_eq!(
            bad(r#""plus60ans":2"#, r#""plus60ans":9"#),
            "ligne 7, champ « age » : plus de personnes que de participants."
        );
        assert!(
            lire_ligne(3, "{pas du json")
                .unwrap_err()
                .to_string()
                .starts_with("ligne 3 : ce n’est pas un compte rendu lisible")
        );
    }

    proptest! {
        /// No participant is lost or invented by the split.
        #[test]
        fn the_split_keeps_every_participant(
            a in 0u32..200, b in 0u32..200, c in 0u32..200, d in 0u32..200, e in 0u32..200
        ) {
            let ages = AgesV1 { moins12ans: a, de12a18ans: b, de18a35ans: c, de35a60ans: d, plus60ans: e };
            let total: u32 = ages.vers_v2().iter().map(|(_, n)| n).sum();
            prop_assert_eq!(total, ages.total());
        }
    }
}
