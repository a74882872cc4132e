//! Open sessions: resolving a cookie, freshness of the second factor, logout, the
//! structure a session acts as, and the actor behind it.

use relais_domain::authz::{Actor, Membership};
use relais_domain::comptes::sessions::{Session, Stage};
use relais_domain::ids::StructureId;
use relais_domain::journal::JournalAction;
use relais_store::comptes as repo;
use relais_store::comptes::sessions;
use relais_store::{Db, StoreError, journal};

use super::connexion::new_token;
use super::mots_de_passe::sha256_hex;
use super::{Policy, about_person, ms};

/// How often a session's activity (last seen, freshness of the second factor) is written.
pub const TOUCH_EVERY_MS: i64 = 30_000;

/// The session behind a cookie, if it is still alive, and the [`Caller`] behind it once the
/// login is complete (both read in one statement); records the activity.
pub async fn resolve(
    db: &Db,
    policy: &Policy,
    token: &str,
) -> Result<Option<(Session, Option<Caller>)>, StoreError> {
    let now = relais_domain::calendrier::now_ms();
    let hash = sha256_hex(token);
    let Some((mut session, found)) = repo::caller(db, &hash).await? else {
        return Ok(None);
    };
    if session.last_seen_at < now - ms(policy.idle)
        || session.created_at < now - ms(policy.absolute)
    {
        sessions::delete(db, &hash).await?;
        return Ok(None);
    }
    // Activity is written at most every `TOUCH_EVERY_MS`: a write per request would cost
    // more than the request. The second factor stays fresh while the person is active; a
    // pause ends it.
    // (A tenth of the step-up delay at most: a short one must still see the activity.)
    if now - session.last_seen_at >= TOUCH_EVERY_MS.min(ms(policy.step_up) / 10) {
        if session.fresh_until >= now {
            session.fresh_until = now + ms(policy.step_up);
        }
        session.last_seen_at = now;
        sessions::touch(db, &hash, now, session.fresh_until).await?;
    }
    let caller = (session.stage == Stage::Active).then(|| caller_of(&session, found));
    Ok(Some((session, caller)))
}

/// [`resolve`], the session only.
pub async fn resolve_session(
    db: &Db,
    policy: &Policy,
    token: &str,
) -> Result<Option<Session>, StoreError> {
    Ok(resolve(db, policy, token)
        .await?
        .map(|(session, _)| session))
}

/// Whether a sensitive action may go ahead without asking the second factor again.
pub fn is_fresh(session: &Session) -> bool {
    session.fresh_until >= relais_domain::calendrier::now_ms()
}

/// Ends this session.
pub async fn logout(db: &Db, session: &Session) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    journal::append(
        &mut tx,
        &about_person(JournalAction::Logout, session.person_id).by(session.person_id, None),
    )
    .await?;
    sessions::close(&mut tx, &session.token_hash).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// Ends every session of the person (lost device, suspicion).
pub async fn logout_everywhere(db: &Db, session: &Session) -> Result<u64, StoreError> {
    let mut tx = db.begin().await?;
    let entry = about_person(JournalAction::Logout, session.person_id)
        .by(session.person_id, None)
        .with_details("{\"partout\":true}");
    journal::append(&mut tx, &entry).await?;
    let closed = sessions::close_all_of(&mut tx, session.person_id).await?;
    relais_store::commit(tx).await?;
    Ok(closed)
}

/// The structure a session acts as: the one chosen if the person still belongs to it,
/// else their only structure if they have just one.
fn acting_structure(session: &Session, memberships: &[repo::Membership]) -> Option<StructureId> {
    let chosen = session
        .acting_structure
        .filter(|s| memberships.iter().any(|m| m.structure_id == *s));
    let only = memberships
        .first()
        .map(|m| m.structure_id)
        .filter(|first| memberships.iter().all(|m| m.structure_id == *first));
    chosen.or(only)
}

/// Who is logged in, as the page header names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderBadge {
    pub name: String,
    /// The name of the structure they act as.
    pub structure: Option<String>,
}

/// The person behind a complete session: their live roles, and how the header names them.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub badge: HeaderBadge,
}

fn caller_of(session: &Session, found: repo::CallerRow) -> Caller {
    let acting = acting_structure(session, &found.memberships);
    let structure = acting
        .and_then(|s| found.memberships.iter().find(|m| m.structure_id == s))
        .map(|m| m.structure_nom.clone());
    Caller {
        actor: Actor {
            person_id: session.person_id,
            memberships: found
                .memberships
                .iter()
                .map(|m| Membership {
                    structure: m.structure_id,
                    role: m.role,
                })
                .collect(),
            global_roles: found
                .global_roles
                .into_iter()
                .map(|g| (g.role, g.scope))
                .collect(),
            acting_structure: acting,
        },
        badge: HeaderBadge {
            name: format!("{} {}", found.given_name, found.family_name),
            structure,
        },
    }
}

/// Chooses the structure the person acts as (shown in the header). A change of privileges:
/// the session gets a new token, returned (the new cookie value); `None` when the person
/// may not act for it (or the session is gone).
pub async fn act_as(
    db: &Db,
    session: &Session,
    actor: &Actor,
    structure: StructureId,
) -> Result<Option<String>, StoreError> {
    if !actor.may_act_as(structure) {
        return Ok(None);
    }
    let (token, token_hash) = new_token();
    let moved =
        sessions::set_acting_structure(db, &session.token_hash, &token_hash, Some(structure))
            .await?;
    Ok(moved.then_some(token))
}
