//! Invitations of team members: single-use tokens sent by e-mail, of which only the
//! SHA-256 is stored.

use relais_domain::comptes::Role;
use relais_domain::ids::{InvitationId, PersonId, StructureId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    pub structure_id: StructureId,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub role: Role,
    pub invited_by: PersonId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub structure_id: StructureId,
    pub structure_nom: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub role: Role,
    pub invited_by: PersonId,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "i.id, i.structure_id, s.nom, i.email, i.given_name, i.family_name, i.role, \
     i.invited_by, i.created_at, i.expires_at, i.accepted_at, i.revoked_at";

fn invitation_from(r: &AnyRow) -> Invitation {
    Invitation {
        id: InvitationId(r.get(0)),
        structure_id: StructureId(r.get(1)),
        structure_nom: r.get(2),
        email: r.get(3),
        given_name: r.get(4),
        family_name: r.get(5),
        role: Role::parse(r.get::<&str, _>(6)).unwrap_or(Role::Mediateur),
        invited_by: PersonId(r.get(7)),
        created_at: r.get(8),
        expires_at: r.get(9),
        accepted_at: r.get(10),
        revoked_at: r.get(11),
    }
}

pub async fn create(
    tx: &mut Tx,
    new: &NewInvitation,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<InvitationId, StoreError> {
    let row = statement!(
        "INSERT INTO invitations (token_hash, structure_id, email, given_name, family_name, role, \
         invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING id",
        token_hash,
        new.structure_id.0,
        &new.email,
        &new.given_name,
        &new.family_name,
        new.role.as_str(),
        new.invited_by.0,
        now,
        expires_at,
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(InvitationId(row.get(0)))
}

pub async fn by_token(db: &Db, token_hash: &str) -> Result<Option<Invitation>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations i JOIN structures s ON s.id = i.structure_id \
         WHERE i.token_hash = $1"
    );
    super::one_where(db, &sql, token_hash, invitation_from).await
}

/// The structure's invitations neither accepted nor withdrawn (expired ones included), newest first.
pub async fn open_for(db: &Db, structure: StructureId) -> Result<Vec<Invitation>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations i JOIN structures s ON s.id = i.structure_id \
         WHERE i.structure_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
         ORDER BY i.created_at DESC, i.id DESC"
    );
    super::all_where(db, &sql, structure.0, invitation_from).await
}

/// Marks the invitation accepted if it still may be (open and not expired at `now`):
/// false when another request got there first.
pub async fn accept(
    tx: &mut Tx,
    id: InvitationId,
    person: PersonId,
    now: i64,
) -> Result<bool, StoreError> {
    let done = statement!(
        "UPDATE invitations SET accepted_at = $3, accepted_by = $2 \
         WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
        id.0,
        person.0,
        now
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Withdraws an open invitation of the structure; false if there was none.
pub async fn revoke(
    tx: &mut Tx,
    id: InvitationId,
    structure: StructureId,
    now: i64,
) -> Result<bool, StoreError> {
    let done = statement!(
        "UPDATE invitations SET revoked_at = $3 \
         WHERE id = $1 AND structure_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
        id.0,
        structure.0,
        now
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
