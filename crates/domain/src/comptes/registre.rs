//! The national register of structures: a producer's list (CSV or JSON) read into checked
//! rows. Columns are known by their usual names (`Siret`, `Name`, `City Insee Code`…);
//! a SIRET a spreadsheet wrote as a number (`13002603200016.0`) is repaired; each problem
//! keeps its row out with the line, the field, the value and the reason.

use std::collections::BTreeMap;
use std::fmt;

use super::{CompteError, Siret, StructureKind, vocabulary};
use crate::lieux::fichier::{RawFile, RawRow};
use crate::text::search_key;

vocabulary! {
    /// A label a structure holds.
    StructureLabel {
        FranceServices => "france_services", "France Services";
        AidantsConnect => "aidants_connect", "Aidants Connect";
        ConseillerNumerique => "conseiller_numerique", "Conseillers numériques";
    }
}

impl StructureLabel {
    /// `france_services|aidants_connect`, as stored.
    pub fn join(labels: &[StructureLabel]) -> String {
        labels
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join("|")
    }

    /// The labels of a stored list; unknown values are left out.
    pub fn split(stored: &str) -> Vec<StructureLabel> {
        stored
            .split('|')
            .filter_map(StructureLabel::parse)
            .collect()
    }
}

/// A row of the register, checked; its commune is resolved against the territories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LigneStructure {
    pub line: usize,
    /// The producer's id of the row (its `id` column, else the SIRET).
    pub id: String,
    pub siret: Siret,
    /// The SIRET was written as a number and had to be repaired.
    pub siret_repare: bool,
    pub nom: String,
    pub adresse: String,
    pub code_postal: String,
    pub code_insee: Option<String>,
    /// The commune's name as written.
    pub commune: String,
    pub kind: StructureKind,
    /// Sorted, without repeats.
    pub labels: Vec<StructureLabel>,
    pub qpv: Option<bool>,
    pub zrr: Option<bool>,
    pub active: bool,
}

/// A problem that keeps a row out of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejetStructure {
    pub line: usize,
    /// The field at fault (the register's name), empty for the row as a whole.
    pub field: &'static str,
    pub value: String,
    pub reason: RaisonRejet,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RaisonRejet {
    #[error("valeur obligatoire absente")]
    Absent,
    #[error("9 chiffres : c’est un SIREN, il manque les 5 chiffres de l’établissement (le NIC)")]
    SirenSeul,
    #[error(transparent)]
    Siret(CompteError),
    #[error("« oui » ou « non » attendu")]
    Booleen,
    #[error("valeur inconnue ; valeurs possibles : {0}")]
    Inconnue(String),
    #[error("déjà utilisé ligne {0} du même fichier")]
    IdDouble(usize),
    #[error(
        "commune introuvable : ni le code INSEE ni le code postal et le nom ne désignent une commune connue"
    )]
    CommuneInconnue,
    #[error("{0}")]
    Illisible(String),
}

impl fmt::Display for RejetStructure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ligne {}", self.line)?;
        match (self.field, self.value.as_str()) {
            ("", _) => {}
            (field, "") => write!(f, ", {field}")?,
            (field, value) => write!(f, ", {field} « {value} »")?,
        }
        write!(f, " : {}", self.reason)
    }
}

/// The register's fields and the column names that hold them, folded (`search_key`),
/// first found first.
const COLONNES: [(&str, &[&str]); 13] = [
    ("id", &["id", "identifiant", "uuid"]),
    ("siret", &["siret", "numero siret"]),
    (
        "nom",
        &["nom", "name", "raison sociale", "nom de la structure"],
    ),
    ("adresse", &["adresse", "address", "adresse postale"]),
    (
        "code_postal",
        &["code postal", "zip code", "cp", "postal code"],
    ),
    (
        "code_insee",
        &[
            "code insee",
            "city insee code",
            "insee",
            "code commune insee",
        ],
    ),
    ("commune", &["commune", "city", "ville"]),
    ("actif", &["actif", "active", "is active"]),
    (
        "france_services",
        &[
            "france services label",
            "france services",
            "label france services",
        ],
    ),
    ("labels", &["labels", "label"]),
    ("type", &["type", "typologie", "type de structure"]),
    ("qpv", &["qpv"]),
    ("zrr", &["zrr"]),
];

