//! Rows of the national schema: reading one (v1.0.x or v0.1) into a `Lieu`, writing a
//! `Lieu` as a v1.0.1 row.
//!
//! A row is a look-up from field name to raw text, so that CSV and JSON readers both
//! feed it (a JSON reader turns numbers into their text first). Reading never stops at
//! the first problem: it returns the lieu with warnings (values dropped or fixed), or
//! every error that makes the row unusable.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;

use super::v0::{self, Mapping, Target};
use super::valeurs::{Date, DateError, PIVOT_UNKNOWN, Pivot, PivotRead, Telephone, web_url};
use super::vocabulaires::{
    FormationLabel, ModaliteAccompagnement, PriseEnCharge, Public, Service, Vocabulary, joined,
};
use super::{Adresse, Lieu, RESUME_MAX_CHARS};
use crate::comptes::Email;
use crate::territoires::{CodeInsee, CodePostal, Point};
use crate::text::search_key;

/// Fields whose value is a list (`|` between values): a merge makes the union of the
/// records' lists.
pub const LIST_FIELDS: [&str; 13] = [
    "typologie",
    "courriels",
    "site_web",
    "itinerance",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
];

/// The columns of schema v1.0.1, in the schema's order.
pub const COLUMNS: [&str; 32] = [
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "typologie",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "source",
    "itinerance",
    "structure_parente",
    "date_maj",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
    "fiche_acces_libre",
    "prise_rdv",
];

/// Columns that only v0.1 has.
const V0_ONLY: [&str; 7] = [
    "courriel",
    "publics_accueillis",
    "conditions_acces",
    "labels_nationaux",
    "labels_autres",
    "accessibilite",
    "cle_ban",
];

/// Other names producers give the schema's columns, folded as [`search_key`] folds them.
const SYNONYMS: [(&str, &str); 24] = [
    ("adresse postale", "adresse"),
    ("adresse du lieu", "adresse"),
    ("code commune insee", "code_insee"),
    ("code commune", "code_insee"),
    ("insee", "code_insee"),
    ("cp", "code_postal"),
    ("ville", "commune"),
    ("nom commune", "commune"),
    ("date soumission", "date_maj"),
    ("date de mise a jour", "date_maj"),
    ("date mise a jour", "date_maj"),
    ("derniere mise a jour", "date_maj"),
    ("lat", "latitude"),
    ("lon", "longitude"),
    ("lng", "longitude"),
    ("nom du lieu", "nom"),
    ("nom lieu", "nom"),
    ("tel", "telephone"),
    ("email", "courriels"),
    ("e mail", "courriels"),
    ("site internet", "site_web"),
    ("site", "site_web"),
    ("identifiant", "id"),
    ("siret", "pivot"),
];

/// The schema's name (v1.0.1 or v0.1) of a producer's column: the name written otherwise
/// (`Adresse`, `Code postal`, `CODE_INSEE`: case, accents, spaces and underscores aside),
/// or a known synonym (`adresse_postale`, `Code commune INSEE`, `date_soumission`), then
/// `true`. `None` when no column of the schema goes by that name.
pub fn column_name(raw: &str) -> Option<(&'static str, bool)> {
    let key = search_key(raw);
    if let Some(c) = COLUMNS
        .iter()
        .chain(V0_ONLY.iter())
        .find(|c| search_key(c) == key)
    {
        return Some((c, false));
    }
    SYNONYMS
        .iter()
        .find(|(synonym, _)| *synonym == key)
        .map(|(_, c)| (*c, true))
}

/// The version of the schema a file follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaVersion {
    /// v0.1.x (2022): `;` between list values, old field names and values.
    V0_1,
    /// v1.0.x (2024 →): `|` between list values.
    V1,
}

impl SchemaVersion {
    /// The version a file's column names point to: v0.1 when it has one of the columns
    /// v1 removed (`courriel`, `publics_accueillis`, `conditions_acces`…) and none of
    /// those v1 added; v1 otherwise.
    pub fn detect<'a>(columns: impl IntoIterator<Item = &'a str>) -> SchemaVersion {
        let (mut v0, mut v1) = (false, false);
        for c in columns {
            v0 |= V0_ONLY.contains(&c);
            v1 |= matches!(
                c,
                "courriels" | "frais_a_charge" | "modalites_acces" | "itinerance"
            );
        }
        if v0 && !v1 {
            SchemaVersion::V0_1
        } else {
            SchemaVersion::V1
        }
    }

    /// The separator of values in a list field.
    pub fn separator(self) -> char {
        match self {
            SchemaVersion::V0_1 => ';',
            SchemaVersion::V1 => '|',
        }
    }
}

