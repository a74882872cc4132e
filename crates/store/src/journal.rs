//! The journal: append an entry in the transaction of the change it records, list
//! entries by scope, and verify the hash chain.
//!
//! The database refuses UPDATE and DELETE on `journal` (triggers, migration 0003).
//! `journal_head` holds the number and hash of the last entry: each append moves its
//! number (its hash follows the inserted entry by trigger), which queues concurrent
//! appenders (a row lock on PostgreSQL, the write lock on SQLite) until the appending
//! transaction ends, so numbers stay contiguous and a rolled-back transaction leaves
//! neither entry nor gap. On PostgreSQL the INSERT itself moves the head and seals the
//! entry (migration 0027), so the lock is taken as late as possible; Relais checks the
//! hash it returns.
//!
//! `journal_checkpoints` (migration 0013, append-only too) holds the signed heads.

use relais_domain::calendrier::now_ms;
use relais_domain::ids::{PersonId, StructureId};
use relais_domain::journal::checkpoint::{self, Checkpoint, PublicKey, SigningKey};
use relais_domain::journal::{ChainCheck, Entry, JournalAction, NewEntry, Verification};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::AnyQuery;
use crate::{Backend, Db, StoreError, Tx};

const COLUMNS: &str = "seq, at, action, actor, actor_structure, structure, subject_kind, \
                       subject_id, details, prev_hash, hash";

/// The columns read back: those written, and when the details were blanked.
const READ_COLUMNS: &str = "seq, at, action, actor, actor_structure, structure, subject_kind, \
                            subject_id, details, prev_hash, hash, purge_le";

/// Entries read at once by [`verify`].
const PAGE: i64 = 1_000;

/// Appends `entry` as the next entry, inside `tx`: it is committed, or rolled back, with
/// the change it records. Holds the journal's head until `tx` ends, so keep the
/// transaction short once this is called.
pub async fn append(tx: &mut Tx, entry: &NewEntry) -> Result<Entry, StoreError> {
    let at = now_ms();
    if tx.backend_name() != "SQLite" {
        let row = bind_sealed(statement!(&insert_sealed(1)), at, entry)
            .fetch_one(&mut **tx)
            .await?;
        return sealed_from(&row, entry, at);
    }
    let head =
        sqlx::query("UPDATE journal_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut **tx)
            .await?;
    let (seq, prev_hash): (i64, String) = (head.get(0), head.get(1));
    let sealed = Entry::seal(entry.clone(), seq, at, &prev_hash);
    statement!(
        &format!(
            "INSERT INTO journal ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ),
        sealed.seq,
        sealed.at,
        sealed.content.action.as_str(),
        sealed.content.actor.map(i64::from),
        sealed.content.actor_structure.map(i64::from),
        sealed.content.structure.map(i64::from),
        sealed.content.subject_kind.as_str(),
        sealed.content.subject_id.as_str(),
        sealed.content.details.as_str(),
        sealed.prev_hash.as_str(),
        sealed.hash.as_str()
    )
    .execute(&mut **tx)
    .await?;
    // The head's hash follows by trigger (migration 0025).
    Ok(sealed)
}

/// PostgreSQL: the INSERT of an entry the database seals (migration 0027), its values
/// from `$first` on (see [`bind_sealed`]), returning what [`sealed_from`] reads. For a
/// write that journals itself in the same statement.
pub(crate) fn insert_sealed(first: usize) -> String {
    let p: Vec<String> = (first..first + 8).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO journal (at, action, actor, actor_structure, structure, subject_kind, \
         subject_id, details) VALUES ({}) RETURNING seq, prev_hash, hash",
        p.join(", ")
    )
}

/// Binds the values of [`insert_sealed`].
pub(crate) fn bind_sealed<'q>(q: AnyQuery<'q>, at: i64, entry: &'q NewEntry) -> AnyQuery<'q> {
    q.bind(at)
        .bind(entry.action.as_str())
        .bind(entry.actor.map(i64::from))
        .bind(entry.actor_structure.map(i64::from))
        .bind(entry.structure.map(i64::from))
        .bind(entry.subject_kind.as_str())
        .bind(entry.subject_id.as_str())
        .bind(entry.details.as_str())
}

/// The entry PostgreSQL sealed, from the row [`insert_sealed`] returned; its hash is
/// checked against Relais's own, so that the SQL and `entry_hash` cannot drift apart
/// unnoticed.
pub(crate) fn sealed_from(row: &AnyRow, entry: &NewEntry, at: i64) -> Result<Entry, StoreError> {
    let (seq, prev_hash, hash): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
    let sealed = Entry::seal(entry.clone(), seq, at, &prev_hash);
    if sealed.hash != hash {
        return Err(StoreError::Corrupt(format!(
            "entrée {seq} du journal scellée par PostgreSQL avec un autre hash que celui de Relais"
        )));
    }
    Ok(sealed)
}

/// Appends `entries` in order, inside `tx`, as [`append`] would one by one, in a few
/// statements (rows inserted by the thousand): for work that journals many facts at once,
/// and for filling a journal to measure its verification.
pub async fn append_batch(tx: &mut Tx, entries: &[NewEntry]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let n = entries.len() as i64;
    let head = statement!(
        "UPDATE journal_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash",
        n
    )
    .fetch_one(&mut **tx)
    .await?;
    let (last, mut prev): (i64, String) = (head.get(0), head.get(1));
    let at = now_ms();
    // 11 parameters a row: 1,000 rows stay under both backends' limits.
    for (chunk_index, chunk) in entries.chunks(1_000).enumerate() {
        let first = last - n + 1 + (chunk_index as i64) * 1_000;
        let sealed: Vec<Entry> = chunk
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let s = Entry::seal(e.clone(), first + i as i64, at, &prev);
                prev = s.hash.clone();
                s
            })
            .collect();
        let mut sql = format!("INSERT INTO journal ({COLUMNS}) VALUES ");
        for i in 0..sealed.len() {
            let b = i * 11;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${},${},${},${},${},${},${},${},${},${},${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9,
                b + 10,
                b + 11
            ));
        }
        let mut q = sqlx::query(&sql);
        for e in &sealed {
            q = q
                .bind(e.seq)
                .bind(e.at)
                .bind(e.content.action.as_str())
                .bind(e.content.actor.map(i64::from))
                .bind(e.content.actor_structure.map(i64::from))
                .bind(e.content.structure.map(i64::from))
                .bind(e.content.subject_kind.clone())
                .bind(e.content.subject_id.clone())
                .bind(e.content.details.clone())
                .bind(e.prev_hash.clone())
                .bind(e.hash.clone());
        }
        q.execute(&mut **tx).await?;
    }
    // The head's hash follows the last entry by trigger (migration 0025).
    Ok(())
}