/// What [`lire`] made of a file: the rows kept, the rows left out, and which column
/// each field was read from.
#[derive(Debug, Default)]
pub struct Lecture {
    /// Lines of rows read, broken ones included (each once).
    pub lues: usize,
    pub lignes: Vec<LigneStructure>,
    pub rejets: Vec<RejetStructure>,
    pub colonnes: BTreeMap<&'static str, String>,
}

/// The column of each field found in `columns`.
pub fn colonnes(columns: &[String]) -> BTreeMap<&'static str, String> {
    let mut found = BTreeMap::new();
    for (champ, noms) in COLONNES {
        for nom in noms {
            if let Some(c) = columns.iter().find(|c| search_key(c) == **nom) {
                found.insert(champ, c.clone());
                break;
            }
        }
    }
    found
}

/// A person's correspondence for a register whose columns are not recognised: field →
/// column, written in TOML under `[colonnes]` (`relais import structures --correspondance`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correspondance {
    #[serde(default)]
    pub colonnes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrespondanceError {
    #[error("correspondance illisible : {0}")]
    Toml(String),
    #[error("correspondance : champ « {0} » inconnu ; champs possibles : {1}")]
    ChampInconnu(String, String),
    #[error(
        "correspondance : colonne « {colonne} » (champ {champ}) absente du fichier ; colonnes du fichier : {colonnes}"
    )]
    ColonneAbsente {
        champ: String,
        colonne: String,
        colonnes: String,
    },
}

impl Correspondance {
    pub fn parse(text: &str) -> Result<Correspondance, CorrespondanceError> {
        let c: Correspondance =
            toml::from_str(text).map_err(|e| CorrespondanceError::Toml(e.to_string()))?;
        if let Some(unknown) = c.colonnes.keys().find(|k| champ(k).is_none()) {
            let champs: Vec<&str> = COLONNES.iter().map(|(f, _)| *f).collect();
            return Err(CorrespondanceError::ChampInconnu(
                unknown.clone(),
                champs.join(", "),
            ));
        }
        Ok(c)
    }

    /// The columns of each field: those it names, then those recognised by their name.
    pub fn colonnes(
        &self,
        columns: &[String],
    ) -> Result<BTreeMap<&'static str, String>, CorrespondanceError> {
        let mut found = colonnes(columns);
        for (field, column) in &self.colonnes {
            let Some(field) = champ(field) else { continue };
            if !columns.contains(column) {
                return Err(CorrespondanceError::ColonneAbsente {
                    champ: field.to_string(),
                    colonne: column.clone(),
                    colonnes: columns.join(", "),
                });
            }
            found.insert(field, column.clone());
        }
        Ok(found)
    }
}

/// The register's field named `name`, as [`COLONNES`] spells it.
fn champ(name: &str) -> Option<&'static str> {
    COLONNES.iter().map(|(f, _)| *f).find(|f| *f == name)
}

/// A column proposed for a field, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ColonneProposee {
    pub champ: &'static str,
    /// `None`: no column looks like it.
    pub colonne: Option<String>,
    /// From 0 to 1.
    pub confiance: f64,
    pub raison: String,
}

