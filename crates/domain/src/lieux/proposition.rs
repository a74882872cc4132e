//! A mapping proposed for a producer's file that does not follow the schema: each field
//! of the schema given the column whose name and values fit it best, with a confidence;
//! what the file lacks (an id, a date) given a rule; values of vocabulary fields matched
//! to the schema's. Written as a TOML mapping ([`super::mapping`]) that a person checks,
//! corrects and keeps for the producer's next files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::fichier::RawFile;
use super::schema::column_name;
use super::vocabulaires::{
    Dispositif, FormationLabel, Frais, ModaliteAcces, ModaliteAccompagnement, PriseEnCharge,
    Public, Service, Vocabulary,
};
use crate::text::search_key;

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origine {
    Colonne(String),
    /// Lambert 93 coordinates (x, y), for latitude and longitude.
    Lambert93(String, String),
    Modele(String),
    Constante(String),
}

/// The rule proposed for one field of the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choix {
    pub champ: &'static str,
    pub origine: Origine,
    /// Other keys of the rule (`extraire`, `format_date`, `chiffres`, `horaires`, `url`),
    /// as TOML values.
    pub options: Vec<(&'static str, String)>,
    /// Producer's value → the schema's (none found: kept out, said in a comment).
    pub valeurs: Vec<(String, Option<&'static str>)>,
    /// 0 to 100.
    pub confiance: u8,
    /// Why, in French.
    pub pourquoi: String,
}

/// A proposed mapping: a rule per field found, and the columns left unused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposition {
    pub choix: Vec<Choix>,
    pub inutilisees: Vec<String>,
}

/// What a column's values look like: the share of its non-empty values of each kind.
#[derive(Debug, Default)]
struct Profil {
    /// Rows of the file, and those where the column has a value.
    lignes: usize,
    remplies: usize,
    uniques: usize,
    longueur: f64,
    telephone: f64,
    courriel: f64,
    url: f64,
    code_postal: f64,
    code_postal_court: f64,
    date_fr: f64,
    date_iso: f64,
    latitude: f64,
    longitude: f64,
    lambert_x: f64,
    lambert_y: f64,
    horaires: f64,
    voie: f64,
    adresse_avec_cp: f64,
}

fn nombre(v: &str) -> Option<f64> {
    v.trim().replace(',', ".").parse().ok()
}

fn profil(valeurs: &[&str], lignes: usize) -> Profil {
    let n = valeurs.len();
    if n == 0 {
        return Profil {
            lignes,
            ..Profil::default()
        };
    }
    let part = |f: &dyn Fn(&str) -> bool| valeurs.iter().filter(|v| f(v)).count() as f64 / n as f64;
    let chiffres = |v: &str| v.chars().filter(char::is_ascii_digit).count();
    let cp_dans = |v: &str| {
        let b = v.as_bytes();
        (0..b.len().saturating_sub(4)).any(|i| {
            b[i..i + 5].iter().all(u8::is_ascii_digit)
                && (i == 0 || !b[i - 1].is_ascii_digit())
                && b.get(i + 5).is_none_or(|c| !c.is_ascii_digit())
                && v[i + 5..].chars().any(char::is_alphabetic)
        })
    };
    let jours = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"];
    Profil {
        lignes,
        remplies: n,
        uniques: valeurs.iter().collect::<BTreeSet<_>>().len(),
        longueur: valeurs.iter().map(|v| v.chars().count()).sum::<usize>() as f64 / n as f64,
        telephone: part(&|v| {
            let d = chiffres(v);
            (v.starts_with('0') || v.starts_with("+33")) && (10..=12).contains(&d)
        }),
        courriel: part(&|v| v.contains('@') && v.contains('.') && !v.contains(' ')),
        url: part(&|v| {
            !v.contains('@')
                && !v.contains(' ')
                && (v.starts_with("http") || v.starts_with("www.") || v.contains(".fr"))
        }),
        code_postal: part(&|v| v.len() == 5 && v.bytes().all(|b| b.is_ascii_digit())),
        code_postal_court: part(&|v| v.len() == 4 && v.bytes().all(|b| b.is_ascii_digit())),
        date_fr: part(&|v| {
            let b = v.as_bytes();
            b.len() >= 10 && b[2] == b'/' && b[5] == b'/' && chiffres(&v[..10]) == 8
        }),
        date_iso: part(&|v| {
            let b = v.as_bytes();
            b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && chiffres(&v[..10]) == 8
        }),
        latitude: part(&|v| nombre(v).is_some_and(|x| (41.0..51.5).contains(&x))),
        longitude: part(&|v| nombre(v).is_some_and(|x| (-5.5..10.0).contains(&x) && x != 0.0)),
        lambert_x: part(&|v| nombre(v).is_some_and(|x| (100_000.0..1_300_000.0).contains(&x))),
        lambert_y: part(&|v| nombre(v).is_some_and(|x| (6_000_000.0..7_200_000.0).contains(&x))),
        horaires: part(&|v| {
            let k = search_key(v);
            jours.iter().any(|j| k.contains(j)) && v.chars().any(|c| c.is_ascii_digit())
        }),
        voie: part(&|v| search_key(v).split(' ').any(|w| VOIES.contains(&w))),
        adresse_avec_cp: part(&|v| cp_dans(v)),
    }
}

