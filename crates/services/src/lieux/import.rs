//! Importing a producer's file of lieux: each row read with the national schema, its
//! commune resolved from the territories, then stored as the source's record and as a
//! lieu. Good rows are kept whatever the bad ones; re-importing the same file changes
//! nothing. Each import ends with the cross-source merge of the communes it touched
//! (`fusion`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use relais_domain::horaires::Horaires;
use relais_domain::lieux::{read_row, write_row, Lieu, SchemaVersion};
use relais_domain::territoire::{Commune, Point};
use relais_domain::text::search_key;
use relais_search::TerritoryIndex;
use relais_store::lieux::{self as repo, NewRecord, RecordKey, StoredLieu};
use relais_store::{now_ms, Db, StoreError};

use super::fichier::{self, FileError, RawFile};
use super::fusion::{self, Block};
use crate::comptes::sha256_hex;

/// Coordinates farther than this from their commune's town hall are flagged.
pub const FAR_M: f64 = 20_000.0;
/// Rows written per transaction.
const BATCH: usize = 500;

/// What an import did, row by row where something went wrong.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub source: String,
    pub version: Option<SchemaVersion>,
    /// Said once for the file (encoding converted…).
    pub notes: Vec<String>,
    pub read: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// (line, reasons): rows left out.
    pub rejected: Vec<(usize, Vec<String>)>,
    /// (line, what was corrected or doubtful): rows kept.
    pub warnings: Vec<(usize, String)>,
    /// Lieux placed at their commune's town hall for want of coordinates.
    pub approximate: usize,
    /// Rows of this source merged with another source's into one lieu (after the import).
    pub merged: usize,
    /// Pairs of records the merge left to a person (`relais lieux revue`), in the
    /// communes this import touched.
    pub review: usize,
}

