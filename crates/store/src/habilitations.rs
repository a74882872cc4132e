//! Habilitation requests, their candidates and messages.

use relais_domain::habilitations::RequestStatus;
use sqlx::Row;

use crate::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: i64,
    pub structure_id: i64,
    pub requested_by: i64,
    pub status: RequestStatus,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: i64,
    pub request_id: i64,
    pub person_id: i64,
    pub training_hours: Option<i64>,
    pub skills_test_at: Option<i64>,
    pub activated_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub author_id: i64,
    pub body: String,
    pub created_at: i64,
}

pub async fn create_request(
    tx: &mut Tx,
    structure: i64,
    by: i64,
    commitments: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO habilitation_requests (structure_id, requested_by, status, commitments, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(structure)
    .bind(by)
    .bind(RequestStatus::Submitted.as_str())
    .bind(commitments)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.get(0))
}

pub async fn add_candidate(tx: &mut Tx, request: i64, person: i64) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO habilitation_candidates (request_id, person_id) VALUES ($1, $2) RETURNING id",
    )
    .bind(request)
    .bind(person)
    .fetch_one(&mut **tx)
    .await
    .map_err(crate::db::duplicate_as("aidant"))?;
    Ok(row.get(0))
}

pub async fn request(db: &Db, id: i64) -> Result<Option<Request>, StoreError> {
    let row = sqlx::query(
        "SELECT id, structure_id, requested_by, status, created_at, decided_at FROM habilitation_requests WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.and_then(|r| {
        Some(Request {
            id: r.get(0),
            structure_id: r.get(1),
            requested_by: r.get(2),
            status: RequestStatus::parse(r.get::<&str, _>(3))?,
            created_at: r.get(4),
            decided_at: r.get(5),
        })
    }))
}

/// Moves the request from `from` to `to`; false if another decision got there first.
pub async fn set_status(
    tx: &mut Tx,
    id: i64,
    from: RequestStatus,
    to: RequestStatus,
    by: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE habilitation_requests SET status = $3, decided_by = $4, decided_at = $5 WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(by)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn candidates(db: &Db, request: i64) -> Result<Vec<Candidate>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, request_id, person_id, training_hours, skills_test_at, activated_at \
         FROM habilitation_candidates WHERE request_id = $1 ORDER BY id",
    )
    .bind(request)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Candidate {
            id: r.get(0),
            request_id: r.get(1),
            person_id: r.get(2),
            training_hours: r.get(3),
            skills_test_at: r.get(4),
            activated_at: r.get(5),
        })
        .collect())
}

pub async fn record_training(
    tx: &mut Tx,
    candidate: i64,
    hours: i64,
    date: i64,
    organisation: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE habilitation_candidates SET training_hours = $2, training_date = $3, training_organisation = $4 WHERE id = $1",
    )
    .bind(candidate)
    .bind(hours)
    .bind(date)
    .bind(organisation)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn record_skills_test(
    tx: &mut Tx,
    candidate: i64,
    at: i64,
    score: Option<i64>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE habilitation_candidates SET skills_test_at = $2, skills_test_score = $3 WHERE id = $1")
        .bind(candidate)
        .bind(at)
        .bind(score)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn mark_activated(tx: &mut Tx, candidate: i64, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE habilitation_candidates SET activated_at = $2 WHERE id = $1 AND activated_at IS NULL")
        .bind(candidate)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn add_message(
    tx: &mut Tx,
    request: i64,
    author: i64,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO habilitation_messages (request_id, author_id, body, created_at) VALUES ($1, $2, $3, $4)")
        .bind(request)
        .bind(author)
        .bind(body)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn messages(db: &Db, request: i64) -> Result<Vec<Message>, StoreError> {
    let rows = sqlx::query(
        "SELECT author_id, body, created_at FROM habilitation_messages WHERE request_id = $1 ORDER BY created_at, id",
    )
    .bind(request)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Message {
            author_id: r.get(0),
            body: r.get(1),
            created_at: r.get(2),
        })
        .collect())
}

/// One request as listed and shown: with its structure's name and its number of candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub id: i64,
    pub structure_id: i64,
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

fn request_line(r: &sqlx::any::AnyRow) -> Option<RequestLine> {
    Some(RequestLine {
        id: r.get(0),
        structure_id: r.get(1),
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
    structure: i64,
) -> Result<Vec<RequestLine>, StoreError> {
    let rows = sqlx::query(&format!(
        "{REQUEST_LINE} WHERE r.structure_id = $1 ORDER BY r.created_at DESC, r.id DESC"
    ))
    .bind(structure)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().filter_map(request_line).collect())
}

/// Every request, or those in `status`, oldest first (the order they wait to be decided in).
pub async fn requests_by_status(
    db: &Db,
    status: Option<RequestStatus>,
) -> Result<Vec<RequestLine>, StoreError> {
    let rows = match status {
        Some(status) => {
            sqlx::query(&format!(
                "{REQUEST_LINE} WHERE r.status = $1 ORDER BY r.created_at, r.id"
            ))
            .bind(status.as_str())
            .fetch_all(db.pool())
            .await?
        }
        None => {
            sqlx::query(&format!("{REQUEST_LINE} ORDER BY r.created_at, r.id"))
                .fetch_all(db.pool())
                .await?
        }
    };
    Ok(rows.iter().filter_map(request_line).collect())
}

pub async fn request_with_structure(db: &Db, id: i64) -> Result<Option<RequestLine>, StoreError> {
    let row = sqlx::query(&format!("{REQUEST_LINE} WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.as_ref().and_then(request_line))
}

/// A candidate with their name and everything recorded about their habilitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateLine {
    pub person_id: i64,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub training_hours: Option<i64>,
    pub training_date: Option<i64>,
    pub training_organisation: Option<String>,
    pub skills_test_at: Option<i64>,
    pub skills_test_score: Option<i64>,
    pub activated_at: Option<i64>,
}

pub async fn candidate_lines(db: &Db, request: i64) -> Result<Vec<CandidateLine>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.person_id, p.email, p.given_name, p.family_name, c.training_hours, c.training_date, \
         c.training_organisation, c.skills_test_at, c.skills_test_score, c.activated_at \
         FROM habilitation_candidates c JOIN persons p ON p.id = c.person_id \
         WHERE c.request_id = $1 ORDER BY c.id",
    )
    .bind(request)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| CandidateLine {
            person_id: r.get(0),
            email: r.get(1),
            given_name: r.get(2),
            family_name: r.get(3),
            training_hours: r.get(4),
            training_date: r.get(5),
            training_organisation: r.get(6),
            skills_test_at: r.get(7),
            skills_test_score: r.get(8),
            activated_at: r.get(9),
        })
        .collect())
}

/// A message of the thread, with its author's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadMessage {
    pub author_id: i64,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

pub async fn thread(db: &Db, request: i64) -> Result<Vec<ThreadMessage>, StoreError> {
    let rows = sqlx::query(
        "SELECT m.author_id, p.given_name, p.family_name, m.body, m.created_at \
         FROM habilitation_messages m JOIN persons p ON p.id = m.author_id \
         WHERE m.request_id = $1 ORDER BY m.created_at, m.id",
    )
    .bind(request)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| ThreadMessage {
            author_id: r.get(0),
            author: format!("{} {}", r.get::<String, _>(1), r.get::<String, _>(2)),
            body: r.get(3),
            created_at: r.get(4),
        })
        .collect())
}
