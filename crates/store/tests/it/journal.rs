//! The journal on both backends: the hash chain, appends that commit or roll back with
//! their change, the database refusing changes, forgeries found by `verify`, and
//! concurrent appenders.

use relais_domain::ids::{PersonId, StructureId};
use relais_domain::journal::checkpoint::{Checkpoint, SigningKey};
use relais_domain::journal::{
    BreakKind, Entry, GENESIS_HASH, JournalAction, NewEntry, Verification,
};
use relais_store::journal::{self, JournalFilter};
use relais_store::{Backend, Db};
use relais_testkit::{TestDb, hostile, store_tests};

store_tests!(
    appended_entries_chain_and_verify,
    entries_are_listed_by_scope_newest_first,
    a_rolled_back_change_leaves_no_entry,
    the_database_refuses_to_change_entries,
    an_altered_entry_is_found,
    a_removed_entry_is_found,
    reordered_entries_are_found,
    a_removed_last_entry_is_found,
    a_forged_head_is_found,
    an_unknown_action_is_found,
    verify_reads_page_after_page,
    an_insert_never_replaces_an_entry,
    the_database_refuses_to_change_checkpoints,
    checkpoints_are_signed_when_the_head_moves,
    a_whole_chain_rewrite_is_found_at_its_checkpoint,
    forged_or_removed_checkpoints_are_found,
    a_batch_continues_the_chain,
);