/// A row: the raw text of a field by its name (`None` or empty when absent).
pub trait Row {
    fn get(&self, field: &str) -> Option<&str>;
}

impl<K: Borrow<str> + Eq + Hash, V: AsRef<str>> Row for HashMap<K, V> {
    fn get(&self, field: &str) -> Option<&str> {
        HashMap::get(self, field).map(AsRef::as_ref)
    }
}

impl<K: Borrow<str> + Ord, V: AsRef<str>> Row for BTreeMap<K, V> {
    fn get(&self, field: &str) -> Option<&str> {
        BTreeMap::get(self, field).map(AsRef::as_ref)
    }
}

/// Pairs of (field, value), such as what `write_row` gives.
impl<K: AsRef<str>, V: AsRef<str>> Row for [(K, V)] {
    fn get(&self, field: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.as_ref() == field)
            .map(|(_, v)| v.as_ref())
    }
}

/// One problem in a row: the field (named as in the row), its value, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub field: &'static str,
    pub value: String,
    pub reason: Reason,
}

/// Why a value was refused, dropped or fixed, in words for the people who fix files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    // Errors: the row cannot be used.
    #[error("champ obligatoire vide")]
    Missing,
    #[error("5 chiffres attendus")]
    CodePostal,
    #[error("date attendue sous la forme AAAA-MM-JJ")]
    DateFormat,
    #[error("cette date n’existe pas")]
    NoSuchDay,
    #[error("nombre attendu")]
    NotANumber,
    #[error("la latitude doit être comprise entre −90 et 90")]
    LatitudeRange,
    #[error("la longitude doit être comprise entre −180 et 180")]
    LongitudeRange,

    // Warnings: the value was dropped or fixed, the row is kept.
    #[error("valeur inconnue de la liste du schéma, ignorée")]
    UnknownValue,
    #[error("corrigé en « {0} »")]
    Rewritten(String),
    #[error("numéro non reconnu (attendu : 10 chiffres, ou +33 et 9 chiffres), ignoré")]
    Telephone,
    #[error("un seul numéro possible : « {0} » est gardé")]
    FirstTelephoneOnly(String),
    #[error("SIRET (14 chiffres) ou RNA (W et 9 caractères) attendu, ignoré")]
    Pivot,
    #[error("la clé de contrôle de ce SIRET est fausse (gardé tel quel)")]
    SiretKey,
    #[error("adresse électronique non valide, ignorée")]
    Courriel,
    #[error("adresse web non valide (http:// ou https:// attendu), ignorée")]
    Url,
    #[error("code INSEE non valide, ignoré")]
    CodeInsee,
    #[error("latitude et longitude vont ensemble : coordonnées ignorées")]
    HalfCoordinates,
    #[error("coordonnées 0, 0 (au large de l’Afrique), ignorées")]
    NullIsland,
    #[error(
        "{0} caractères, au plus 280 : raccourci, le texte entier est gardé dans presentation_detail"
    )]
    ResumeMoved(usize),
    #[error("{0} caractères, au plus 280 : raccourci")]
    ResumeCut(usize),
    /// What was removed or replaced, in words (see [`visible_text`]).
    #[error("{0}")]
    Invisible(String),
}

impl fmt::Display for Issue {
    /// `code_postal « 7500 » : 5 chiffres attendus`, or `nom : champ obligatoire vide`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_problem(f, self.field, &self.value, &self.reason)
    }
}

/// A value as a report shows it: its first 80 characters, `…` after when there are more.
pub fn value_shown(value: &str) -> std::borrow::Cow<'_, str> {
    const SHOWN: usize = 80;
    match value.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &value[..end]).into(),
        None => value.into(),
    }
}

/// `field « value » : reason`, without what is empty.
pub(crate) fn write_problem(
    f: &mut fmt::Formatter<'_>,
    field: &str,
    value: &str,
    reason: &dyn fmt::Display,
) -> fmt::Result {
    match (field.is_empty(), value.is_empty()) {
        (true, _) => write!(f, "{reason}"),
        (false, true) => write!(f, "{field} : {reason}"),
        (false, false) => write!(f, "{field} « {} » : {reason}", value_shown(value)),
    }
}

/// A row that gave a lieu.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub lieu: Lieu,
    pub warnings: Vec<Issue>,
}

/// A row that cannot be used: at least one error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

