//! One lieu as its page shows it: the stored row read back into a `Lieu`, its opening
//! hours read once.

use std::collections::BTreeMap;

use relais_domain::horaires::Horaires;
use relais_domain::ids::LieuId;
use relais_domain::lieux::{Lieu, SchemaVersion, read_row};
use relais_store::lieux::{self as repo, StoredLieu};
use relais_store::{Db, StoreError};

pub struct Fiche {
    pub lieu: Lieu,
    pub stored: StoredLieu,
    /// `None`: no hours given; `Some(Err)`: given but unreadable (shown as given).
    pub horaires: Option<Result<Horaires, String>>,
    /// Field name → source.
    pub provenance: BTreeMap<String, String>,
    /// The structures of the register it belongs to: (id, name).
    pub structures: Vec<(relais_domain::ids::StructureId, String)>,
}

/// The lieu `id`, if it exists; the id of a lieu absorbed by a merge gives the merged
/// lieu (`stored.id` says which). A stored row that no longer reads (it was written by
/// this version) is an internal error, not a missing lieu.
pub async fn fiche(db: &Db, id: &LieuId) -> Result<Option<Fiche>, StoreError> {
    let Some(stored) = repo::lieu_or_alias(db, id).await? else {
        return Ok(None);
    };
    let row: BTreeMap<String, String> = serde_json::from_str(&stored.data)
        .map_err(|e| StoreError::Corrupt(format!("lieu {id} : {e}")))?;
    let lieu = read_row(&row, SchemaVersion::V1)
        .map_err(|r| StoreError::Corrupt(format!("lieu {id} : {:?}", r.errors)))?
        .lieu;
    let horaires = lieu
        .horaires
        .as_deref()
        .map(|h| Horaires::parse(h).map_err(|e| e.to_string()));
    let provenance = serde_json::from_str(&stored.provenance).unwrap_or_default();
    let structures = relais_store::comptes::registre::structures_of_lieu(db, &stored.id).await?;
    Ok(Some(Fiche {
        lieu,
        stored,
        horaires,
        provenance,
        structures,
    }))
}
