//! What a hostile operator who can write the database does to the journal, for the tests
//! that prove `journal verify` still finds it.

use relais_domain::journal::{Entry, GENESIS_HASH, NewEntry};
use relais_store::journal::{self, JournalFilter};
use relais_store::{Backend, Db};

/// Drops the triggers that refuse UPDATE, DELETE and TRUNCATE on `journal`.
pub async fn drop_journal_triggers(db: &Db) {
    db.execute_admin(match db.backend() {
        Backend::Sqlite => {
            "DROP TRIGGER journal_append_only_update; DROP TRIGGER journal_append_only_delete;"
        }
        Backend::Postgres => {
            "DROP TRIGGER journal_append_only_update ON journal; \
             DROP TRIGGER journal_append_only_delete ON journal; \
             DROP TRIGGER journal_append_only_truncate ON journal;"
        }
    })
    .await
    .unwrap();
}

/// The same for `journal_checkpoints`.
pub async fn drop_checkpoint_triggers(db: &Db) {
    db.execute_admin(match db.backend() {
        Backend::Sqlite => {
            "DROP TRIGGER journal_checkpoints_append_only_update; \
             DROP TRIGGER journal_checkpoints_append_only_delete;"
        }
        Backend::Postgres => {
            "DROP TRIGGER journal_checkpoints_append_only_row ON journal_checkpoints; \
             DROP TRIGGER journal_checkpoints_append_only_truncate ON journal_checkpoints;"
        }
    })
    .await
    .unwrap();
}

/// Changes entry `seq` with `edit`, then seals it and every later entry again and moves
/// the head: the chain alone is consistent again. The journal's triggers must be dropped.
pub async fn rewrite_chain(db: &Db, seq: i64, edit: impl FnOnce(&mut NewEntry)) {
    let mut entries = journal::list(db, &JournalFilter::default(), u32::MAX)
        .await
        .unwrap();
    entries.reverse();
    let mut edit = Some(edit);
    let mut prev = entries
        .iter()
        .rev()
        .find(|e| e.seq < seq)
        .map_or(GENESIS_HASH, |e| &e.hash)
        .to_string();
    let quote = |s: &str| s.replace('\'', "''");
    let mut sql = String::new();
    for e in entries.iter().filter(|e| e.seq >= seq) {
        let mut content = e.content.clone();
        if e.seq == seq {
            (edit.take().unwrap())(&mut content);
        }
        let forged = Entry::seal(content, e.seq, e.at, &prev);
        sql.push_str(&format!(
            "UPDATE journal SET subject_id = '{}', details = '{}', prev_hash = '{}', hash = '{}' \
             WHERE seq = {};",
            quote(&forged.content.subject_id),
            quote(&forged.content.details),
            forged.prev_hash,
            forged.hash,
            forged.seq
        ));
        prev = forged.hash;
    }
    sql.push_str(&format!(
        "UPDATE journal_head SET hash = '{prev}' WHERE id = 1;"
    ));
    db.execute_admin(&sql).await.unwrap();
}