/// Reads one row of the schema. v0.1 rows are mapped to v1 (reference §1.5): old
/// services to the 9 new ones, `publics_accueillis` to publics and prise en charge,
/// `conditions_acces` to frais, `labels_nationaux` to dispositifs and formations,
/// `labels_autres` to autres_formations_labels, `courriel` to courriels,
/// `accessibilite` to fiche_acces_libre, the old modalités to the new ones.
///
/// Control characters (C0 but tab and line breaks, DEL, C1) and the invisible marks of
/// text direction (U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, U+061C) and U+FEFF are
/// removed from every field first, with a warning naming the field: a name holding
/// U+202E shows reversed on every page that publishes it. Line breaks and tabs become a
/// space but in the two presentations, where they are text.
pub fn read_row<R: Row + ?Sized>(row: &R, version: SchemaVersion) -> Result<Reading, Refusal> {
    let mut cleaned: Vec<(&'static str, String)> = Vec::new();
    let mut warnings = Vec::new();
    for field in COLUMNS.iter().chain(V0_ONLY.iter()) {
        let Some(value) = row.get(field) else {
            continue;
        };
        let multiline = matches!(*field, "presentation_resume" | "presentation_detail");
        if let Some((clean, removed)) = visible_text(value, multiline) {
            warnings.push(Issue {
                field,
                value: clean.clone(),
                reason: Reason::Invisible(removed),
            });
            cleaned.push((field, clean));
        }
    }
    let result = if cleaned.is_empty() {
        read_clean(row, version)
    } else {
        read_clean(&Cleaned { row, cleaned }, version)
    };
    match result {
        Ok(mut reading) => {
            warnings.append(&mut reading.warnings);
            reading.warnings = warnings;
            Ok(reading)
        }
        Err(mut rejection) => {
            warnings.append(&mut rejection.warnings);
            rejection.warnings = warnings;
            Err(rejection)
        }
    }
}

/// Whether a character is removed from a field's text (see [`read_row`]).
pub fn is_invisible(c: char, multiline: bool) -> bool {
    match c {
        '\t' | '\n' | '\r' => !multiline,
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' => true,
        '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => true,
        '\u{061C}' | '\u{FEFF}' => true,
        _ => false,
    }
}

/// The text without its invisible characters, and those removed (as `U+XXXX`, each
/// once), or `None` when there is none. Tabs and line breaks of a one-line field become
/// one space.
pub fn visible_text(value: &str, multiline: bool) -> Option<(String, String)> {
    if !value.chars().any(|c| is_invisible(c, multiline)) {
        return None;
    }
    let mut clean = String::with_capacity(value.len());
    let mut removed: Vec<char> = Vec::new();
    let mut spaced = false;
    for c in value.chars() {
        if !is_invisible(c, multiline) {
            clean.push(c);
            continue;
        }
        if matches!(c, '\t' | '\n' | '\r') {
            spaced = true;
            if !clean.ends_with(' ') {
                clean.push(' ');
            }
        } else if !removed.contains(&c) {
            removed.push(c);
        }
    }
    let mut said = Vec::new();
    if !removed.is_empty() {
        let codes: Vec<String> = removed
            .iter()
            .map(|c| format!("U+{:04X}", u32::from(*c)))
            .collect();
        said.push(format!(
            "caractère(s) de contrôle ou de direction invisible(s) retiré(s) : {}",
            codes.join(", ")
        ));
    }
    if spaced {
        said.push("retour(s) à la ligne ou tabulation(s) remplacé(s) par une espace".to_string());
    }
    Some((clean, said.join(" ; ")))
}

/// A row seen with some fields replaced by their cleaned text.
struct Cleaned<'a, R: ?Sized> {
    row: &'a R,
    cleaned: Vec<(&'static str, String)>,
}

impl<R: Row + ?Sized> Row for Cleaned<'_, R> {
    fn get(&self, field: &str) -> Option<&str> {
        match self.cleaned.iter().find(|(k, _)| *k == field) {
            Some((_, v)) => Some(v),
            None => self.row.get(field),
        }
    }
}

