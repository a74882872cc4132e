//! A producer's own format mapped to the national schema by a TOML file: for each field of
//! the schema (v1.0.1 names), where its value comes from (a column, several columns, a
//! constant, a template) and how it is changed on the way (value mappings, list separator,
//! dates, prose opening hours, postal code found in an address…). Applying a [`Mapping`] to
//! a [`RawFile`] gives a `RawFile` of the schema, that `import` takes unchanged; values the
//! schema does not know are kept, and `read_row` says so for each row.
//!
//! ```toml
//! description = "Ville d’Angers, export du guide des services numériques"
//! separateur = ","                      # between values of a list, in the producer's file
//!
//! [champs.id]
//! colonne = "TYPO_UID"
//!
//! [champs.adresse]
//! colonnes = ["N°", "ADRESSE"]          # joined with a space (`joint`), empty ones skipped
//!
//! [champs.date_maj]
//! colonne = "DAT_MaJ"
//! format_date = "JJ/MM/AAAA"
//!
//! [champs.source]
//! modele = "{source}"                   # also `{ligne}`, and any `{COLONNE}`
//!
//! [[champs.services]]                   # several rules: lists are united, text takes the
//! colonne = "DEM_Gen"                   # first rule that gives a value
//! valeurs = { "Oui" = "Aide aux démarches administratives", "-" = "" }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::COLUMNS;
use crate::horaires::french_text_to_osm;
use crate::text::search_key;
use toml::Spanned;

use super::fichier::{RawFile, RawRow};
use super::schema::LIST_FIELDS;

/// The keys a rule may have.
const RULE_KEYS: [&str; 14] = [
    "colonne",
    "colonnes",
    "joint",
    "constante",
    "modele",
    "lambert93",
    "separateur",
    "valeurs",
    "format_date",
    "horaires",
    "extraire",
    "chiffres",
    "url",
    "defaut",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MappingError {
    #[error("mapping illisible (TOML), ligne {line} : {message}")]
    Syntax { line: usize, message: String },
    #[error("mapping non valable : {}", .0.join(" ; "))]
    Invalid(Vec<String>),
    #[error("mapping inapplicable à ce fichier : {}", .0.join(" ; "))]
    Columns(Vec<String>),
}

/// A producer's format → the schema, read from TOML.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub description: Option<String>,
    fields: Vec<Field>,
}

#[derive(Debug, Clone)]
struct Field {
    name: &'static str,
    list: bool,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    /// Where it is in the TOML: `ligne 12, clé « champs.nom »`.
    place: String,
    from: From,
    joint: String,
    separator: Option<String>,
    /// Producer value (as a search key) → schema values; none drops the value.
    values: BTreeMap<String, Vec<String>>,
    date: Option<Vec<DatePart>>,
    horaires: bool,
    extract: Option<Extract>,
    digits: Option<usize>,
    url: bool,
    default: Option<String>,
}