/// A correspondence proposed for a register's columns, in three passes, each column
/// serving one field at most: a known name (confidence 1); the SIRET's column by its
/// values, 14 digits (or a number a spreadsheet wrote so) on 9 first rows in 10 (0.7); a
/// known name among the words of the column's (« CP de la ville »: 0.8).
pub fn proposer(file: &RawFile) -> Vec<ColonneProposee> {
    let mut found: BTreeMap<&'static str, (String, f64, &'static str)> = BTreeMap::new();
    let taken = |found: &BTreeMap<&str, (String, f64, &str)>, c: &String| {
        found.values().any(|(t, _, _)| t == c)
    };
    for (field, names) in COLONNES {
        if let Some(c) = file
            .columns
            .iter()
            .find(|c| !taken(&found, c) && names.contains(&search_key(c).as_str()))
        {
            found.insert(field, (c.clone(), 1.0, "nom de colonne reconnu"));
        }
    }
    if !found.contains_key("siret")
        && let Some(c) = file.columns.iter().find(|c| {
            let values: Vec<&str> = file
                .rows
                .iter()
                .take(50)
                .filter_map(|r| r.fields.get(*c).map(String::as_str))
                .filter(|v| !v.trim().is_empty())
                .collect();
            !taken(&found, c)
                && !values.is_empty()
                && values.iter().filter(|v| siret_repare(v).is_ok()).count() * 10
                    >= values.len() * 9
        })
    {
        let why = "au moins 9 valeurs sur 10 sont des SIRET valides";
        found.insert("siret", (c.clone(), 0.7, why));
    }
    for (field, names) in COLONNES {
        if found.contains_key(field) {
            continue;
        }
        if let Some(c) = file.columns.iter().find(|c| {
            let key = format!(" {} ", search_key(c));
            !taken(&found, c) && names.iter().any(|n| key.contains(&format!(" {n} ")))
        }) {
            let why = "un nom reconnu parmi les mots de la colonne";
            found.insert(field, (c.clone(), 0.8, why));
        }
    }
    COLONNES
        .iter()
        .map(|(field, _)| match found.remove(field) {
            Some((colonne, confiance, raison)) => ColonneProposee {
                champ: field,
                colonne: Some(colonne),
                confiance,
                raison: raison.to_string(),
            },
            None => ColonneProposee {
                champ: field,
                colonne: None,
                confiance: 0.0,
                raison: "aucune colonne ne lui ressemble".to_string(),
            },
        })
        .collect()
}

/// A proposal written as the TOML that `--correspondance` reads, each line with its
/// confidence and reason, fields without a column commented out.
pub fn proposition_toml(proposees: &[ColonneProposee], fichier: &str) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = format!(
        "# Correspondance proposée pour « {fichier} » : à vérifier, puis\n\
         #   relais import structures {fichier} --correspondance CE_FICHIER.toml\n\
         # Champs obligatoires : siret, nom.\n\n[colonnes]\n"
    );
    for p in proposees {
        match &p.colonne {
            Some(c) => out.push_str(&format!(
                "{} = {}  # confiance {:.1} : {}\n",
                p.champ,
                quote(c),
                p.confiance,
                p.raison
            )),
            None => out.push_str(&format!("# {} = \"\"  # {}\n", p.champ, p.raison)),
        }
    }
    out
}

/// Reads a producer's list: every row checked, `labels` given to every row (a list of
/// Aidants Connect structures holds that label). A row's id repeated is refused after
/// its first line.
pub fn lire(file: &RawFile, labels: &[StructureLabel]) -> Lecture {
    lire_avec(file, labels, colonnes(&file.columns))
}

/// [`lire`] with the columns of each field given ([`Correspondance::colonnes`]).
pub fn lire_avec(
    file: &RawFile,
    labels: &[StructureLabel],
    colonnes: BTreeMap<&'static str, String>,
) -> Lecture {
    let mut lecture = Lecture {
        rejets: file
            .broken
            .iter()
            .map(|(line, why)| RejetStructure {
                line: *line,
                field: "",
                value: String::new(),
                reason: RaisonRejet::Illisible(why.clone()),
            })
            .collect(),
        ..Lecture::default()
    };
    let mut premieres: BTreeMap<String, usize> = BTreeMap::new();
    for row in &file.rows {
        match ligne(row, &colonnes, labels) {
            Ok(l) => match premieres.get(&l.id) {
                Some(first) => lecture.rejets.push(RejetStructure {
                    line: l.line,
                    field: "id",
                    value: l.id.clone(),
                    reason: RaisonRejet::IdDouble(*first),
                }),
                None => {
                    premieres.insert(l.id.clone(), l.line);
                    lecture.lignes.push(l);
                }
            },
            Err(rejets) => lecture.rejets.extend(rejets),
        }
    }
    lecture.rejets.sort_by_key(|r| r.line);
    lecture.colonnes = colonnes;
    let mut lues: Vec<usize> = file.rows.iter().map(|r| r.line).collect();
    lues.extend(file.broken.iter().map(|(line, _)| *line));
    lues.sort_unstable();
    lues.dedup();
    lecture.lues = lues.len();
    lecture
}

