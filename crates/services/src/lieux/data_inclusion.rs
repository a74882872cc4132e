//! data·inclusion v1 (the PyPI package `data-inclusion-schema`): a lieu is one
//! structure and one service per schema service (« Aide aux démarches
//! administratives »…, named so), or one « Médiation numérique » service when it lists
//! none. The same tables map values both ways, so that an export imports back.
//!
//! What data·inclusion v1 has no field for is not exported: typologie, itinérance,
//! structure parente, the schema's `source` (data·inclusion's `source` is the producer
//! of the file: Relais), more than one courriel or site, formations other than
//! « Fabriques de Territoire », the modalités d'accompagnement beyond the one `type`.
//! Prise en charge spécifique, frais and modalités d'accès, which data·inclusion keeps
//! only coarsely, are also written in words in the `*_precisions` fields, and read back
//! from there.

use std::collections::BTreeMap;

use relais_domain::lieux::{
    COLUMNS, Date, Dispositif, FormationLabel, Frais, Lieu, ModaliteAcces, ModaliteAccompagnement,
    Pivot, PriseEnCharge, Public, SchemaVersion, Service, Vocabulary, joined, read_row,
};
use relais_search::TerritoryIndex;
use relais_store::{Db, StoreError};
use serde::{Deserialize, Serialize};

use super::export::Published;
use super::fichier::{self, RawFile, RawRow};
use super::import::{ImportReport, import};

/// data·inclusion's `source` of what Relais publishes.
pub const SOURCE: &str = "relais";
/// The service of a lieu that lists no service of the schema.
pub const GENERIC_SERVICE: &str = "Médiation numérique";

const PRISE_EN_CHARGE: &str = "Prise en charge spécifique : ";
const FRAIS: &str = "Frais : ";
const ACCES: &str = "Modalités d’accès : ";

/// Where a structure or a service is and how to reach it: the fields data·inclusion v1
/// gives both, with the same names.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiCoordonnees {
    pub commune: Option<String>,
    pub code_postal: Option<String>,
    pub code_insee: Option<String>,
    pub adresse: Option<String>,
    pub complement_adresse: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub telephone: Option<String>,
    pub courriel: Option<String>,
}

/// A structure of data·inclusion v1 (`data_inclusion.schema.v1.Structure`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiStructure {
    pub source: String,
    pub id: String,
    pub nom: String,
    pub date_maj: String,
    pub description: Option<String>,
    pub lien_source: Option<String>,
    pub siret: Option<String>,
    #[serde(flatten)]
    pub coordonnees: DiCoordonnees,
    pub site_web: Option<String>,
    pub horaires_accueil: Option<String>,
    pub accessibilite_lieu: Option<String>,
    pub reseaux_porteurs: Option<Vec<String>>,
}

/// A service of data·inclusion v1 (`data_inclusion.schema.v1.Service`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiService {
    pub source: String,
    pub structure_id: String,
    pub id: String,
    pub nom: String,
    pub description: String,
    pub date_maj: String,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub thematiques: Option<Vec<String>>,
    pub frais: Option<String>,
    pub frais_precisions: Option<String>,
    pub publics: Option<Vec<String>>,
    pub publics_precisions: Option<String>,
    pub conditions_acces: Option<String>,
    #[serde(flatten)]
    pub coordonnees: DiCoordonnees,
    pub modes_accueil: Option<Vec<String>>,
    pub lien_mobilisation: Option<String>,
    pub modes_mobilisation: Option<Vec<String>>,
    pub mobilisable_par: Option<Vec<String>>,
    pub mobilisation_precisions: Option<String>,
    pub horaires_accueil: Option<String>,
}

/// Why a lieu is left out of the data·inclusion export (data·inclusion would refuse it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skipped {
    #[error("nom de moins de 3 caractères")]
    NomTropCourt,
    #[error("date_maj {0} antérieure à 2000")]
    DateAncienne(String),
    #[error("date_maj {0} dans le futur")]
    DateFuture(String),
    #[error("ligne illisible : {0}")]
    Illisible(String),
}

