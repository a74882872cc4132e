//! Structures, people, their roles, second-factor state and recovery codes.

pub mod invitations;
pub mod password_reset;
pub mod proconnect;
pub mod registre;
pub mod sessions;

use relais_domain::comptes::registre::StructureLabel;
use relais_domain::comptes::sessions::{Session, Stage};
use relais_domain::comptes::{GlobalRole, Role, StructureKind};
use relais_domain::ids::{PersonId, StructureId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::duplicate_as;
use crate::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStructure {
    pub siret: String,
    pub nom: String,
    pub kind: StructureKind,
    pub adresse: String,
    pub commune: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structure {
    pub id: StructureId,
    pub siret: String,
    pub nom: String,
    pub kind: StructureKind,
    pub adresse: String,
    pub commune: String,
    pub deactivated_at: Option<i64>,
    pub labels: Vec<StructureLabel>,
    pub qpv: Option<bool>,
    pub zrr: Option<bool>,
    /// The register it was imported from and its id there; `None` when created by hand.
    pub source: Option<(String, String)>,
}

/// A person as the login needs them: credentials and lock state included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub password_hash: Option<String>,
    pub totp_secret: Option<String>,
    pub totp_enrolled_at: Option<i64>,
    pub proconnect_sub: Option<String>,
    /// The SIRET ProConnect gave at their last ProConnect login.
    pub proconnect_siret: Option<String>,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub deactivated_at: Option<i64>,
}

/// A live role of a person in a structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub structure_id: StructureId,
    pub structure_nom: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalGrant {
    pub role: GlobalRole,
    pub scope: String,
}

/// A member of a structure's team and their live roles there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMember {
    pub person_id: PersonId,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub roles: Vec<Role>,
    pub locked_until: Option<i64>,
    pub deactivated_at: Option<i64>,
}

pub(crate) const SELECT_STRUCTURE: &str = "SELECT id, siret, nom, kind, adresse, commune, \
     deactivated_at, labels, qpv, zrr, source, source_id FROM structures";
pub(crate) const SELECT_PERSON: &str = "SELECT id, email, given_name, family_name, password_hash, totp_secret, \
     totp_enrolled_at, proconnect_sub, failed_logins, locked_until, deactivated_at, \
     proconnect_siret FROM persons";

pub(crate) fn structure_from(r: &AnyRow) -> Structure {
    Structure {
        id: StructureId(r.get(0)),
        siret: r.get(1),
        nom: r.get(2),
        kind: StructureKind::parse(r.get::<&str, _>(3)).unwrap_or(StructureKind::Autre),
        adresse: r.get(4),
        commune: r.get(5),
        deactivated_at: r.get(6),
        labels: StructureLabel::split(r.get(7)),
        qpv: r.get::<Option<i64>, _>(8).map(|v| v != 0),
        zrr: r.get::<Option<i64>, _>(9).map(|v| v != 0),
        source: r
            .get::<Option<String>, _>(10)
            .zip(r.get::<Option<String>, _>(11)),
    }
}

pub(crate) fn person_from(r: &AnyRow) -> Person {
    Person {
        id: PersonId(r.get(0)),
        email: r.get(1),
        given_name: r.get(2),
        family_name: r.get(3),
        password_hash: r.get(4),
        totp_secret: r.get(5),
        totp_enrolled_at: r.get(6),
        proconnect_sub: r.get(7),
        failed_logins: r.get(8),
        locked_until: r.get(9),
        deactivated_at: r.get(10),
        proconnect_siret: r.get(11),
    }
}

/// Every row of `sql` whose `$1` is `key`, read by `from`.
pub(crate) async fn all_where<'q, T>(
    db: &Db,
    sql: &'q str,
    key: impl sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'q,
    from: fn(&AnyRow) -> T,
) -> Result<Vec<T>, StoreError> {
    Ok(statement!(sql, key)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(from)
        .collect())
}

/// The row of `sql` whose `$1` is `key` (a unique key), if there is one, read by `from`.
pub(crate) async fn one_where<'q, T>(
    db: &Db,
    sql: &'q str,
    key: impl sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'q,
    from: fn(&AnyRow) -> T,
) -> Result<Option<T>, StoreError> {
    Ok(all_where(db, sql, key, from).await?.into_iter().next())
}

