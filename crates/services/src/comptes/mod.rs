//! Local accounts: password and second factor, sessions, lockout and rate limits.
//!
//! Every login error a person sees is generic ("adresse ou mot de passe incorrect") and an
//! unknown address takes as long and locks as a known one, so that nobody can tell which
//! addresses have an account.

mod connexion;
pub mod equipe;
pub mod invitations;
mod mots_de_passe;
pub mod password_reset;
pub mod proconnect;
pub mod registre;
mod roles;
mod second_facteur;
mod sessions;
mod structures;

pub use connexion::{LoginError, login_with_password, open_session, unlock, unlock_by_operator};
pub use mots_de_passe::{ARGON2_MEMORY_KIB, ARGON2_PASSES, hash_password, sha256_hex};
pub use roles::{grant_global_role, grant_role};
pub use second_facteur::{
    Enrolled, SecondFactorError, begin_enrolment, confirm_enrolment, verify_second_factor,
};
pub use sessions::{
    Caller, HeaderBadge, act_as, is_fresh, logout, logout_everywhere, resolve, resolve_session,
};
pub use structures::{Structure, StructureError, create_structure, structure};

// Until `web/src/fusions.rs` (lieux area) calls `journal::journal_for_admin`.
#[doc(hidden)]
pub use crate::journal::journal_for_admin;

use std::time::Duration;

use relais_domain::authz::{Actor, StructureAccess};
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{CompteError, Email, Role};
use relais_domain::ids::PersonId;
use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::comptes as repo;
use relais_store::{Db, StoreError, journal};

/// Limits and lifetimes of the login.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Failed passwords for one address within `window` before it is locked.
    pub account_attempts: i64,
    /// Login attempts from one IP address within `window`.
    pub ip_attempts: i64,
    /// Wrong second-factor codes within `window` before the account is locked.
    pub code_attempts: i64,
    pub window: Duration,
    /// A session unused this long is closed.
    pub idle: Duration,
    /// A session is closed this long after login, whatever its use.
    pub absolute: Duration,
    /// Sensitive actions ask for the second factor again after this long without activity.
    pub step_up: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            account_attempts: 5,
            ip_attempts: 30,
            code_attempts: 5,
            window: Duration::from_secs(15 * 60),
            idle: Duration::from_secs(60 * 60),
            absolute: Duration::from_secs(12 * 60 * 60),
            step_up: Duration::from_secs(15 * 60),
        }
    }
}

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] CompteError),
    #[error("cette adresse électronique a déjà un compte")]
    EmailTaken,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate("email") => AccountError::EmailTaken,
            e => AccountError::Store(e),
        }
    }
}

/// The logged-in person's account page: who they are, their live roles in structures.
#[derive(Debug, Clone)]
pub struct Account {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    /// By structure name.
    pub memberships: Vec<repo::Membership>,
}

/// The actor's own account; `None`: the person is gone.
pub async fn account(db: &Db, actor: &Actor) -> Result<Option<Account>, StoreError> {
    let Some(person) = repo::person(db, actor.person_id).await? else {
        return Ok(None);
    };
    let memberships = repo::memberships_of(db, person.id).await?;
    Ok(Some(Account {
        given_name: person.given_name,
        family_name: person.family_name,
        email: person.email,
        memberships,
    }))
}

/// A new local account (the second factor is set up at first login).
pub async fn create_account(
    db: &Db,
    email: &str,
    given_name: &str,
    family_name: &str,
    password: &str,
    by: Option<PersonId>,
) -> Result<PersonId, AccountError> {
    let email = Email::parse(email)?;
    let hash = hash_password(password).await?;
    let now = relais_domain::calendrier::now_ms();
    let mut tx = db.begin().await?;
    let id = repo::create_person(
        &mut tx,
        email.as_str(),
        given_name.trim(),
        family_name.trim(),
        Some(&hash),
        now,
    )
    .await?;
    let entry = done_by(about_person(JournalAction::PersonInvited, id), by);
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(id)
}

/// A session just opened: the cookie value (never stored) and where the login stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub token: String,
    pub stage: Stage,
}

/// Where the request comes from, for rate limits and the list of sessions.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

/// A journal entry about a person (identified by their Relais id).
pub(crate) fn about_person(action: JournalAction, person: impl ToString) -> NewEntry {
    NewEntry::new(action, "personne", person.to_string())
}

/// A role of `person` in the référent's structure, changed by that référent at `at`.
pub(crate) fn role_change(
    access: &StructureAccess,
    person: PersonId,
    role: Role,
    at: i64,
) -> repo::RoleChange {
    repo::RoleChange {
        person,
        structure: access.structure(),
        role,
        by: Some(access.person()),
        at,
    }
}

/// Appends the entry and commits the change with it.
pub(crate) async fn journaled(
    mut tx: relais_store::Tx,
    entry: &NewEntry,
) -> Result<(), StoreError> {
    journal::append(&mut tx, entry).await?;
    relais_store::commit(tx).await
}

/// The entry, done by `by` when a person (not Relais itself) did it.
pub(crate) fn done_by(entry: NewEntry, by: Option<PersonId>) -> NewEntry {
    match by {
        Some(by) => entry.by(by, None),
        None => entry,
    }
}

pub(crate) fn account_bucket(email: &str) -> String {
    format!("connexion:{}", sha256_hex(email))
}

fn ip_bucket(ip: &str) -> String {
    format!("ip:{ip}")
}

pub(crate) fn code_bucket(person: PersonId) -> String {
    format!("code:{person}")
}