/// Words of a street address (folded).
const VOIES: [&str; 20] = [
    "rue",
    "avenue",
    "av",
    "boulevard",
    "bd",
    "place",
    "chemin",
    "route",
    "allee",
    "impasse",
    "quai",
    "cours",
    "square",
    "esplanade",
    "parvis",
    "passage",
    "voie",
    "lotissement",
    "zac",
    "za",
];

/// Words that say a column holds a field, folded; a column word of 4 letters or more also
/// matches a keyword it begins (`adres` → `adresse`).
const MOTS: [(&str, &[&str]); 19] = [
    ("id", &["id", "uid", "identifiant"]),
    ("nom", &["nom", "structure", "lieu", "name"]),
    ("adresse", &["adresse", "rue", "voie"]),
    ("complement_adresse", &["complement"]),
    ("code_postal", &["cp", "postal"]),
    ("commune", &["commune", "ville", "localite"]),
    ("code_insee", &["insee"]),
    ("latitude", &["lat", "latitude"]),
    ("longitude", &["lon", "lng", "long", "longitude"]),
    ("telephone", &["tel", "telephone", "phone", "portable"]),
    ("courriels", &["mail", "email", "courriel"]),
    ("site_web", &["site", "web", "internet", "url"]),
    ("horaires", &["horaire", "horaires", "ouverture"]),
    ("date_maj", &["maj", "date", "modification"]),
    (
        "presentation_detail",
        &["description", "presentation", "detail"],
    ),
    ("pivot", &["siret"]),
    ("typologie", &["type", "typologie", "categorie"]),
    ("services", &["services", "service"]),
    ("modalites_accompagnement", &["accompagnement", "mediateur"]),
];

/// How much a column's name says it holds `champ`: 1 for the schema's own name, 0.9 for
/// a synonym, 0.8 for a keyword among its words, 0.6 for a word that begins a keyword or
/// that a keyword begins (`adres`, `lieumed`).
fn par_le_nom(colonne: &str, champ: &str) -> f64 {
    if let Some((nom, synonyme)) = column_name(colonne)
        && nom == champ
    {
        return if synonyme { 0.9 } else { 1.0 };
    }
    let Some((_, mots)) = MOTS.iter().find(|(c, _)| *c == champ) else {
        return 0.0;
    };
    let cle = search_key(colonne);
    let words: Vec<&str> = cle.split(' ').collect();
    if words.iter().any(|w| mots.contains(w)) {
        0.8
    } else if words
        .iter()
        .any(|w| w.len() >= 4 && mots.iter().any(|m| m.starts_with(w) || w.starts_with(m)))
    {
        0.6
    } else {
        0.0
    }
}