fn read_clean<R: Row + ?Sized>(row: &R, version: SchemaVersion) -> Result<Reading, Refusal> {
    let mut r = Reader {
        row,
        version,
        errors: Vec::new(),
        warnings: Vec::new(),
    };

    let id = r.required("id");
    let nom = r.required("nom");
    let commune = r.required("commune");
    let adresse = r.required("adresse");
    let code_postal = r.code_postal();
    let date_maj = r.date_maj();
    let coordonnees = r.coordinates();
    let pivot = r.pivot();
    let code_insee = r.code_insee();
    let telephone = r.telephone();
    let (presentation_resume, presentation_detail) = r.presentation();
    let typologies = r.vocabulary_list("typologie");
    let sites_web = r.urls("site_web");

    let mut lists = Lists::default();
    let (courriels, fiche_acces_libre) = match version {
        SchemaVersion::V1 => {
            lists.services = r.vocabulary_list("services");
            lists.publics = r.vocabulary_list("publics_specifiquement_adresses");
            lists.prise_en_charge = r.vocabulary_list("prise_en_charge_specifique");
            lists.frais = r.vocabulary_list("frais_a_charge");
            lists.dispositifs = r.vocabulary_list("dispositif_programmes_nationaux");
            lists.formations = r.vocabulary_list("formations_labels");
            lists.accompagnement = r.vocabulary_list("modalites_accompagnement");
            r.free_labels("autres_formations_labels", &mut lists);
            (r.courriels("courriels"), r.url("fiche_acces_libre"))
        }
        SchemaVersion::V0_1 => {
            // A v0.1 file may already hold v1 values: each v0 list also accepts those
            // of its v1 fields.
            let v0_lists: [(&'static str, &'static [Mapping], V1Fallback); 5] = [
                ("services", v0::SERVICES, |s| v1_as(s, Target::Service)),
                ("publics_accueillis", v0::PUBLICS_ACCUEILLIS, |s| {
                    v1_as(s, Target::Public).or_else(|| v1_as(s, Target::PriseEnCharge))
                }),
                ("conditions_acces", v0::CONDITIONS_ACCES, |s| {
                    v1_as(s, Target::Frais)
                }),
                ("labels_nationaux", v0::LABELS_NATIONAUX, |s| {
                    v1_as(s, Target::Dispositif).or_else(|| v1_as(s, Target::Formation))
                }),
                (
                    "modalites_accompagnement",
                    v0::MODALITES_ACCOMPAGNEMENT,
                    |s| v1_as(s, Target::Accompagnement),
                ),
            ];
            for (field, table, v1) in v0_lists {
                r.v0_list(field, table, v1, &mut lists);
            }
            r.free_labels("labels_autres", &mut lists);
            (r.courriels("courriel"), r.url("accessibilite"))
        }
    };
    let itinerance = r.vocabulary_list("itinerance");
    let modalites_acces = r.vocabulary_list("modalites_acces");
    let prise_rdv = r.url("prise_rdv");

    let (Some(id), Some(nom), Some(commune), Some(adresse), Some(code_postal), Some(date_maj)) =
        (id, nom, commune, adresse, code_postal, date_maj)
    else {
        return Err(r.rejection());
    };
    if !r.errors.is_empty() {
        return Err(r.rejection());
    }
    let lieu = Lieu {
        id,
        pivot,
        nom,
        adresse: Adresse {
            adresse,
            complement: r.text("complement_adresse"),
            code_postal,
            commune,
            code_insee,
        },
        coordonnees,
        typologies,
        telephone,
        courriels,
        sites_web,
        horaires: r.text("horaires"),
        presentation_resume,
        presentation_detail,
        source: r.text("source"),
        itinerance,
        structure_parente: r.text("structure_parente"),
        date_maj,
        services: sorted(lists.services),
        publics: sorted(lists.publics),
        prise_en_charge: sorted(lists.prise_en_charge),
        frais: sorted(lists.frais),
        dispositifs: sorted(lists.dispositifs),
        formations_labels: sorted(lists.formations),
        autres_formations_labels: lists.autres,
        modalites_acces,
        modalites_accompagnement: sorted(lists.accompagnement),
        fiche_acces_libre,
        prise_rdv,
    };
    Ok(Reading {
        lieu,
        warnings: r.warnings,
    })
}

