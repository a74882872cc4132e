//! The search over lieux: the in-memory index built from the store, with what a result
//! shows beside it (the index itself keeps only folded keys and bitsets).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use relais_domain::lieux::{read_row, SchemaVersion};
use relais_domain::territoire::{CodeInsee, Point};
use relais_search::lieux::{IndexedLieu, LieuIndex};
use relais_search::TerritoryIndex;
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

/// The search in use, replaced whole when the lieux change: a request keeps the version it
/// started with while a new one is built beside it.
pub struct Lieux {
    current: RwLock<Arc<Recherche>>,
}

impl Lieux {
    pub fn new(recherche: Recherche) -> Lieux {
        Lieux {
            current: RwLock::new(Arc::new(recherche)),
        }
    }

    pub fn get(&self) -> Arc<Recherche> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn replace(&self, recherche: Recherche) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(recherche);
    }
}

/// Builds the search from every stored lieu: the ids and positions are the store's (a
/// position may be the town hall's, marked approximate).
pub async fn build(db: &Db, territoires: &TerritoryIndex) -> Result<Recherche, StoreError> {
    let mut indexed = Vec::new();
    let mut by_id = BTreeMap::new();
    for stored in relais_store::lieux::all(db).await? {
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
