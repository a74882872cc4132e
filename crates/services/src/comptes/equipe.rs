//! A référent manages their structure's team: roles granted and removed, people who leave,
//! locked accounts opened again. Each change is journaled in its transaction and readable
//! by the structure's référents.

use relais_domain::authz::StructureAccess;
use relais_domain::calendrier::now_ms;
use relais_domain::comptes::Role;
use relais_domain::ids::PersonId;
use relais_domain::journal::JournalAction;
use relais_store::comptes::{self as repo, TeamMember};
use relais_store::{Db, StoreError, Tx};

use crate::comptes::{about_person, journaled, role_change};

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("cette personne ne fait pas partie de l’équipe")]
    NotInTeam,
    #[error("le rôle d’aidant s’obtient par une demande d’habilitation")]
    AidantNeedsHabilitation,
    #[error("cette personne a déjà ce rôle")]
    AlreadyHeld,
    #[error("cette personne n’a pas ce rôle")]
    NotHeld,
    #[error("la structure doit garder au moins un référent : nommez-en un autre d’abord")]
    LastReferent,
    #[error("choisissez un rôle dans la liste")]
    UnknownRole,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for TeamError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate(_) => TeamError::AlreadyHeld,
            e => TeamError::Store(e),
        }
    }
}

/// Everyone who holds or held a role in the structure.
pub async fn team(db: &Db, access: &StructureAccess) -> Result<Vec<TeamMember>, StoreError> {
    repo::team(db, access.structure()).await
}

/// The member of the team with this id, if there is one (live roles or not).
async fn member(
    db: &Db,
    access: &StructureAccess,
    person: PersonId,
) -> Result<TeamMember, TeamError> {
    repo::team(db, access.structure())
        .await?
        .into_iter()
        .find(|m| m.person_id == person)
        .ok_or(TeamError::NotInTeam)
}

fn entry(
    access: &StructureAccess,
    action: JournalAction,
    person: PersonId,
) -> relais_domain::journal::NewEntry {
    about_person(action, person)
        .by(access.person(), Some(access.structure()))
        .in_structure(access.structure())
}

/// Grants a role (médiateur, prescripteur or référent) to a member of the team.
pub async fn grant(
    db: &Db,
    access: &StructureAccess,
    person: PersonId,
    role: &str,
) -> Result<(), TeamError> {
    let role = Role::parse(role).ok_or(TeamError::UnknownRole)?;
    if role == Role::Aidant {
        return Err(TeamError::AidantNeedsHabilitation);
    }
    let m = member(db, access, person).await?;
    if m.deactivated_at.is_some() || m.roles.is_empty() {
        return Err(TeamError::NotInTeam);
    }
    let mut tx = db.begin().await?;
    repo::grant_role(&mut tx, &role_change(access, person, role, now_ms())).await?;
    let e = entry(access, JournalAction::RoleGranted, person).with_role(role.as_str());
    Ok(journaled(tx, &e).await?)
}

/// Removes one role; the last référent keeps theirs.
pub async fn revoke(
    db: &Db,
    access: &StructureAccess,
    person: PersonId,
    role: &str,
) -> Result<(), TeamError> {
    let role = Role::parse(role).ok_or(TeamError::UnknownRole)?;
    member(db, access, person).await?;
    let now = now_ms();
    let mut tx = db.begin().await?;
    if !repo::revoke_role(&mut tx, &role_change(access, person, role, now)).await? {
        return Err(TeamError::NotHeld);
    }
    keep_a_referent(&mut tx, access).await?;
    let e = entry(access, JournalAction::RoleRevoked, person).with_role(role.as_str());
    Ok(journaled(tx, &e).await?)
}

/// Someone leaves the structure: their roles there end (history kept); if they have no
/// role anywhere else, their account is deactivated and their sessions closed.
pub async fn remove(db: &Db, access: &StructureAccess, person: PersonId) -> Result<(), TeamError> {
    member(db, access, person).await?;
    let now = now_ms();
    let by = Some(access.person());
    let mut tx = db.begin().await?;
    if repo::revoke_all_in(&mut tx, person, access.structure(), by, now).await? == 0 {
        return Err(TeamError::NotInTeam);
    }
    keep_a_referent(&mut tx, access).await?;
    let mut e = entry(access, JournalAction::RoleRevoked, person).with_role("tous");
    if repo::live_role_total(&mut tx, person).await? == 0 {
        repo::deactivate_person(&mut tx, person, by, now).await?;
        e = entry(access, JournalAction::PersonDeactivated, person);
    }
    Ok(journaled(tx, &e).await?)
}

async fn keep_a_referent(tx: &mut Tx, access: &StructureAccess) -> Result<(), TeamError> {
    if repo::live_role_count(tx, access.structure(), Role::Referent).await? == 0 {
        return Err(TeamError::LastReferent);
    }
    Ok(())
}

/// Lifts a lock (wrong passwords or codes) on a member's account.
pub async fn unlock(db: &Db, access: &StructureAccess, person: PersonId) -> Result<(), TeamError> {
    member(db, access, person).await?;
    let person = repo::person(db, person)
        .await?
        .ok_or(TeamError::NotInTeam)?;
    let e = entry(access, JournalAction::AccountUnlocked, person.id);
    crate::comptes::unlock(db, &person, &e).await?;
    Ok(())
}
