//! The search over lieux: the in-memory index built from the store, with what a result
//! shows beside it (the index itself keeps only folded keys and bitsets), and the one
//! search the page `/lieux` and the API `/api/v1/lieux` make on it ([`recherche`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use relais_domain::lieux::{SchemaVersion, read_row};
use relais_domain::territoires::{CodeInsee, Commune, Point};
use relais_search::TerritoryIndex;
use relais_search::lieux::{Filter, IndexedLieu, LieuIndex, Territory};
use relais_search::territoires::MatchKind;
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

pub use relais_store::lieux::Signature;

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
        if let Some(code) = stored.location.code_insee.as_deref() {
            lieu.adresse.code_insee = CodeInsee::parse(code).ok();
        }
        let mut entry = IndexedLieu::from_lieu(&lieu, territoires);
        entry.id = stored.id.clone();
        if stored.location.position.is_some() {
            entry.location.position = stored.location.position;
            entry.location.approximate = stored.location.approximate;
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

/// Where to search.
#[derive(Debug, Clone)]
pub enum Zone<'t> {
    /// Nearest first from a point, at most `profondeur` lieux deep: the cursor is the
    /// number of lieux already given (nearest first has no stable key to resume after).
    Autour { point: Point, profondeur: usize },
    /// A territory by its code, in the index's order.
    Territoire(Territory),
    /// A commune a person chose: its lieux counted, and when it has none, the nearest
    /// around its town hall (the useful answer).
    Commune(&'t Commune),
    /// `[min_lat, min_lon, max_lat, max_lon]`; the cursor is the id of the last lieu given.
    Boite([f64; 4]),
}

/// A search: where, with which filters, from which page.
pub struct Requete<'a, 't> {
    pub zone: Zone<'t>,
    pub filtre: &'a Filter,
    /// The `suivant` of the previous page, as given.
    pub curseur: Option<&'a str>,
    pub limite: usize,
}

/// A lieu found: its position in the search's index, and its distance when the search
/// was around a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trouve {
    pub index: usize,
    pub distance_m: Option<f64>,
}

/// A page of results, with the search they index into.
pub struct Resultat {
    pub recherche: Arc<Recherche>,
    pub trouves: Vec<Trouve>,
    /// To pass as the cursor of the next page; `None` on the last page.
    pub suivant: Option<String>,
    /// How many lieux the commune has (`Zone::Commune` only).
    pub total: Option<usize>,
    /// The commune has none: these are the nearest around its town hall.
    pub proches: bool,
}

/// Why a search gives nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RechercheError {
    #[error("coordonnées hors limites")]
    Coordonnees,
    /// A cursor that no page gave (edited, truncated).
    #[error("curseur invalide")]
    Curseur,
    /// Around a point, the cursor is a number of lieux, at most `profondeur`.
    #[error("curseur invalide (de 0 à {profondeur})")]
    CurseurAutour { profondeur: usize },
}

/// How many lieux of a territory pass the filter.
pub fn nombre(lieux: &Lieux, territory: &Territory, filtre: &Filter) -> usize {
    count(&lieux.get(), territory, filtre)
}

fn count(r: &Recherche, territory: &Territory, filtre: &Filter) -> usize {
    r.index
        .in_territory(territory, filtre, None, usize::MAX)
        .map_or(0, |all| all.items.len())
}

