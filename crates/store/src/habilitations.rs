//! Habilitation requests, their candidates and messages.

use relais_domain::habilitations::RequestStatus;
use relais_domain::ids::{CandidateId, HabilitationRequestId, PersonId, StructureId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::comptes::{all_where, one_where};
use crate::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: HabilitationRequestId,
    pub structure_id: StructureId,
    pub requested_by: PersonId,
    pub status: RequestStatus,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

/// A new request, as the référent submits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest<'a> {
    pub structure: StructureId,
    pub by: PersonId,
    /// The accepted commitments' codes, space-separated.
    pub commitments: &'a str,
}

pub async fn create_request(
    tx: &mut Tx,
    new: &NewRequest<'_>,
    now: i64,
) -> Result<HabilitationRequestId, StoreError> {
    let row = statement!(
        "INSERT INTO habilitation_requests (structure_id, requested_by, status, commitments, \
         created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        new.structure.0,
        new.by.0,
        RequestStatus::Submitted.as_str(),
        new.commitments,
        now,
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(HabilitationRequestId(row.get(0)))
}

pub async fn add_candidate(
    tx: &mut Tx,
    request: HabilitationRequestId,
    person: PersonId,
) -> Result<CandidateId, StoreError> {
    let row = statement!(
        "INSERT INTO habilitation_candidates (request_id, person_id) VALUES ($1, $2) RETURNING id",
        request.0,
        person.0
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(crate::db::duplicate_as("aidant"))?;
    Ok(CandidateId(row.get(0)))
}

fn request_from(r: &AnyRow) -> Option<Request> {
    Some(Request {
        id: HabilitationRequestId(r.get(0)),
        structure_id: StructureId(r.get(1)),
        requested_by: PersonId(r.get(2)),
        status: RequestStatus::parse(r.get::<&str, _>(3))?,
        created_at: r.get(4),
        decided_at: r.get(5),
    })
}

pub async fn request(db: &Db, id: HabilitationRequestId) -> Result<Option<Request>, StoreError> {
    Ok(one_where(
        db,
        "SELECT id, structure_id, requested_by, status, created_at, decided_at FROM habilitation_requests WHERE id = $1",
        id.0,
        request_from,
    )
    .await?
    .flatten())
}

/// Moves the request from `from` to `to`; false if another decision got there first.
pub async fn set_status(
    tx: &mut Tx,
    id: HabilitationRequestId,
    from: RequestStatus,
    to: RequestStatus,
    by: PersonId,
    now: i64,
) -> Result<bool, StoreError> {
    let done = statement!(
        "UPDATE habilitation_requests SET status = $3, decided_by = $4, decided_at = $5 WHERE id \
         = $1 AND status = $2",
        id.0,
        from.as_str(),
        to.as_str(),
        by.0,
        now,
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A candidate's training, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingRecord<'a> {
    pub hours: i64,
    /// Unix ms of the session.
    pub date: i64,
    pub organisation: &'a str,
}

pub async fn record_training(
    tx: &mut Tx,
    candidate: CandidateId,
    training: &TrainingRecord<'_>,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE habilitation_candidates SET training_hours = $2, training_date = $3, \
         training_organisation = $4 WHERE id = $1",
        candidate.0,
        training.hours,
        training.date,
        training.organisation,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn record_skills_test(
    tx: &mut Tx,
    candidate: CandidateId,
    at: i64,
    score: Option<i64>,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE habilitation_candidates SET skills_test_at = $2, skills_test_score = $3 WHERE id \
         = $1",
        candidate.0,
        at,
        score,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn mark_activated(
    tx: &mut Tx,
    candidate: CandidateId,
    now: i64,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE habilitation_candidates SET activated_at = $2 WHERE id = $1 AND activated_at IS \
         NULL",
        candidate.0,
        now,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn add_message(
    tx: &mut Tx,
    request: HabilitationRequestId,
    author: PersonId,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO habilitation_messages (request_id, author_id, body, created_at) VALUES ($1, \
         $2, $3, $4)",
        request.0,
        author.0,
        body,
        now,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One request as listed and shown: with its structure's name and its number of candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub id: HabilitationRequestId,
    pub structure_id: StructureId,
    pub structure_nom: String,
    pub status: RequestStatus,
    /// The accepted commitments' codes, space-separated.
    pub commitments: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    pub candidates: i64,
}

const REQUEST_LINE: &str = "SELECT r.id, r.structure_id, s.nom, r.status, r.commitments, r.created_at, r.decided_at, \
     (SELECT COUNT(*) FROM habilitation_candidates c WHERE c.request_id = r.id) \
     FROM habilitation_requests r JOIN structures s ON s.id = r.structure_id";

fn request_line(r: &AnyRow) -> Option<RequestLine> {
    Some(RequestLine {
        id: HabilitationRequestId(r.get(0)),
        structure_id: StructureId(r.get(1)),
        structure_nom: r.get(2),
        status: RequestStatus::parse(r.get::<&str, _>(3))?,
        commitments: r.get(4),
        created_at: r.get(5),
        decided_at: r.get(6),
        candidates: r.get(7),
    })
}

/// A structure's requests, newest first.
pub async fn requests_of_structure(
    db: &Db,
    structure: StructureId,
) -> Result<Vec<RequestLine>, StoreError> {
    let sql =
        format!("{REQUEST_LINE} WHERE r.structure_id = $1 ORDER BY r.created_at DESC, r.id DESC");
    Ok(all_where(db, &sql, structure.0, request_line)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// Every request, or those in `status`, oldest first (the order they wait to be decided in).
pub async fn requests_by_status(
    db: &Db,
    status: Option<RequestStatus>,
) -> Result<Vec<RequestLine>, StoreError> {
    // No status: `$1` is NULL and every request matches.
    let sql = format!(
        "{REQUEST_LINE} WHERE (CAST($1 AS TEXT) IS NULL OR r.status = $1) ORDER BY r.created_at, r.id"
    );
    Ok(
        all_where(db, &sql, status.map(RequestStatus::as_str), request_line)
            .await?
            .into_iter()
            .flatten()
            .collect(),
    )
}

pub async fn request_with_structure(
    db: &Db,
    id: HabilitationRequestId,
) -> Result<Option<RequestLine>, StoreError> {
    let sql = format!("{REQUEST_LINE} WHERE r.id = $1");
    Ok(one_where(db, &sql, id.0, request_line).await?.flatten())
}

/// A candidate with their name and everything recorded about their habilitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateLine {
    pub id: CandidateId,
    pub person_id: PersonId,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub training_hours: Option<i64>,
    pub training_date: Option<i64>,
    pub training_organisation: Option<String>,
    pub skills_test_at: Option<i64>,
    pub skills_test_score: Option<i64>,
    pub activated_at: Option<i64>,
    /// When the person set up their second factor.
    pub totp_enrolled_at: Option<i64>,
}

pub async fn candidate_lines(
    db: &Db,
    request: HabilitationRequestId,
) -> Result<Vec<CandidateLine>, StoreError> {
    all_where(
        db,
        "SELECT c.id, c.person_id, p.email, p.given_name, p.family_name, c.training_hours, c.training_date, \
         c.training_organisation, c.skills_test_at, c.skills_test_score, c.activated_at, p.totp_enrolled_at \
         FROM habilitation_candidates c JOIN persons p ON p.id = c.person_id \
         WHERE c.request_id = $1 ORDER BY c.id",
        request.0,
        |r| CandidateLine {
            id: CandidateId(r.get(0)),
            person_id: PersonId(r.get(1)),
            email: r.get(2),
            given_name: r.get(3),
            family_name: r.get(4),
            training_hours: r.get(5),
            training_date: r.get(6),
            training_organisation: r.get(7),
            skills_test_at: r.get(8),
            skills_test_score: r.get(9),
            activated_at: r.get(10),
            totp_enrolled_at: r.get(11),
        },
    )
    .await
}

/// A message of the thread, with its author's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadMessage {
    pub author_id: PersonId,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

pub async fn thread(
    db: &Db,
    request: HabilitationRequestId,
) -> Result<Vec<ThreadMessage>, StoreError> {
    all_where(
        db,
        "SELECT m.author_id, p.given_name, p.family_name, m.body, m.created_at \
         FROM habilitation_messages m JOIN persons p ON p.id = m.author_id \
         WHERE m.request_id = $1 ORDER BY m.created_at, m.id",
        request.0,
        |r| ThreadMessage {
            author_id: PersonId(r.get(0)),
            author: format!("{} {}", r.get::<String, _>(1), r.get::<String, _>(2)),
            body: r.get(3),
            created_at: r.get(4),
        },
    )
    .await
}