/// The lieu as a row of schema v1.0.1, in the schema's column order: lists joined with
/// `|`, absent values empty, an unknown pivot written `00000000000000` (the column is
/// required). « Étapes numériques (La Poste) », not in v1.0.1's list, is written in
/// `autres_formations_labels` (and read back into `formations_labels`).
pub fn write_row(lieu: &Lieu) -> Vec<(&'static str, String)> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let (lat, lon) = match lieu.coordonnees {
        Some(p) => (p.lat.to_string(), p.lon.to_string()),
        None => (String::new(), String::new()),
    };
    let mut autres = lieu.autres_formations_labels.clone();
    for f in &lieu.formations_labels {
        if !f.in_v1_0_1() && !autres.iter().any(|a| a == f.as_str()) {
            autres.push(f.as_str().to_string());
        }
    }
    let formations: Vec<FormationLabel> = lieu
        .formations_labels
        .iter()
        .copied()
        .filter(|f| f.in_v1_0_1())
        .collect();
    let values: [String; 32] = [
        lieu.id.clone(),
        lieu.pivot
            .as_ref()
            .map_or(PIVOT_UNKNOWN, Pivot::as_str)
            .to_string(),
        lieu.nom.clone(),
        lieu.adresse.commune.clone(),
        lieu.adresse.code_postal.as_str().to_string(),
        lieu.adresse
            .code_insee
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        lieu.adresse.adresse.clone(),
        opt(&lieu.adresse.complement),
        lat,
        lon,
        join(&lieu.typologies),
        lieu.telephone
            .as_ref()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        lieu.courriels
            .iter()
            .map(Email::as_str)
            .collect::<Vec<_>>()
            .join("|"),
        lieu.sites_web.join("|"),
        opt(&lieu.horaires),
        opt(&lieu.presentation_resume),
        opt(&lieu.presentation_detail),
        opt(&lieu.source),
        join(&lieu.itinerance),
        opt(&lieu.structure_parente),
        lieu.date_maj.to_string(),
        join(&lieu.services),
        join(&lieu.publics),
        join(&lieu.prise_en_charge),
        join(&lieu.frais),
        join(&lieu.dispositifs),
        join(&formations),
        autres.join("|"),
        join(&lieu.modalites_acces),
        join(&lieu.modalites_accompagnement),
        opt(&lieu.fiche_acces_libre),
        opt(&lieu.prise_rdv),
    ];
    COLUMNS.into_iter().zip(values).collect()
}

fn join<V: Vocabulary>(values: &[V]) -> String {
    joined(values, "|")
}

fn sorted<V: Ord>(mut values: Vec<V>) -> Vec<V> {
    values.sort();
    values.dedup();
    values
}

/// The list fields that v0.1 fills from other fields.
#[derive(Default)]
struct Lists {
    services: Vec<Service>,
    publics: Vec<Public>,
    prise_en_charge: Vec<PriseEnCharge>,
    frais: Vec<super::Frais>,
    dispositifs: Vec<super::Dispositif>,
    formations: Vec<FormationLabel>,
    autres: Vec<String>,
    accompagnement: Vec<ModaliteAccompagnement>,
}

impl Lists {
    fn add(&mut self, target: Target) {
        match target {
            Target::Service(v) => self.services.push(v),
            Target::Public(v) => self.publics.push(v),
            Target::PriseEnCharge(v) => self.prise_en_charge.push(v),
            Target::Frais(v) => self.frais.push(v),
            Target::Dispositif(v) => self.dispositifs.push(v),
            Target::Formation(v) => self.formations.push(v),
            Target::AutreLabel(s) => self.add_autre(s),
            Target::Accompagnement(v) => self.accompagnement.push(v),
        }
    }

    fn add_autre(&mut self, label: &str) {
        if !self.autres.iter().any(|a| a == label) {
            self.autres.push(label.to_string());
        }
    }
}

/// A value of a v1 vocabulary: exact (`true`) or written another way (`false`).
fn v1_value<V: Vocabulary>(s: &str) -> Option<(V, bool)> {
    V::parse(s)
        .map(|v| (v, true))
        .or_else(|| V::parse_loose(s).map(|v| (v, false)))
}

/// A value of a v1 vocabulary as the target `to` makes of it.
fn v1_as<V: Vocabulary>(s: &str, to: fn(V) -> Target) -> Option<(Target, bool)> {
    v1_value(s).map(|(v, exact)| (to(v), exact))
}

/// Reads a v1 value of a v0.1 list: (value, exact).
type V1Fallback = fn(&str) -> Option<(Target, bool)>;

struct Reader<'r, R: Row + ?Sized> {
    row: &'r R,
    version: SchemaVersion,
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
}

impl<'r, R: Row + ?Sized> Reader<'r, R> {
    fn rejection(self) -> Refusal {
        Refusal {
            errors: self.errors,
            warnings: self.warnings,
        }
    }

    fn error(&mut self, field: &'static str, value: &str, reason: Reason) {
        self.errors.push(Issue {
            field,
            value: value.to_string(),
            reason,
        });
    }

    fn warn(&mut self, field: &'static str, value: &str, reason: Reason) {
        self.warnings.push(Issue {
            field,
            value: value.to_string(),
            reason,
        });
    }