/// How much a column's values say they are `champ`'s (0 to 1; `None` when values say
/// nothing of this field).
fn par_les_valeurs(p: &Profil, champ: &str) -> Option<f64> {
    let unique = if p.remplies == 0 {
        0.0
    } else {
        p.uniques as f64 / p.remplies as f64
    };
    Some(match champ {
        "telephone" => p.telephone,
        "courriels" => p.courriel,
        "site_web" => p.url,
        "code_postal" => p.code_postal + p.code_postal_court,
        "date_maj" => p.date_fr + p.date_iso,
        "latitude" => p.latitude,
        "longitude" => p.longitude,
        "horaires" => p.horaires,
        // An id on every row, each its own.
        "id" => {
            if p.longueur <= 40.0 {
                p.uniques as f64 / p.lignes.max(1) as f64
            } else {
                0.0
            }
        }
        "nom" => unique,
        // A street, maybe with its postal code and town (which then give what is missing).
        "adresse" => p.voie.max(p.adresse_avec_cp),
        "presentation_detail" => (p.longueur / 120.0).min(1.0),
        _ => return None,
    })
}

/// Fields whose values have a shape: a column whose values mostly lack it is not theirs,
/// whatever its name (`Adresse postale` is no postal code).
const FORMES: [&str; 8] = [
    "telephone",
    "courriels",
    "site_web",
    "code_postal",
    "date_maj",
    "latitude",
    "longitude",
    "horaires",
];

/// The separator of a column's lists, if its values are lists: the first of the usual
/// ones found in at least a fifth of them.
fn separateur(valeurs: &[&str]) -> Option<&'static str> {
    [" / ", "|", ";", " - ", ","].into_iter().find(|sep| {
        let n = valeurs.iter().filter(|v| v.contains(sep)).count();
        !valeurs.is_empty() && n * 5 >= valeurs.len()
    })
}

/// The fields looked for, most needed first: each takes the best column left.
/// The fields a proposal looks for, in the order it looks.
pub const CHAMPS: [&str; 19] = [
    "id",
    "nom",
    "latitude",
    "longitude",
    "code_postal",
    "code_insee",
    "commune",
    "adresse",
    "date_maj",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "pivot",
    "complement_adresse",
    "presentation_detail",
    "typologie",
    "services",
    "modalites_accompagnement",
];

/// The schema's values of a vocabulary field.
pub fn vocabulaire(champ: &str) -> Option<Vec<&'static str>> {
    fn all<V: Vocabulary>() -> Vec<&'static str> {
        V::ALL.iter().map(|v| v.as_str()).collect()
    }
    Some(match champ {
        "services" => all::<Service>(),
        "publics_specifiquement_adresses" => all::<Public>(),
        "prise_en_charge_specifique" => all::<PriseEnCharge>(),
        "frais_a_charge" => all::<Frais>(),
        "dispositif_programmes_nationaux" => all::<Dispositif>(),
        "formations_labels" => all::<FormationLabel>(),
        "modalites_acces" => all::<ModaliteAcces>(),
        "modalites_accompagnement" => all::<ModaliteAccompagnement>(),
        _ => return None,
    })
}