fn ligne(
    row: &RawRow,
    colonnes: &BTreeMap<&'static str, String>,
    labels: &[StructureLabel],
) -> Result<LigneStructure, Vec<RejetStructure>> {
    let valeur = |champ: &str| -> String {
        colonnes
            .get(champ)
            .and_then(|c| row.fields.get(c))
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    let mut rejets = Vec::new();
    let mut rejet = |field: &'static str, value: String, reason: RaisonRejet| {
        rejets.push(RejetStructure {
            line: row.line,
            field,
            value,
            reason,
        });
    };
    let siret_brut = valeur("siret");
    let siret = match siret_repare(&siret_brut) {
        Ok(s) => Some(s),
        Err(reason) => {
            rejet("siret", siret_brut.clone(), reason);
            None
        }
    };
    let nom = valeur("nom");
    if nom.is_empty() {
        rejet("nom", nom.clone(), RaisonRejet::Absent);
    }
    let mut booleen = |champ: &'static str| -> Option<bool> {
        let v = valeur(champ);
        match search_key(&v).as_str() {
            "" => None,
            "true" | "vrai" | "oui" | "1" | "yes" | "o" => Some(true),
            "false" | "faux" | "non" | "0" | "no" | "n" => Some(false),
            _ => {
                rejet(champ, v, RaisonRejet::Booleen);
                None
            }
        }
    };
    let active = booleen("actif").unwrap_or(true);
    let france_services = booleen("france_services");
    let (qpv, zrr) = (booleen("qpv"), booleen("zrr"));
    let mut tous: Vec<StructureLabel> = labels.to_vec();
    if france_services == Some(true) {
        tous.push(StructureLabel::FranceServices);
    }
    let liste = valeur("labels");
    for l in liste
        .split(['|', ';', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        match StructureLabel::ALL
            .iter()
            .find(|v| v.as_str() == l || search_key(v.label()) == search_key(l))
        {
            Some(v) => tous.push(*v),
            None => rejet(
                "labels",
                l.to_string(),
                RaisonRejet::Inconnue(possibles(StructureLabel::ALL.iter().map(|v| v.as_str()))),
            ),
        }
    }
    tous.sort();
    tous.dedup();
    let type_brut = valeur("type");
    let kind = if type_brut.is_empty() {
        siret.as_ref().map(|(s, _)| kind_of(s, &nom))
    } else {
        let found = StructureKind::ALL
            .iter()
            .find(|k| k.as_str() == type_brut || search_key(k.label()) == search_key(&type_brut))
            .copied();
        if found.is_none() {
            rejet(
                "type",
                type_brut,
                RaisonRejet::Inconnue(possibles(StructureKind::ALL.iter().map(|v| v.as_str()))),
            );
        }
        found
    };
    let code_insee = Some(valeur("code_insee")).filter(|c| !c.is_empty());
    let (code_postal, commune) = (valeur("code_postal"), valeur("commune"));
    if code_insee.is_none() && (code_postal.is_empty() || commune.is_empty()) {
        rejet("code_insee", String::new(), RaisonRejet::CommuneInconnue);
    }
    match (siret, kind) {
        (Some((siret, siret_repare)), Some(kind)) if rejets.is_empty() => {
            let id = Some(valeur("id")).filter(|i| !i.is_empty());
            Ok(LigneStructure {
                line: row.line,
                id: id.unwrap_or_else(|| siret.to_string()),
                siret,
                siret_repare,
                nom,
                adresse: valeur("adresse"),
                code_postal,
                code_insee,
                commune,
                kind,
                labels: tous,
                qpv,
                zrr,
                active,
            })
        }
        _ => Err(rejets),
    }
}

