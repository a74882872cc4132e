//! PostgreSQL deployment with two roles, as an operator runs it: `relais migrate` as the
//! owner makes the runtime role, `serve` and `worker` run as that role, and refuse a
//! superuser unless `--autoriser-superutilisateur`.

use relais_testkit::{TestDb, drop_role, unique_role};

use crate::common;

use common::{Server, assert_refused, assert_serves_on_postgres, free_addr, http_get, relais, run};

/// `relais serve` on `url`, plus `extra`.
fn serve(url: &str, extra: &[&str]) -> Server {
    Server::start(relais().args(["serve", "--base", url]).args(extra))
}

#[tokio::test]
async fn serve_and_worker_refuse_a_superuser_without_the_flag() {
    let t = TestDb::postgres().await;
    let (ok, _, err) = run(relais().args([
        "serve",
        "--ecoute",
        &free_addr().to_string(),
        "--base",
        &t.url,
    ]));
    assert_refused(
        ok,
        &err,
        &[
            "refus de démarrer",
            "« postgres »",
            "superutilisateur",
            "--autoriser-superutilisateur",
            "relais_app",
        ],
    );
    let (ok, _, err) = run(relais().args(["worker", "--base", &t.url]));
    assert_refused(
        ok,
        &err,
        &["superutilisateur", "--autoriser-superutilisateur"],
    );

    // Allowed, by flag or environment: it starts, and says the risk.
    let server = serve(&t.url, &["--autoriser-superutilisateur"]);
    assert_eq!(http_get(server.addr, "/readyz").map(|r| r.0), Some(200));
    let (ok, err) = server.terminate();
    assert!(ok, "{err}");
    assert!(
        err.contains("WARN")
            && err.contains("superutilisateur")
            && err.contains("pourrait réécrire le journal"),
        "{err}"
    );
    let server = Server::start(
        relais()
            .args(["serve", "--base", &t.url])
            .env("RELAIS_AUTORISER_SUPERUTILISATEUR", "true"),
    );
    assert_eq!(http_get(server.addr, "/readyz").map(|r| r.0), Some(200));
    let (ok, err) = server.terminate();
    assert!(ok, "{err}");
    t.cleanup().await;
}

#[tokio::test]
async fn migrate_as_owner_then_serve_as_the_runtime_role() {
    let t = TestDb::postgres().await;
    let role = unique_role("rt");
    let migrate = || {
        run(relais()
            .args(["migrate", "--base", &t.url, "--role-execution", &role])
            .env("RELAIS_MOT_DE_PASSE_EXECUTION", "exécution-secrète"))
    };
    let (ok, out, err) = migrate();
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("Rôle d’exécution « {role} » créé"))
            && out.contains("Mot de passe défini")
            && out.contains("journal et journal_checkpoints : SELECT et INSERT seulement")
            && out.contains(&format!("--base postgres://{role}:MOT_DE_PASSE@"))
            && out.contains("Base PostgreSQL à jour."),
        "{out}"
    );
    assert!(
        !out.contains("exécution-secrète") && !err.contains("exécution-secrète"),
        "password shown: {out}{err}"
    );
    // Again, after someone granted too much: taken back and said.
    t.db.execute_admin(&format!("GRANT UPDATE, TRUNCATE ON journal TO {role}"))
        .await
        .unwrap();
    let (ok, out, err) = migrate();
    assert!(ok, "{err}");
    assert!(
        out.contains("vérifié") && out.contains("Droits retirés : journal (TRUNCATE, UPDATE)."),
        "{out}"
    );
    // And again: checked, nothing to change.
    let (ok, out, err) = migrate();
    assert!(ok, "{err}");
    assert!(
        out.contains("vérifié")
            && !out.contains("Droits retirés")
            && !out.contains("Droits accordés"),
        "{out}"
    );

    let runtime_url = t.url_as(&role, "ex%C3%A9cution-secr%C3%A8te");
    // No journal key here: checkpoints off, so that no warning is expected.
    let server = serve(&runtime_url, &["--intervalle-points-de-controle", "0"]);
    assert_serves_on_postgres(server.addr);
    let (ok, err) = server.terminate();
    assert!(ok, "{err}");
    assert!(!err.contains("WARN"), "{err}");

    // A migration the runtime role cannot apply: it says to run migrate as the owner.
    t.db.execute_admin("DELETE FROM schema_migrations WHERE version = 12")
        .await
        .unwrap();
    let (ok, err) = serve(&runtime_url, &[]).terminate();
    assert_refused(
        ok,
        &err,
        &[
            "1 migration(s) (0012)",
            &role,
            "relais migrate",
            "propriétaire",
        ],
    );
    let (ok, _, err) = run(relais().args(["worker", "--base", &runtime_url]));
    assert_refused(ok, &err, &["relais migrate"]);

    t.cleanup().await;
    drop_role(&role).await;
}

#[test]
fn sqlite_is_unchanged_by_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(relais()
        .args(["migrate", "--role-execution", "autre", "--dossier-donnees"])
        .arg(dir.path()));
    assert!(ok, "{err}");
    assert_eq!(out, "Base SQLite à jour.\n");
    let (ok, out, _) = run(relais().args(["config", "--autoriser-superutilisateur"]));
    assert!(
        ok && out.contains("autoriser_superutilisateur = true")
            && out.contains("role_execution = \"relais_app\""),
        "{out}"
    );
}
