//! PostgreSQL's runtime role: created by migrate, it can do the application's work but
//! cannot rewrite the journal in any way. PostgreSQL only (SQLite has no roles).

use relais_domain::comptes::sessions::{Session, Stage};
use relais_domain::journal::{JournalAction, NewEntry, Verification};
use relais_store::comptes::sessions;
use relais_store::{Db, StoreError, comptes, journal, roles};
use relais_testkit::{TestDb, drop_role, unique_role};

const PASSWORD: &str = "mot de passe d'exécution ' \\ \"";

async fn append(db: &Db, subject: &str) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let entry = NewEntry::new(JournalAction::PersonInvited, "personne", subject);
    journal::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// The SQLSTATE of a refused statement.
fn sqlstate(result: Result<(), StoreError>) -> String {
    match result {
        Err(StoreError::Query(sqlx::Error::Database(e))) => {
            e.code().map(|c| c.to_string()).unwrap_or_default()
        }
        other => panic!("expected a database error, got {other:?}"),
    }
}

/// A migrated test schema, its runtime role made by `ensure_runtime_role`, and a pool
/// connected as that role.
async fn setup() -> (TestDb, String, Db) {
    let t = TestDb::postgres().await;
    let role = unique_role("rt");
    let report = roles::ensure_runtime_role(&t.db, &role, Some(PASSWORD))
        .await
        .unwrap();
    assert!(report.created && report.password_set, "{report:?}");
    assert!(report.revoked.is_empty(), "{report:?}");
    let runtime = Db::connect(&t.url_as(&role, &urlencode(PASSWORD)))
        .await
        .expect("connexion avec le rôle d'exécution");
    (t, role, runtime)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn teardown(t: TestDb, role: String, runtime: Db) {
    runtime.close().await;
    t.cleanup().await;
    drop_role(&role).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_role_cannot_rewrite_the_journal() {
    let (t, role, runtime) = setup().await;
    append(&t.db, "1").await.unwrap();

    let who = roles::connected(&runtime).await.unwrap().unwrap();
    assert_eq!(
        (who.name.as_str(), who.privileged()),
        (role.as_str(), false)
    );
    assert!(roles::connected(&t.db).await.unwrap().unwrap().superuser);

    // Refused for want of privilege (42501), not by the triggers: they could be dropped.
    for sql in [
        "UPDATE journal SET details = '{}' WHERE seq = 1",
        "DELETE FROM journal",
        "TRUNCATE journal",
        "ALTER TABLE journal DISABLE TRIGGER ALL",
        "ALTER TABLE journal DISABLE TRIGGER journal_append_only_update",
        "DROP TRIGGER journal_append_only_update ON journal",
        "UPDATE journal SET details = '', purge_le = 9000000000000 WHERE seq = 1",
        "DROP TABLE journal",
        "ALTER TABLE journal OWNER TO CURRENT_USER",
        "INSERT INTO journal_head (id, seq, hash) VALUES (2, 0, '')",
        "DELETE FROM journal_head",
        "TRUNCATE journal_head",
        "ALTER TABLE journal_head DISABLE TRIGGER ALL",
        "UPDATE schema_migrations SET name = 'x'",
        "CREATE TABLE intrus (id BIGINT)",
        "CREATE TRIGGER t BEFORE INSERT ON journal FOR EACH ROW EXECUTE FUNCTION journal_refuse_change()",
    ] {
        assert_eq!(
            sqlstate(runtime.execute_admin(sql).await),
            "42501",
            "as the runtime role: {sql}"
        );
    }

    // The application's own work goes on: the journal grows, accounts and sessions live,
    // details past their retention are blanked through the owner's function.
    append(&runtime, "2").await.unwrap();
    runtime
        .execute_admin("SELECT journal_purger('personne', '2', 0, 0)")
        .await
        .unwrap();
    let entries = journal::list(&runtime, &Default::default(), 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        journal::verify(&runtime).await.unwrap(),
        Verification::Intact { entries: 2 }
    );
    let mut tx = runtime.begin().await.unwrap();
    let person =
        comptes::create_person(&mut tx, "camille@exemple.fr", "Camille", "Martin", None, 1)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    let session = Session {
        token_hash: "jeton".into(),
        person_id: person,
        stage: Stage::SecondFactor,
        acting_structure: None,
        created_at: 1,
        last_seen_at: 1,
        fresh_until: 1,
        ip: "127.0.0.1".into(),
        user_agent: "test".into(),
    };
    sessions::create(&runtime, &session).await.unwrap();
    sessions::delete(&runtime, "jeton").await.unwrap();
    assert!(sessions::find(&runtime, "jeton").await.unwrap().is_none());
    // Up to date: the runtime role's migrate changes nothing and needs no DDL.
    assert_eq!(
        runtime.pending_migrations().await.unwrap(),
        Vec::<i64>::new()
    );
    assert_eq!(runtime.migrate().await.unwrap(), 0);

    teardown(t, role, runtime).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_again_revokes_extra_grants_and_attributes() {
    let (t, role, runtime) = setup().await;
    t.db.execute_admin(&format!(
        "GRANT UPDATE, TRUNCATE, TRIGGER, REFERENCES ON journal TO {role}; \
         GRANT UPDATE (details) ON journal TO {role}; \
         GRANT DELETE, INSERT ON journal_head TO {role}; \
         GRANT CREATE ON SCHEMA {schema} TO {role}; \
         REVOKE UPDATE ON sessions FROM {role}; \
         ALTER ROLE {role} CREATEDB CREATEROLE NOLOGIN;",
        schema = t.url.rsplit("search_path%3D").next().unwrap()
    ))
    .await
    .unwrap();

    let report = roles::ensure_runtime_role(&t.db, &role, None)
        .await
        .unwrap();
    assert!(!report.created && !report.password_set, "{report:?}");
    assert_eq!(
        report.attributes_fixed,
        ["NOCREATEROLE", "NOCREATEDB", "LOGIN"],
        "{report:?}"
    );
    assert_eq!(report.granted, ["sessions UPDATE"], "{report:?}");
    for revoked in [
        "journal UPDATE",
        "journal TRUNCATE",
        "journal TRIGGER",
        "journal REFERENCES",
        "journal_head INSERT",
        "journal_head DELETE",
    ] {
        assert!(
            report.revoked.contains(&revoked.to_string()),
            "{revoked}: {report:?}"
        );
    }
    for sql in [
        "UPDATE journal SET details = '{}'",
        "TRUNCATE journal",
        "DELETE FROM journal_head",
        "CREATE TABLE intrus (id BIGINT)",
    ] {
        assert_eq!(sqlstate(runtime.execute_admin(sql).await), "42501", "{sql}");
    }
    runtime
        .execute_admin("UPDATE sessions SET ip = ip")
        .await
        .unwrap();

    // A third run finds nothing to change.
    let again = roles::ensure_runtime_role(&t.db, &role, None)
        .await
        .unwrap();
    assert!(
        again.granted.is_empty() && again.revoked.is_empty() && again.attributes_fixed.is_empty(),
        "{again:?}"
    );
    assert!(again.tables > 20 && again.warnings.is_empty(), "{again:?}");
    teardown(t, role, runtime).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_table_is_append_only_when_present() {
    let (t, role, runtime) = setup().await;
    // Migration 0013 adds it; stand in for it where it is not there yet.
    t.db.execute_admin("CREATE TABLE IF NOT EXISTS journal_checkpoints (seq BIGINT)")
        .await
        .unwrap();
    let report = roles::ensure_runtime_role(&t.db, &role, None)
        .await
        .unwrap();
    assert!(
        report
            .granted
            .contains(&"journal_checkpoints SELECT".to_string())
            || report.granted.is_empty(),
        "{report:?}"
    );
    runtime
        .execute_admin("SELECT COUNT(*) FROM journal_checkpoints")
        .await
        .unwrap();
    for sql in [
        "UPDATE journal_checkpoints SET seq = seq",
        "DELETE FROM journal_checkpoints",
        "TRUNCATE journal_checkpoints",
    ] {
        assert_eq!(sqlstate(runtime.execute_admin(sql).await), "42501", "{sql}");
    }
    teardown(t, role, runtime).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_tied_to_the_owner_is_refused() {
    let (t, role, runtime) = setup().await;
    // Members of the owner act as the owner: grants would mean nothing.
    t.db.execute_admin(&format!("GRANT postgres TO {role}"))
        .await
        .unwrap();
    assert!(
        roles::connected(&runtime)
            .await
            .unwrap()
            .unwrap()
            .privileged()
    );
    let err = roles::ensure_runtime_role(&t.db, &role, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("ne doit rien posséder"), "{err}");
    t.db.execute_admin(&format!("REVOKE postgres FROM {role}"))
        .await
        .unwrap();
    // The migrating role itself cannot be the runtime role, nor can a quoted name pass.
    let err = roles::ensure_runtime_role(&t.db, "postgres", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("le rôle qui migre"), "{err}");
    let err = roles::ensure_runtime_role(&t.db, "x\"; DROP TABLE journal; --", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("nom invalide"), "{err}");
    teardown(t, role, runtime).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_migrators_create_the_same_role_at_once() {
    let (a, b) = (TestDb::postgres().await, TestDb::postgres().await);
    let role = unique_role("rt");
    let (ra, rb) = tokio::join!(
        roles::ensure_runtime_role(&a.db, &role, None),
        roles::ensure_runtime_role(&b.db, &role, None)
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(
        [ra.created, rb.created].iter().filter(|c| **c).count(),
        1,
        "{ra:?} {rb:?}"
    );
    assert!(ra.tables > 20 && ra.tables == rb.tables);
    a.cleanup().await;
    b.cleanup().await;
    drop_role(&role).await;
}