/// The values of a vocabulary, for a refusal.
fn possibles(values: impl Iterator<Item = &'static str>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

/// The kind a SIRET tells: the State's establishments have a SIREN starting with 1,
/// local authorities and their public bodies with 2; an association says so in its name.
pub fn kind_of(siret: &Siret, nom: &str) -> StructureKind {
    match siret.siren().as_bytes()[0] {
        b'1' => StructureKind::Administration,
        b'2' => StructureKind::Collectivite,
        _ if search_key(nom).split(' ').any(|w| w == "association") => StructureKind::Association,
        _ => StructureKind::Autre,
    }
}

/// A SIRET as producers' files hold it: as is, or written as a number by a spreadsheet
/// (`13002603200016.0`, `1.3002603200016E13`, its leading zeros lost), then checked.
/// `true` when it had to be repaired.
pub fn siret_repare(raw: &str) -> Result<(Siret, bool), RaisonRejet> {
    let brut: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    // Empty, or zero: what a spreadsheet leaves of a missing SIRET.
    if brut.chars().all(|c| matches!(c, '0' | '.' | ',')) {
        return Err(RaisonRejet::Absent);
    }
    if brut.bytes().all(|b| b.is_ascii_digit()) {
        if brut.len() == 9 {
            return Err(RaisonRejet::SirenSeul);
        }
        return Siret::parse(&brut)
            .map(|s| (s, false))
            .map_err(RaisonRejet::Siret);
    }
    // 14 digits are exact in a double (below 2^53): the number is the SIRET.
    let nombre: Option<u64> = brut
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && x.fract() == 0.0 && *x > 0.0 && *x < 1e14)
        .map(|x| x as u64);
    match nombre {
        Some(n) if (100_000_000..1_000_000_000).contains(&n) => Err(RaisonRejet::SirenSeul),
        Some(n) => Siret::parse(&format!("{n:014}"))
            .map(|s| (s, true))
            .map_err(RaisonRejet::Siret),
        None => Siret::parse(&brut)
            .map(|s| (s, false))
            .map_err(RaisonRejet::Siret),
    }
}

vocabulary! {
    /// Why a lieu is found to be a structure's.
    Preuve {
        Siret => "siret", "même SIRET";
        NomAdresse => "nom_adresse", "même nom, ou même adresse et un mot du nom en commun";
    }
}

/// A structure, or a lieu, as the matching of structures to lieux reads it.
#[derive(Debug, Clone)]
pub struct Rapprochable {
    /// The commune as a whole (`territoires::commune_entiere`): an arrondissement meets
    /// its commune.
    pub commune: String,
    pub fiche: crate::lieux::fusion::Fiche,
}

impl Rapprochable {
    /// `adresse` is the street address; a postal code and town after it are left out.
    /// The words of `nom_commune` do not count as words of the name.
    pub fn new(
        siret: &str,
        nom: &str,
        adresse: &str,
        commune: &str,
        nom_commune: &str,
    ) -> Rapprochable {
        let rue = adresse
            .split([',', '\n'])
            .take_while(|part| {
                !part
                    .split_whitespace()
                    .any(|w| w.len() == 5 && w.bytes().all(|b| b.is_ascii_digit()))
            })
            .collect::<Vec<_>>()
            .join(" ");
        let row = [
            ("pivot", siret),
            ("nom", nom),
            ("adresse", rue.as_str()),
            ("commune", nom_commune),
        ];
        Rapprochable {
            commune: crate::territoires::commune_entiere(commune).to_string(),
            fiche: crate::lieux::fusion::Fiche::new(&row[..], None, false),
        }
    }
}

/// Words that say what kind of structure it is, not which: two structures at one address
/// sharing only these are not the same (« Association l'Âge d'Or », « Association
/// Pangolin »).
const KINDS: [&str; 12] = [
    "association",
    "centre",
    "social",
    "sociale",
    "socioculturel",
    "culturel",
    "culturelle",
    "pole",
    "medico",
    "mairie",
    "mjc",
    "habitant",
];