#[derive(Debug, Clone)]
enum From {
    Columns(Vec<String>),
    Constant(String),
    Template(Vec<Piece>),
    /// Lambert 93 (EPSG:2154) x and y columns → this field's WGS 84 latitude or longitude.
    Lambert93 {
        x: String,
        y: String,
        latitude: bool,
    },
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Column(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Extract {
    PostalCode,
    Street,
    Town,
}

#[derive(Debug, Clone, PartialEq)]
enum DatePart {
    Day,
    Month,
    Year,
    Literal(char),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingToml {
    description: Option<String>,
    separateur: Option<String>,
    champs: BTreeMap<Spanned<String>, toml::Value>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Mapping {
    /// Reads a mapping; every problem is said with its line and key, in French.
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let file: MappingToml = toml::from_str(text).map_err(|e| MappingError::Syntax {
            line: e.span().map_or(0, |s| line_of(text, s.start)),
            message: e.message().trim().to_string(),
        })?;
        let mut problems = Vec::new();
        let mut fields = Vec::new();
        for (key, value) in &file.champs {
            let line = line_of(text, key.span().start);
            let name = key.get_ref().as_str();
            let Some(name) = COLUMNS.iter().copied().find(|c| *c == name) else {
                problems.push(format!(
                    "ligne {line}, clé « champs.{name} » : champ inconnu du schéma (champs possibles : {})",
                    COLUMNS.join(", ")
                ));
                continue;
            };
            let list = LIST_FIELDS.contains(&name);
            let tables: Vec<(String, &toml::Value)> = match value {
                toml::Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("champs.{name}[{}]", i + 1), v))
                    .collect(),
                other => vec![(format!("champs.{name}"), other)],
            };
            let mut rules = Vec::new();
            for (key, value) in tables {
                let place = format!("ligne {line}, clé « {key} »");
                match rule(&place, value, name, file.separateur.as_deref()) {
                    Ok(r) => rules.push(r),
                    Err(mut p) => problems.append(&mut p),
                }
            }
            fields.push(Field { name, list, rules });
        }
        for required in super::fichier::REQUIRED {
            if !fields.iter().any(|f| f.name == required) {
                problems.push(format!(
                    "champ obligatoire « {required} » sans règle : ajouter [champs.{required}]"
                ));
            }
        }
        if !problems.is_empty() {
            return Err(MappingError::Invalid(problems));
        }
        Ok(Mapping {
            description: file.description,
            fields,
        })
    }

    /// The columns of the producer's file that the mapping reads.
    fn columns(&self) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        for field in &self.fields {
            for rule in &field.rules {
                match &rule.from {
                    From::Columns(cols) => {
                        out.extend(cols.iter().map(|c| (rule.place.as_str(), c.as_str())));
                    }
                    From::Template(pieces) => out.extend(pieces.iter().filter_map(|p| match p {
                        Piece::Column(c) if !matches!(c.as_str(), "source" | "ligne") => {
                            Some((rule.place.as_str(), c.as_str()))
                        }
                        _ => None,
                    })),
                    From::Lambert93 { x, y, .. } => {
                        out.push((rule.place.as_str(), x.as_str()));
                        out.push((rule.place.as_str(), y.as_str()));
                    }
                    From::Constant(_) => {}
                }
            }
        }
        out
    }

    /// The producer's file as a file of the schema (v1.0.1 field names, `|` lists).
    /// `source` is the name of the source, for `{source}` in templates. Refused when a
    /// column the mapping names is not in the file.
    pub fn apply(&self, file: &RawFile, source: &str) -> Result<RawFile, MappingError> {
        let missing: Vec<String> = self
            .columns()
            .into_iter()
            .filter(|(_, c)| !file.columns.iter().any(|k| k == c))
            .map(|(place, c)| format!("{place} : colonne « {c} » absente du fichier"))
            .collect();
        if !missing.is_empty() {
            let mut missing = missing;
            missing.push(format!("colonnes du fichier : {}", file.columns.join(", ")));
            return Err(MappingError::Columns(missing));
        }
        let mut unconverted = 0;
        let rows = file
            .rows
            .iter()
            .map(|row| {
                let mut fields = BTreeMap::new();
                for field in &self.fields {
                    let value = field.value(row, source, &mut unconverted);
                    if !value.is_empty() {
                        fields.insert(field.name.to_string(), value);
                    }
                }
                RawRow {
                    line: row.line,
                    fields,
                }
            })
            .collect();
        let mut notes = file.notes.clone();
        if unconverted > 0 {
            notes.push(format!(
                "{unconverted} horaire(s) en texte non converti(s) au format OSM : gardé(s) tel(s) quel(s)"
            ));
        }
        Ok(RawFile {
            columns: COLUMNS.iter().map(ToString::to_string).collect(),
            rows,
            broken: file.broken.clone(),
            notes,
        })
    }
}

