//! Open data: the national dataset of lieux, streamed page by page in a stable order
//! (by id), never held whole in memory.
//!
//! - CSV v1.0.1: exactly the schema's columns, in its order, `|` between list values,
//!   so that the file validates against the official Table Schema. `id` is Relais'
//!   stable id (the producers' ids are unique only within their file); `code_insee` is
//!   the resolved commune when the producer left it empty. The merge lineage is not in
//!   the CSV: the schema's `source` means « structure collectant la donnée » (one name,
//!   given by the producer), not the list of files a lieu was merged from, so it keeps
//!   the producer's value.
//! - JSON v1.0.1: an array of objects, the same fields (numbers for the coordinates,
//!   `null` when empty) plus `sources`, the lineage.
//! - GeoJSON: a FeatureCollection; a feature's properties are the JSON object plus
//!   `coordonnees_approximatives` (the position is the town hall's).
//! - data·inclusion v1: two JSON arrays, structures and services (`data_inclusion`).

use std::collections::BTreeMap;

use relais_domain::ids::LieuId;
use relais_domain::lieux::COLUMNS;
use relais_domain::territoires::Point;
use relais_store::lieux::{self as repo, Lineage, StoredLieu};
use relais_store::{Db, StoreError};

use super::data_inclusion;

/// Lieux read per query.
pub const PAGE: i64 = 500;

/// The formats of the schema's dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    GeoJson,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::GeoJson => "application/geo+json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::GeoJson => "geojson",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("lieu {id} : données enregistrées illisibles ({why})")]
    Corrupt { id: String, why: String },
    #[error("écriture du CSV impossible : {0}")]
    Csv(String),
}

/// A lieu as published: its schema row and where it comes from.
#[derive(Debug, Clone)]
pub struct Published {
    /// The v1.0.1 row, in the schema's column order (empty text: no value).
    pub row: Vec<(&'static str, String)>,
    /// The sources' rows this lieu is made of.
    pub sources: Vec<Lineage>,
    /// The position Relais uses: the row's, or the town hall's when `approximate`.
    pub position: Option<Point>,
    pub approximate: bool,
}

impl Published {
    pub fn get(&self, field: &str) -> &str {
        self.row
            .iter()
            .find(|(k, _)| *k == field)
            .map_or("", |(_, v)| v.as_str())
    }

    fn from_stored(stored: StoredLieu, sources: Vec<Lineage>) -> Result<Published, ExportError> {
        let data: BTreeMap<String, serde_json::Value> = serde_json::from_str(&stored.data)
            .map_err(|e| ExportError::Corrupt {
                id: stored.id.to_string(),
                why: e.to_string(),
            })?;
        let text = |field: &str| match data.get(field) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let row = COLUMNS
            .iter()
            .map(|&c| {
                let value = match c {
                    "id" => stored.id.to_string(),
                    "code_insee" => {
                        let given = text(c);
                        if given.is_empty() {
                            stored.location.code_insee.clone().unwrap_or_default()
                        } else {
                            given
                        }
                    }
                    _ => text(c),
                };
                (c, value)
            })
            .collect();
        Ok(Published {
            row,
            sources,
            position: stored.location.position,
            approximate: stored.location.approximate,
        })
    }
}

/// The lieux by id, a page at a time.
pub struct Pages {
    db: Db,
    after: LieuId,
    size: i64,
    done: bool,
}

impl Pages {
    pub fn new(db: Db, size: i64) -> Pages {
        Pages {
            db,
            after: LieuId(String::new()),
            size: size.max(1),
            done: false,
        }
    }