impl ImportReport {
    pub fn kept(&self) -> usize {
        self.created + self.updated + self.unchanged
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads `bytes` (the schema's CSV or JSON, v1 or v0.1) and imports it as `source`.
/// `progress(done, total)` is called as rows are stored.
pub async fn import_bytes(
    db: &Db,
    index: &TerritoryIndex,
    source: &str,
    bytes: &[u8],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportReport, ImportError> {
    let file = fichier::read(bytes, true)?;
    Ok(import(db, index, source, &file, progress).await?)
}

/// One row ready to store.
struct Prepared {
    external_id: String,
    lieu: StoredLieu,
    record: String,
}

pub async fn import(
    db: &Db,
    index: &TerritoryIndex,
    source: &str,
    file: &RawFile,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportReport, StoreError> {
    let version = SchemaVersion::detect(file.columns.iter().map(String::as_str));
    let mut report = ImportReport {
        source: source.to_string(),
        version: Some(version),
        notes: file.notes.clone(),
        read: file.rows.len() + file.broken.len(),
        ..ImportReport::default()
    };
    for (line, why) in &file.broken {
        report.rejected.push((*line, vec![why.clone()]));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut ready = Vec::new();
    let mut towns: Option<Towns> = None;
    for row in &file.rows {
        let fields = match deduce_postal_code(index, file, &mut towns, &row.fields) {
            Some((fields, note)) => {
                report.warnings.push((row.line, note));
                Cow::Owned(fields)
            }
            None => Cow::Borrowed(&row.fields),
        };
        match read_row(fields.as_ref(), version) {
            Err(rejection) => report.rejected.push((
                row.line,
                rejection.errors.iter().map(ToString::to_string).collect(),
            )),
            Ok(reading) => {
                if let Some(first) = seen.get(&reading.lieu.id) {
                    report.rejected.push((
                        row.line,
                        vec![format!(
                            "id « {} » : déjà utilisé ligne {first} du même fichier",
                            reading.lieu.id
                        )],
                    ));
                    continue;
                }
                seen.insert(reading.lieu.id.clone(), row.line);
                for w in &reading.warnings {
                    report.warnings.push((row.line, w.to_string()));
                }
                let (prepared, warnings) = prepare(source, index, reading.lieu);
                report.approximate += usize::from(prepared.lieu.approximate);
                for w in warnings {
                    report.warnings.push((row.line, w));
                }
                ready.push(prepared);
            }
        }
    }
    report.rejected.sort_by_key(|(line, _)| *line);
    let blocks = store(db, source, &ready, &mut report, progress).await?;
    let outcome = fusion::refresh(db, &blocks).await?;
    report.review = outcome.review_pairs;
    report.merged = repo::merged_records(db, source).await? as usize;
    Ok(report)
}

/// Communes by département and folded name: where a row without postal code finds its own.
type Towns<'a> = HashMap<(String, String), Vec<&'a Commune>>;

/// The départements of a file: those of its rows' postal codes.
fn file_departements(file: &RawFile) -> BTreeSet<String> {
    file.rows
        .iter()
        .filter_map(|r| r.fields.get("code_postal"))
        .map(|c| c.trim())
        .filter(|c| c.len() == 5 && c.bytes().all(|b| b.is_ascii_digit()))
        .map(|c| match &c[..2] {
            "20" => "2A".to_string(), // Corse: both départements below
            "97" => c[..3].to_string(),
            d => d.to_string(),
        })
        .flat_map(|d| {
            if d == "2A" {
                vec![d, "2B".to_string()]
            } else {
                vec![d]
            }
        })
        .collect()
}

/// A row without postal code but with a commune whose name is unambiguous in the
/// départements of the file, and that has one postal code: the row with that code and the
/// commune's INSEE code, and the warning that says so. `None` otherwise (the row is read as
/// it is, and rejected for its missing postal code).
fn deduce_postal_code<'a>(
    index: &'a TerritoryIndex,
    file: &RawFile,
    towns: &mut Option<Towns<'a>>,
    fields: &BTreeMap<String, String>,
) -> Option<(BTreeMap<String, String>, String)> {
    let missing = fields
        .get("code_postal")
        .is_none_or(|c| c.trim().is_empty());
    let commune = fields.get("commune").map(|c| c.trim()).unwrap_or("");
    if !missing || commune.is_empty() {
        return None;
    }
    let towns = towns.get_or_insert_with(|| {
        let deps = file_departements(file);
        let mut map: Towns<'a> = HashMap::new();
        for c in &index.territoires().communes {
            if deps.contains(&c.departement) {
                map.entry((c.departement.clone(), search_key(&c.nom)))
                    .or_default()
                    .push(c);
            }
        }
        map
    });
    let key = search_key(commune);
    let found: Vec<&Commune> = towns
        .iter()
        .filter(|((_, k), _)| *k == key)
        .flat_map(|(_, v)| v.iter().copied())
        .collect();
    let [one] = found.as_slice() else {
        return None;
    };
    let [postal] = one.codes_postaux.as_slice() else {
        return None;
    };
    let mut out = fields.clone();
    out.insert("code_postal".to_string(), postal.as_str().to_string());
    if out.get("code_insee").is_none_or(|c| c.trim().is_empty()) {
        out.insert("code_insee".to_string(), one.code.as_str().to_string());
    }
    Some((
        out,
        format!(
            "code_postal : absent, déduit de la commune « {commune} » ({}, {})",
            postal.as_str(),
            one.code.as_str()
        ),
    ))
}

/// The row as the source's record, and the lieu it makes: commune resolved, coordinates
/// checked against it, or taken from it (approximate) when the row has none.
fn prepare(source: &str, index: &TerritoryIndex, lieu: Lieu) -> (Prepared, Vec<String>) {
    let mut warnings = Vec::new();
    let commune = match &lieu.adresse.code_insee {
        Some(code) => {
            let found = index.commune(code.as_str());
            if found.is_none() {
                warnings.push(format!(
                    "code_insee « {} » : commune inconnue des territoires",
                    code.as_str()
                ));
            }
            found
        }
        None => {
            let found = resolve_commune(index, &lieu);
            if found.is_none() {
                warnings.push(format!(
                    "commune « {} » : introuvable avec le code postal {} (code INSEE non déduit)",
                    lieu.adresse.commune,
                    lieu.adresse.code_postal.as_str()
                ));
            }
            found
        }
    };
    if let Some(Err(e)) = lieu.horaires.as_deref().map(Horaires::parse) {
        warnings.push(format!("{e} : horaires gardés tels quels, non évalués"));
    }
    let town_hall = commune.and_then(|c| c.position);
    let (position, approximate) = match (lieu.coordonnees, town_hall) {
        (Some(p), Some(hall)) => {
            let d = p.distance_m(hall);
            if d > FAR_M {
                warnings.push(format!(
                    "latitude/longitude « {}, {} » : à {:.0} km de la mairie de {}, à vérifier",
                    p.lat,
                    p.lon,
                    d / 1000.0,
                    commune.map_or("", |c| c.nom.as_str())
                ));
            }
            (Some(p), false)
        }
        (Some(p), None) => (Some(p), false),
        (None, Some(hall)) => (Some(hall), true),
        (None, None) => (None, false),
    };
    let row: BTreeMap<&str, String> = write_row(&lieu)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let data = serde_json::to_string(&row).expect("a row serializes");
    let provenance: BTreeMap<&str, &str> = row.keys().map(|k| (*k, source)).collect();
    let external_id = lieu.id.clone();
    let stored = StoredLieu {
        id: lieu_id(source, &external_id),
        provenance: serde_json::to_string(&provenance).expect("serializes"),
        code_insee: commune.map(|c| c.code.as_str().to_string()),
        latitude: position.map(|p: Point| p.lat),
        longitude: position.map(|p: Point| p.lon),
        approximate,
        date_maj: lieu.date_maj.to_string(),
        updated_at: 0,
        data: data.clone(),
    };
    (
        Prepared {
            external_id,
            lieu: stored,
            record: data,
        },
        warnings,
    )
}

/// The commune of a lieu without INSEE code: among the communes of its postal code, the
/// one of the same name, else the nearest to its coordinates, else the only one.
fn resolve_commune<'a>(index: &'a TerritoryIndex, lieu: &Lieu) -> Option<&'a Commune> {
    let candidates = index.by_postal_code(lieu.adresse.code_postal.as_str());
    let wanted = search_key(&lieu.adresse.commune);
    let named: Vec<&Commune> = candidates
        .iter()
        .copied()
        .filter(|c| search_key(&c.nom) == wanted)
        .collect();
    if let [one] = named.as_slice() {
        return Some(one);
    }
    if let Some(p) = lieu.coordonnees {
        return candidates
            .iter()
            .copied()
            .filter_map(|c| Some((c, c.position?.distance_m(p))))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c);
    }
    match candidates.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

/// A lieu's id, stable across imports: derived from the first source and row that made it.
pub fn lieu_id(source: &str, external_id: &str) -> String {
    sha256_hex(&format!("{source}\u{1f}{external_id}"))[..16].to_string()
}

async fn store(
    db: &Db,
    source: &str,
    ready: &[Prepared],
    report: &mut ImportReport,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<BTreeSet<Block>, StoreError> {
    let now = now_ms();
    let mut done = 0;
    // What the merge must look at again: the communes of created and changed records
    // (before and after), and the records without commune.
    let mut blocks = BTreeSet::new();
    for batch in ready.chunks(BATCH) {
        let mut tx = db.begin().await?;
        let source_id = repo::source_id(&mut tx, source, now).await?;
        for p in batch {
            let fingerprint = sha256_hex(&p.record);
            let existing = repo::record(&mut tx, source_id, &p.external_id).await?;
            match &existing {
                Some(r) if r.fingerprint == fingerprint => {
                    report.unchanged += 1;
                    continue;
                }
                Some(_) => report.updated += 1,
                None => report.created += 1,
            }
            // A record keeps the lieu it was attached to (a merge may have chosen another,
            // and rebuilds it below); a new record starts as a lieu of its own.
            let lieu_id = match &existing {
                Some(r) => {
                    if let Some(code) = &r.code_insee {
                        blocks.insert(Block::Commune(code.clone()));
                    }
                    r.lieu_id.clone()
                }
                None => {
                    repo::put_lieu(&mut tx, &p.lieu, now).await?;
                    p.lieu.id.clone()
                }
            };
            blocks.insert(match &p.lieu.code_insee {
                Some(code) => Block::Commune(code.clone()),
                None => Block::Record(RecordKey {
                    source_id,
                    external_id: p.external_id.clone(),
                }),
            });
            repo::put_record(
                &mut tx,
                &NewRecord {
                    source: source_id,
                    external_id: &p.external_id,
                    lieu_id: &lieu_id,
                    data: &p.record,
                    fingerprint: &fingerprint,
                    code_insee: p.lieu.code_insee.as_deref(),
                    latitude: p.lieu.latitude,
                    longitude: p.lieu.longitude,
                    approximate: p.lieu.approximate,
                },
                now,
            )
            .await?;
        }
        relais_store::commit(tx).await?;
        done += batch.len();
        progress(done, ready.len());
    }
    Ok(blocks)
}
