//! The search over lieux: the in-memory index built from the store, with what a result
//! shows beside it (the index itself keeps only folded keys and bitsets).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use relais_domain::lieux::{SchemaVersion, read_row};
use relais_domain::territoires::{CodeInsee, Point};
use relais_search::TerritoryIndex;
use relais_search::lieux::{IndexedLieu, LieuIndex};
use relais_store::{Db, StoreError};

/// What a result shows, by index position.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub nom: String,
    pub adresse: String,
    pub commune: String,
    pub code_postal: String,
}

pub struct Recherche {
    pub index: LieuIndex,
    pub summaries: Vec<Summary>,
}

impl Recherche {
    pub fn empty() -> Recherche {
        Recherche {
            index: LieuIndex::build(Vec::new()),
            summaries: Vec::new(),
        }
    }
}

/// What `relais_store::lieux::signature` says of the table: (count, latest update).
pub type Signature = (i64, Option<i64>);

/// The search in use, replaced whole when the lieux change: a request keeps the version it
/// started with while a new one is built beside it.
pub struct Lieux {
    current: RwLock<Arc<Recherche>>,
    /// The store's signature when the current search was built; `None`: unknown.
    built_from: Mutex<Option<Signature>>,
    /// One rebuild at a time (a refresh asked in process and the periodic check).
    rebuilding: tokio::sync::Mutex<()>,
}

impl Lieux {
    pub fn new(recherche: Recherche) -> Lieux {
        Lieux {
            current: RwLock::new(Arc::new(recherche)),
            built_from: Mutex::new(None),
            rebuilding: tokio::sync::Mutex::new(()),
        }
    }

    /// Builds the search from the store, remembering its signature.
    pub async fn load(db: &Db, territoires: &TerritoryIndex) -> Result<Lieux, StoreError> {
        let lieux = Lieux::new(Recherche::empty());
        refresh(db, territoires, &lieux).await?;
        Ok(lieux)
    }

    pub fn get(&self) -> Arc<Recherche> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn replace(&self, recherche: Recherche) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(recherche);
    }
}

/// Builds the search from every stored lieu: the ids and positions are the store's (a
/// position may be the town hall's, marked approximate).
pub async fn build(db: &Db, territoires: &TerritoryIndex) -> Result<Recherche, StoreError> {
    let stored = relais_store::lieux::all(db).await?;
    // Parsing and indexing is CPU work (0.2 s for 25k lieux, 15 s for 1M): on a
    // multi-threaded runtime, the other tasks move off this worker meanwhile.
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
            tokio::task::block_in_place(|| index_stored(stored, territoires))
        }
        _ => index_stored(stored, territoires),
    }
}

fn index_stored(
    all: Vec<relais_store::lieux::StoredLieu>,
    territoires: &TerritoryIndex,
) -> Result<Recherche, StoreError> {
    let mut indexed = Vec::new();
    let mut by_id = BTreeMap::new();
    for stored in all {
        let row: BTreeMap<String, String> = serde_json::from_str(&stored.data)
            .map_err(|e| StoreError::Corrupt(format!("lieu {} : {e}", stored.id)))?;
        let Ok(reading) = read_row(&row, SchemaVersion::V1) else {
            tracing::warn!(lieu = %stored.id, "lieu illisible, absent de la recherche");
            continue;
        };
        let mut lieu = reading.lieu;
        // The commune the import resolved: found again at once, and the same one.
        if let Some(code) = stored.code_insee.as_deref() {
            lieu.adresse.code_insee = CodeInsee::parse(code).ok();
        }
        let mut entry = IndexedLieu::from_lieu(&lieu, territoires);
        entry.id = stored.id.clone();
        if let (Some(lat), Some(lon)) = (stored.latitude, stored.longitude) {
            entry.position = Some(Point { lat, lon });
            entry.approximate = stored.approximate;
        }
        by_id.insert(
            stored.id,
            Summary {
                nom: lieu.nom,
                adresse: lieu.adresse.adresse,
                commune: lieu.adresse.commune,
                code_postal: lieu.adresse.code_postal.as_str().to_string(),
            },
        );
        indexed.push(entry);
    }
    let index = LieuIndex::build(indexed);
    let summaries = (0..index.len())
        .map(|i| by_id[&index.lieu(i).id].clone())
        .collect();
    Ok(Recherche { index, summaries })
}

/// Rebuilds the search from the store and puts it in use: after a change made in this
/// process (an import, an edit). Requests meanwhile use the previous one.
pub async fn refresh(
    db: &Db,
    territoires: &TerritoryIndex,
    lieux: &Lieux,
) -> Result<(), StoreError> {
    let _one = lieux.rebuilding.lock().await;
    rebuild(db, territoires, lieux).await
}

/// Rebuilds the search if the store's signature changed since it was built (an import in
/// another process); `true` if it did.
pub async fn refresh_if_changed(
    db: &Db,
    territoires: &TerritoryIndex,
    lieux: &Lieux,
) -> Result<bool, StoreError> {
    let _one = lieux.rebuilding.lock().await;
    let now = relais_store::lieux::signature(db).await?;
    if *lieux
        .built_from
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        == Some(now)
    {
        return Ok(false);
    }
    rebuild(db, territoires, lieux).await?;
    Ok(true)
}

/// The signature is read before the lieux: a change made during the build leaves a
/// newer signature, so the next check builds again rather than missing it.
async fn rebuild(db: &Db, territoires: &TerritoryIndex, lieux: &Lieux) -> Result<(), StoreError> {
    let started = Instant::now();
    let signature = relais_store::lieux::signature(db).await?;
    let recherche = build(db, territoires).await?;
    tracing::info!(
        lieux = recherche.index.len(),
        duree_ms = started.elapsed().as_millis() as u64,
        "index des lieux reconstruit"
    );
    lieux.replace(recherche);
    *lieux
        .built_from
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(signature);
    Ok(())
}

/// Checks the store every `every` and rebuilds the search when it changed, until `stop`
/// turns true. A failed check is logged and tried again at the next tick.
pub async fn watch(
    db: Db,
    territoires: Arc<TerritoryIndex>,
    lieux: Arc<Lieux>,
    every: Duration,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let (db, territoires, lieux) = (&db, &territoires, &lieux);
    crate::periodic::every(every, false, stop, || async move {
        if let Err(e) = refresh_if_changed(db, territoires, lieux).await {
            tracing::warn!(error = %e, "vérification des lieux impossible, nouvel essai au prochain tour");
        }
    })
    .await;
}

/// The lieux of a producer's file (schema v1 or v0.1) as the index sees them, without
/// storing them: the attributes of real lieux, for synthetic data
/// (`relais_search::lieux::synthetic_like`). Unreadable rows are left out.
pub fn sample(bytes: &[u8], territoires: &TerritoryIndex) -> Vec<IndexedLieu> {
    let Ok(file) = super::fichier::read(bytes, true) else {
        return Vec::new();
    };
    let version = SchemaVersion::detect(file.columns.iter().map(String::as_str));
    file.rows
        .iter()
        .filter_map(|r| read_row(&r.fields, version).ok())
        .map(|reading| IndexedLieu::from_lieu(&reading.lieu, territoires))
        .collect()
}