    /// The next page, or `None` once every lieu was given.
    pub async fn next(&mut self) -> Result<Option<Vec<Published>>, ExportError> {
        if self.done {
            return Ok(None);
        }
        let lieux = repo::page_after(&self.db, &self.after, self.size).await?;
        if (lieux.len() as i64) < self.size {
            self.done = true;
        }
        let Some(last) = lieux.last() else {
            return Ok(None);
        };
        self.after = last.id.clone();
        let ids: Vec<LieuId> = lieux.iter().map(|l| l.id.clone()).collect();
        let mut lineage: BTreeMap<LieuId, Vec<Lineage>> = BTreeMap::new();
        for l in repo::lineage(&self.db, &ids).await? {
            lineage.entry(l.lieu_id.clone()).or_default().push(l);
        }
        lieux
            .into_iter()
            .map(|l| {
                let sources = lineage.remove(&l.id).unwrap_or_default();
                Published::from_stored(l, sources)
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// The dataset in one format, as chunks of bytes (one per page).
pub struct Export {
    pages: Pages,
    format: Format,
    started: bool,
    finished: bool,
    first_item: bool,
    count: usize,
}

impl Export {
    pub fn new(db: Db, format: Format) -> Export {
        Export::with_page_size(db, format, PAGE)
    }

    pub fn with_page_size(db: Db, format: Format, size: i64) -> Export {
        Export {
            pages: Pages::new(db, size),
            format,
            started: false,
            finished: false,
            first_item: true,
            count: 0,
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Lieux written so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The next bytes of the file; `None` when it is complete.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ExportError> {
        if self.finished {
            return Ok(None);
        }
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out.extend_from_slice(&self.head()?);
        }
        match self.pages.next().await? {
            Some(page) => {
                for lieu in &page {
                    self.item(lieu, &mut out)?;
                }
            }
            None => {
                self.finished = true;
                out.extend_from_slice(match self.format {
                    Format::Csv => b"",
                    Format::Json => b"\n]\n",
                    Format::GeoJson => b"\n]}\n",
                });
            }
        }
        Ok(Some(out))
    }

    fn head(&self) -> Result<Vec<u8>, ExportError> {
        Ok(match self.format {
            Format::Csv => csv_line(COLUMNS.iter().copied())?,
            Format::Json => b"[".to_vec(),
            Format::GeoJson => b"{\"type\":\"FeatureCollection\",\"features\":[".to_vec(),
        })
    }

    fn item(&mut self, lieu: &Published, out: &mut Vec<u8>) -> Result<(), ExportError> {
        self.count += 1;
        if self.format == Format::Csv {
            out.extend(csv_line(lieu.row.iter().map(|(_, v)| v.as_str()))?);
            return Ok(());
        }
        out.extend_from_slice(if self.first_item { b"\n" } else { b",\n" });
        self.first_item = false;
        match self.format {
            Format::GeoJson => write_feature(lieu, out),
            _ => write_properties(lieu, false, out),
        }
        Ok(())
    }
}

fn csv_line<'a>(fields: impl Iterator<Item = &'a str>) -> Result<Vec<u8>, ExportError> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(fields)
        .map_err(|e| ExportError::Csv(e.to_string()))?;
    w.into_inner().map_err(|e| ExportError::Csv(e.to_string()))
}

/// The lineage as published: source, the row's id in it, and when it was imported.
pub fn sources_json(sources: &[Lineage]) -> serde_json::Value {
    sources
        .iter()
        .map(|l| {
            serde_json::json!({
                "source": l.source,
                "id": l.external_id,
                "importe_le": chrono::DateTime::from_timestamp_millis(l.imported_at)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            })
        })
        .collect()
}

/// A JSON value of the row: coordinates as numbers, empty text `null`.
fn json_value(field: &str, text: &str) -> serde_json::Value {
    if text.is_empty() {
        serde_json::Value::Null
    } else if matches!(field, "latitude" | "longitude") {
        text.parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| text.into(), serde_json::Value::Number)
    } else {
        text.into()
    }
}

/// Writes `{"k":v,…}` with the keys in the given order (a `serde_json::Map` would sort
/// them, and the schema's order is the one people read).
fn write_object<'a>(out: &mut Vec<u8>, pairs: impl Iterator<Item = (&'a str, serde_json::Value)>) {
    out.push(b'{');
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, k).expect("JSON in memory");
        out.push(b':');
        serde_json::to_writer(&mut *out, &v).expect("JSON in memory");
    }
    out.push(b'}');
}