// Schema services → data·inclusion thématiques. The first of each is read back to the
// service, unless another service has it first.
const THEMATIQUES: [(Service, &[&str]); 9] = [
    (
        Service::AideDemarches,
        &[
            "difficultes-administratives-ou-juridiques--accompagnement-aux-demarches-administratives",
            "numerique--acceder-a-des-services-en-ligne",
        ],
    ),
    (
        Service::MaitriseOutils,
        &["numerique--maitriser-les-fondamentaux-du-numerique"],
    ),
    (
        Service::InsertionProfessionnelle,
        &[
            "preparer-sa-candidature--organiser-ses-demarches-de-recherche-demploi",
            "numerique--maitriser-les-fondamentaux-du-numerique",
        ],
    ),
    (
        Service::UtilisationSecurisee,
        &["numerique--maitriser-les-fondamentaux-du-numerique"],
    ),
    (
        Service::Parentalite,
        &[
            "famille--soutien-a-la-parentalite-et-a-leducation",
            "numerique--maitriser-les-fondamentaux-du-numerique",
        ],
    ),
    (
        Service::LoisirsCreations,
        &[
            "remobilisation--activites-sportives-et-culturelles",
            "numerique--maitriser-les-fondamentaux-du-numerique",
        ],
    ),
    (
        Service::ComprehensionMonde,
        &["numerique--maitriser-les-fondamentaux-du-numerique"],
    ),
    (
        Service::AccesInternetMateriel,
        &["numerique--acceder-a-une-connexion-internet"],
    ),
    (
        Service::AcquisitionMateriel,
        &["numerique--acquerir-un-equipement"],
    ),
];

/// A data·inclusion thématique read back as a service of the schema.
fn service_of_thematique(t: &str) -> Option<Service> {
    if t == "numerique--acceder-a-des-services-en-ligne" {
        return Some(Service::AideDemarches);
    }
    THEMATIQUES
        .iter()
        .find(|(_, ts)| ts[0] == t)
        .map(|(s, _)| *s)
}

/// Short ids of the services, for the services' ids.
fn service_slug(s: Service) -> &'static str {
    match s {
        Service::AideDemarches => "aide-demarches-administratives",
        Service::MaitriseOutils => "maitrise-outils-numeriques",
        Service::InsertionProfessionnelle => "insertion-professionnelle",
        Service::UtilisationSecurisee => "utilisation-securisee",
        Service::Parentalite => "parentalite-education",
        Service::LoisirsCreations => "loisirs-creations",
        Service::ComprehensionMonde => "comprehension-monde-numerique",
        Service::AccesInternetMateriel => "acces-internet-materiel",
        Service::AcquisitionMateriel => "acquisition-materiel",
    }
}

const PUBLICS: [(Public, &str); 5] = [
    (Public::Jeunes, "jeunes"),
    (Public::Etudiants, "etudiants"),
    (Public::FamillesEnfants, "familles"),
    (Public::Seniors, "seniors"),
    (Public::Femmes, "femmes"),
];

fn public_of_prise_en_charge(p: PriseEnCharge) -> Option<&'static str> {
    match p {
        PriseEnCharge::Surdite
        | PriseEnCharge::HandicapsMoteurs
        | PriseEnCharge::HandicapsMentaux
        | PriseEnCharge::DeficienceVisuelle => Some("personnes-en-situation-de-handicap"),
        PriseEnCharge::LanguesAnglais | PriseEnCharge::LanguesAutres => Some("personnes-exilees"),
        PriseEnCharge::Illettrisme => None,
    }
}

const DISPOSITIFS: [(Dispositif, &str); 8] = [
    (Dispositif::AidantsConnect, "aidants-connect"),
    (Dispositif::ConseillersNumeriques, "conseillers-numeriques"),
    (Dispositif::EmmausConnect, "emmaus"),
    (Dispositif::RelaisNumeriqueEmmaus, "emmaus"),
    (Dispositif::FranceServices, "france-service"),
    (
        Dispositif::GrandeEcoleNumerique,
        "grandes-ecoles-du-numerique",
    ),
    (Dispositif::CroixRouge, "croix-rouge"),
    (Dispositif::PointAccesNumeriqueCaf, "caf"),
];
const FABRIQUE: &str = "fabrique-de-territoire";

