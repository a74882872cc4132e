//! Importing a producer's file of lieux: each row read with the national schema, its
//! commune resolved from the territories, then stored as the source's record (the merge
//! writes the lieux, a new record's alone under its own id). Good rows are kept whatever the bad ones; re-importing the same file changes
//! nothing. Each import ends with the cross-source merge of the communes it touched
//! (`fusion`); files imported together are stored first and merged once (`ToMerge`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use relais_domain::calendrier::now_ms;
use relais_domain::horaires::Horaires;
use relais_domain::ids::LieuId;
use relais_domain::lieux::{
    Lieu, Location, Rejection, RejectionReason, SchemaVersion, read_row, write_row,
};
use relais_domain::territoires::Commune;
use relais_domain::text::search_key;
use relais_search::TerritoryIndex;
use relais_store::lieux::{self as repo, NewRecord, RecordKey};
use relais_store::{Db, StoreError};

use super::fichier::{self, FileError, RawFile, RawRow, Rows};
use super::fusion::{self, Block, Scope};
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
    /// Why rows were left out, by line: one or more problems per row.
    pub rejected: Vec<Rejection>,
    /// (line, what was corrected or doubtful): rows kept.
    pub warnings: Vec<(usize, String)>,
    /// Lieux placed at their commune's town hall for want of coordinates.
    pub approximate: usize,
    /// Rows of this source merged with another record into one lieu (after the merge).
    pub merged: usize,
    /// Pairs of records of this source and another that the merge left to a person
    /// (`relais lieux revue`).
    pub review: usize,
}

impl ImportReport {
    pub fn kept(&self) -> usize {
        self.created + self.updated + self.unchanged
    }

    /// How many rows were left out (a row may have several problems).
    pub fn rejected_rows(&self) -> usize {
        self.rejected_by_row().count()
    }