/// The row as a JSON object in the schema's order, then `sources` (and, for GeoJSON,
/// `coordonnees_approximatives`).
fn write_properties(lieu: &Published, geo: bool, out: &mut Vec<u8>) {
    let row = lieu.row.iter().map(|(k, v)| (*k, json_value(k, v)));
    let sources = std::iter::once(("sources", sources_json(&lieu.sources)));
    let approximate = geo.then_some((
        "coordonnees_approximatives",
        serde_json::Value::Bool(lieu.approximate),
    ));
    write_object(out, row.chain(sources).chain(approximate));
}

fn write_feature(lieu: &Published, out: &mut Vec<u8>) {
    let geometry = match lieu.position {
        Some(Point { lat, lon }) => serde_json::json!({"type": "Point", "coordinates": [lon, lat]}),
        None => serde_json::Value::Null,
    };
    out.extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
    serde_json::to_writer(&mut *out, lieu.get("id")).expect("JSON in memory");
    out.extend_from_slice(b",\"geometry\":");
    serde_json::to_writer(&mut *out, &geometry).expect("JSON in memory");
    out.extend_from_slice(b",\"properties\":");
    write_properties(lieu, true, out);
    out.push(b'}');
}

/// The dataset as data·inclusion v1: structures and services, two JSON arrays written
/// side by side a page at a time.
pub struct DataInclusionExport {
    pages: Pages,
    started: bool,
    finished: bool,
    first_structure: bool,
    first_service: bool,
    today: relais_domain::lieux::Date,
    /// Lieux data·inclusion would refuse, with why.
    pub skipped: Vec<(String, data_inclusion::Skipped)>,
    /// Structures and services written so far.
    pub structures: usize,
    pub services: usize,
}

/// The next bytes of the structures file and of the services file.
pub type Chunks = (Vec<u8>, Vec<u8>);

impl DataInclusionExport {
    pub fn new(db: Db, today: relais_domain::lieux::Date) -> DataInclusionExport {
        DataInclusionExport::with_page_size(db, today, PAGE)
    }

    pub fn with_page_size(
        db: Db,
        today: relais_domain::lieux::Date,
        size: i64,
    ) -> DataInclusionExport {
        DataInclusionExport {
            pages: Pages::new(db, size),
            started: false,
            finished: false,
            first_structure: true,
            first_service: true,
            today,
            skipped: Vec::new(),
            structures: 0,
            services: 0,
        }
    }

    pub async fn next_chunks(&mut self) -> Result<Option<Chunks>, ExportError> {
        if self.finished {
            return Ok(None);
        }
        let (mut structures, mut services) = (Vec::new(), Vec::new());
        if !self.started {
            self.started = true;
            structures.push(b'[');
            services.push(b'[');
        }
        let Some(page) = self.pages.next().await? else {
            self.finished = true;
            structures.extend_from_slice(b"\n]\n");
            services.extend_from_slice(b"\n]\n");
            return Ok(Some((structures, services)));
        };
        for lieu in &page {
            let (structure, offers) = match data_inclusion::to_data_inclusion(lieu, self.today) {
                Ok(both) => both,
                Err(why) => {
                    self.skipped.push((lieu.get("id").to_string(), why));
                    continue;
                }
            };
            structures.extend_from_slice(if self.first_structure { b"\n" } else { b",\n" });
            self.first_structure = false;
            self.structures += 1;
            serde_json::to_writer(&mut structures, &structure).expect("JSON in memory");
            for s in &offers {
                services.extend_from_slice(if self.first_service { b"\n" } else { b",\n" });
                self.first_service = false;
                self.services += 1;
                serde_json::to_writer(&mut services, s).expect("JSON in memory");
            }
        }
        Ok(Some((structures, services)))
    }
}

/// Today's date (UTC), for the checks data·inclusion makes on `date_maj`.
pub fn today() -> relais_domain::lieux::Date {
    relais_domain::lieux::Date::from_days(
        relais_domain::calendrier::now_ms().div_euclid(86_400_000),
    )
}
