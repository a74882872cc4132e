//! Activités: the statistics every dashboard reads, from the in-memory index kept level
//! with the store.

use std::sync::RwLock;

use relais_domain::activites::statistiques::{Figures, Filtres};
use relais_search::activites::ActivitesIndex;
use relais_store::activites as repo;
use relais_store::{Db, StoreError};

/// Versions read per statement when catching up (a first load reads them all).
const FENETRE: i64 = 50_000;

/// The statistics index of one process, shared by its requests.
#[derive(Default)]
pub struct Statistiques {
    index: RwLock<ActivitesIndex>,
    /// One catch-up at a time: the others wait for it rather than read the same rows.
    rattrapage: tokio::sync::Mutex<()>,
}

impl Statistiques {
    pub fn new() -> Statistiques {
        Statistiques::default()
    }

    fn version(&self) -> i64 {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .version()
    }

    /// Reads every write the index has not seen yet; returns how many activities it read.
    pub async fn rattraper(&self, db: &Db) -> Result<usize, StoreError> {
        let derniere = repo::derniere_version(db).await?;
        if derniere <= self.version() {
            return Ok(0);
        }
        let _one = self.rattrapage.lock().await;
        let mut lues = 0;
        let mut apres = self.version();
        while apres < derniere {
            let jusqu_a = (apres + FENETRE).min(derniere);
            let ecritures = repo::ecritures(db, apres, jusqu_a).await?;
            lues += ecritures.len();
            let mut index = self
                .index
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for e in ecritures {
                index.appliquer(e.version, e.activite, &e.participations);
            }
            index.avancer(jusqu_a);
            apres = jusqu_a;
        }
        Ok(lues)
    }

    /// The figures `filtres` asks, with every write committed before the call.
    pub async fn figures(&self, db: &Db, filtres: &Filtres) -> Result<Figures, StoreError> {
        self.rattraper(db).await?;
        Ok(self
            .index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .figures(filtres))
    }

    /// Activities and participations held.
    pub fn taille(&self) -> (usize, usize) {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .taille()
    }
}