/// Blanks the details of the entries about `subject_kind` `subject_id` written before
/// `avant`, marking them purged at `le`; returns their numbers. The database refuses it for
/// an entry younger than five years at `le`, and any other change (migration 0026); the
/// chain still links through them. On PostgreSQL through `journal_purger`, which runs as
/// the schema's owner: the runtime role may not update the journal.
pub async fn purger(
    tx: &mut Tx,
    backend: Backend,
    subject_kind: &str,
    subject_id: &str,
    le: i64,
    avant: i64,
) -> Result<Vec<i64>, StoreError> {
    let sql = match backend {
        Backend::Postgres => "SELECT journal_purger($1, $2, $3, $4)",
        Backend::Sqlite => {
            "UPDATE journal SET details = '', purge_le = $3 WHERE subject_kind = $1 \
             AND subject_id = $2 AND purge_le IS NULL AND at < $4 RETURNING seq"
        }
    };
    Ok(statement!(sql, subject_kind, subject_id, le, avant)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect())
}

/// Which entries to list; every criterion given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalFilter {
    /// Entries a référent of this structure may read.
    pub structure: Option<StructureId>,
    /// Entries by this person.
    pub actor: Option<PersonId>,
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
        add("structure =", Param::Int(s.0));
    }
    if let Some(a) = filter.actor {
        add("actor =", Param::Int(a.0));
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
        "SELECT {READ_COLUMNS} FROM journal {filter_sql} ORDER BY seq DESC LIMIT ${}",
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
    Ok(verify_with(db, &[], &[]).await?.0)
}

/// [`verify`], also checking every stored checkpoint and the `external` copies (see
/// [`checkpoint::audit`]; `trusted` empty: any valid signature is taken). Returns the
/// verdict and the number of valid checkpoints the entries were checked against.
pub async fn verify_with(
    db: &Db,
    external: &[Checkpoint],
    trusted: &[PublicKey],
) -> Result<(Verification, usize), StoreError> {
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
    let stored = sqlx::query(&format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM journal_checkpoints ORDER BY seq"
    ))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(read_checkpoint)
    .collect::<Vec<_>>();
    let audit = checkpoint::audit(&stored, external, trusted);
    let valid = audit.valid;
    let mut check = ChainCheck::new().with_checkpoints(audit);
    let mut after = i64::MIN;
    'pages: loop {
        let page = read_page(&mut tx, db.backend(), after).await?;
        for read in &page {
            let going = match read {
                Read::Entry(entry) => check.push(entry),
                Read::UnknownAction(seq, action) => check.push_unknown_action(*seq, action),
            };
            if !going {
                break 'pages;
            }
            after = read.seq();
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    tx.rollback().await?;
    let verdict = check.finish(head.as_ref().map(|(seq, hash)| (*seq, hash.as_str())));
    Ok((verdict, valid))
}

/// Reads every entry as [`verify`] does (same pages, one snapshot) without checking
/// anything: the floor a verification cannot go under, for its benchmark. Returns the
/// number of entries.
pub async fn read_all_rows(db: &Db) -> Result<usize, StoreError> {
    let mut tx = db.begin().await?;
    let (mut after, mut n) = (i64::MIN, 0);
    loop {
        let page = read_page(&mut tx, db.backend(), after).await?;
        n += page.len();
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.seq(),
            _ => break,
        }
    }
    tx.rollback().await?;
    Ok(n)
}