const ACCES_MOBILISATION: [(ModaliteAcces, &str); 5] = [
    (ModaliteAcces::SePresenter, "se-presenter"),
    (ModaliteAcces::Telephoner, "telephoner"),
    (ModaliteAcces::ContacterParMail, "envoyer-un-courriel"),
    (ModaliteAcces::FichePrescription, "envoyer-un-courriel"),
    (ModaliteAcces::RdvEnLigne, "utiliser-lien-mobilisation"),
];

const TYPES: [(ModaliteAccompagnement, &str); 3] = [
    (ModaliteAccompagnement::Individuel, "accompagnement"),
    (ModaliteAccompagnement::AtelierCollectif, "atelier"),
    (ModaliteAccompagnement::EnAutonomie, "aide-materielle"),
];

fn labels<V: Vocabulary>(values: &[V]) -> String {
    joined(values, ", ")
}

/// Values written by [`labels`] after `prefix`, read back; `None` unless all are known.
fn read_labels<V: Vocabulary>(text: Option<&str>, prefix: &str) -> Option<Vec<V>> {
    let list = text?.strip_prefix(prefix)?;
    list.split(", ").map(V::parse).collect()
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

fn none_if_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// Whether an address's domain is only letters, digits, hyphens and dots, as
/// data·inclusion's e-mail check (`email-validator`) requires (producers' files hold
/// addresses such as `…@mairie.fr%a0`).
fn plain_domain(email: &str) -> bool {
    email.rsplit_once('@').is_some_and(|(_, domain)| {
        domain.contains('.')
            && domain
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
    })
}

/// At most `max` characters, cut with « … ».
fn at_most(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max - 1).collect();
    format!("{}…", head.trim_end())
}