/// The schema value closest to a producer's value: the most words in common over the
/// shorter's, half of them at least.
fn valeur_proche(valeur: &str, schema: &[&'static str]) -> Option<&'static str> {
    let mots = |s: &str| -> BTreeSet<String> {
        search_key(s)
            .split(' ')
            .filter(|w| w.len() > 2)
            .map(str::to_string)
            .collect()
    };
    let v = mots(valeur);
    schema
        .iter()
        .filter_map(|s| {
            let m = mots(s);
            let commun = v.intersection(&m).count();
            let plus_court = v.len().min(m.len());
            (plus_court > 0 && commun * 2 >= plus_court)
                .then_some((commun as f64 / plus_court as f64, *s))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, s)| s)
}

/// Proposes a mapping for `file` (its rows as read, without the schema's names), with
/// `aujourdhui` (`AAAA-MM-JJ`) as the date of a file that has none.
pub fn proposer(file: &RawFile, aujourdhui: &str) -> Proposition {
    proposer_corrige(file, aujourdhui, &Corrections::default())
}

/// What a person changed in a proposal (the mapping assistant's form): a field's column
/// (`None`: no column for it), a producer's value of a vocabulary field mapped to another
/// value of the schema (`None`: left out).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Corrections {
    pub colonnes: BTreeMap<String, Option<String>>,
    pub valeurs: BTreeMap<(String, String), Option<&'static str>>,
}

impl Corrections {
    /// How many corrections a person made.
    pub fn len(&self) -> usize {
        self.colonnes.len() + self.valeurs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The proposal for `file` with a person's corrections: a forced column gets the options
/// its values call for (separator, date format…), as if it had been found.
pub fn proposer_corrige(
    file: &RawFile,
    aujourdhui: &str,
    corrections: &Corrections,
) -> Proposition {
    let valeurs: BTreeMap<&str, Vec<&str>> = file
        .columns
        .iter()
        .map(|c| {
            let v: Vec<&str> = file
                .rows
                .iter()
                .filter_map(|r| r.fields.get(c).map(|v| v.trim()))
                .filter(|v| !v.is_empty())
                .collect();
            (c.as_str(), v)
        })
        .collect();
    let profils: BTreeMap<&str, Profil> = valeurs
        .iter()
        .map(|(c, v)| (*c, profil(v, file.rows.len())))
        .collect();
    let mut libres: Vec<&str> = file.columns.iter().map(String::as_str).collect();
    let mut choix: Vec<Choix> = Vec::new();

    // Lambert 93 coordinates: two columns, the one for x and the one for y.
    let lambert = |f: fn(&Profil) -> f64| {
        libres
            .iter()
            .copied()
            .filter(|c| f(&profils[c]) >= 0.8)
            .max_by(|a, b| f(&profils[a]).total_cmp(&f(&profils[b])))
    };
    let force = |champ: &str| corrections.colonnes.contains_key(champ);
    if let (Some(x), Some(y)) = (lambert(|p| p.lambert_x), lambert(|p| p.lambert_y))
        && x != y
        && !force("latitude")
        && !force("longitude")
    {
        for champ in ["latitude", "longitude"] {
            choix.push(Choix {
                champ,
                origine: Origine::Lambert93(x.to_string(), y.to_string()),
                options: Vec::new(),
                valeurs: Vec::new(),
                confiance: 90,
                pourquoi: format!("« {x} » et « {y} » sont des coordonnées Lambert 93"),
            });
        }
        libres.retain(|c| *c != x && *c != y);
    }

    for champ in CHAMPS {
        if choix.iter().any(|c| c.champ == champ) {
            continue;
        }
        let forcee = match corrections.colonnes.get(champ) {
            Some(None) => continue,
            Some(Some(col)) => match file.columns.iter().find(|c| *c == col) {
                Some(c) => Some((1.0, c.as_str())),
                None => continue,
            },
            None => None,
        };
        let meilleure = forcee.or_else(|| {
            libres
                .iter()
                .copied()
                .map(|c| {
                    let nom = par_le_nom(c, champ);
                    let score = match par_les_valeurs(&profils[c], champ) {
                        Some(v) if FORMES.contains(&champ) && v < 0.3 => 0.0,
                        // Values alone can choose a column (coordinates written « X » and « Y »)
                        // when they fit almost all.
                        Some(v)
                            if v >= 0.9
                                && nom == 0.0
                                && (FORMES.contains(&champ) || champ == "adresse") =>
                        {
                            0.6 * v
                        }
                        Some(_) if nom == 0.0 => 0.0,
                        Some(v) => 0.6 * nom + 0.4 * v,
                        None => nom,
                    };
                    (score, c)
                })
                .filter(|(s, _)| *s >= 0.4)
                .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(a.1)))
        });
        let Some((score, colonne)) = meilleure else {
            continue;
        };
        let p = &profils[colonne];
        let mut options = Vec::new();
        if champ == "code_postal" && p.code_postal_court > 0.0 {
            options.push(("chiffres", "5".to_string()));
        }
        if champ == "code_insee"
            && valeurs[colonne]
                .iter()
                .any(|v| v.len() == 4 && v.bytes().all(|b| b.is_ascii_digit()))
        {
            options.push(("chiffres", "5".to_string()));
        }
        if champ == "date_maj" && p.date_fr > p.date_iso {
            options.push(("format_date", "\"JJ/MM/AAAA\"".to_string()));
        }
        if champ == "date_maj" && p.remplies < p.lignes {
            options.push(("defaut", toml_text(aujourdhui)));
        }
        if champ == "horaires" && p.horaires > 0.3 {
            options.push(("horaires", "true".to_string()));
        }
        if champ == "site_web" {
            options.push(("url", "true".to_string()));
        }
        let mut proposees = Vec::new();
        let sep = super::schema::LIST_FIELDS
            .contains(&champ)
            .then(|| separateur(&valeurs[colonne]))
            .flatten();
        if let Some(sep) = sep {
            options.push(("separateur", toml_text(sep)));
        }
        if let Some(schema) = vocabulaire(champ) {
            let distinctes: BTreeSet<&str> = valeurs[colonne]
                .iter()
                .flat_map(|v| match sep {
                    Some(sep) => v.split(sep).map(str::trim).collect::<Vec<_>>(),
                    None => vec![*v],
                })
                .filter(|v| !v.is_empty())
                .collect();
            if distinctes.len() <= 40 {
                proposees = distinctes
                    .into_iter()
                    .filter(|v| !schema.contains(v))
                    .map(|v| (v.to_string(), valeur_proche(v, &schema)))
                    .collect();
            }
        }
        let pourquoi = match (par_le_nom(colonne, champ) > 0.0, par_les_valeurs(p, champ)) {
            _ if forcee.is_some() => "choisie à la main".to_string(),
            (true, Some(v)) => format!("nom de la colonne, et {:.0} % des valeurs", v * 100.0),
            (true, None) => "nom de la colonne".to_string(),
            (false, Some(v)) => format!("{:.0} % des valeurs", v * 100.0),
            (false, None) => String::new(),
        };
        choix.push(Choix {
            champ,
            origine: Origine::Colonne(colonne.to_string()),
            options,
            valeurs: proposees,
            confiance: (score.min(1.0) * 100.0).round() as u8,
            pourquoi,
        });
        libres.retain(|c| *c != colonne);
    }

    // An address with its postal code and town in one column gives what is missing.
    let adresse = choix.iter().find_map(|c| match (&c.origine, c.champ) {
        (Origine::Colonne(col), "adresse") if profils[col.as_str()].adresse_avec_cp >= 0.5 => {
            Some(col.clone())
        }
        _ => None,
    });
    if let Some(col) = adresse {
        let pris = |champ: &str| choix.iter().any(|c| c.champ == champ);
        let mut ajouts = Vec::new();
        for (champ, extraire) in [
            ("code_postal", "code_postal"),
            ("commune", "apres_code_postal"),
        ] {
            if !pris(champ) {
                ajouts.push((champ, extraire));
            }
        }
        if let Some(c) = choix.iter_mut().find(|c| c.champ == "adresse") {
            c.options
                .push(("extraire", "\"avant_code_postal\"".to_string()));
            c.pourquoi
                .push_str(" ; le code postal et la ville y sont aussi");
        }
        for (champ, extraire) in ajouts {
            choix.push(Choix {
                champ,
                origine: Origine::Colonne(col.clone()),
                options: vec![("extraire", format!("\"{extraire}\""))],
                valeurs: Vec::new(),
                confiance: 70,
                pourquoi: format!("tiré de l’adresse « {col} »"),
            });
        }
    }
    // What the file lacks: an id (the rank of the row), a date, the source.
    let mut manque = |champ: &'static str, origine: Origine, pourquoi: &str| {
        if !choix.iter().any(|c| c.champ == champ) {
            choix.push(Choix {
                champ,
                origine,
                options: Vec::new(),
                valeurs: Vec::new(),
                confiance: 50,
                pourquoi: pourquoi.to_string(),
            });
        }
    };
    manque(
        "id",
        Origine::Modele("{source}-{ligne}".to_string()),
        "aucune colonne d’identifiant : le rang de la ligne, stable tant que l’ordre du fichier l’est",
    );
    manque(
        "date_maj",
        Origine::Constante(aujourdhui.to_string()),
        "aucune date : celle du jour, à remplacer par la date des données si elle est connue",
    );
    manque(
        "source",
        Origine::Modele("{source}".to_string()),
        "le nom de la source",
    );
    for c in &mut choix {
        for (valeur, schema) in &mut c.valeurs {
            if let Some(corrigee) = corrections
                .valeurs
                .get(&(c.champ.to_string(), valeur.clone()))
            {
                *schema = *corrigee;
            }
        }
    }
    Proposition {
        choix,
        inutilisees: libres.into_iter().map(str::to_string).collect(),
    }
}