pub async fn create_structure(
    tx: &mut Tx,
    s: &NewStructure,
    now: i64,
) -> Result<StructureId, StoreError> {
    let row = statement!(
        "INSERT INTO structures (siret, nom, kind, adresse, commune, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        &s.siret,
        &s.nom,
        s.kind.as_str(),
        &s.adresse,
        &s.commune,
        now
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(duplicate_as("siret"))?;
    Ok(StructureId(row.get(0)))
}

/// The row of `select` (a `SELECT … FROM …`) whose `column` is `key`, read by `from`.
pub(crate) async fn row_by<T>(
    db: &Db,
    select: &str,
    column: &str,
    key: impl for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'static,
    from: fn(&AnyRow) -> T,
) -> Result<Option<T>, StoreError> {
    one_where(db, &format!("{select} WHERE {column} = $1"), key, from).await
}

pub async fn structure(db: &Db, id: StructureId) -> Result<Option<Structure>, StoreError> {
    row_by(db, SELECT_STRUCTURE, "id", id.0, structure_from).await
}

/// The structures of a SIRET: one created by hand, or the units a register lists under it.
pub async fn structures_by_siret(db: &Db, siret: &str) -> Result<Vec<Structure>, StoreError> {
    all_where(
        db,
        &format!("{SELECT_STRUCTURE} WHERE siret = $1 ORDER BY id"),
        siret.to_string(),
        structure_from,
    )
    .await
}

pub async fn create_person(
    tx: &mut Tx,
    email: &str,
    given_name: &str,
    family_name: &str,
    password_hash: Option<&str>,
    now: i64,
) -> Result<PersonId, StoreError> {
    let row = statement!(
        "INSERT INTO persons (email, given_name, family_name, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        email,
        given_name,
        family_name,
        password_hash,
        now
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(duplicate_as("email"))?;
    Ok(PersonId(row.get(0)))
}

pub async fn person(db: &Db, id: PersonId) -> Result<Option<Person>, StoreError> {
    row_by(db, SELECT_PERSON, "id", id.0, person_from).await
}

pub async fn person_by_email(db: &Db, email: &str) -> Result<Option<Person>, StoreError> {
    row_by(db, SELECT_PERSON, "email", email.to_string(), person_from).await
}

pub async fn set_password(tx: &mut Tx, person: PersonId, hash: &str) -> Result<(), StoreError> {
    statement!(
        "UPDATE persons SET password_hash = $2 WHERE id = $1",
        person.0,
        hash
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keeps the secret shown in the enrolment QR code until the first code confirms it.
pub async fn set_pending_totp(
    db: &Db,
    person: PersonId,
    secret_hex: &str,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE persons SET totp_secret = $2 WHERE id = $1 AND totp_enrolled_at IS NULL",
        person.0,
        secret_hex
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Stores the enrolled second factor and its recovery codes (replacing older ones).
pub async fn enroll_totp(
    tx: &mut Tx,
    person: PersonId,
    secret_hex: &str,
    first_step: i64,
    recovery_hashes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE persons SET totp_secret = $2, totp_enrolled_at = $3, totp_last_step = $4 WHERE id \
         = $1",
        person.0,
        secret_hex,
        now,
        first_step,
    )
    .execute(&mut **tx)
    .await?;
    statement!("DELETE FROM recovery_codes WHERE person_id = $1", person.0)
        .execute(&mut **tx)
        .await?;
    for hash in recovery_hashes {
        statement!(
            "INSERT INTO recovery_codes (person_id, code_hash) VALUES ($1, $2)",
            person.0,
            hash
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Records `step` as the last code used, unless it is not newer than the recorded one:
/// false means a replay (two requests racing with one code cannot both win).
pub async fn use_totp_step(db: &Db, person: PersonId, step: i64) -> Result<bool, StoreError> {
    let done = statement!(
        "UPDATE persons SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR \
         totp_last_step < $2)",
        person.0,
        step,
    )
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn totp_last_step(db: &Db, person: PersonId) -> Result<Option<i64>, StoreError> {
    Ok(
        statement!("SELECT totp_last_step FROM persons WHERE id = $1", person.0)
            .fetch_optional(db.pool())
            .await?
            .and_then(|r| r.get(0)),
    )
}

/// Marks a recovery code used; false if it is unknown or already used.
pub async fn use_recovery_code(
    db: &Db,
    person: PersonId,
    code_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let done = statement!(
        "UPDATE recovery_codes SET used_at = $3 WHERE person_id = $1 AND code_hash = $2 AND \
         used_at IS NULL",
        person.0,
        code_hash,
        now,
    )
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unused_recovery_codes(db: &Db, person: PersonId) -> Result<i64, StoreError> {
    Ok(statement!(
        "SELECT COUNT(*) FROM recovery_codes WHERE person_id = $1 AND used_at IS NULL",
        person.0
    )
    .fetch_one(db.pool())
    .await?
    .get(0))
}

/// Counts a failed login; from `threshold` failures on, locks the account until `lock_until`.
/// Returns the failure count.
pub async fn record_failed_login(
    tx: &mut Tx,
    person: PersonId,
    threshold: i64,
    lock_until: i64,
) -> Result<i64, StoreError> {
    let row = statement!(
        "UPDATE persons SET failed_logins = failed_logins + 1, \
         locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END \
         WHERE id = $1 RETURNING failed_logins",
        person.0,
        threshold,
        lock_until
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.get(0))
}

/// After a successful login or an unlock: no failures, no lock.
pub async fn clear_failed_logins(tx: &mut Tx, person: PersonId) -> Result<(), StoreError> {
    statement!(
        "UPDATE persons SET failed_logins = 0, locked_until = NULL WHERE id = $1",
        person.0
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deactivates a person who left: roles revoked (kept as history), sessions closed.
pub async fn deactivate_person(
    tx: &mut Tx,
    person: PersonId,
    by: Option<PersonId>,
    now: i64,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE persons SET deactivated_at = $2 WHERE id = $1 AND deactivated_at IS NULL",
        person.0,
        now
    )
    .execute(&mut **tx)
    .await?;
    for table in ["memberships", "global_roles"] {
        statement!(&format!(
            "UPDATE {table} SET revoked_at = $2, revoked_by = $3 WHERE person_id = $1 AND revoked_at IS NULL"
        ), person.0, now, by.map(i64::from))
        .execute(&mut **tx)
        .await?;
    }
    statement!("DELETE FROM sessions WHERE person_id = $1", person.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A role given or taken back in a structure: whose, which, by whom and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleChange {
    pub person: PersonId,
    pub structure: StructureId,
    pub role: Role,
    pub by: Option<PersonId>,
    pub at: i64,
}

impl RoleChange {
    /// `sql` with the change bound as `$1` person, `$2` structure, `$3` role, `$4` time,
    /// `$5` by whom.
    fn bound<'q>(&self, sql: &'q str) -> crate::AnyQuery<'q> {
        statement!(
            sql,
            self.person.0,
            self.structure.0,
            self.role.as_str(),
            self.at,
            self.by.map(i64::from)
        )
    }
}

pub async fn grant_role(tx: &mut Tx, c: &RoleChange) -> Result<(), StoreError> {
    c.bound(
        "INSERT INTO memberships (person_id, structure_id, role, granted_at, granted_by) VALUES ($1, $2, $3, $4, $5)",
    )
    .execute(&mut **tx)
    .await
    .map_err(duplicate_as("role"))?;
    Ok(())
}

/// Revokes a live role; false if the person did not hold it.
pub async fn revoke_role(tx: &mut Tx, c: &RoleChange) -> Result<bool, StoreError> {
    let done = c
        .bound(
            "UPDATE memberships SET revoked_at = $4, revoked_by = $5 \
             WHERE person_id = $1 AND structure_id = $2 AND role = $3 AND revoked_at IS NULL",
        )
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn grant_global_role(
    tx: &mut Tx,
    person: PersonId,
    role: GlobalRole,
    scope: &str,
    by: Option<PersonId>,
    now: i64,
) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO global_roles (person_id, role, scope, granted_at, granted_by) VALUES ($1, \
         $2, $3, $4, $5)",
        person.0,
        role.as_str(),
        scope,
        now,
        by.map(i64::from),
    )
    .execute(&mut **tx)
    .await
    .map_err(duplicate_as("role"))?;
    Ok(())
}

/// Live roles of a person in active structures, by structure name.
pub async fn memberships_of(db: &Db, person: PersonId) -> Result<Vec<Membership>, StoreError> {
    let rows = all_where(
        db,
        "SELECT m.structure_id, s.nom, m.role FROM memberships m JOIN structures s ON s.id = m.structure_id \
         WHERE m.person_id = $1 AND m.revoked_at IS NULL AND s.deactivated_at IS NULL ORDER BY s.nom, m.role",
        person.0,
        |r| {
            Role::parse(r.get::<&str, _>(2)).map(|role| Membership {
                structure_id: StructureId(r.get(0)),
                structure_nom: r.get(1),
                role,
            })
        },
    )
    .await?;
    Ok(rows.into_iter().flatten().collect())
}

pub async fn global_roles_of(db: &Db, person: PersonId) -> Result<Vec<GlobalGrant>, StoreError> {
    let rows = all_where(
        db,
        "SELECT role, scope FROM global_roles WHERE person_id = $1 AND revoked_at IS NULL ORDER BY role, scope",
        person.0,
        |r| {
            GlobalRole::parse(r.get::<&str, _>(0)).map(|role| GlobalGrant {
                role,
                scope: r.get(1),
            })
        },
    )
    .await?;
    Ok(rows.into_iter().flatten().collect())
}

/// What every logged-in request needs to know of the person: their name, live memberships
/// (as [`memberships_of`]) and global roles (as [`global_roles_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerRow {
    pub given_name: String,
    pub family_name: String,
    pub memberships: Vec<Membership>,
    pub global_roles: Vec<GlobalGrant>,
}

/// The session of this token hash and the [`CallerRow`] behind it, in one statement (read at
/// every request bearing a session cookie); `None` if there is no such session.
pub async fn caller(db: &Db, token_hash: &str) -> Result<Option<(Session, CallerRow)>, StoreError> {
    // One row for the session and its person, then one per live membership and global
    // role: the columns the three kinds have in common.
    let rows = statement!(
        "SELECT 'p', p.given_name, p.family_name, s.stage, s.ip, s.user_agent, s.person_id, \
         s.acting_structure, s.created_at, s.last_seen_at, s.fresh_until \
         FROM sessions s JOIN persons p ON p.id = s.person_id WHERE s.token_hash = $1 \
         UNION ALL SELECT 'm', st.nom, m.role, NULL, NULL, NULL, m.structure_id, NULL, NULL, \
         NULL, NULL FROM sessions s JOIN memberships m ON m.person_id = s.person_id \
         JOIN structures st ON st.id = m.structure_id WHERE s.token_hash = $1 \
         AND m.revoked_at IS NULL AND st.deactivated_at IS NULL \
         UNION ALL SELECT 'r', g.role, g.scope, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
         FROM sessions s JOIN global_roles g ON g.person_id = s.person_id \
         WHERE s.token_hash = $1 AND g.revoked_at IS NULL ORDER BY 1, 2, 3",
        token_hash
    )
    .fetch_all(db.pool())
    .await?;
    let mut found: Option<(Session, CallerRow)> = None;
    let (mut memberships, mut global_roles) = (Vec::new(), Vec::new());
    for r in &rows {
        let (b, c): (String, String) = (r.get(1), r.get(2));
        match r.get::<&str, _>(0) {
            "p" => {
                // A stage this version does not know: no session.
                let Some(stage) = Stage::parse(r.get::<&str, _>(3)) else {
                    return Ok(None);
                };
                let session = Session {
                    token_hash: token_hash.to_string(),
                    person_id: PersonId(r.get(6)),
                    stage,
                    acting_structure: r.get::<Option<i64>, _>(7).map(StructureId),
                    created_at: r.get(8),
                    last_seen_at: r.get(9),
                    fresh_until: r.get(10),
                    ip: r.get(4),
                    user_agent: r.get(5),
                };
                let caller = CallerRow {
                    given_name: b,
                    family_name: c,
                    memberships: Vec::new(),
                    global_roles: Vec::new(),
                };
                found = Some((session, caller));
            }
            "m" => memberships.extend(Role::parse(&c).map(|role| Membership {
                structure_id: StructureId(r.get(6)),
                structure_nom: b,
                role,
            })),
            _ => global_roles
                .extend(GlobalRole::parse(&b).map(|role| GlobalGrant { role, scope: c })),
        }
    }
    Ok(found.map(|(session, p)| {
        (
            session,
            CallerRow {
                memberships,
                global_roles,
                ..p
            },
        )
    }))
}

/// Everyone who holds or held a role in the structure, with their live roles there.
pub async fn team(db: &Db, structure: StructureId) -> Result<Vec<TeamMember>, StoreError> {
    let rows = statement!(
        "SELECT p.id, p.email, p.given_name, p.family_name, p.deactivated_at, m.role, \
         m.revoked_at, p.locked_until FROM memberships m JOIN persons p ON p.id = m.person_id \
         WHERE m.structure_id = $1 ORDER BY p.family_name, p.given_name, p.id, m.role",
        structure.0,
    )
    .fetch_all(db.pool())
    .await?;
    let mut team: Vec<TeamMember> = Vec::new();
    for r in &rows {
        let id = PersonId(r.get(0));
        if team.last().map(|m| m.person_id) != Some(id) {
            team.push(TeamMember {
                person_id: id,
                email: r.get(1),
                given_name: r.get(2),
                family_name: r.get(3),
                deactivated_at: r.get(4),
                locked_until: r.get(7),
                roles: Vec::new(),
            });
        }
        let revoked: Option<i64> = r.get(6);
        if let (None, Some(role)) = (revoked, Role::parse(r.get::<&str, _>(5))) {
            team.last_mut().expect("pushed above").roles.push(role);
        }
    }
    Ok(team)
}

/// Revokes every live role of the person in the structure (kept as history); returns how many.
pub async fn revoke_all_in(
    tx: &mut Tx,
    person: PersonId,
    structure: StructureId,
    by: Option<PersonId>,
    now: i64,
) -> Result<u64, StoreError> {
    let done = statement!(
        "UPDATE memberships SET revoked_at = $3, revoked_by = $4 \
         WHERE person_id = $1 AND structure_id = $2 AND revoked_at IS NULL",
        person.0,
        structure.0,
        now,
        by.map(i64::from)
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// How many people hold `role` in the structure now (read in the transaction that changes it).
pub async fn live_role_count(
    tx: &mut Tx,
    structure: StructureId,
    role: Role,
) -> Result<i64, StoreError> {
    Ok(statement!(
        "SELECT COUNT(*) FROM memberships WHERE structure_id = $1 AND role = $2 AND revoked_at IS \
         NULL",
        structure.0,
        role.as_str(),
    )
    .fetch_one(&mut **tx)
    .await?
    .get(0))
}

/// Locks the structure's row until the transaction ends, so that two people checking its
/// roles at once (two claims) are served one after the other. On SQLite a transaction
/// holds the database's write lock from its start ([`crate::Db::begin`]): nothing to add.
pub async fn lock_structure(tx: &mut Tx, structure: StructureId) -> Result<(), StoreError> {
    if tx.backend_name() != "SQLite" {
        statement!(
            "SELECT id FROM structures WHERE id = $1 FOR UPDATE",
            structure.0
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Live roles of the person anywhere: memberships and global roles.
pub async fn live_role_total(tx: &mut Tx, person: PersonId) -> Result<i64, StoreError> {
    Ok(statement!(
        "SELECT (SELECT COUNT(*) FROM memberships WHERE person_id = $1 AND revoked_at IS NULL) \
         + (SELECT COUNT(*) FROM global_roles WHERE person_id = $1 AND revoked_at IS NULL)",
        person.0
    )
    .fetch_one(&mut **tx)
    .await?
    .get(0))
}