    /// The problems of each row left out, by line.
    pub fn rejected_by_row(&self) -> impl Iterator<Item = &[Rejection]> {
        self.rejected.chunk_by(|a, b| a.line == b.line)
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
/// `progress(stored, read)` is called as rows are stored.
pub async fn import_bytes(
    db: &Db,
    index: &TerritoryIndex,
    source: &str,
    bytes: &[u8],
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<ImportReport, ImportError> {
    let rows = fichier::open(std::io::Cursor::new(bytes), true)?;
    import_rows(db, index, source, rows, progress).await
}

/// Imports the file at `path` as [`import_bytes`] does, streamed: memory holds one chunk
/// of rows at a time, whatever the size of the file.
pub async fn import_path(
    db: &Db,
    index: &TerritoryIndex,
    source: &str,
    path: &Path,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<ImportReport, ImportError> {
    let (report, to_merge) = store_path(db, index, source, path, progress).await?;
    Ok(to_merge.merge_one(db, report).await?)
}

/// Stores the file at `path` as the source's records without merging: what
/// [`ToMerge::merge`] does next, once for several files.
pub async fn store_path(
    db: &Db,
    index: &TerritoryIndex,
    source: &str,
    path: &Path,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<(ImportReport, ToMerge), ImportError> {
    let file = fichier::open_path(path, fichier::MAX_STREAMED)?;
    let rows = fichier::open(file, true)?;
    store_rows(db, index, source, rows, progress).await
}

/// Imports a file being read, chunk by chunk: each chunk is read, checked and stored
/// before the next is read. A file that cannot be read past some row (a JSON cut
/// mid-way) keeps the rows before it, and the report says where reading stopped.
pub async fn import_rows<R: Read>(
    db: &Db,
    index: &TerritoryIndex,
    source: &str,
    rows: Rows<R>,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<ImportReport, ImportError> {
    let (report, to_merge) = store_rows(db, index, source, rows, progress).await?;
    Ok(to_merge.merge_one(db, report).await?)
}

async fn store_rows<R: Read>(
    db: &Db,
    index: &TerritoryIndex,
    source: &str,
    mut rows: Rows<R>,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<(ImportReport, ToMerge), ImportError> {
    // The first chunk is read: its columns (a JSON's keys so far) tell the version.
    let version = SchemaVersion::detect(rows.columns.iter().map(String::as_str));
    let mut reading = Reading::new(source, version, rows.notes.clone());
    let mut storing = Storing::new(source);
    // A chunk is read and checked while the one before it is written: the database works
    // on its own thread (SQLite's) or server, so both go at once.
    let mut ready = Vec::new();
    let mut more = true;
    while more || !ready.is_empty() {
        let total = storing.stored + ready.len();
        let mut told = |done| progress(done, total);
        let writing = storing.store(db, &ready, &mut told);
        let next = async {
            let chunk = rows.next_chunk()?;
            let prepared = reading.check(index, &chunk.rows, &chunk.broken).await;
            if let Some(e) = &chunk.error {
                reading.report.read += 1;
                reading.report.rejected.push(Rejection::of_row(
                    chunk.next_line(),
                    RejectionReason::Stopped(e.to_string()),
                ));
            }
            Some(prepared)
        };
        let (written, next) = tokio::join!(writing, next);
        written?;
        more = next.is_some();
        ready = next.unwrap_or_default();
    }
    Ok(end(reading, storing))
}

/// One row ready to store as the source's record: its row (JSON), and its commune and
/// position as the import resolved them.
struct Prepared {
    external_id: String,
    record: String,
    location: Location,
}

/// Imports a file already split into rows (a mapped producer's file, data·inclusion).
pub async fn import(
    db: &Db,
    index: &TerritoryIndex,
    source: &str,
    file: &RawFile,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<ImportReport, StoreError> {
    let (report, to_merge) = store_file(db, index, source, file, progress).await?;
    to_merge.merge_one(db, report).await
}

/// Stores a file already split into rows without merging (see [`store_path`]).
pub async fn store_file(
    db: &Db,
    index: &TerritoryIndex,
    source: &str,
    file: &RawFile,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<(ImportReport, ToMerge), StoreError> {
    let version = SchemaVersion::detect(file.columns.iter().map(String::as_str));
    let mut reading = Reading::new(source, version, file.notes.clone());
    let mut storing = Storing::new(source);
    let ready = reading.check(index, &file.rows, &file.broken).await;
    let total = ready.len();
    storing
        .store(db, &ready, &mut |done| progress(done, total))
        .await?;
    Ok(end(reading, storing))
}

/// What stored files leave to the merge: the blocks to look at again and the lieux whose
/// records changed values. Several files merged once cost one merge: each file's would
/// compare again the communes of the ones before.
#[derive(Debug, Default)]
pub struct ToMerge {
    blocks: BTreeSet<Block>,
    stale: HashSet<LieuId>,
}

impl ToMerge {
    pub fn add(&mut self, other: ToMerge) {
        self.blocks.extend(other.blocks);
        self.stale.extend(other.stale);
    }

    /// Merges one file's rows, and completes its report.
    pub async fn merge_one(
        self,
        db: &Db,
        report: ImportReport,
    ) -> Result<ImportReport, StoreError> {
        let mut reports = self.merge(db, vec![report]).await?;
        Ok(reports.remove(0))
    }

    /// Merges, and completes the files' reports with what the merge made of their rows.
    pub async fn merge(
        self,
        db: &Db,
        mut reports: Vec<ImportReport>,
    ) -> Result<Vec<ImportReport>, StoreError> {
        fusion::refresh(db, &self.blocks, Scope::Changed(&self.stale)).await?;
        for r in &mut reports {
            r.merged = repo::merged_records(db, &r.source).await? as usize;
            r.review = repo::review_count(db, &r.source).await? as usize;
        }
        Ok(reports)
    }
}

/// What an import read and checked so far.
struct Reading {
    version: SchemaVersion,
    report: ImportReport,
    /// External id → its first line: an id used twice in one file is refused.
    seen: HashMap<String, usize>,
    /// Départements of the postal codes read so far, and the communes of those.
    departements: BTreeSet<String>,
    towns: Option<(usize, Towns)>,
}

/// Rows checked between two turns given to the writing of the rows before them.
const YIELD_EVERY: usize = 50;

impl Reading {
    fn new(source: &str, version: SchemaVersion, notes: Vec<String>) -> Self {
        Reading {
            version,
            report: ImportReport {
                source: source.to_string(),
                version: Some(version),
                notes,
                ..ImportReport::default()
            },
            seen: HashMap::new(),
            departements: BTreeSet::new(),
            towns: None,
        }
    }

    /// Reads and checks some rows of the file: those to store, the others in the report.
    async fn check(
        &mut self,
        index: &TerritoryIndex,
        rows: &[RawRow],
        broken: &[(usize, String)],
    ) -> Vec<Prepared> {
        let report = &mut self.report;
        report.read += rows.len() + broken.len();
        for (line, why) in broken {
            report.rejected.push(Rejection::of_row(
                *line,
                RejectionReason::Unreadable(why.clone()),
            ));
        }
        self.departements.extend(file_departements(rows));
        let mut ready = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            if i % YIELD_EVERY == YIELD_EVERY - 1 {
                tokio::task::yield_now().await;
            }
            let fields =
                match deduce_postal_code(index, &self.departements, &mut self.towns, &row.fields) {
                    Some((fields, note)) => {
                        report.warnings.push((row.line, note));
                        Cow::Owned(fields)
                    }
                    None => Cow::Borrowed(&row.fields),
                };
            match read_row(fields.as_ref(), self.version) {
                Err(refusal) => report.rejected.extend(
                    refusal
                        .errors
                        .into_iter()
                        .map(|issue| Rejection::of_issue(row.line, issue)),
                ),
                Ok(reading) => {
                    if let Some(first) = self.seen.get(&reading.lieu.id) {
                        report.rejected.push(Rejection {
                            line: row.line,
                            field: "id",
                            value: reading.lieu.id,
                            reason: RejectionReason::DuplicateId { first_line: *first },
                        });
                        continue;
                    }
                    self.seen.insert(reading.lieu.id.clone(), row.line);
                    for w in &reading.warnings {
                        report.warnings.push((row.line, w.to_string()));
                    }
                    let (prepared, warnings) = prepare(index, reading.lieu);
                    report.approximate += usize::from(prepared.location.approximate);
                    for w in warnings {
                        report.warnings.push((row.line, w));
                    }
                    ready.push(prepared);
                }
            }
        }
        ready
    }
}

/// What an import stored so far.
struct Storing<'a> {
    source: &'a str,
    now: i64,
    created: usize,
    updated: usize,
    unchanged: usize,
    to_merge: ToMerge,
    stored: usize,
}

/// The report of a file read and stored, and what the merge must do.
fn end(reading: Reading, storing: Storing<'_>) -> (ImportReport, ToMerge) {
    let mut report = reading.report;
    report.rejected.sort_by_key(|r| r.line);
    report.created = storing.created;
    report.updated = storing.updated;
    report.unchanged = storing.unchanged;
    (report, storing.to_merge)
}

/// Communes by département and folded name (as indices in the territories): where a row
/// without postal code finds its own.
type Towns = HashMap<(String, String), Vec<usize>>;

/// The départements of rows: those of their postal codes.
fn file_departements(rows: &[RawRow]) -> BTreeSet<String> {
    rows.iter()
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
/// commune's INSEE code, and the warning that says so. The départements are those of the
/// rows read so far (of the whole file when it fits in one chunk). `None` otherwise (the row is read as
/// it is, and rejected for its missing postal code).
fn deduce_postal_code(
    index: &TerritoryIndex,
    deps: &BTreeSet<String>,
    towns: &mut Option<(usize, Towns)>,
    fields: &BTreeMap<String, String>,
) -> Option<(BTreeMap<String, String>, String)> {
    let missing = fields
        .get("code_postal")
        .is_none_or(|c| c.trim().is_empty());
    let commune = fields.get("commune").map(|c| c.trim()).unwrap_or("");
    if !missing || commune.is_empty() {
        return None;
    }
    // Départements only grow: their count tells whether the map is still right.
    if towns.as_ref().is_none_or(|(n, _)| *n != deps.len()) {
        let mut map: Towns = HashMap::new();
        for (i, c) in index.territoires().communes.iter().enumerate() {
            if deps.contains(&c.departement) {
                map.entry((c.departement.clone(), search_key(&c.nom)))
                    .or_default()
                    .push(i);
            }
        }
        *towns = Some((deps.len(), map));
    }
    let (_, towns) = towns.as_ref().expect("built above");
    let communes = &index.territoires().communes;
    let key = search_key(commune);
    let found: Vec<&Commune> = towns
        .iter()
        .filter(|((_, k), _)| *k == key)
        .flat_map(|(_, v)| v.iter().map(|&i| &communes[i]))
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

/// The row as the source's record: commune resolved, coordinates checked against it, or
/// taken from it (approximate) when the row has none.
fn prepare(index: &TerritoryIndex, lieu: Lieu) -> (Prepared, Vec<String>) {
    let mut warnings = Vec::new();
    let commune = match &lieu.adresse.code_insee {
        // An unknown code is often a former commune's (merged into a commune nouvelle):
        // the postal code and the name still find today's.
        Some(code) => index.commune(code.as_str()).or_else(|| {
            let found = resolve_commune(index, &lieu);
            warnings.push(match found {
                Some(c) => format!(
                    "code_insee « {} » : commune inconnue des territoires (ancienne commune ?), \
                     remplacé par {} ({}) d’après le code postal et le nom",
                    code.as_str(),
                    c.code.as_str(),
                    c.nom
                ),
                None => format!(
                    "code_insee « {} » : commune inconnue des territoires",
                    code.as_str()
                ),
            });
            found
        }),
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
    if let (Some(p), Some(c)) = (lieu.coordonnees, commune)
        && let Some(hall) = c.position
    {
        let d = p.distance_m(hall);
        if d > FAR_M {
            warnings.push(format!(
                "latitude/longitude « {}, {} » : à {:.0} km de la mairie de {}, à vérifier",
                p.lat,
                p.lon,
                d / 1000.0,
                c.nom
            ));
        }
    }
    let location = Location::new(lieu.coordonnees, commune);
    let row: BTreeMap<&str, String> = write_row(&lieu)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    (
        Prepared {
            external_id: lieu.id.clone(),
            record: serde_json::to_string(&row).expect("a row serializes"),
            location,
        },
        warnings,
    )
}

/// The commune of a lieu without INSEE code (`territoires::commune_of_address`).
pub(crate) fn resolve_commune<'a>(index: &'a TerritoryIndex, lieu: &Lieu) -> Option<&'a Commune> {
    crate::territoires::commune_of_address(
        index,
        lieu.adresse.code_postal.as_str(),
        &lieu.adresse.commune,
        lieu.coordonnees,
    )
}

/// A lieu's id, stable across imports: derived from the first source and row that made it.
pub fn lieu_id(source: &str, external_id: &str) -> LieuId {
    LieuId(sha256_hex(&format!("{source}\u{1f}{external_id}"))[..16].to_string())
}

impl<'a> Storing<'a> {
    fn new(source: &'a str) -> Self {
        Storing {
            source,
            now: now_ms(),
            created: 0,
            updated: 0,
            unchanged: 0,
            to_merge: ToMerge::default(),
            stored: 0,
        }
    }

    /// Stores rows read and checked; `progress(rows stored in all)` after each batch.
    async fn store<P: FnMut(usize) + ?Sized>(
        &mut self,
        db: &Db,
        ready: &[Prepared],
        progress: &mut P,
    ) -> Result<(), StoreError> {
        let (source, now) = (self.source, self.now);
        // What the merge must look at again: the communes of created and changed records
        // (before and after), and the records without commune.
        let to_merge = &mut self.to_merge;
        for batch in ready.chunks(BATCH) {
            let mut tx = db.begin().await?;
            let source_id = repo::source_id(&mut tx, source, now).await?;
            let ids: Vec<&str> = batch.iter().map(|p| p.external_id.as_str()).collect();
            let mut stored = repo::records(&mut tx, source_id, &ids).await?;
            let mut records: Vec<(&Prepared, LieuId, String)> = Vec::new();
            for p in batch {
                let fingerprint = sha256_hex(&p.record);
                let existing = stored.remove(&p.external_id);
                match &existing {
                    Some(r) if r.fingerprint == fingerprint => {
                        self.unchanged += 1;
                        // Its lieu not written: an import stopped before its merge.
                        if r.lieu_written {
                            continue;
                        }
                    }
                    Some(_) => self.updated += 1,
                    None => self.created += 1,
                }
                // A record keeps the lieu it was attached to (a merge may have chosen
                // another, and rebuilds it); a new record names the lieu it makes alone,
                // which the merge writes unless the record joins another.
                let lieu_id = match &existing {
                    Some(r) => {
                        if let Some(code) = &r.code_insee {
                            to_merge.blocks.insert(Block::commune(code));
                        }
                        to_merge.stale.insert(r.lieu_id.clone());
                        r.lieu_id.clone()
                    }
                    None => lieu_id(source, &p.external_id),
                };
                to_merge.blocks.insert(match &p.location.code_insee {
                    Some(code) => Block::commune(code),
                    None => Block::Record(RecordKey {
                        source_id,
                        external_id: p.external_id.clone(),
                    }),
                });
                records.push((p, lieu_id, fingerprint));
            }
            let records: Vec<NewRecord<'_>> = records
                .iter()
                .map(|(p, lieu_id, fingerprint)| NewRecord {
                    source: source_id,
                    external_id: &p.external_id,
                    lieu_id,
                    data: &p.record,
                    fingerprint,
                    location: &p.location,
                })
                .collect();
            repo::put_records(&mut tx, &records, now).await?;
            relais_store::commit(tx).await?;
            self.stored += batch.len();
            progress(self.stored);
        }
        Ok(())
    }
}