impl Field {
    fn value(&self, row: &RawRow, source: &str, unconverted: &mut usize) -> String {
        if self.list {
            let mut seen = BTreeSet::new();
            let mut all = Vec::new();
            for rule in &self.rules {
                for v in rule.values(row, source, true, unconverted) {
                    if seen.insert(v.clone()) {
                        all.push(v);
                    }
                }
            }
            all.join("|")
        } else {
            self.rules
                .iter()
                .map(|r| r.values(row, source, false, unconverted).join(" "))
                .find(|v| !v.is_empty())
                .unwrap_or_default()
        }
    }
}

impl Rule {
    fn values(
        &self,
        row: &RawRow,
        source: &str,
        list: bool,
        unconverted: &mut usize,
    ) -> Vec<String> {
        let get = |c: &str| row.fields.get(c).map_or("", |v| v.trim());
        let raw: Vec<String> = match &self.from {
            From::Columns(cols) if list => cols
                .iter()
                .map(|c| get(c))
                .filter(|v| !v.is_empty())
                .map(ToString::to_string)
                .collect(),
            From::Columns(cols) => {
                let parts: Vec<&str> = cols
                    .iter()
                    .map(|c| get(c))
                    .filter(|v| !v.is_empty())
                    .collect();
                vec![parts.join(&self.joint)]
            }
            From::Constant(c) => vec![c.clone()],
            From::Template(pieces) => {
                let mut out = String::new();
                for p in pieces {
                    match p {
                        Piece::Text(t) => out.push_str(t),
                        Piece::Column(c) if c == "source" => out.push_str(source),
                        Piece::Column(c) if c == "ligne" => {
                            let _ = write!(out, "{}", row.line);
                        }
                        Piece::Column(c) => out.push_str(get(c)),
                    }
                }
                vec![out.split_whitespace().collect::<Vec<_>>().join(" ")]
            }
            From::Lambert93 { x, y, latitude } => {
                let number = |c: &str| get(c).replace(',', ".").parse::<f64>().ok();
                match (number(x), number(y)) {
                    (Some(x), Some(y)) => {
                        let (lat, lon) = lambert93_to_wgs84(x, y);
                        let v = if *latitude { lat } else { lon };
                        vec![format!("{:.6}", v)]
                    }
                    _ => vec![],
                }
            }
        };
        let items: Vec<String> = if list {
            let sep = self.separator.as_deref();
            raw.iter()
                .flat_map(|v| match sep {
                    Some(s) if !s.is_empty() => v.split(s).map(str::to_string).collect::<Vec<_>>(),
                    _ => vec![v.clone()],
                })
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        } else {
            raw.into_iter()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        };
        let mut out = Vec::new();
        for item in items {
            let mapped = match self.values.get(&search_key(&item)) {
                Some(to) => to.clone(),
                None => vec![item],
            };
            for v in mapped {
                if let Some(v) = self.transform(v, unconverted) {
                    out.push(v);
                }
            }
        }
        if out.is_empty()
            && let Some(d) = &self.default
        {
            out.push(d.clone());
        }
        out
    }

    fn transform(&self, mut v: String, unconverted: &mut usize) -> Option<String> {
        if let Some(extract) = self.extract {
            v = extract_from_address(&v, extract)?;
        }
        if let Some(n) = self.digits
            && !v.is_empty()
            && v.len() < n
            && v.chars().all(|c| c.is_ascii_digit())
        {
            v = format!("{v:0>n$}");
        }
        if let Some(format) = &self.date
            && let Some(iso) = read_date(&v, format)
        {
            v = iso;
        }
        if self.url && !v.contains("://") {
            // `www.example.fr`, `example.fr/page`: a host without scheme. Anything else
            // (`@`, `néant`) stays, and the schema reader drops it with a warning.
            let host = v.split('/').next().unwrap_or("");
            if host.contains('.') && !host.contains(' ') && !host.contains('@') {
                v = format!("https://{v}");
            }
        }
        if self.horaires {
            match french_text_to_osm(&v) {
                Some(osm) => v = osm,
                None => *unconverted += 1,
            }
        }
        let v = v.trim().to_string();
        (!v.is_empty()).then_some(v)
    }
}

