//! Roles in a structure and national or territorial roles, granted and journaled.

use relais_domain::comptes::{GlobalRole, Role};
use relais_domain::ids::{PersonId, StructureId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::comptes as repo;
use relais_store::{Db, StoreError};

use super::{about_person, done_by, journaled};

/// Grants a role in a structure, journaled (readable by the structure's référents).
pub async fn grant_role(
    db: &Db,
    person: PersonId,
    structure: StructureId,
    role: Role,
    by: Option<PersonId>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let now = relais_domain::calendrier::now_ms();
    let change = repo::RoleChange {
        person,
        structure,
        role,
        by,
        at: now,
    };
    repo::grant_role(&mut tx, &change).await?;
    let entry = granted(person, role.as_str(), by).in_structure(structure);
    journaled(tx, &entry).await
}

/// Grants a national or territorial role, journaled.
pub async fn grant_global_role(
    db: &Db,
    person: PersonId,
    role: GlobalRole,
    scope: &str,
    by: Option<PersonId>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let now = relais_domain::calendrier::now_ms();
    repo::grant_global_role(&mut tx, person, role, scope, by, now).await?;
    journaled(tx, &granted(person, role.as_str(), by)).await
}

/// The entry of a role granted to `person`.
fn granted(person: PersonId, role: &str, by: Option<PersonId>) -> NewEntry {
    done_by(
        about_person(JournalAction::RoleGranted, person).with_role(role),
        by,
    )
}
