//! `relais journal verifier` as an operator runs it.

use std::process::Command;

use relais_domain::ids::{PersonId, StructureId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::{Db, journal};
use relais_testkit::{TestDb, hostile};

use crate::common;

use common::{Server, http_get, relais, run};

async fn append(db: &Db, n: usize) {
    for i in 0..n {
        let mut tx = db.begin().await.unwrap();
        let entry = NewEntry::new(JournalAction::PersonInvited, "personne", i.to_string())
            .by(PersonId(1), Some(StructureId(2)))
            .in_structure(StructureId(2));
        journal::append(&mut tx, &entry).await.unwrap();
        tx.commit().await.unwrap();
    }
}

#[test]
fn verify_on_a_fresh_database_is_intact() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(relais()
        .args(["journal", "verifier", "--dossier-donnees"])
        .arg(dir.path()));
    assert!(ok, "{err}");
    assert_eq!(out, "Journal intègre : 0 entrée vérifiée.\n");
    assert!(
        run(relais().args(["journal", "--help"]))
            .1
            .contains("verifier")
    );
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
            .args(["journal", "verifier", "--dossier-donnees"])
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
    let (ok, out, err) = run(relais().args(["journal", "verifier", "--base", &t.url]));
    assert!(ok, "{err}");
    assert_eq!(out, "Journal intègre : 2 entrées vérifiées.\n");
    t.cleanup().await;
}

fn journal_cmd(data_dir: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = relais();
    cmd.arg("journal")
        .arg("--dossier-donnees")
        .arg(data_dir)
        .args(args);
    cmd
}

#[test]
fn init_key_writes_a_private_file_and_shows_only_the_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("journal.pem");
    let (ok, out, err) = run(relais()
        .args(["journal", "creer-cle", "--sortie"])
        .arg(&key));
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!out.contains(&body) && !err.contains(&body), "{out}{err}");
    let public = out
        .lines()
        .find_map(|l| l.strip_prefix("Clé publique : "))
        .unwrap()
        .to_string();
    // Never overwritten.
    let (ok, _, err) = run(relais()
        .args(["journal", "creer-cle", "--sortie"])
        .arg(&key));
    assert!(!ok && err.contains("existe déjà"), "{err}");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), text);
    // The configured key's public half, from the file or from the environment.
    let (ok, out, err) = run(relais()
        .args(["journal", "cle-publique", "--fichier-cle-journal"])
        .arg(&key));
    assert!(ok, "{err}");
    assert_eq!(out.trim(), public);
    let (ok, out, err) = run(relais()
        .args(["journal", "cle-publique"])
        .env("RELAIS_CLE_JOURNAL", &text));
    assert!(ok, "{err}");
    assert_eq!(out.trim(), public);
    // `relais config` masks it.
    let (ok, out, err) = run(relais()
        .arg("config")
        .env("RELAIS_CLE_JOURNAL", &text)
        .env("RELAIS_FICHIER_CLE_JOURNAL", &key));
    assert!(ok, "{err}");
    assert!(out.contains("cle_journal = \"***\""), "{out}");
    assert!(!out.contains(&body[..20]), "{out}");
    // A bad key is a clear error.
    let (ok, _, err) = run(relais()
        .args(["journal", "cle-publique"])
        .env("RELAIS_CLE_JOURNAL", "pas une clé"));
    assert!(
        !ok && err.contains("clé privée du journal illisible"),
        "{err}"
    );
}

/// Rewrites entry 2 and every later hash, and the head, and removes the checkpoints:
/// what a hostile operator with the database file would do.
async fn rewrite_whole_chain(db: &Db) {
    hostile::drop_journal_triggers(db).await;
    hostile::drop_checkpoint_triggers(db).await;
    hostile::rewrite_chain(db, 2, |c| c.subject_id = "99".into()).await;
    db.execute_admin("DELETE FROM journal_checkpoints")
        .await
        .unwrap();
}