/// A lieu as one data·inclusion structure and its services.
pub fn to_data_inclusion(
    published: &Published,
    today: Date,
) -> Result<(DiStructure, Vec<DiService>), Skipped> {
    let lieu: Lieu = read_row(published.row.as_slice(), SchemaVersion::V1)
        .map_err(|r| {
            Skipped::Illisible(
                r.errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ; "),
            )
        })?
        .lieu;
    if lieu.nom.trim().chars().count() < 3 {
        return Err(Skipped::NomTropCourt);
    }
    let date = lieu.date_maj;
    if date.year() < 2000 {
        return Err(Skipped::DateAncienne(date.to_string()));
    }
    if date > today {
        return Err(Skipped::DateFuture(date.to_string()));
    }
    let structure_id = format!("{SOURCE}--{}", published.get("id"));
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let (latitude, longitude) = lieu.coordonnees.map(|p| (p.lat, p.lon)).unzip();

    let mut reseaux: Vec<String> = Vec::new();
    for d in &lieu.dispositifs {
        if let Some((_, r)) = DISPOSITIFS.iter().find(|(x, _)| x == d) {
            push_unique(&mut reseaux, r);
        }
    }
    if lieu
        .formations_labels
        .contains(&FormationLabel::FabriquesDeTerritoire)
    {
        push_unique(&mut reseaux, FABRIQUE);
    }
    let description = lieu
        .presentation_resume
        .clone()
        .or_else(|| lieu.presentation_detail.clone())
        .filter(|d| d.chars().count() >= 5)
        .map(|d| at_most(&d, 10_000));
    let structure = DiStructure {
        source: SOURCE.to_string(),
        id: structure_id.clone(),
        nom: at_most(lieu.nom.trim(), 150),
        date_maj: date.to_string(),
        description: description.clone(),
        lien_source: None,
        siret: match &lieu.pivot {
            Some(Pivot::Siret(s)) if s.len() == 14 => Some(s.clone()),
            _ => None,
        },
        coordonnees: DiCoordonnees {
            commune: Some(lieu.adresse.commune.clone()),
            code_postal: Some(lieu.adresse.code_postal.as_str().to_string()),
            code_insee: opt(published.get("code_insee")),
            adresse: Some(lieu.adresse.adresse.clone()),
            complement_adresse: lieu.adresse.complement.clone(),
            longitude,
            latitude,
            telephone: lieu.telephone.as_ref().map(|t| t.as_str().to_string()),
            courriel: lieu
                .courriels
                .iter()
                .map(relais_domain::comptes::Email::as_str)
                .find(|c| plain_domain(c))
                .map(str::to_string),
        },
        site_web: lieu.sites_web.first().cloned(),
        horaires_accueil: lieu.horaires.clone(),
        accessibilite_lieu: lieu.fiche_acces_libre.clone(),
        reseaux_porteurs: none_if_empty(reseaux),
    };

    // What every service of the lieu shares.
    let mut publics: Vec<String> = Vec::new();
    for p in &lieu.publics {
        if let Some((_, v)) = PUBLICS.iter().find(|(x, _)| x == p) {
            push_unique(&mut publics, v);
        }
    }
    for p in &lieu.prise_en_charge {
        if let Some(v) = public_of_prise_en_charge(*p) {
            push_unique(&mut publics, v);
        }
    }
    if publics.is_empty() {
        publics.push("tous-publics".into());
    }
    let frais = if lieu
        .frais
        .iter()
        .any(|f| matches!(f, Frais::Gratuit | Frais::GratuitSousCondition))
    {
        Some("gratuit")
    } else if lieu.frais.contains(&Frais::Payant) {
        Some("payant")
    } else {
        None
    };
    let mut modes: Vec<String> = Vec::new();
    let mut par: Vec<String> = Vec::new();
    for a in &lieu.modalites_acces {
        if let Some((_, m)) = ACCES_MOBILISATION.iter().find(|(x, _)| x == a) {
            push_unique(&mut modes, m);
        }
        match a {
            ModaliteAcces::FichePrescription => push_unique(&mut par, "professionnels"),
            ModaliteAcces::PasDePublic => {}
            _ => push_unique(&mut par, "usagers"),
        }
    }
    let mut accueil: Vec<String> = Vec::new();
    for m in &lieu.modalites_accompagnement {
        let mode = if *m == ModaliteAccompagnement::ADistance {
            "a-distance"
        } else {
            "en-presentiel"
        };
        push_unique(&mut accueil, mode);
    }
    let type_ = TYPES
        .iter()
        .find(|(m, _)| lieu.modalites_accompagnement.contains(m))
        .map(|(_, t)| t.to_string());
    let template = DiService {
        source: SOURCE.to_string(),
        structure_id: structure_id.clone(),
        date_maj: date.to_string(),
        type_,
        frais: frais.map(str::to_string),
        frais_precisions: (!lieu.frais.is_empty())
            .then(|| format!("{FRAIS}{}", labels(&lieu.frais))),
        publics: Some(publics),
        publics_precisions: (!lieu.prise_en_charge.is_empty())
            .then(|| format!("{PRISE_EN_CHARGE}{}", labels(&lieu.prise_en_charge))),
        coordonnees: structure.coordonnees.clone(),
        modes_accueil: none_if_empty(accueil),
        lien_mobilisation: lieu.prise_rdv.clone(),
        modes_mobilisation: none_if_empty(modes),
        mobilisable_par: none_if_empty(par),
        mobilisation_precisions: (!lieu.modalites_acces.is_empty())
            .then(|| format!("{ACCES}{}", labels(&lieu.modalites_acces))),
        horaires_accueil: lieu.horaires.clone(),
        ..DiService::default()
    };
    let nom = structure.nom.clone();
    let services = if lieu.services.is_empty() {
        vec![DiService {
            id: format!("{structure_id}--mediation-numerique"),
            nom: GENERIC_SERVICE.to_string(),
            description: format!("Médiation numérique au lieu « {nom} »."),
            ..template
        }]
    } else {
        lieu.services
            .iter()
            .map(|s| {
                let thematiques = THEMATIQUES
                    .iter()
                    .find(|(x, _)| x == s)
                    .map(|(_, ts)| ts.iter().map(ToString::to_string).collect());
                DiService {
                    id: format!("{structure_id}--{}", service_slug(*s)),
                    nom: s.as_str().to_string(),
                    description: format!("{} au lieu « {nom} ».", s.as_str()),
                    thematiques,
                    ..template.clone()
                }
            })
            .collect()
    };
    Ok((structure, services))
}