    /// The trimmed text of a field; `None` when absent or blank.
    fn raw(&self, field: &str) -> Option<&'r str> {
        self.row.get(field).map(str::trim).filter(|s| !s.is_empty())
    }

    fn text(&self, field: &str) -> Option<String> {
        self.raw(field).map(str::to_string)
    }

    fn required(&mut self, field: &'static str) -> Option<String> {
        let value = self.text(field);
        if value.is_none() {
            self.error(field, "", Reason::Missing);
        }
        value
    }

    /// The items of a list field: split on the version's separator (and, for a
    /// vocabulary, on both `|` and `;`, which no value holds), trimmed, blanks skipped.
    fn items(&self, field: &str, separators: &[char]) -> Vec<&'r str> {
        self.raw(field)
            .map(|s| {
                s.split(separators)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn vocabulary_list<V: Vocabulary>(&mut self, field: &'static str) -> Vec<V> {
        let mut values = Vec::new();
        for item in self.items(field, &['|', ';']) {
            match v1_value::<V>(item) {
                Some((v, exact)) => {
                    if !exact {
                        self.warn(field, item, Reason::Rewritten(v.as_str().to_string()));
                    }
                    values.push(v);
                }
                None => self.warn(field, item, Reason::UnknownValue),
            }
        }
        sorted(values)
    }

    fn v0_list(
        &mut self,
        field: &'static str,
        table: &'static [Mapping],
        v1_fallback: V1Fallback,
        lists: &mut Lists,
    ) {
        for item in self.items(field, &['|', ';']) {
            if let Some(((v0_value, targets), exact)) = v0::lookup(table, item) {
                if !exact {
                    self.warn(field, item, Reason::Rewritten(v0_value.to_string()));
                }
                targets.iter().for_each(|&t| lists.add(t));
            } else if let Some((target, exact)) = v1_fallback(item) {
                if !exact {
                    self.warn(field, item, Reason::Rewritten(target.as_str().to_string()));
                }
                lists.add(target);
            } else {
                self.warn(field, item, Reason::UnknownValue);
            }
        }
    }

    /// A free list of labels; a value of `formations_labels` found here goes there
    /// (that is how a v1.0.1 file carries « Étapes numériques (La Poste) »).
    fn free_labels(&mut self, field: &'static str, lists: &mut Lists) {
        for item in self.items(field, &[self.version.separator()]) {
            match v1_value::<FormationLabel>(item) {
                Some((label, exact)) => {
                    if !exact {
                        self.warn(field, item, Reason::Rewritten(label.as_str().to_string()));
                    }
                    lists.formations.push(label);
                }
                None => lists.add_autre(item),
            }
        }
    }

    fn code_postal(&mut self) -> Option<CodePostal> {
        let field = "code_postal";
        let raw = self.required(field)?;
        match CodePostal::parse(&raw) {
            Ok(code) => Some(code),
            Err(_) => {
                self.error(field, &raw, Reason::CodePostal);
                None
            }
        }
    }

    fn code_insee(&mut self) -> Option<CodeInsee> {
        let field = "code_insee";
        let raw = self.raw(field)?;
        match CodeInsee::parse(raw) {
            Ok(code) => Some(code),
            Err(_) => {
                self.warn(field, raw, Reason::CodeInsee);
                None
            }
        }
    }

    /// `AAAA-MM-JJ`; a date and time (`2022-08-18T10:00:00Z`) or a French date
    /// (`18/08/2022`) is taken with a warning.
    fn date_maj(&mut self) -> Option<Date> {
        let field = "date_maj";
        let raw = self.required(field)?;
        let error = match Date::parse(&raw) {
            Ok(date) => return Some(date),
            Err(e) => e,
        };
        let other_form = if raw.len() > 10 && raw.is_char_boundary(10) {
            let (date, time) = raw.split_at(10);
            time.starts_with(['T', ' '])
                .then(|| Date::parse(date).ok())
                .flatten()
        } else {
            french_date(&raw)
        };
        match (other_form, error) {
            (Some(date), _) => {
                self.warn(field, &raw, Reason::Rewritten(date.to_string()));
                Some(date)
            }
            (None, DateError::Format) => {
                self.error(field, &raw, Reason::DateFormat);
                None
            }
            (None, DateError::NoSuchDay) => {
                self.error(field, &raw, Reason::NoSuchDay);
                None
            }
        }
    }

    fn number(&mut self, field: &'static str) -> Option<f64> {
        let raw = self.raw(field)?;
        let decimal_comma = !raw.contains('.') && raw.matches(',').count() == 1;
        let text = if decimal_comma {
            raw.replace(',', ".")
        } else {
            raw.to_string()
        };
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => {
                if decimal_comma {
                    self.warn(field, raw, Reason::Rewritten(n.to_string()));
                }
                Some(n)
            }
            _ => {
                self.error(field, raw, Reason::NotANumber);
                None
            }
        }
    }

    fn coordinates(&mut self) -> Option<Point> {
        let lat = self.number("latitude");
        let lon = self.number("longitude");
        if let Some(lat) = lat.filter(|l| !(-90.0..=90.0).contains(l)) {
            self.error("latitude", &lat.to_string(), Reason::LatitudeRange);
            return None;
        }
        if let Some(lon) = lon.filter(|l| !(-180.0..=180.0).contains(l)) {
            self.error("longitude", &lon.to_string(), Reason::LongitudeRange);
            return None;
        }
        match (lat, lon) {
            (Some(lat), Some(lon)) if lat == 0.0 && lon == 0.0 => {
                self.warn("latitude", "0", Reason::NullIsland);
                None
            }
            (Some(lat), Some(lon)) => Some(Point { lat, lon }),
            (Some(lat), None) => {
                self.warn("latitude", &lat.to_string(), Reason::HalfCoordinates);
                None
            }
            (None, Some(lon)) => {
                self.warn("longitude", &lon.to_string(), Reason::HalfCoordinates);
                None
            }
            (None, None) => None,
        }
    }

    fn pivot(&mut self) -> Option<Pivot> {
        let field = "pivot";
        let raw = self.raw(field)?;
        match Pivot::read(raw) {
            PivotRead::Known(pivot) => Some(pivot),
            PivotRead::SiretBadKey(pivot) => {
                self.warn(field, raw, Reason::SiretKey);
                Some(pivot)
            }
            PivotRead::Unknown => None,
            PivotRead::Invalid => {
                self.warn(field, raw, Reason::Pivot);
                None
            }
        }
    }

    /// One number; when the field holds several, the first one is kept.
    fn telephone(&mut self) -> Option<Telephone> {
        let field = "telephone";
        let raw = self.raw(field)?;
        if let Some(t) = Telephone::parse(raw) {
            if t.as_str() != raw {
                self.warn(field, raw, Reason::Rewritten(t.as_str().to_string()));
            }
            return Some(t);
        }
        let first = raw
            .split(['/', ';', '|', ','])
            .flat_map(|part| part.split(" ou "))
            .find_map(Telephone::parse);
        match first {
            Some(t) => {
                self.warn(
                    field,
                    raw,
                    Reason::FirstTelephoneOnly(t.as_str().to_string()),
                );
                Some(t)
            }
            None => {
                self.warn(field, raw, Reason::Telephone);
                None
            }
        }
    }

    /// Addresses split on `|`, `;`, `,` or spaces (none of which an address holds).
    fn courriels(&mut self, field: &'static str) -> Vec<Email> {
        let mut emails: Vec<Email> = Vec::new();
        for item in self.items(field, &['|', ';', ',', ' ']) {
            let item = without_mailto(item);
            match Email::parse(item) {
                Ok(e) if !emails.contains(&e) => emails.push(e),
                Ok(_) => {}
                Err(_) => self.warn(field, item, Reason::Courriel),
            }
        }
        emails
    }

    /// Addresses split on `|`, `;` or spaces, and on `,` when every part is an address.
    fn urls(&mut self, field: &'static str) -> Vec<String> {
        let mut urls: Vec<String> = Vec::new();
        for item in self.items(field, &['|', ';', ' ']) {
            let parts: Vec<&str> = item
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            let pieces = if parts.len() > 1 && parts.iter().all(|p| web_url(p).is_some()) {
                parts
            } else {
                vec![item]
            };
            for piece in pieces {
                match web_url(piece) {
                    Some(url) => {
                        if url != piece {
                            self.warn(field, piece, Reason::Rewritten(url.clone()));
                        }
                        if !urls.contains(&url) {
                            urls.push(url);
                        }
                    }
                    None => self.warn(field, piece, Reason::Url),
                }
            }
        }
        urls
    }

    fn url(&mut self, field: &'static str) -> Option<String> {
        let raw = self.raw(field)?;
        match web_url(raw) {
            Some(url) => {
                if url != raw {
                    self.warn(field, raw, Reason::Rewritten(url.clone()));
                }
                Some(url)
            }
            None => {
                self.warn(field, raw, Reason::Url);
                None
            }
        }
    }

    /// The résumé holds at most 280 characters: a longer one (v0.1 allowed 500) is cut
    /// at a word, and the whole text goes to the détail when that is empty.
    fn presentation(&mut self) -> (Option<String>, Option<String>) {
        let field = "presentation_resume";
        let resume = self.text(field);
        let detail = self.text("presentation_detail");
        let Some(resume) = resume else {
            return (None, detail);
        };
        let chars = resume.chars().count();
        if chars <= RESUME_MAX_CHARS {
            return (Some(resume), detail);
        }
        let short = shorten(&resume, RESUME_MAX_CHARS);
        match detail {
            Some(detail) => {
                self.warn(field, &resume, Reason::ResumeCut(chars));
                (Some(short), Some(detail))
            }
            None => {
                self.warn(field, &resume, Reason::ResumeMoved(chars));
                (Some(short), Some(resume))
            }
        }
    }
}