#[tokio::test]
async fn checkpoints_are_signed_exported_and_defeat_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = dir.path().join("journal.pem");
    let copies = dir.path().join("points.jsonl");
    let (ok, out, err) = run(relais()
        .args(["journal", "creer-cle", "--sortie"])
        .arg(&key));
    assert!(ok, "{err}");
    let public = out
        .lines()
        .find_map(|l| l.strip_prefix("Clé publique : "))
        .unwrap()
        .to_string();
    let keyed = |args: &[&str]| {
        let mut cmd = journal_cmd(&data, args);
        cmd.env("RELAIS_FICHIER_CLE_JOURNAL", &key);
        run(&mut cmd)
    };
    let (ok, out, err) = keyed(&["point-de-controle"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("Rien à signer"), "{out}");

    let db = Db::open_data_dir(&data).await.unwrap();
    append(&db, 3).await;
    let (ok, out, err) = keyed(&["point-de-controle"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("Point de contrôle signé : entrée n° 3,"),
        "{out}"
    );
    assert!(keyed(&["point-de-controle"]).1.starts_with("Rien à signer"));
    let export =
        || run(journal_cmd(&data, &["exporter-points-de-controle", "--sortie"]).arg(&copies));
    let (ok, out, err) = export();
    assert!(ok, "{err}");
    assert!(out.starts_with("1 point de contrôle ajouté"), "{out}");
    let first_line = std::fs::read_to_string(&copies).unwrap();
    append(&db, 2).await;
    assert!(keyed(&["point-de-controle"]).1.contains("entrée n° 5"));
    let (ok, out, err) = export();
    assert!(ok, "{err}");
    assert!(
        out.starts_with("1 point de contrôle ajouté") && out.contains("2 en tout"),
        "{out}"
    );
    let both = std::fs::read_to_string(&copies).unwrap();
    assert!(
        both.starts_with(&first_line) && both.lines().count() == 2,
        "{both}"
    );
    assert!(export().1.starts_with("0 point de contrôle ajouté"));

    let (ok, out, err) = keyed(&["verifier"]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "Journal intègre : 5 entrées vérifiées.\n2 points de contrôle signés concordent.\n"
    );
    let verify_with_copies = || {
        run(journal_cmd(
            &data,
            &[
                "verifier",
                "--cle-publique",
                &public,
                "--points-de-controle",
            ],
        )
        .arg(&copies))
    };
    let (ok, _, err) = verify_with_copies();
    assert!(ok, "{err}");
    // Without any reference key, the signatures prove nothing: said so.
    let (ok, _, err) = run(&mut journal_cmd(&data, &["verifier"]));
    assert!(
        ok && err.contains("aucune clé publique de référence"),
        "{err}"
    );

    rewrite_whole_chain(&db).await;
    db.close().await;
    // The database alone looks intact now…
    let (ok, out, err) = run(&mut journal_cmd(
        &data,
        &["verifier", "--cle-publique", &public],
    ));
    assert!(ok, "{err}");
    assert_eq!(out, "Journal intègre : 5 entrées vérifiées.\n");
    // …but not against the copies kept elsewhere.
    let (ok, out, err) = verify_with_copies();
    assert!(!ok, "{out}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("relais : erreur : Journal rompu : ")
            && lines[0].contains("l’entrée n° 3 ne porte plus")
            && lines[0].contains("réécrit entre l’entrée n° 1 et l’entrée n° 3"),
        "{err}"
    );
    // A file that is not checkpoints is a clear error.
    std::fs::write(&copies, "{}\n").unwrap();
    let (ok, _, err) = verify_with_copies();
    assert!(
        !ok && err.contains("ligne 1 : point de contrôle illisible"),
        "{err}"
    );
}

#[tokio::test]
async fn checkpoints_on_postgres() {
    let t = TestDb::postgres().await;
    append(&t.db, 2).await;
    // The key in the environment: base64 of a 32-byte seed.
    let key = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    let (ok, out, err) = run(relais()
        .args(["journal", "point-de-controle", "--base", &t.url])
        .env("RELAIS_CLE_JOURNAL", key));
    assert!(ok, "{err}");
    assert!(out.contains("entrée n° 2"), "{out}");
    let (ok, out, err) = run(relais()
        .args(["journal", "verifier", "--base", &t.url])
        .env("RELAIS_CLE_JOURNAL", key));
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "Journal intègre : 2 entrées vérifiées.\n1 point de contrôle signé concorde.\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let copies = dir.path().join("points.jsonl");
    let (ok, _, err) = run(relais()
        .args([
            "journal",
            "exporter-points-de-controle",
            "--base",
            &t.url,
            "--sortie",
        ])
        .arg(&copies));
    assert!(ok, "{err}");
    rewrite_whole_chain(&t.db).await;
    let verify = |copies: Option<&std::path::Path>| {
        let mut cmd = relais();
        cmd.args(["journal", "verifier", "--base", &t.url])
            .env("RELAIS_CLE_JOURNAL", key);
        if let Some(c) = copies {
            cmd.arg("--points-de-controle").arg(c);
        }
        run(&mut cmd)
    };
    let (ok, _, err) = verify(None);
    assert!(ok, "{err}");
    let (ok, _, err) = verify(Some(&copies));
    assert!(!ok && err.contains("l’entrée n° 2 ne porte plus"), "{err}");
    t.cleanup().await;
}

/// `serve` signs the head at start and every `intervalle_points_de_controle`, publishes it,
/// and logs the key's id only.
#[tokio::test]
async fn serve_signs_checkpoints_now_and_then() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = dir.path().join("journal.pem");
    assert!(
        run(relais()
            .args(["journal", "creer-cle", "--sortie"])
            .arg(&key))
        .0
    );
    let db = Db::open_data_dir(&data).await.unwrap();
    db.migrate().await.unwrap();
    append(&db, 2).await;
    let server = Server::start(
        relais()
            .args(["serve", "--demo", "false"])
            .args(["--intervalle-points-de-controle", "1", "--dossier-donnees"])
            .arg(&data)
            .env("RELAIS_FICHIER_CLE_JOURNAL", &key),
    );
    let addr = server.addr;
    let points = |addr| {
        http_get(addr, "/api/v1/journal/checkpoints")
            .filter(|(status, _)| *status == 200)
            .map(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).unwrap())
            .and_then(|v| v["points"].as_array().cloned())
            .unwrap_or_default()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while points(addr).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint in 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(points(addr)[0]["numero"], 2);
    append(&db, 1).await;
    while points(addr).len() < 2 {
        assert!(std::time::Instant::now() < deadline, "no second checkpoint");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    db.close().await;
    let (ok, err) = server.terminate();
    assert!(ok, "{err}");
    assert!(err.contains("point de contrôle du journal signé"), "{err}");
    let text = std::fs::read_to_string(&key).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!err.contains(&body[..24]), "{err}");
}