fn rule(
    place: &str,
    value: &toml::Value,
    field: &'static str,
    separator: Option<&str>,
) -> Result<Rule, Vec<String>> {
    let mut problems = Vec::new();
    let Some(table) = value.as_table() else {
        return Err(vec![format!(
            "{place} : une table attendue ([champs.{field}] avec colonne, constante ou modele)"
        )]);
    };
    for key in table.keys() {
        if !RULE_KEYS.contains(&key.as_str()) {
            problems.push(format!(
                "{place} : clé inconnue « {key} » (clés possibles : {})",
                RULE_KEYS.join(", ")
            ));
        }
    }
    let text = |key: &str, problems: &mut Vec<String>| -> Option<String> {
        match table.get(key) {
            None => None,
            Some(toml::Value::String(s)) => Some(s.clone()),
            Some(toml::Value::Integer(i)) => Some(i.to_string()),
            Some(_) => {
                problems.push(format!("{place} : « {key} » doit être un texte"));
                None
            }
        }
    };
    let flag = |key: &str, problems: &mut Vec<String>| -> bool {
        match table.get(key) {
            None => false,
            Some(toml::Value::Boolean(b)) => *b,
            Some(_) => {
                problems.push(format!("{place} : « {key} » doit valoir true ou false"));
                false
            }
        }
    };
    let strings = |v: &toml::Value| -> Option<Vec<String>> {
        match v {
            toml::Value::String(s) => Some(vec![s.clone()]),
            toml::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(ToString::to_string))
                .collect(),
            _ => None,
        }
    };

    let mut sources = Vec::new();
    if let Some(c) = table.get("colonne") {
        match c.as_str() {
            Some(c) => sources.push(From::Columns(vec![c.to_string()])),
            None => problems.push(format!(
                "{place} : « colonne » doit être un texte (ou utiliser « colonnes = [...] »)"
            )),
        }
    }
    if let Some(c) = table.get("colonnes") {
        match strings(c) {
            Some(cols) if !cols.is_empty() => sources.push(From::Columns(cols)),
            _ => problems.push(format!(
                "{place} : « colonnes » doit être une liste de noms de colonnes"
            )),
        }
    }
    if let Some(c) = text("constante", &mut problems) {
        sources.push(From::Constant(c));
    }
    if let Some(m) = text("modele", &mut problems) {
        match template(&m) {
            Ok(pieces) => sources.push(From::Template(pieces)),
            Err(e) => problems.push(format!("{place} : modele « {m} » : {e}")),
        }
    }
    if let Some(l) = table.get("lambert93") {
        let x = l.get("x").and_then(toml::Value::as_str);
        let y = l.get("y").and_then(toml::Value::as_str);
        match (x, y, field) {
            (Some(x), Some(y), "latitude" | "longitude") => sources.push(From::Lambert93 {
                x: x.to_string(),
                y: y.to_string(),
                latitude: field == "latitude",
            }),
            (Some(_), Some(_), _) => problems.push(format!(
                "{place} : « lambert93 » ne sert qu’aux champs latitude et longitude"
            )),
            _ => problems.push(format!(
                "{place} : « lambert93 » attend {{ x = \"COLONNE\", y = \"COLONNE\" }}"
            )),
        }
    }
    let from = match sources.len() {
        1 => sources.pop(),
        0 => {
            problems.push(format!(
                "{place} : d’où vient la valeur ? une clé attendue parmi colonne, colonnes, constante, modele, lambert93"
            ));
            None
        }
        _ => {
            problems.push(format!(
                "{place} : une seule source possible parmi colonne, colonnes, constante, modele, lambert93"
            ));
            None
        }
    };

    let mut values = BTreeMap::new();
    if let Some(v) = table.get("valeurs") {
        match v.as_table() {
            Some(map) => {
                for (from, to) in map {
                    match strings(to) {
                        Some(to) => {
                            let to = to.into_iter().filter(|t| !t.trim().is_empty()).collect();
                            values.insert(search_key(from), to);
                        }
                        None => problems.push(format!(
                            "{place} : valeurs.« {from} » doit être un texte ou une liste de textes"
                        )),
                    }
                }
            }
            None => problems.push(format!(
                "{place} : « valeurs » attend une table {{ \"valeur du producteur\" = \"valeur du schéma\" }}"
            )),
        }
    }
    let date = text("format_date", &mut problems).and_then(|f| match date_format(&f) {
        Ok(d) => Some(d),
        Err(e) => {
            problems.push(format!("{place} : format_date « {f} » : {e}"));
            None
        }
    });
    let extract = text("extraire", &mut problems).and_then(|e| match e.as_str() {
        "code_postal" => Some(Extract::PostalCode),
        "avant_code_postal" => Some(Extract::Street),
        "apres_code_postal" => Some(Extract::Town),
        other => {
            problems.push(format!(
                "{place} : extraire « {other} » inconnu (code_postal, avant_code_postal ou apres_code_postal)"
            ));
            None
        }
    });
    let digits = match table.get("chiffres") {
        None => None,
        Some(toml::Value::Integer(n)) if (1..=20).contains(n) => usize::try_from(*n).ok(),
        Some(_) => {
            problems.push(format!("{place} : « chiffres » attend un nombre de 1 à 20"));
            None
        }
    };
    let joint = text("joint", &mut problems).unwrap_or_else(|| " ".to_string());
    let own_separator = text("separateur", &mut problems);
    let horaires = flag("horaires", &mut problems);
    let url = flag("url", &mut problems);
    let default = text("defaut", &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Rule {
        place: place.to_string(),
        from: from.expect("one source when no problem"),
        joint,
        separator: own_separator.or_else(|| separator.map(ToString::to_string)),
        values,
        date,
        horaires,
        extract,
        digits,
        url,
        default,
    })
}