/// An address without its `mailto:` (any case, any number of times): found by fuzzing,
/// `MAILTO:a@b.fr` or `mailto:mailto:@b.fr` were kept with a `mailto:` that the next
/// reading removed, so that a lieu written back did not read the same.
fn without_mailto(mut item: &str) -> &str {
    while item
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        item = &item[7..];
    }
    item
}

/// `JJ/MM/AAAA`.
fn french_date(s: &str) -> Option<Date> {
    let mut parts = s.split('/');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || d.len() != 2 || m.len() != 2 || y.len() != 4 {
        return None;
    }
    Date::parse(&format!("{y}-{m}-{d}")).ok()
}

/// The text cut to at most `max` characters, at the last space when there is one,
/// ending with « … ».
fn shorten(text: &str, max: usize) -> String {
    let head: String = text.chars().take(max - 1).collect();
    let cut = match head.rfind(char::is_whitespace) {
        Some(i) if i > head.len() / 2 => &head[..i],
        _ => head.as_str(),
    };
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod reading_tests {
    use super::*;

    fn row(nom: &str, detail: &str) -> BTreeMap<&'static str, String> {
        [
            ("id", "1"),
            ("nom", nom),
            ("commune", "Lyon"),
            ("code_postal", "69001"),
            ("adresse", "1 rue A"),
            ("date_maj", "2024-01-01"),
            ("presentation_detail", detail),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
    }

    #[test]
    fn control_and_bidi_characters_are_removed_with_a_warning() {
        let reading = read_row(
            &row(
                "Espace\u{0}\u{7} \u{202E}numérique\u{2066}\u{85}",
                "Ligne 1\r\nLigne 2\u{1b}",
            ),
            SchemaVersion::V1,
        )
        .unwrap();
        assert_eq!(reading.lieu.nom, "Espace numérique");
        assert_eq!(
            reading.lieu.presentation_detail.as_deref(),
            Some("Ligne 1\r\nLigne 2")
        );
        let said: Vec<String> = reading.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            [
                "nom « Espace numérique » : caractère(s) de contrôle ou de direction invisible(s) retiré(s) : U+0000, U+0007, U+202E, U+2066, U+0085",
                "presentation_detail « Ligne 1\r\nLigne 2 » : caractère(s) de contrôle ou de direction invisible(s) retiré(s) : U+001B",
            ]
        );
        // A line break in a one-line field is a space; a clean row has no warning.
        let reading = read_row(&row("Deux\r\nlignes\tici", ""), SchemaVersion::V1).unwrap();
        assert_eq!(reading.lieu.nom, "Deux lignes ici");
        assert_eq!(reading.warnings.len(), 1);
        assert!(
            read_row(&row("Médiathèque — « Été »", "Un\ndeux"), SchemaVersion::V1)
                .unwrap()
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn a_field_made_only_of_invisible_characters_is_empty() {
        let rejection = read_row(&row("\u{202E}\u{0}", ""), SchemaVersion::V1).unwrap_err();
        assert_eq!(rejection.errors[0].field, "nom");
        assert_eq!(rejection.errors[0].reason, Reason::Missing);
        assert_eq!(rejection.warnings[0].field, "nom");
    }

    #[test]
    fn mailto_is_removed_whatever_its_case_and_count() {
        let mut r = row("Lieu", "");
        r.insert(
            "courriels",
            "MAILTO:A@b.fr|mailto:mailto:@x.tl|mailto:c@d.fr".into(),
        );
        let reading = read_row(&r, SchemaVersion::V1).unwrap();
        let courriels: Vec<&str> = reading.lieu.courriels.iter().map(Email::as_str).collect();
        assert_eq!(courriels, ["a@b.fr", "c@d.fr"]);
        assert_eq!(reading.warnings[0].value, "@x.tl");
        let again = read_row(write_row(&reading.lieu).as_slice(), SchemaVersion::V1).unwrap();
        assert_eq!(again.lieu, reading.lieu);
    }
}
