//! Roles in a structure and national or territorial roles, granted and journaled.

use relais_domain::comptes::{GlobalRole, Role};
use relais_domain::journal::JournalAction;
use relais_store::comptes as repo;
use relais_store::{Db, StoreError, journal};

use super::about_person;

/// Grants a role in a structure, journaled (readable by the structure's référents).
pub async fn grant_role(
    db: &Db,
    person: i64,
    structure: i64,
    role: Role,
    by: Option<i64>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    repo::grant_role(
        &mut tx,
        person,
        structure,
        role,
        by,
        relais_domain::calendrier::now_ms(),
    )
    .await?;
    let mut entry = about_person(JournalAction::RoleGranted, person)
        .in_structure(structure)
        .with_details(format!("{{\"role\":\"{}\"}}", role.as_str()));
    if let Some(by) = by {
        entry = entry.by(by, None);
    }
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await
}

/// Grants a national or territorial role, journaled.
pub async fn grant_global_role(
    db: &Db,
    person: i64,
    role: GlobalRole,
    scope: &str,
    by: Option<i64>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    repo::grant_global_role(
        &mut tx,
        person,
        role,
        scope,
        by,
        relais_domain::calendrier::now_ms(),
    )
    .await?;
    let mut entry = about_person(JournalAction::RoleGranted, person)
        .with_details(format!("{{\"role\":\"{}\"}}", role.as_str()));
    if let Some(by) = by {
        entry = entry.by(by, None);
    }
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await
}