/// `{COLONNE} texte {source}` → pieces.
fn template(text: &str) -> Result<Vec<Piece>, &'static str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("accolade « { » non fermée")?;
        let name = after[..close].trim();
        if name.is_empty() {
            return Err("nom de colonne vide entre accolades");
        }
        pieces.push(Piece::Column(name.to_string()));
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("accolade « } » sans « { »");
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Ok(pieces)
}

/// `JJ/MM/AAAA` (or `DD/MM/YYYY`) → its parts.
fn date_format(text: &str) -> Result<Vec<DatePart>, &'static str> {
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (part, len) = if rest.starts_with("AAAA") || rest.starts_with("YYYY") {
            (DatePart::Year, 4)
        } else if rest.starts_with("JJ") || rest.starts_with("DD") {
            (DatePart::Day, 2)
        } else if rest.starts_with("MM") {
            (DatePart::Month, 2)
        } else {
            let c = rest.chars().next().expect("not empty");
            if c.is_alphanumeric() {
                return Err("seuls JJ, MM, AAAA et des séparateurs sont permis");
            }
            (DatePart::Literal(c), c.len_utf8())
        };
        parts.push(part);
        rest = &rest[len..];
    }
    for needed in [DatePart::Day, DatePart::Month, DatePart::Year] {
        if !parts.contains(&needed) {
            return Err("JJ, MM et AAAA sont tous nécessaires");
        }
    }
    Ok(parts)
}