/// A structure and its services as a row of schema v1.0.1 (field → text).
pub fn to_row(s: &DiStructure, services: &[&DiService]) -> BTreeMap<String, String> {
    let mut row = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
            row.insert(k.to_string(), v);
        }
    };
    let first = |f: fn(&DiService) -> Option<String>| services.iter().find_map(|x| f(x));
    put("id", Some(s.id.clone()));
    put("pivot", s.siret.clone());
    put("nom", Some(s.nom.clone()));
    // The structure's value, else the first service's.
    type Text = fn(&DiCoordonnees) -> &Option<String>;
    let texts: [(&str, Text); 6] = [
        ("commune", |c| &c.commune),
        ("code_postal", |c| &c.code_postal),
        ("code_insee", |c| &c.code_insee),
        ("adresse", |c| &c.adresse),
        ("complement_adresse", |c| &c.complement_adresse),
        ("telephone", |c| &c.telephone),
    ];
    let places = std::iter::once(&s.coordonnees).chain(services.iter().map(|x| &x.coordonnees));
    for (field, get) in texts {
        put(field, places.clone().find_map(|c| get(c).clone()));
    }
    let position = places.clone().find_map(|c| c.latitude.zip(c.longitude));
    put("latitude", position.map(|p| p.0.to_string()));
    put("longitude", position.map(|p| p.1.to_string()));
    let mut courriels: Vec<String> = Vec::new();
    for c in places.filter_map(|c| c.courriel.as_ref()) {
        push_unique(&mut courriels, c);
    }
    put("courriels", Some(courriels.join("|")));
    put("site_web", s.site_web.clone());
    put(
        "horaires",
        s.horaires_accueil
            .clone()
            .or_else(|| first(|x| x.horaires_accueil.clone())),
    );
    put("presentation_resume", s.description.clone());
    put("source", Some(s.source.clone()));
    put("date_maj", Some(s.date_maj.clone()));
    put("fiche_acces_libre", s.accessibilite_lieu.clone());
    put("prise_rdv", first(|x| x.lien_mobilisation.clone()));

    let reseaux = s.reseaux_porteurs.as_deref().unwrap_or_default();
    let mut dispositifs: Vec<Dispositif> = Vec::new();
    for r in reseaux {
        // The first dispositif of a réseau is the one it is read back as.
        if let Some((d, _)) = DISPOSITIFS.iter().find(|(_, x)| x == r) {
            dispositifs.push(*d);
        }
    }
    put("dispositif_programmes_nationaux", Some(join(dispositifs)));
    if reseaux.iter().any(|r| r == FABRIQUE) {
        put(
            "formations_labels",
            Some(FormationLabel::FabriquesDeTerritoire.as_str().to_string()),
        );
    }

    let mut offered: Vec<Service> = Vec::new();
    let (mut publics, mut prise, mut frais, mut acces, mut accompagnement) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for x in services {
        match Service::parse(x.nom.trim()) {
            Some(s) => offered.push(s),
            None => offered.extend(
                x.thematiques
                    .iter()
                    .flatten()
                    .filter_map(|t| service_of_thematique(t)),
            ),
        }
        for p in x.publics.iter().flatten() {
            publics.extend(PUBLICS.iter().filter(|(_, v)| v == p).map(|(p, _)| *p));
        }
        prise.extend(
            read_labels::<PriseEnCharge>(x.publics_precisions.as_deref(), PRISE_EN_CHARGE)
                .unwrap_or_default(),
        );
        match read_labels::<Frais>(x.frais_precisions.as_deref(), FRAIS) {
            Some(f) => frais.extend(f),
            None => frais.extend(match x.frais.as_deref() {
                Some("gratuit") => Some(Frais::Gratuit),
                Some("payant") => Some(Frais::Payant),
                _ => None,
            }),
        }
        match read_labels::<ModaliteAcces>(x.mobilisation_precisions.as_deref(), ACCES) {
            Some(a) => acces.extend(a),
            None => {
                for m in x.modes_mobilisation.iter().flatten() {
                    // The first modalité of a mode is the one it is read back as.
                    if let Some((a, _)) = ACCES_MOBILISATION.iter().find(|(_, v)| v == m) {
                        acces.push(*a);
                    }
                }
            }
        }
        if let Some(t) = &x.type_ {
            accompagnement.extend(TYPES.iter().filter(|(_, v)| v == t).map(|(m, _)| *m));
        }
        if x.modes_accueil.iter().flatten().any(|m| m == "a-distance") {
            accompagnement.push(ModaliteAccompagnement::ADistance);
        }
    }
    put("services", Some(join(offered)));
    put("publics_specifiquement_adresses", Some(join(publics)));
    put("prise_en_charge_specifique", Some(join(prise)));
    put("frais_a_charge", Some(join(frais)));
    put("modalites_acces", Some(join(acces)));
    put("modalites_accompagnement", Some(join(accompagnement)));
    row
}