/// The search of `/lieux` and of `/api/v1/lieux`.
pub fn recherche(lieux: &Lieux, q: &Requete<'_, '_>) -> Result<Resultat, RechercheError> {
    let r = lieux.get();
    let mut res = Resultat {
        recherche: r.clone(),
        trouves: Vec::new(),
        suivant: None,
        total: None,
        proches: false,
    };
    match &q.zone {
        Zone::Autour { point, profondeur } => {
            if !(point.lat.abs() <= 90.0 && point.lon.abs() <= 180.0) {
                return Err(RechercheError::Coordonnees);
            }
            let offset = nearest_offset(q.curseur, *profondeur)?;
            (res.trouves, res.suivant) =
                nearest(&r, *point, q.filtre, offset, q.limite, *profondeur);
        }
        Zone::Territoire(territory) => {
            let page = r
                .index
                .in_territory(territory, q.filtre, q.curseur, q.limite)
                .map_err(|_| RechercheError::Curseur)?;
            res.trouves = unranked(page.items);
            res.suivant = page.next;
        }
        Zone::Commune(commune) => {
            let territory = Territory::Commune(commune.code.as_str().to_string());
            let page = r
                .index
                .in_territory(&territory, q.filtre, q.curseur, q.limite)
                .map_err(|_| RechercheError::Curseur)?;
            // The count walks the commune's list again: a few hundred bitset tests at most.
            let total = count(&r, &territory, q.filtre);
            res.trouves = unranked(page.items);
            res.suivant = page.next;
            res.total = Some(total);
            if total == 0
                && let Some(point) = commune.position
            {
                (res.trouves, _) = nearest(&r, point, q.filtre, 0, q.limite, q.limite);
                res.proches = true;
            }
        }
        Zone::Boite(bbox) => {
            if q.curseur.is_some_and(str::is_empty) {
                return Err(RechercheError::Curseur);
            }
            let page = r.index.in_bbox_page(*bbox, q.filtre, q.curseur, q.limite);
            res.trouves = unranked(page.items);
            res.suivant = page.next;
        }
    }
    Ok(res)
}

fn unranked(items: Vec<usize>) -> Vec<Trouve> {
    items
        .into_iter()
        .map(|index| Trouve {
            index,
            distance_m: None,
        })
        .collect()
}

/// The lieux nearest to `point` after the first `offset`, at most `limit`, never deeper
/// than `depth`; and the cursor of the next page.
fn nearest(
    r: &Recherche,
    point: Point,
    filter: &Filter,
    offset: usize,
    limit: usize,
    depth: usize,
) -> (Vec<Trouve>, Option<String>) {
    let end = (offset + limit).min(depth);
    let found = r.index.nearest(point, end + 1, filter);
    let more = found.len() > end && end < depth;
    let trouves = found
        .into_iter()
        .skip(offset)
        .take(end.saturating_sub(offset))
        .map(|(index, d)| Trouve {
            index,
            distance_m: Some(d),
        })
        .collect();
    (trouves, more.then(|| end.to_string()))
}

/// The cursor of a search around a point: the number of lieux already given, at most
/// `depth`.
fn nearest_offset(raw: Option<&str>, depth: usize) -> Result<usize, RechercheError> {
    let Some(raw) = raw else { return Ok(0) };
    let valid = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    // Leading zeros aside, a few digits at most: no overflow whatever the length.
    let digits = raw.trim_start_matches('0');
    let offset = match (valid, digits.len()) {
        (true, 0) => Some(0),
        (true, 1..=9) => digits.parse::<usize>().ok(),
        _ => None,
    };
    offset
        .filter(|o| *o <= depth)
        .ok_or(RechercheError::CurseurAutour { profondeur: depth })
}

/// The communes a person's words name: by postal code, INSEE code or name (the exact
/// names when there are some; names a typo away when nothing else matches).
pub fn communes<'t>(territoires: &'t TerritoryIndex, q: &str) -> Vec<&'t Commune> {
    let q = q.trim();
    if q.len() == 5 && q.bytes().all(|b| b.is_ascii_digit()) {
        let found = territoires.by_postal_code(q);
        if !found.is_empty() {
            return found;
        }
        return territoires.commune(q).into_iter().collect();
    }
    let found = territoires.search(q, 20);
    let exact: Vec<&Commune> = found
        .iter()
        .filter(|m| m.kind == MatchKind::Exact)
        .map(|m| m.commune)
        .collect();
    if exact.is_empty() {
        found.into_iter().map(|m| m.commune).collect()
    } else {
        exact
    }
}