/// The date as `AAAA-MM-JJ` when `text` starts with the format (what follows, such as a
/// time, is ignored). Days and months may have one digit. Otherwise `None`: the value is
/// kept, and the schema reader rejects it with its reason.
fn read_date(text: &str, format: &[DatePart]) -> Option<String> {
    let (mut day, mut month, mut year) = (0u32, 0u32, 0u32);
    let mut rest = text.trim();
    for part in format {
        match part {
            DatePart::Literal(c) => rest = rest.strip_prefix(*c)?,
            _ => {
                let max = if *part == DatePart::Year { 4 } else { 2 };
                let len = rest
                    .chars()
                    .take(max)
                    .take_while(char::is_ascii_digit)
                    .count();
                let min = if *part == DatePart::Year { 4 } else { 1 };
                if len < min {
                    return None;
                }
                let n: u32 = rest[..len].parse().ok()?;
                rest = &rest[len..];
                match part {
                    DatePart::Day => day = n,
                    DatePart::Month => month = n,
                    _ => year = n,
                }
            }
        }
    }
    if rest.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// The postal code (5 digits standing alone) of an address line, or what is before (all
/// of it when there is no postal code) or after it: `8 rue de la Boétie - 33000 Bordeaux` → `33000`, `8 rue de la Boétie`,
/// `Bordeaux`.
fn extract_from_address(text: &str, what: Extract) -> Option<String> {
    let bytes = text.as_bytes();
    let found = (0..bytes.len().saturating_sub(4)).find(|&i| {
        bytes[i..i + 5].iter().all(u8::is_ascii_digit)
            && (i == 0 || !bytes[i - 1].is_ascii_digit())
            && bytes.get(i + 5).is_none_or(|b| !b.is_ascii_digit())
    });
    // Without a postal code, the whole line is taken as the street.
    let Some(at) = found else {
        return (what == Extract::Street).then(|| text.trim().to_string());
    };
    let trim = |s: &str| {
        s.trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | '-' | '–' | ';'))
            .to_string()
    };
    let v = match what {
        Extract::PostalCode => text[at..at + 5].to_string(),
        Extract::Street => trim(&text[..at]),
        Extract::Town => trim(&text[at + 5..]),
    };
    (!v.is_empty()).then_some(v)
}

/// Lambert 93 (RGF93, EPSG:2154) → WGS 84 latitude and longitude in degrees (IGN's
/// algorithm; RGF93 and WGS 84 differ by less than a metre).
fn lambert93_to_wgs84(x: f64, y: f64) -> (f64, f64) {
    const N: f64 = 0.725_607_765_053_267_1;
    const C: f64 = 11_754_255.426_096;
    const XS: f64 = 700_000.0;
    const YS: f64 = 12_655_612.049_876;
    const E: f64 = 0.081_819_191_042_815_79;
    let lon0 = 3f64.to_radians();
    let dx = x - XS;
    let dy = YS - y;
    let r = dx.hypot(dy);
    let gamma = (dx / dy).atan();
    let lon = lon0 + gamma / N;
    let iso = -(r / C).ln() / N;
    let mut lat = 2.0 * iso.exp().atan() - std::f64::consts::FRAC_PI_2;
    for _ in 0..20 {
        let s = E * lat.sin();
        let next = 2.0 * (((1.0 + s) / (1.0 - s)).powf(E / 2.0) * iso.exp()).atan()
            - std::f64::consts::FRAC_PI_2;
        if (next - lat).abs() < 1e-12 {
            lat = next;
            break;
        }
        lat = next;
    }
    (lat.to_degrees(), lon.to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambert93_of_a_known_point() {
        // Allonnes (49), from the Maine-et-Loire file.
        let (lat, lon) = lambert93_to_wgs84(475_198.12, 6_692_424.51);
        assert!((lat - 47.30).abs() < 0.05, "{lat}");
        assert!((lon - 0.02).abs() < 0.05, "{lon}");
    }

    #[test]
    fn dates_addresses_templates() {
        let f = date_format("JJ/MM/AAAA").unwrap();
        assert_eq!(read_date("9/12/2020", &f).as_deref(), Some("2020-12-09"));
        assert_eq!(read_date("09/0102023", &f), None);
        let f = date_format("AAAA-MM-JJ").unwrap();
        assert_eq!(
            read_date("2022-09-26 19:00:45", &f).as_deref(),
            Some("2022-09-26")
        );
        assert!(date_format("JJ/MM").is_err());
        let a = "8 rue de la Boétie - 33000 Bordeaux";
        assert_eq!(
            extract_from_address(a, Extract::PostalCode).as_deref(),
            Some("33000")
        );
        assert_eq!(
            extract_from_address(a, Extract::Street).as_deref(),
            Some("8 rue de la Boétie")
        );
        assert_eq!(
            extract_from_address(a, Extract::Town).as_deref(),
            Some("Bordeaux")
        );
        assert!(template("{a").is_err());
    }
}