/// A varied entry: `n` picks the action, actor, structure and subject.
fn entry(n: i64) -> NewEntry {
    let action = JournalAction::ALL[n as usize % JournalAction::ALL.len()];
    let e = NewEntry::new(action, "personne", format!("{}", n % 3));
    match n % 4 {
        0 => e,
        1 => e
            .by(PersonId(11), Some(StructureId(100)))
            .in_structure(StructureId(100)),
        2 => e
            .by(PersonId(10), None)
            .in_structure(StructureId(200))
            .with_details(r#"{"motif":"« Accès refusé » — ça arrive","n":2}"#),
        _ => e
            .by(PersonId(11), Some(StructureId(200)))
            .with_details(format!(r#"{{"n":{n}}}"#)),
    }
}

/// Appends `entry(1..=n)`, one transaction each.
async fn append_n(db: &Db, n: i64) -> Vec<Entry> {
    let mut out = Vec::new();
    for i in 1..=n {
        let mut tx = db.begin().await.unwrap();
        out.push(journal::append(&mut tx, &entry(i)).await.unwrap());
        tx.commit().await.unwrap();
    }
    out
}

/// What a forger with the database's owner rights would do first.
async fn broken(db: &Db) -> (i64, BreakKind) {
    match journal::verify(db).await.unwrap() {
        Verification::Broken { seq, reason } => (seq, reason),
        v => panic!("expected a broken journal: {v}"),
    }
}

async fn appended_entries_chain_and_verify(db: Db) {
    assert_eq!(
        journal::verify(&db).await.unwrap(),
        Verification::Intact { entries: 0 }
    );
    assert_eq!(
        journal::head(&db).await.unwrap(),
        (0, GENESIS_HASH.to_string())
    );
    let mut entries = append_n(&db, 4).await;
    // Two entries in one transaction.
    let mut tx = db.begin().await.unwrap();
    entries.push(journal::append(&mut tx, &entry(5)).await.unwrap());
    entries.push(journal::append(&mut tx, &entry(6)).await.unwrap());
    tx.commit().await.unwrap();

    let mut prev = GENESIS_HASH.to_string();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1);
        assert_eq!(e.prev_hash, prev);
        assert_eq!(e.hash, e.computed_hash());
        assert!(e.at > 1_700_000_000_000, "Unix milliseconds: {}", e.at);
        prev.clone_from(&e.hash);
    }
    assert_eq!(journal::head(&db).await.unwrap(), (6, prev));
    // What is read back is exactly what was written (NULLs, accents, JSON text).
    let mut back = journal::list(&db, &JournalFilter::default(), 100)
        .await
        .unwrap();
    back.reverse();
    assert_eq!(back, entries);
    let v = journal::verify(&db).await.unwrap();
    assert_eq!(v, Verification::Intact { entries: 6 });
    assert_eq!(v.to_string(), "Journal intègre : 6 entrées vérifiées.");
}

async fn entries_are_listed_by_scope_newest_first(db: Db) {
    append_n(&db, 12).await;
    let seqs = |filter: JournalFilter, limit| {
        let db = db.clone();
        async move {
            journal::list(&db, &filter, limit)
                .await
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        seqs(JournalFilter::default(), 3).await,
        vec![12, 11, 10],
        "newest first"
    );
    assert_eq!(
        seqs(
            JournalFilter {
                before_seq: Some(10),
                ..Default::default()
            },
            3
        )
        .await,
        vec![9, 8, 7],
        "the next page"
    );
    assert_eq!(
        seqs(
            JournalFilter {
                structure: Some(StructureId(100)),
                ..Default::default()
            },
            100
        )
        .await,
        vec![9, 5, 1]
    );
    assert_eq!(
        seqs(
            JournalFilter {
                actor: Some(PersonId(10)),
                ..Default::default()
            },
            100
        )
        .await,
        vec![10, 6, 2]
    );
    assert_eq!(
        seqs(
            JournalFilter {
                subject: Some(("personne".into(), "2".into())),
                ..Default::default()
            },
            100
        )
        .await,
        vec![11, 8, 5, 2]
    );
    assert_eq!(
        seqs(
            JournalFilter {
                subject: Some(("structure".into(), "2".into())),
                ..Default::default()
            },
            100
        )
        .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        seqs(
            JournalFilter {
                action: Some(entry(3).action),
                ..Default::default()
            },
            100
        )
        .await,
        vec![3]
    );
    // Every criterion must hold.
    assert_eq!(
        seqs(
            JournalFilter {
                structure: Some(StructureId(200)),
                actor: Some(PersonId(10)),
                subject: Some(("personne".into(), "0".into())),
                before_seq: Some(12),
                action: None,
            },
            100
        )
        .await,
        vec![6]
    );
}

async fn a_rolled_back_change_leaves_no_entry(db: Db) {
    let before = append_n(&db, 2).await;
    let head = journal::head(&db).await.unwrap();

    let mut tx = db.begin().await.unwrap();
    let lost = journal::append(&mut tx, &entry(3)).await.unwrap();
    assert_eq!(lost.seq, 3);
    sqlx::query(
        "INSERT INTO job_schedules (name, spec, next_run_at) VALUES ('essai', '* * * * *', 0)",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    journal::append(&mut tx, &entry(4)).await.unwrap();
    tx.rollback().await.unwrap();

    // Dropped without commit: rolled back too.
    let mut tx = db.begin().await.unwrap();
    journal::append(&mut tx, &entry(5)).await.unwrap();
    drop(tx);

    assert_eq!(journal::head(&db).await.unwrap(), head);
    assert_eq!(
        journal::list(&db, &JournalFilter::default(), 100)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        relais_store::jobs::due_schedules(&db, 1)
            .await
            .unwrap()
            .is_empty()
    );
    // The next entry takes the number the rolled-back one had, after the last committed.
    let mut tx = db.begin().await.unwrap();
    let next = journal::append(&mut tx, &entry(6)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((next.seq, next.prev_hash), (3, before[1].hash.clone()));
    assert_eq!(
        journal::verify(&db).await.unwrap(),
        Verification::Intact { entries: 3 }
    );
}

async fn the_database_refuses_to_change_entries(db: Db) {
    append_n(&db, 3).await;
    let mut refused = vec![
        "UPDATE journal SET details = '{}' WHERE seq = 2",
        "UPDATE journal SET hash = hash",
        "DELETE FROM journal WHERE seq = 3",
        "DELETE FROM journal",
        "DELETE FROM journal_head",
        "UPDATE journal_head SET seq = 2, hash = 'x' WHERE id = 1",
    ];
    if db.backend() == Backend::Postgres {
        refused.extend(["TRUNCATE journal", "TRUNCATE journal_head"]);
    }
    for sql in refused {
        let err = db.execute_admin(sql).await.expect_err(sql);
        assert!(err.to_string().contains("ajout seul"), "{sql}: {err}");
    }
    assert_eq!(
        journal::verify(&db).await.unwrap(),
        Verification::Intact { entries: 3 }
    );
}

async fn an_altered_entry_is_found(db: Db) {
    append_n(&db, 5).await;
    hostile::drop_journal_triggers(&db).await;
    db.execute_admin(r#"UPDATE journal SET details = '{"role":"administrateur"}' WHERE seq = 3"#)
        .await
        .unwrap();
    assert_eq!(broken(&db).await, (3, BreakKind::HashMismatch));
    let message = journal::verify(&db).await.unwrap().to_string();
    assert!(
        message.contains("n° 3") && message.contains("modifiée"),
        "{message}"
    );
}

async fn a_removed_entry_is_found(db: Db) {
    append_n(&db, 5).await;
    hostile::drop_journal_triggers(&db).await;
    db.execute_admin("DELETE FROM journal WHERE seq = 3")
        .await
        .unwrap();
    assert_eq!(broken(&db).await, (3, BreakKind::Gap { next: 4 }));
    // Hiding the gap by renumbering breaks the chain instead.
    db.execute_admin("UPDATE journal SET seq = seq - 1 WHERE seq = 4")
        .await
        .unwrap();
    assert_eq!(broken(&db).await, (3, BreakKind::PrevHashMismatch));
}

async fn reordered_entries_are_found(db: Db) {
    append_n(&db, 5).await;
    hostile::drop_journal_triggers(&db).await;
    db.execute_admin(
        "UPDATE journal SET seq = -2 WHERE seq = 2; \
         UPDATE journal SET seq = 2 WHERE seq = 3; \
         UPDATE journal SET seq = 3 WHERE seq = -2;",
    )
    .await
    .unwrap();
    assert_eq!(broken(&db).await, (2, BreakKind::PrevHashMismatch));
}

async fn a_removed_last_entry_is_found(db: Db) {
    append_n(&db, 5).await;
    hostile::drop_journal_triggers(&db).await;
    db.execute_admin("DELETE FROM journal WHERE seq = 5")
        .await
        .unwrap();
    assert_eq!(
        broken(&db).await,
        (
            5,
            BreakKind::HeadMismatch {
                head_seq: 5,
                last_seq: 4
            }
        )
    );
}

async fn a_forged_head_is_found(db: Db) {
    append_n(&db, 3).await;
    // Moving the head forward is allowed (appends do it), so no trigger stands in the way.
    db.execute_admin(&format!(
        "UPDATE journal_head SET hash = '{}' WHERE id = 1",
        "f".repeat(64)
    ))
    .await
    .unwrap();
    assert_eq!(
        broken(&db).await,
        (
            3,
            BreakKind::HeadMismatch {
                head_seq: 3,
                last_seq: 3
            }
        )
    );
    db.execute_admin("UPDATE journal_head SET seq = 7 WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(
        broken(&db).await,
        (
            4,
            BreakKind::HeadMismatch {
                head_seq: 7,
                last_seq: 3
            }
        )
    );
}

async fn an_unknown_action_is_found(db: Db) {
    append_n(&db, 3).await;
    hostile::drop_journal_triggers(&db).await;
    db.execute_admin("UPDATE journal SET action = 'effacement' WHERE seq = 2")
        .await
        .unwrap();
    assert_eq!(
        broken(&db).await,
        (2, BreakKind::UnknownAction("effacement".into()))
    );
    let err = journal::list(&db, &JournalFilter::default(), 10)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("effacement"), "{err}");
}

async fn verify_reads_page_after_page(db: Db) {
    let mut tx = db.begin().await.unwrap();
    for i in 1..=1_001 {
        journal::append(&mut tx, &entry(i)).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(
        journal::verify(&db).await.unwrap(),
        Verification::Intact { entries: 1_001 }
    );
    hostile::drop_journal_triggers(&db).await;
    db.execute_admin("UPDATE journal SET subject_id = 'autre' WHERE seq = 1001")
        .await
        .unwrap();
    assert_eq!(broken(&db).await, (1_001, BreakKind::HashMismatch));
}

/// The refusal of the database, whatever the statement's dialect.
async fn refused(db: &Db, sql: &str) {
    let err = db.execute_admin(sql).await.expect_err(sql);
    assert!(err.to_string().contains("ajout seul"), "{sql}: {err}");
}

/// SQLite's REPLACE deletes the row in its way without firing the DELETE trigger: a
/// forged entry could be put in, then the original put back without trace. PostgreSQL's
/// upsert is an UPDATE, and fires its trigger.
async fn an_insert_never_replaces_an_entry(db: Db) {
    let entries = append_n(&db, 3).await;
    let copy = |verb: &str, details: &str, tail: &str| {
        format!(
            "{verb} journal ({COLS}) SELECT seq, at, action, actor, actor_structure, structure, \
             subject_kind, subject_id, '{details}', prev_hash, hash FROM journal WHERE seq = 2 {tail}",
            COLS = "seq, at, action, actor, actor_structure, structure, subject_kind, \
                    subject_id, details, prev_hash, hash"
        )
    };
    let forged = r#"{"role":"administrateur"}"#;
    let mut statements = vec![
        copy(
            "INSERT INTO",
            forged,
            "ON CONFLICT (seq) DO UPDATE SET details = excluded.details",
        ),
        "INSERT INTO journal_head (id, seq, hash) VALUES (1, 0, 'x') \
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
            .to_string(),
    ];
    if db.backend() == Backend::Sqlite {
        statements.extend([
            copy("INSERT OR REPLACE INTO", forged, ""),
            copy("REPLACE INTO", forged, ""),
            // The forgery and the restoration, in one go: refused at the first step.
            format!(
                "{}; {};",
                copy("REPLACE INTO", forged, ""),
                copy("REPLACE INTO", &entries[1].content.details, "")
            ),
            "INSERT OR REPLACE INTO journal_head (id, seq, hash) VALUES (1, 0, 'x')".to_string(),
            "REPLACE INTO journal_head (id, seq, hash) VALUES (1, 3, 'x')".to_string(),
        ]);
    }
    for sql in &statements {
        refused(&db, sql).await;
    }
    // Ignoring the conflict changes nothing, which is fine; a plain duplicate is refused.
    let ignore = match db.backend() {
        Backend::Sqlite => copy("INSERT OR IGNORE INTO", forged, ""),
        Backend::Postgres => copy("INSERT INTO", forged, "ON CONFLICT DO NOTHING"),
    };
    let _ = db.execute_admin(&ignore).await;
    assert!(
        db.execute_admin(&copy("INSERT INTO", forged, ""))
            .await
            .is_err()
    );
    let back = journal::list(&db, &JournalFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(back.len(), 3);
    assert_eq!(back[1], entries[1]);
    assert_eq!(
        journal::verify(&db).await.unwrap(),
        Verification::Intact { entries: 3 }
    );
}

/// A fixed test key (`n` picks it).
fn key(n: u8) -> SigningKey {
    SigningKey::from_seed(&[n; 32])
}

async fn insert_checkpoint(db: &Db, c: &Checkpoint) {
    db.execute_admin(&format!(
        "INSERT INTO journal_checkpoints (seq, at, hash, public_key, signature) \
         VALUES ({}, {}, '{}', '{}', '{}')",
        c.seq, c.at, c.hash, c.public_key, c.signature
    ))
    .await
    .unwrap();
}

async fn the_database_refuses_to_change_checkpoints(db: Db) {
    append_n(&db, 2).await;
    journal::checkpoint(&db, &key(1), 1).await.unwrap().unwrap();
    let mut statements = vec![
        "UPDATE journal_checkpoints SET hash = 'x'".to_string(),
        "DELETE FROM journal_checkpoints".to_string(),
        "INSERT INTO journal_checkpoints (seq, at, hash, public_key, signature) \
         VALUES (2, 0, 'x', 'y', 'z') ON CONFLICT (seq) DO UPDATE SET hash = excluded.hash"
            .to_string(),
    ];
    match db.backend() {
        Backend::Sqlite => statements.push(
            "REPLACE INTO journal_checkpoints (seq, at, hash, public_key, signature) \
             VALUES (2, 0, 'x', 'y', 'z')"
                .to_string(),
        ),
        Backend::Postgres => statements.push("TRUNCATE journal_checkpoints".to_string()),
    }
    for sql in &statements {
        refused(&db, sql).await;
    }
    assert_eq!(journal::checkpoints(&db, 0, 10).await.unwrap().len(), 1);
}

async fn checkpoints_are_signed_when_the_head_moves(db: Db) {
    let k = key(1);
    assert_eq!(
        journal::checkpoint(&db, &k, 10).await.unwrap(),
        None,
        "empty"
    );
    let entries = append_n(&db, 3).await;
    let first = journal::checkpoint(&db, &k, 20).await.unwrap().unwrap();
    assert_eq!(
        (first.seq, &first.hash, first.at),
        (3, &entries[2].hash, 20)
    );
    assert!(first.signature_valid());
    assert_eq!(
        journal::checkpoint(&db, &k, 30).await.unwrap(),
        None,
        "the head has not moved"
    );
    append_n(&db, 1).await;
    let second = journal::checkpoint(&db, &k, 40).await.unwrap().unwrap();
    assert_eq!(second.seq, 4);
    assert_eq!(
        journal::checkpoints(&db, 0, 10).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        journal::checkpoints(&db, 3, 10).await.unwrap(),
        vec![second.clone()]
    );
    let trusted = [k.public_key()];
    assert_eq!(
        journal::verify_with(&db, &[first, second], &trusted)
            .await
            .unwrap(),
        (Verification::Intact { entries: 4 }, 2)
    );
}

/// Whoever can write the database rewrites entry 2 and every later hash, and the head:
/// the chain alone is consistent again, the signed checkpoint of entry 3 is not.
async fn a_whole_chain_rewrite_is_found_at_its_checkpoint(db: Db) {
    let k = key(1);
    append_n(&db, 3).await;
    let signed = journal::checkpoint(&db, &k, 1).await.unwrap().unwrap();
    append_n(&db, 2).await;
    hostile::drop_journal_triggers(&db).await;
    hostile::rewrite_chain(&db, 2, |c| {
        c.details = r#"{"role":"administrateur"}"#.into();
    })
    .await;

    let expected = (3, BreakKind::CheckpointMismatch { since: 1 });
    assert_eq!(broken(&db).await, expected);
    let trusted = [k.public_key()];
    let (v, _) = journal::verify_with(&db, &[], &trusted).await.unwrap();
    assert!(v.to_string().contains("l’entrée n° 3 ne porte plus"), "{v}");
    // Removing the checkpoint from the database too: the chain looks intact, until the
    // copy kept elsewhere is given.
    hostile::drop_checkpoint_triggers(&db).await;
    db.execute_admin("DELETE FROM journal_checkpoints")
        .await
        .unwrap();
    assert_eq!(
        journal::verify(&db).await.unwrap(),
        Verification::Intact { entries: 5 }
    );
    let (v, _) = journal::verify_with(&db, &[signed], &trusted)
        .await
        .unwrap();
    assert_eq!(
        v,
        Verification::Broken {
            seq: expected.0,
            reason: expected.1
        }
    );
}

async fn forged_or_removed_checkpoints_are_found(db: Db) {
    let k = key(1);
    append_n(&db, 2).await;
    let first = journal::checkpoint(&db, &k, 1).await.unwrap().unwrap();
    append_n(&db, 2).await;
    let second = journal::checkpoint(&db, &k, 2).await.unwrap().unwrap();
    append_n(&db, 1).await;
    let trusted = [k.public_key()];
    // A checkpoint signed with another key (the forger's own).
    let (_, head_hash) = journal::head(&db).await.unwrap();
    insert_checkpoint(&db, &key(2).sign(5, &head_hash, 3)).await;
    let v = journal::verify_with(&db, &[], &trusted).await.unwrap().0;
    assert!(
        matches!(
            v,
            Verification::Broken {
                seq: 5,
                reason: BreakKind::CheckpointUnknownKey { .. }
            }
        ),
        "{v}"
    );
    // A row whose signature does not match: found first, being the earliest.
    let mut bad = k.sign(1, &head_hash, 3);
    bad.hash = "0".repeat(64);
    insert_checkpoint(&db, &bad).await;
    assert_eq!(
        journal::verify(&db).await.unwrap(),
        Verification::Broken {
            seq: 1,
            reason: BreakKind::CheckpointSignatureInvalid
        }
    );
    // A removed row: caught with the copy kept elsewhere.
    hostile::drop_checkpoint_triggers(&db).await;
    db.execute_admin("DELETE FROM journal_checkpoints WHERE seq <> 2")
        .await
        .unwrap();
    assert_eq!(
        journal::verify_with(&db, &[], &trusted).await.unwrap(),
        (Verification::Intact { entries: 5 }, 1)
    );
    assert_eq!(
        journal::verify_with(&db, &[first, second], &trusted)
            .await
            .unwrap()
            .0,
        Verification::Broken {
            seq: 4,
            reason: BreakKind::CheckpointNotInDatabase
        }
    );
}

/// 4 appenders, each with its own pool (as separate processes would), 50 appends each,
/// while a fifth verifies again and again: numbers stay contiguous, the chain intact,
/// and no verification mistakes an append in progress for a break.
async fn concurrent_appends(t: TestDb) {
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let url = t.url.clone();
            tokio::spawn(async move {
                let db = Db::connect(&url).await.unwrap();
                for i in 0..50 {
                    let mut tx = db.begin().await.unwrap();
                    let e = entry(i).by(PersonId(1_000 + w), None);
                    journal::append(&mut tx, &e).await.unwrap();
                    tx.commit().await.unwrap();
                }
                db.close().await;
            })
        })
        .collect();
    let (done, mut finished) = tokio::sync::watch::channel(false);
    let url = t.url.clone();
    let verifier = tokio::spawn(async move {
        let db = Db::connect(&url).await.unwrap();
        let mut runs = 0;
        while !*finished.borrow_and_update() {
            match journal::verify(&db).await.unwrap() {
                Verification::Intact { .. } => runs += 1,
                broken => panic!("{broken}"),
            }
        }
        db.close().await;
        runs
    });
    for w in writers {
        w.await.unwrap();
    }
    done.send(true).unwrap();
    assert!(verifier.await.unwrap() > 0);

    assert_eq!(
        journal::verify(&t.db).await.unwrap(),
        Verification::Intact { entries: 200 }
    );
    let all = journal::list(&t.db, &JournalFilter::default(), 1_000)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=200).rev().collect::<Vec<_>>()
    );
    for w in 0..4 {
        let by = all
            .iter()
            .filter(|e| e.content.actor == Some(PersonId(1_000 + w)))
            .count();
        assert_eq!(by, 50, "writer {w}");
    }
    t.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_stay_contiguous_on_postgres() {
    concurrent_appends(TestDb::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_stay_contiguous_on_sqlite() {
    concurrent_appends(TestDb::sqlite().await).await;
}

/// A batch after single appends, then one more single append: one chain, verified intact,
/// across the 1,000-row chunks of the batch.
async fn a_batch_continues_the_chain(db: Db) {
    append_n(&db, 3).await;
    let batch: Vec<NewEntry> = (4..=2_503).map(entry).collect();
    let mut tx = db.begin().await.unwrap();
    journal::append_batch(&mut tx, &batch).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let last = journal::append(&mut tx, &entry(2_504)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(last.seq, 2_504);
    assert_eq!(
        journal::verify(&db).await.unwrap(),
        Verification::Intact { entries: 2_504 }
    );
    assert_eq!(journal::head(&db).await.unwrap(), (2_504, last.hash));
}