/// Whether the lieu `l` is the structure `s`'s: the same SIRET (and, when several
/// structures share it, the same commune); else, in the same commune, the same name, or
/// the same street address with a distinctive word of their names in common.
pub fn rapprocher(s: &Rapprochable, siret_partage: bool, l: &Rapprochable) -> Option<Preuve> {
    let commune = s.commune == l.commune;
    let (a, b) = (&s.fiche, &l.fiche);
    if a.siret.is_some() && a.siret == b.siret && (commune || !siret_partage) {
        return Some(Preuve::Siret);
    }
    let meme_nom = !a.nom_cle.is_empty() && a.nom_cle == b.nom_cle;
    let meme_adresse =
        a.numero.is_some() && a.numero == b.numero && !a.mots_rue.is_disjoint(&b.mots_rue);
    let mot_commun = a
        .mots_nom
        .intersection(&b.mots_nom)
        .any(|w| !KINDS.contains(&w.as_str()));
    (commune && (meme_nom || (meme_adresse && mot_commun))).then_some(Preuve::NomAdresse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lieux::fichier;

    #[test]
    fn a_lieu_is_a_structures_by_siret_or_by_name_and_address() {
        let s = Rapprochable::new(
            "13002603200016",
            "Espace numérique Pasteur",
            "38 bis, avenue Pasteur, 49000 Angers",
            "49007",
            "",
        );
        let lieu = |siret: &str, nom: &str, adresse: &str, commune: &str| {
            Rapprochable::new(siret, nom, adresse, commune, "Angers")
        };
        // The same SIRET: anywhere, unless the SIRET is shared by several structures.
        let ailleurs = lieu("13002603200016", "Autre nom", "1 rue", "49015");
        assert_eq!(rapprocher(&s, false, &ailleurs), Some(Preuve::Siret));
        assert_eq!(rapprocher(&s, true, &ailleurs), None);
        // The same name in the commune.
        let nom = lieu("", "ESPACE NUMERIQUE PASTEUR", "2 place", "49007");
        assert_eq!(rapprocher(&s, false, &nom), Some(Preuve::NomAdresse));
        // The same address and a distinctive word of the name.
        let adresse = lieu(
            "",
            "Point numérique Pasteur",
            "38 bis avenue Pasteur",
            "49007",
        );
        assert_eq!(rapprocher(&s, false, &adresse), Some(Preuve::NomAdresse));
        // The same address, names without a distinctive word in common: not enough.
        let voisin = lieu("", "Médiathèque", "38 bis avenue Pasteur", "49007");
        assert_eq!(rapprocher(&s, false, &voisin), None);
        let association =
            |nom: &str| Rapprochable::new("", nom, "53 rue Abbé Grégoire", "38185", "");
        let lieu_association = Rapprochable::new(
            "",
            "Association Pangolin",
            "53 rue Abbé Grégoire",
            "38185",
            "Grenoble",
        );
        assert_eq!(
            rapprocher(
                &association("Association l'Âge d'Or"),
                false,
                &lieu_association
            ),
            None
        );
        // The commune's name is not a word of the lieu's name.
        let a = Rapprochable::new(
            "",
            "France services Alboussière",
            "20 rue des écoliers",
            "07005",
            "",
        );
        let b = Rapprochable::new(
            "",
            "Espace Public Numérique Alboussière",
            "20 rue des écoliers",
            "07005",
            "Alboussière",
        );
        assert_eq!(rapprocher(&a, false, &b), None);
        // The same name in another commune: not the structure's.
        let homonyme = lieu("", "Espace numérique Pasteur", "2 place", "49015");
        assert_eq!(rapprocher(&s, false, &homonyme), None);
        // An arrondissement meets its commune.
        let paris = Rapprochable::new(
            "13002603200016",
            "BetaGouv",
            "20 avenue de Ségur",
            "75056",
            "",
        );
        let septieme = lieu("", "BetaGouv", "20 av. de Ségur", "75107");
        assert_eq!(
            rapprocher(&paris, true, &septieme),
            Some(Preuve::NomAdresse)
        );
    }

    #[test]
    fn sirets_written_as_numbers_are_repaired_and_checked() {
        let ok = |raw: &str| siret_repare(raw).map(|(s, r)| (s.to_string(), r));
        assert_eq!(ok("13002603200016"), Ok(("13002603200016".into(), false)));
        assert_eq!(
            ok("130 026 032 00016"),
            Ok(("13002603200016".into(), false))
        );
        assert_eq!(ok("13002603200016.0"), Ok(("13002603200016".into(), true)));
        assert_eq!(
            ok("1.3002603200016E13"),
            Ok(("13002603200016".into(), true))
        );
        assert_eq!(
            ok("1,3002603200016e+13"),
            Ok(("13002603200016".into(), true))
        );
        // A leading zero lost to the number: 02406005850014 is not a valid SIRET either.
        assert_eq!(
            ok("2406005850014.0"),
            Err(RaisonRejet::Siret(CompteError::SiretKey))
        );
        assert_eq!(ok("0.0"), Err(RaisonRejet::Absent));
        assert_eq!(ok(""), Err(RaisonRejet::Absent));
        assert_eq!(ok("200066866.0"), Err(RaisonRejet::SirenSeul));
        assert_eq!(ok("200066866"), Err(RaisonRejet::SirenSeul));
        assert_eq!(
            ok("22210001822219.0"),
            Err(RaisonRejet::Siret(CompteError::SiretKey))
        );
        assert_eq!(
            ok("265905075000053.0"),
            Err(RaisonRejet::Siret(CompteError::SiretFormat))
        );
        assert_eq!(ok("abc"), Err(RaisonRejet::Siret(CompteError::SiretFormat)));
        // La Poste's establishments, by their own rule.
        assert_eq!(ok("35600000049837.0"), Ok(("35600000049837".into(), true)));
    }

    #[test]
    fn a_list_is_read_with_its_own_column_names() {
        let csv = "Name,ID,Is Active,City Insee Code,Address,Zip Code,Siret,France Services Label,City\n\
            BetaGouv,1,true,75107,\"20 Avenue de Ségur, 75007 Paris\",75007,13002603200016.0,false,Paris\n\
            Mairie,2,false,,1 place de la Mairie,26120,21260084700017,true,Chabeuil\n\
            Sans SIRET,3,true,75107,rue,75007,0.0,false,Paris\n\
            Double,1,true,75107,rue,75007,13002603200016,false,Paris\n\
            ,4,peut-être,,,,200066866.0,false,\n";
        let file = fichier::read(csv.as_bytes(), false).unwrap();
        let lu = lire(&file, &[StructureLabel::AidantsConnect]);
        assert_eq!(lu.colonnes["siret"], "Siret");
        assert_eq!(lu.colonnes["code_insee"], "City Insee Code");
        assert_eq!(lu.lignes.len(), 2, "{:?}", lu.rejets);
        let beta = &lu.lignes[0];
        assert_eq!((beta.line, beta.id.as_str()), (2, "1"));
        assert!(beta.siret_repare && beta.active);
        assert_eq!(beta.kind, StructureKind::Administration);
        assert_eq!(beta.labels, [StructureLabel::AidantsConnect]);
        assert_eq!(beta.adresse, "20 Avenue de Ségur, 75007 Paris");
        let mairie = &lu.lignes[1];
        assert!(!mairie.active && !mairie.siret_repare);
        assert_eq!(mairie.kind, StructureKind::Collectivite);
        assert_eq!(mairie.code_insee, None);
        assert_eq!(
            mairie.labels,
            [
                StructureLabel::FranceServices,
                StructureLabel::AidantsConnect
            ]
        );
        let said: Vec<String> = lu.rejets.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            [
                "ligne 4, siret « 0.0 » : valeur obligatoire absente",
                "ligne 5, id « 1 » : déjà utilisé ligne 2 du même fichier",
                "ligne 6, siret « 200066866.0 » : 9 chiffres : c’est un SIREN, il manque les 5 chiffres de l’établissement (le NIC)",
                "ligne 6, nom : valeur obligatoire absente",
                "ligne 6, actif « peut-être » : « oui » ou « non » attendu",
                "ligne 6, code_insee : commune introuvable : ni le code INSEE ni le code postal et le nom ne désignent une commune connue",
            ]
        );
    }
}
