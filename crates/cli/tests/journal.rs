//! `relais journal verify` as an operator runs it.

use std::process::{Command, Stdio};

use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::{journal, Db};
use relais_testkit::TestDb;

fn relais() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relais"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("RELAIS_")) {
        cmd.env_remove(key);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// (success, stdout, stderr)
fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

async fn append(db: &Db, n: usize) {
    for i in 0..n {
        let mut tx = db.begin().await.unwrap();
        let entry = NewEntry::new(JournalAction::PersonInvited, "personne", i.to_string())
            .by(1, Some(2))
            .in_structure(2);
        journal::append(&mut tx, &entry).await.unwrap();
        tx.commit().await.unwrap();
    }
}

#[test]
fn verify_on_a_fresh_database_is_intact() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(relais()
        .args(["journal", "verify", "--data-dir"])
        .arg(dir.path()));
    assert!(ok, "{err}");
    assert_eq!(out, "Journal intègre : 0 entrée vérifiée.\n");
    assert!(run(relais().args(["journal", "--help"]))
        .1
        .contains("verify"));
}

#[tokio::test]
async fn verify_names_the_first_broken_entry() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_data_dir(dir.path()).await.unwrap();
    db.migrate().await.unwrap();
    append(&db, 3).await;
    db.close().await;
    let verify = || {
        run(relais()
            .args(["journal", "verify", "--data-dir"])
            .arg(dir.path()))
    };
    let (ok, out, err) = verify();
    assert!(ok, "{err}");
    assert_eq!(out, "Journal intègre : 3 entrées vérifiées.\n");

    let db = Db::open_data_dir(dir.path()).await.unwrap();
    db.execute_admin(
        "DROP TRIGGER journal_append_only_update; \
         UPDATE journal SET subject_id = '99' WHERE seq = 2;",
    )
    .await
    .unwrap();
    db.close().await;
    let (ok, out, err) = verify();
    assert!(!ok, "{out}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("relais : erreur : Journal rompu : ")
            && lines[0].contains("n° 2")
            && lines[0].contains("modifiée"),
        "{err}"
    );
}

#[tokio::test]
async fn verify_on_postgres() {
    let t = TestDb::postgres().await;
    append(&t.db, 2).await;
    let (ok, out, err) = run(relais().args(["journal", "verify", "--database-url", &t.url]));
    assert!(ok, "{err}");
    assert_eq!(out, "Journal intègre : 2 entrées vérifiées.\n");
    t.cleanup().await;
}