fn toml_text(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl Proposition {
    /// The mapping as TOML, each rule with its confidence and reason in a comment, the
    /// unused columns listed at the end.
    pub fn toml(&self, description: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Correspondance proposée par Relais : à vérifier, corriger puis garder pour les \
             prochains fichiers de ce producteur."
        );
        let _ = writeln!(out, "description = {}", toml_text(description));
        for c in &self.choix {
            let _ = writeln!(out, "\n[champs.{}]", c.champ);
            let _ = writeln!(out, "# confiance {} % : {}", c.confiance, c.pourquoi);
            match &c.origine {
                Origine::Colonne(col) => {
                    let _ = writeln!(out, "colonne = {}", toml_text(col));
                }
                Origine::Lambert93(x, y) => {
                    let _ = writeln!(
                        out,
                        "lambert93 = {{ x = {}, y = {} }}",
                        toml_text(x),
                        toml_text(y)
                    );
                }
                Origine::Modele(m) => {
                    let _ = writeln!(out, "modele = {}", toml_text(m));
                }
                Origine::Constante(v) => {
                    let _ = writeln!(out, "constante = {}", toml_text(v));
                }
            }
            for (k, v) in &c.options {
                let _ = writeln!(out, "{k} = {v}");
            }
            let (connues, inconnues): (Vec<_>, Vec<_>) =
                c.valeurs.iter().partition(|(_, s)| s.is_some());
            if !connues.is_empty() {
                let paires: Vec<String> = connues
                    .iter()
                    .map(|(v, s)| format!("{} = {}", toml_text(v), toml_text(s.unwrap_or(""))))
                    .collect();
                let _ = writeln!(out, "valeurs = {{ {} }}", paires.join(", "));
            }
            for (v, _) in inconnues {
                let _ = writeln!(out, "# valeur sans équivalent trouvé : {}", toml_text(v));
            }
        }
        if !self.inutilisees.is_empty() {
            let _ = writeln!(out, "\n# Colonnes non utilisées :");
            for c in &self.inutilisees {
                let _ = writeln!(out, "#   {}", toml_text(c));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lieux::fichier::read;
    use crate::lieux::mapping::Mapping;

    fn colonne<'a>(p: &'a Proposition, champ: &str) -> Option<&'a Origine> {
        p.choix
            .iter()
            .find(|c| c.champ == champ)
            .map(|c| &c.origine)
    }

    #[test]
    fn a_person_corrects_a_column_and_a_value() {
        let csv = "Structure;Adresse;Tél.;Offre;Divers\n\
                   Médiathèque du Centre;3 rue Haute;04 77 00 00 01;Démarches en ligne;x\n\
                   Espace Soleil;8 place Nette;04 77 00 00 02;Accès internet;y\n";
        let file = read(csv.as_bytes(), false).unwrap();
        let p = proposer(&file, "2026-12-06");
        assert_eq!(
            colonne(&p, "telephone"),
            Some(&Origine::Colonne("Tél.".into()))
        );
        let mut c = Corrections::default();
        c.colonnes.insert("telephone".into(), None);
        c.colonnes.insert("services".into(), Some("Offre".into()));
        c.colonnes
            .insert("nom".into(), Some("Colonne absente".into()));
        c.valeurs.insert(
            ("services".into(), "Démarches en ligne".into()),
            Some("Aide aux démarches administratives"),
        );
        let q = proposer_corrige(&file, "2026-12-06", &c);
        assert_eq!(colonne(&q, "telephone"), None);
        assert_eq!(
            colonne(&q, "nom"),
            None,
            "a column the file lacks is no choice"
        );
        let services = q.choix.iter().find(|x| x.champ == "services").unwrap();
        assert_eq!(services.origine, Origine::Colonne("Offre".into()));
        assert!(
            services.valeurs.contains(&(
                "Démarches en ligne".to_string(),
                Some("Aide aux démarches administratives")
            )),
            "{:?}",
            services.valeurs
        );
        assert_eq!(c.len(), 4);
    }

    #[test]
    fn columns_of_unknown_names_are_found_by_their_words_and_values() {
        let csv = "Structure;Coordonnées;Tél.;Contact;X;Y;Mise à jour;Divers\n\
                   Médiathèque du Centre;3 rue Haute 42000 Saint-Étienne;04 77 00 00 01;a@b.fr;45.43;4.39;12/03/2024;x\n\
                   Espace Soleil;8 place Nette 42100 Saint-Étienne;04 77 00 00 02;c@d.fr;45.41;4.40;;y\n";
        let file = read(csv.as_bytes(), false).unwrap();
        let p = proposer(&file, "2026-12-06");
        let col = |s: &str| Some(Origine::Colonne(s.to_string()));
        assert_eq!(colonne(&p, "nom"), col("Structure").as_ref());
        assert_eq!(colonne(&p, "telephone"), col("Tél.").as_ref());
        // By their values alone: e-mails, and coordinates written X and Y.
        assert_eq!(colonne(&p, "courriels"), col("Contact").as_ref());
        assert_eq!(colonne(&p, "latitude"), col("X").as_ref());
        assert_eq!(colonne(&p, "longitude"), col("Y").as_ref());
        // The address holds the postal code and the town: both taken from it.
        assert_eq!(colonne(&p, "code_postal"), col("Coordonnées").as_ref());
        assert_eq!(colonne(&p, "commune"), col("Coordonnées").as_ref());
        // No id: the row's rank; dates in French, one missing: today's by default.
        assert_eq!(
            colonne(&p, "id"),
            Some(&Origine::Modele("{source}-{ligne}".into()))
        );
        let date = p.choix.iter().find(|c| c.champ == "date_maj").unwrap();
        assert!(
            date.options
                .contains(&("format_date", "\"JJ/MM/AAAA\"".into()))
        );
        assert!(date.options.contains(&("defaut", "\"2026-12-06\"".into())));
        assert_eq!(p.inutilisees, ["Divers"]);
        // The TOML is a mapping that reads and applies.
        let mapping = Mapping::parse(&p.toml("essai")).unwrap();
        let rows = mapping.apply(&file, "essai").unwrap().rows;
        assert_eq!(rows[0].fields["code_postal"], "42000");
        assert_eq!(rows[1].fields["date_maj"], "2026-12-06");
    }

    #[test]
    fn lambert_coordinates_and_vocabulary_values_are_proposed() {
        let csv = "id,nom,adresse,cp,commune,date_maj,x,y,services\n\
                   1,A,1 rue A,49000,Angers,2024-01-01,431000,6716000,Aide démarches administratives / Accès internet\n\
                   2,B,2 rue B,49000,Angers,2024-01-01,432000,6717000,Accès internet\n";
        let file = read(csv.as_bytes(), false).unwrap();
        let p = proposer(&file, "2026-12-06");
        assert_eq!(
            colonne(&p, "latitude"),
            Some(&Origine::Lambert93("x".into(), "y".into()))
        );
        let services = p.choix.iter().find(|c| c.champ == "services").unwrap();
        assert!(services.options.contains(&("separateur", "\" / \"".into())));
        assert!(services.valeurs.contains(&(
            "Aide démarches administratives".into(),
            Some("Aide aux démarches administratives")
        )));
    }
}