/// An entry as read back, or the number and action of one whose action this version does
/// not know.
enum Read {
    Entry(Entry),
    UnknownAction(i64, String),
}

impl Read {
    fn seq(&self) -> i64 {
        match self {
            Read::Entry(e) => e.seq,
            Read::UnknownAction(seq, _) => *seq,
        }
    }
}

/// The columns of a journal row, in `COLUMNS` order.
type Raw = (
    i64,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
);

/// The next `PAGE` entries after `after`, in number order. On SQLite, the page comes as one
/// JSON array that SQLite builds (`json_group_array`): its driver hands rows one at a time
/// from a worker thread, about 8 µs each, and one value for the page costs a fraction of
/// that (docs/BENCHMARKS.md). JSON keeps every text and integer exactly.
async fn read_page(tx: &mut Tx, backend: Backend, after: i64) -> Result<Vec<Read>, StoreError> {
    if backend == Backend::Postgres {
        let sql =
            format!("SELECT {READ_COLUMNS} FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2");
        return Ok(statement!(&sql, after, PAGE)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| match read_entry(row) {
                Ok(entry) => Read::Entry(entry),
                Err(action) => Read::UnknownAction(row.get("seq"), action),
            })
            .collect());
    }
    let sql = format!(
        "SELECT json_group_array(json_array({READ_COLUMNS})) FROM \
         (SELECT {READ_COLUMNS} FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2)"
    );
    let text: String = statement!(&sql, after, PAGE)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
    let mut raws: Vec<Raw> = serde_json::from_str(&text).map_err(|e| {
        StoreError::Corrupt(format!("page du journal après l’entrée {after} : {e}"))
    })?;
    // An aggregate's order is not promised: the numbers give it back.
    raws.sort_by_key(|r| r.0);
    Ok(raws
        .into_iter()
        .map(|r| match JournalAction::parse(&r.2) {
            Some(action) => Read::Entry(Entry {
                seq: r.0,
                at: r.1,
                content: NewEntry {
                    action,
                    actor: r.3.map(PersonId),
                    actor_structure: r.4.map(StructureId),
                    structure: r.5.map(StructureId),
                    subject_kind: r.6,
                    subject_id: r.7,
                    details: r.8,
                },
                prev_hash: r.9,
                hash: r.10,
                purged_at: r.11,
            }),
            None => Read::UnknownAction(r.0, r.2),
        })
        .collect())
}

const CHECKPOINT_COLUMNS: &str = "seq, at, hash, public_key, signature";

/// Signs the head with `key` at `at` and stores it, unless the journal is empty or the
/// head has not moved since the last checkpoint (then `None`). Holds the head meanwhile,
/// so that concurrent callers (several workers) sign it once.
pub async fn checkpoint(
    db: &Db,
    key: &SigningKey,
    at: i64,
) -> Result<Option<Checkpoint>, StoreError> {
    let mut tx = db.begin().await?;
    // A write that changes nothing, to take the head's lock (as appenders do).
    let head = sqlx::query("UPDATE journal_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *tx)
        .await?;
    let (seq, hash): (i64, String) = (head.get(0), head.get(1));
    let last: Option<i64> = sqlx::query("SELECT MAX(seq) FROM journal_checkpoints")
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    if seq == 0 || last.is_some_and(|last| last >= seq) {
        tx.rollback().await?;
        return Ok(None);
    }
    let signed = key.sign(seq, &hash, at);
    statement!(
        &format!(
            "INSERT INTO journal_checkpoints ({CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        ),
        signed.seq,
        signed.at,
        signed.hash.as_str(),
        signed.public_key.as_str(),
        signed.signature.as_str()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(signed))
}

/// Up to `limit` checkpoints of entries after `after_seq`, oldest first.
pub async fn checkpoints(
    db: &Db,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<Checkpoint>, StoreError> {
    let rows = statement!(&format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM journal_checkpoints WHERE seq > $1 ORDER BY seq LIMIT $2"
    ), after_seq, i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(read_checkpoint).collect())
}

fn read_checkpoint(r: &AnyRow) -> Checkpoint {
    Checkpoint {
        seq: r.get("seq"),
        at: r.get("at"),
        hash: r.get("hash"),
        public_key: r.get("public_key"),
        signature: r.get("signature"),
    }
}

/// An entry, or the action it holds if this version does not know it.
fn read_entry(r: &AnyRow) -> Result<Entry, String> {
    let action: String = r.get("action");
    let action = JournalAction::parse(&action).ok_or(action)?;
    Ok(Entry {
        seq: r.get("seq"),
        at: r.get("at"),
        content: NewEntry {
            action,
            actor: r.get::<Option<i64>, _>("actor").map(PersonId),
            actor_structure: r.get::<Option<i64>, _>("actor_structure").map(StructureId),
            structure: r.get::<Option<i64>, _>("structure").map(StructureId),
            subject_kind: r.get("subject_kind"),
            subject_id: r.get("subject_id"),
            details: r.get("details"),
        },
        prev_hash: r.get("prev_hash"),
        hash: r.get("hash"),
        purged_at: r.get("purge_le"),
    })
}
