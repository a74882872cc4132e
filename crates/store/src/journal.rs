//! The journal: append an entry in the transaction of the change it records, list
//! entries by scope, and verify the hash chain.
//!
//! The database refuses UPDATE and DELETE on `journal` (triggers, migration 0003).
//! `journal_head` holds the number and hash of the last entry: each append starts by
//! moving it, which queues concurrent appenders (a row lock on PostgreSQL, the write lock
//! on SQLite) until the appending transaction ends, so numbers stay contiguous and a
//! rolled-back transaction leaves neither entry nor gap.

use relais_domain::journal::{ChainCheck, Entry, JournalAction, NewEntry, Verification};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now_ms, Backend, Db, StoreError, Tx};

const COLUMNS: &str = "seq, at, action, actor, actor_structure, structure, subject_kind, \
                       subject_id, details, prev_hash, hash";

/// Entries read at once by [`verify`].
const PAGE: i64 = 1_000;

/// Appends `entry` as the next entry, inside `tx`: it is committed, or rolled back, with
/// the change it records. Holds the journal's head until `tx` ends, so keep the
/// transaction short once this is called.
///
/// On SQLite, call this before the transaction's first read of anything, or begin the
/// transaction with a write: a deferred transaction that read first cannot always
/// upgrade to writing while another appender commits.
pub async fn append(tx: &mut Tx, entry: &NewEntry) -> Result<Entry, StoreError> {
    let head =
        sqlx::query("UPDATE journal_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut **tx)
            .await?;
    let (seq, prev_hash): (i64, String) = (head.get(0), head.get(1));
    let sealed = Entry::seal(entry.clone(), seq, now_ms(), &prev_hash);
    sqlx::query(&format!(
        "INSERT INTO journal ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(sealed.seq)
    .bind(sealed.at)
    .bind(sealed.action.as_str())
    .bind(sealed.actor)
    .bind(sealed.actor_structure)
    .bind(sealed.structure)
    .bind(sealed.subject_kind.as_str())
    .bind(sealed.subject_id.as_str())
    .bind(sealed.details.as_str())
    .bind(sealed.prev_hash.as_str())
    .bind(sealed.hash.as_str())
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE journal_head SET hash = $1 WHERE id = 1")
        .bind(sealed.hash.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(sealed)
}

/// Which entries to list; every criterion given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalFilter {
    /// Entries a référent of this structure may read.
    pub structure: Option<i64>,
    /// Entries by this person.
    pub actor: Option<i64>,
    /// Entries about this subject: (kind, id).
    pub subject: Option<(String, String)>,
    pub action: Option<JournalAction>,
    /// Entries older than this one (the cursor of the next page).
    pub before_seq: Option<i64>,
}

/// Up to `limit` entries matching `filter`, newest first.
pub async fn list(db: &Db, filter: &JournalFilter, limit: u32) -> Result<Vec<Entry>, StoreError> {
    enum Param<'a> {
        Int(i64),
        Text(&'a str),
    }
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<Param<'_>> = Vec::new();
    let mut add = |condition: &str, param| {
        params.push(param);
        clauses.push(format!("{condition} ${}", params.len()));
    };
    if let Some(s) = filter.structure {
        add("structure =", Param::Int(s));
    }
    if let Some(a) = filter.actor {
        add("actor =", Param::Int(a));
    }
    if let Some((kind, id)) = &filter.subject {
        add("subject_kind =", Param::Text(kind));
        add("subject_id =", Param::Text(id));
    }
    if let Some(action) = filter.action {
        add("action =", Param::Text(action.as_str()));
    }
    if let Some(before) = filter.before_seq {
        add("seq <", Param::Int(before));
    }
    let filter_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM journal {filter_sql} ORDER BY seq DESC LIMIT ${}",
        params.len() + 1
    );
    let mut query = sqlx::query(&sql);
    for p in params {
        query = match p {
            Param::Int(n) => query.bind(n),
            Param::Text(s) => query.bind(s),
        };
    }
    let rows = query.bind(i64::from(limit)).fetch_all(db.pool()).await?;
    rows.iter()
        .map(|r| {
            read_entry(r).map_err(|action| {
                StoreError::Query(sqlx::Error::Decode(
                    format!("action de journal inconnue : « {action} »").into(),
                ))
            })
        })
        .collect()
}

/// The number and hash of the last entry (0 and 64 zeros when the journal is empty).
pub async fn head(db: &Db) -> Result<(i64, String), StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM journal_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    Ok((row.get(0), row.get(1)))
}

/// Walks every entry in number order, a page at a time, on one consistent snapshot (so
/// that appends running meanwhile are not mistaken for breaks), and finds the first
/// broken entry if any.
pub async fn verify(db: &Db) -> Result<Verification, StoreError> {
    let mut tx = db.begin().await?;
    if db.backend() == Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    // On SQLite the snapshot is taken by this first read and kept until the end.
    let head: Option<(i64, String)> =
        sqlx::query("SELECT seq, hash FROM journal_head WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| (r.get(0), r.get(1)));
    let sql = format!("SELECT {COLUMNS} FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2");
    let mut check = ChainCheck::new();
    let mut after = i64::MIN;
    'pages: loop {
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(PAGE)
            .fetch_all(&mut *tx)
            .await?;
        for row in &rows {
            let going = match read_entry(row) {
                Ok(entry) => check.push(&entry),
                Err(action) => check.push_unknown_action(row.get("seq"), &action),
            };
            if !going {
                break 'pages;
            }
            after = row.get("seq");
        }
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    tx.rollback().await?;
    Ok(check.finish(head.as_ref().map(|(seq, hash)| (*seq, hash.as_str()))))
}

/// An entry, or the action it holds if this version does not know it.
fn read_entry(r: &AnyRow) -> Result<Entry, String> {
    let action: String = r.get("action");
    let action = JournalAction::parse(&action).ok_or(action)?;
    Ok(Entry {
        seq: r.get("seq"),
        at: r.get("at"),
        action,
        actor: r.get("actor"),
        actor_structure: r.get("actor_structure"),
        structure: r.get("structure"),
        subject_kind: r.get("subject_kind"),
        subject_id: r.get("subject_id"),
        details: r.get("details"),
        prev_hash: r.get("prev_hash"),
        hash: r.get("hash"),
    })
}
