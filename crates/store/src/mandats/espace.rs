//! The usager's space: their sessions, and the uses of their authorizations.

use relais_domain::ids::{AutorisationId, PersonId, UsagerId};
use sqlx::Row;

use crate::{Db, StoreError, Tx};

pub async fn create_session(
    db: &Db,
    token_hash: &str,
    usager: UsagerId,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    statement!("DELETE FROM usager_sessions WHERE expires_at < $1", now)
        .execute(db.pool())
        .await?;
    statement!(
        "INSERT INTO usager_sessions (token_hash, usager_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
        token_hash,
        usager.0,
        now,
        expires_at
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The usager of a live session.
pub async fn session(db: &Db, token_hash: &str, now: i64) -> Result<Option<UsagerId>, StoreError> {
    Ok(statement!(
        "SELECT usager_id FROM usager_sessions WHERE token_hash = $1 AND expires_at > $2",
        token_hash,
        now
    )
    .fetch_optional(db.pool())
    .await?
    .map(|r| UsagerId(r.get(0))))
}

pub async fn close_session(db: &Db, token_hash: &str) -> Result<(), StoreError> {
    statement!(
        "DELETE FROM usager_sessions WHERE token_hash = $1",
        token_hash
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The usager whose FranceConnect `sub` has this salted hash.
pub async fn usager_by_key(db: &Db, sub_hash: &str) -> Result<Option<UsagerId>, StoreError> {
    Ok(
        statement!("SELECT id FROM usagers WHERE sub_hash = $1", sub_hash)
            .fetch_optional(db.pool())
            .await?
            .map(|r| UsagerId(r.get(0))),
    )
}

pub(crate) async fn record_use(
    tx: &mut Tx,
    autorisation: AutorisationId,
    aidant: PersonId,
    client_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO utilisations (autorisation_id, aidant_id, client_id, created_at) \
         VALUES ($1, $2, $3, $4)",
        autorisation.0,
        aidant.0,
        client_id,
        now
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One use of an authorization, as the usager reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utilisation {
    pub at: i64,
    pub autorisation: AutorisationId,
    pub demarche: String,
    pub aidant: String,
    pub structure: String,
    pub service: String,
}

/// Every use of the usager's authorizations, newest first.
pub async fn utilisations_de_l_usager(
    db: &Db,
    usager: UsagerId,
) -> Result<Vec<Utilisation>, StoreError> {
    Ok(statement!(
        "SELECT x.created_at, a.id, a.demarche, p.given_name || ' ' || p.family_name, s.nom, c.nom \
         FROM utilisations x JOIN autorisations a ON a.id = x.autorisation_id \
         JOIN mandats m ON m.id = a.mandat_id JOIN persons p ON p.id = x.aidant_id \
         JOIN structures s ON s.id = m.structure_id JOIN clients_oidc c ON c.client_id = x.client_id \
         WHERE m.usager_id = $1 ORDER BY x.created_at DESC, x.id DESC",
        usager.0
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| Utilisation {
        at: r.get(0),
        autorisation: AutorisationId(r.get(1)),
        demarche: r.get(2),
        aidant: r.get(3),
        structure: r.get(4),
        service: r.get(5),
    })
    .collect())
}

/// The usager's mandates with their structure's name, newest first.
pub async fn mandats_de_l_usager(
    db: &Db,
    usager: UsagerId,
) -> Result<Vec<(super::MandatStocke, String)>, StoreError> {
    let rows = statement!(
        "SELECT m.id, s.nom FROM mandats m JOIN structures s ON s.id = m.structure_id \
         WHERE m.usager_id = $1 ORDER BY m.id DESC",
        usager.0
    )
    .fetch_all(db.pool())
    .await?;
    let mut found = Vec::new();
    for r in rows {
        let id = relais_domain::ids::MandatId(r.get(0));
        if let Some(m) = super::mandat(db, id).await? {
            found.push((m, r.get(1)));
        }
    }
    Ok(found)
}

/// One use of a structure's mandate, as its référents read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtilisationStructure {
    pub at: i64,
    pub aidant_id: PersonId,
    pub aidant: String,
    pub usager_id: UsagerId,
    pub usager: String,
    pub demarche: String,
    pub service: String,
}

/// The uses of the structure's mandates since `since`, newest first, `limit` at most.
pub async fn utilisations_de_la_structure(
    db: &Db,
    structure: relais_domain::ids::StructureId,
    since: i64,
    limit: i64,
) -> Result<Vec<UtilisationStructure>, StoreError> {
    Ok(statement!(
        "SELECT x.created_at, x.aidant_id, p.given_name || ' ' || p.family_name, u.id, \
         u.family_name || ' ' || u.given_name, a.demarche, c.nom \
         FROM utilisations x JOIN autorisations a ON a.id = x.autorisation_id \
         JOIN mandats m ON m.id = a.mandat_id JOIN persons p ON p.id = x.aidant_id \
         JOIN usagers u ON u.id = m.usager_id JOIN clients_oidc c ON c.client_id = x.client_id \
         WHERE m.structure_id = $1 AND x.created_at >= $2 \
         ORDER BY x.created_at DESC, x.id DESC LIMIT $3",
        structure.0,
        since,
        limit
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| UtilisationStructure {
        at: r.get(0),
        aidant_id: PersonId(r.get(1)),
        aidant: r.get(2),
        usager_id: UsagerId(r.get(3)),
        usager: r.get(4),
        demarche: r.get(5),
        service: r.get(6),
    })
    .collect())
}

/// The structure's mandates with their usager, newest first.
pub async fn mandats_de_la_structure(
    db: &Db,
    structure: relais_domain::ids::StructureId,
) -> Result<Vec<(super::MandatStocke, super::Identite)>, StoreError> {
    let rows = statement!(
        "SELECT id, usager_id FROM mandats WHERE structure_id = $1 ORDER BY id DESC",
        structure.0
    )
    .fetch_all(db.pool())
    .await?;
    let mut found = Vec::new();
    for r in rows {
        let (id, usager) = (relais_domain::ids::MandatId(r.get(0)), UsagerId(r.get(1)));
        if let (Some(m), Some(u)) = (
            super::mandat(db, id).await?,
            super::usager(db, usager).await?,
        ) {
            found.push((m, u.identite));
        }
    }
    Ok(found)
}
