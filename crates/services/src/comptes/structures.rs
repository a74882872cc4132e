//! Structures: registering one, reading one.

use relais_domain::authz::StructureAccess;
use relais_domain::comptes::CompteError;
use relais_domain::ids::{PersonId, StructureId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::comptes as repo;
use relais_store::{Db, StoreError, journal};

pub use relais_store::comptes::Structure;

/// The structure the access is to; `None`: it no longer exists.
pub async fn structure(db: &Db, access: &StructureAccess) -> Result<Option<Structure>, StoreError> {
    repo::structure(db, access.structure()).await
}

#[derive(Debug, thiserror::Error)]
pub enum StructureError {
    #[error(transparent)]
    Invalid(#[from] CompteError),
    #[error("la commune « {0} » est inconnue (code INSEE attendu)")]
    UnknownCommune(String),
    #[error("une structure avec ce SIRET existe déjà : demandez à son référent de vous y ajouter")]
    SiretTaken,
    #[error("le nom de la structure est obligatoire")]
    MissingName,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for StructureError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate("siret") => StructureError::SiretTaken,
            e => StructureError::Store(e),
        }
    }
}

/// Registers a structure (SIRET checked, commune known), journaled.
pub async fn create_structure(
    db: &Db,
    siret: &str,
    nom: &str,
    kind: relais_domain::comptes::StructureKind,
    adresse: &str,
    commune: &str,
    by: Option<PersonId>,
) -> Result<StructureId, StructureError> {
    let siret = relais_domain::comptes::Siret::parse(siret)?;
    if nom.trim().is_empty() {
        return Err(StructureError::MissingName);
    }
    // The index refuses a second structure created by hand; one imported from a register
    // is checked here.
    if !repo::structures_by_siret(db, siret.as_str())
        .await?
        .is_empty()
    {
        return Err(StructureError::SiretTaken);
    }
    if !relais_store::territoires::commune_exists(db, commune).await? {
        return Err(StructureError::UnknownCommune(commune.to_string()));
    }
    let mut tx = db.begin().await?;
    let new = repo::NewStructure {
        siret: siret.as_str().to_string(),
        nom: nom.trim().to_string(),
        kind,
        adresse: adresse.trim().to_string(),
        commune: commune.to_string(),
    };
    let id = repo::create_structure(&mut tx, &new, relais_domain::calendrier::now_ms()).await?;
    let entry = NewEntry::new(JournalAction::StructureCreated, "structure", id.to_string())
        .in_structure(id);
    let entry = super::done_by(entry, by);
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(id)
}
