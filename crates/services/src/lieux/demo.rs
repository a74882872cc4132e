//! Demonstration lieux: the 687 real lieux of the Auvergne-Rhône-Alpes hub (2022,
//! schema v0.1, Licence Ouverte), shipped in the binary and loaded into an empty base.

use relais_search::TerritoryIndex;
use relais_store::Db;

use super::import::{ImportError, ImportReport, import_bytes};

pub const SOURCE: &str = "hinaura-2022";
/// The file itself (JSON, schema v0.1); `relais bench-lieux` copies its lieux' attributes.
pub const FILE: &[u8] = include_bytes!("../../../../data/lieux/hinaura-2022-v0.json");

/// Imports the demonstration lieux if the base has no lieu yet.
pub async fn ensure_loaded(
    db: &Db,
    index: &TerritoryIndex,
) -> Result<Option<ImportReport>, ImportError> {
    if relais_store::lieux::count(db).await? > 0 {
        return Ok(None);
    }
    Ok(Some(
        import_bytes(db, index, SOURCE, FILE, &mut |_, _| {}).await?,
    ))
}