/// Values of a vocabulary, once each, in its order, joined with `|`.
fn join<V: Vocabulary>(mut values: Vec<V>) -> String {
    values.sort();
    values.dedup();
    joined(&values, "|")
}

#[derive(Debug, thiserror::Error)]
pub enum DataInclusionError {
    #[error("{file} : JSON illisible : {why}")]
    Json { file: &'static str, why: String },
    #[error("{file} : le JSON doit être un tableau d’objets")]
    NotAnArray { file: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn array(bytes: &[u8], file: &'static str) -> Result<Vec<serde_json::Value>, DataInclusionError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match serde_json::from_slice(bytes) {
        Ok(serde_json::Value::Array(items)) => Ok(items),
        Ok(_) => Err(DataInclusionError::NotAnArray { file }),
        Err(e) => Err(DataInclusionError::Json {
            file,
            why: format!("ligne {} : {}", e.line(), fichier::json_error(&e)),
        }),
    }
}

/// data·inclusion structures and services files as rows of schema v1.0.1, one per
/// structure (its line: its position in the structures file). A structure or service
/// that does not follow data·inclusion's model is reported, the others are kept.
pub fn read(structures: &[u8], services: &[u8]) -> Result<RawFile, DataInclusionError> {
    let structures = array(structures, "structures")?;
    let services = array(services, "services")?;
    let mut file = RawFile {
        columns: COLUMNS.iter().map(ToString::to_string).collect(),
        ..RawFile::default()
    };
    let mut by_structure: BTreeMap<String, Vec<DiService>> = BTreeMap::new();
    let mut bad_services = Vec::new();
    for (n, item) in services.into_iter().enumerate() {
        match serde_json::from_value::<DiService>(item) {
            Ok(s) => by_structure
                .entry(s.structure_id.clone())
                .or_default()
                .push(s),
            Err(e) => bad_services.push(format!(
                "service n° {} : {}",
                n + 1,
                fichier::json_error(&e)
            )),
        }
    }
    let mut known = std::collections::BTreeSet::new();
    for (n, item) in structures.into_iter().enumerate() {
        let line = n + 1;
        match serde_json::from_value::<DiStructure>(item) {
            Ok(s) => {
                known.insert(s.id.clone());
                let offers: Vec<&DiService> =
                    by_structure.get(&s.id).into_iter().flatten().collect();
                let fields = to_row(&s, &offers);
                file.rows.push(RawRow { line, fields });
            }
            Err(e) => file.broken.push((
                line,
                format!(
                    "structure non conforme à data·inclusion : {}",
                    fichier::json_error(&e)
                ),
            )),
        }
    }
    let orphans: usize = by_structure
        .iter()
        .filter(|(id, _)| !known.contains(*id))
        .map(|(_, v)| v.len())
        .sum();
    if orphans > 0 {
        file.notes.push(format!(
            "{orphans} service(s) rattaché(s) à une structure absente du fichier des structures, ignoré(s)"
        ));
    }
    for why in bad_services {
        file.notes.push(format!("{why} : ignoré"));
    }
    Ok(file)
}

/// Imports data·inclusion structures and services as `source`.
pub async fn import_files(
    db: &Db,
    index: &TerritoryIndex,
    source: &str,
    structures: &[u8],
    services: &[u8],
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<ImportReport, DataInclusionError> {
    let file = read(structures, services)?;
    Ok(import(db, index, source, &file, progress).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_producers_file_reads_through_thematiques_and_reports_bad_items() {
        let structures = r#"[
            {"source": "dora", "id": "dora--1", "nom": "Centre social Les Tilleuls",
             "date_maj": "2025-02-14", "commune": "Lyon", "code_postal": "69001",
             "adresse": "1 rue A", "siret": "13003013300016", "courriel": "a@b.fr",
             "reseaux_porteurs": ["france-service", "mjc"]},
            {"source": "dora", "id": "dora--2"}
        ]"#;
        let services = r#"[
            {"source": "dora", "structure_id": "dora--1", "id": "dora--s1",
             "nom": "Atelier numérique", "description": "Des ateliers.", "date_maj": "2025-02-14",
             "thematiques": ["numerique--acquerir-un-equipement", "sante--addictions"],
             "frais": "payant", "publics": ["seniors", "personnes-en-situation-de-handicap"],
             "type": "atelier", "modes_mobilisation": ["telephoner"], "courriel": "c@d.fr"},
            {"source": "dora", "structure_id": "dora--9", "id": "dora--s9",
             "nom": "Ailleurs", "description": "Ailleurs.", "date_maj": "2025-02-14"}
        ]"#;
        let file = read(structures.as_bytes(), services.as_bytes()).unwrap();
        assert_eq!(file.rows.len(), 1);
        let row = &file.rows[0].fields;
        assert_eq!(row["id"], "dora--1");
        assert_eq!(row["source"], "dora");
        assert_eq!(row["pivot"], "13003013300016");
        assert_eq!(row["courriels"], "a@b.fr|c@d.fr");
        assert_eq!(
            row["services"],
            "Acquisition de matériel informatique à prix solidaire"
        );
        assert_eq!(row["frais_a_charge"], "Payant");
        assert_eq!(row["publics_specifiquement_adresses"], "Seniors");
        assert_eq!(row["modalites_acces"], "Téléphoner");
        assert_eq!(row["modalites_accompagnement"], "Dans un atelier collectif");
        assert_eq!(row["dispositif_programmes_nationaux"], "France Services");
        assert!(!row.contains_key("prise_en_charge_specifique"));
        assert_eq!(file.broken.len(), 1);
        assert_eq!(file.broken[0].0, 2);
        assert!(file.broken[0].1.contains("structure non conforme"));
        assert_eq!(
            file.broken[0].1, "structure non conforme à data·inclusion : champ « nom » absent",
            "serde's English text is translated"
        );
        assert!(file.notes[0].starts_with("1 service(s) rattaché(s) à une structure absente"));
        let lieu = read_row(row, SchemaVersion::V1).unwrap().lieu;
        assert_eq!(lieu.nom, "Centre social Les Tilleuls");
    }

    #[test]
    fn not_an_array_is_said() {
        let err = read(b"{}", b"[]").unwrap_err();
        let syntax = read(b"[\n{\"id\": 1e400}]", b"[]").unwrap_err();
        assert_eq!(
            syntax.to_string(),
            "structures : JSON illisible : ligne 2 : nombre hors limites"
        );
        assert_eq!(
            err.to_string(),
            "structures : le JSON doit être un tableau d’objets"
        );
    }
}
