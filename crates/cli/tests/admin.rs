//! `relais admin …` as an operator runs it to prepare an instance.

use std::process::{Command, Stdio};

fn relais(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relais"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("RELAIS_")) {
        cmd.env_remove(key);
    }
    cmd.arg("--data-dir").arg(data).stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn one_line_error(err: &str) -> &str {
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("relais : erreur : "))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0]
}

#[test]
fn prepare_an_instance_and_refuse_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let account = |email: &str, password: &str, admin: bool| {
        let mut cmd = relais(data);
        cmd.args([
            "admin",
            "create-account",
            "--email",
            email,
            "--given-name",
            "Camille",
            "--family-name",
            "Martin",
        ])
        .env("RELAIS_NEW_PASSWORD", password);
        if admin {
            cmd.arg("--admin");
        }
        run(&mut cmd)
    };
    let (ok, out, err) = account("Admin@Exemple.fr", "une longue phrase de passe", true);
    assert!(ok, "{err}");
    assert!(out.contains("créé pour Admin@Exemple.fr"), "{out}");
    let (ok, _, err) = account("admin@exemple.fr", "une longue phrase de passe", false);
    assert!(
        !ok && one_line_error(&err).contains("déjà un compte"),
        "{err}"
    );
    let (ok, _, err) = account("court@exemple.fr", "court", false);
    assert!(
        !ok && one_line_error(&err).contains("au moins 12 caractères"),
        "{err}"
    );

    let structure = |siret: &str, commune: &str| {
        run(relais(data).args([
            "admin",
            "create-structure",
            "--siret",
            siret,
            "--nom",
            "Médiathèque",
            "--kind",
            "collectivite",
            "--commune",
            commune,
        ]))
    };
    let (ok, _, err) = structure("13002526500014", "42218");
    assert!(
        !ok && one_line_error(&err).contains("clé de contrôle"),
        "{err}"
    );
    let (ok, _, err) = structure("13002526500013", "99999");
    assert!(
        !ok && one_line_error(&err).contains("commune « 99999 » est inconnue"),
        "{err}"
    );
    let (ok, out, err) = structure("130 025 265 00013", "42218");
    assert!(ok && out.contains("Structure n°"), "{err}");
    let (ok, _, err) = structure("13002526500013", "42218");
    assert!(!ok && one_line_error(&err).contains("existe déjà"), "{err}");

    let grant = |role: &str| {
        run(relais(data).args([
            "admin",
            "grant-role",
            "--email",
            "admin@exemple.fr",
            "--siret",
            "13002526500013",
            "--role",
            role,
        ]))
    };
    let (ok, _, err) = grant("chef");
    assert!(
        !ok && one_line_error(&err).contains("rôle « chef » inconnu"),
        "{err}"
    );
    let (ok, out, err) = grant("referent");
    assert!(
        ok && out.contains("Référent de structure de Médiathèque"),
        "{out}{err}"
    );

    // Every change is in the journal, and the chain holds.
    let (ok, out, err) = run(relais(data).args(["journal", "verify"]));
    assert!(ok, "{err}");
    assert!(
        out.contains("Journal intègre : 4 entrées vérifiées."),
        "{out}"
    );
}

/// An operator lifts the lock of an account locked by wrong passwords.
#[tokio::test]
async fn unlock_an_account() {
    use relais_services::comptes::{self as svc, Client, LoginError, Policy};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let password = "une longue phrase de passe";
    let (ok, _, err) = run(relais(data)
        .args(["admin", "create-account", "--email", "camille@exemple.fr"])
        .args(["--given-name", "Camille", "--family-name", "Martin"])
        .env("RELAIS_NEW_PASSWORD", password));
    assert!(ok, "{err}");
    let db = relais_store::Db::open_data_dir(data).await.unwrap();
    let (policy, client) = (
        Policy::default(),
        Client {
            ip: "test".into(),
            user_agent: "test".into(),
        },
    );
    for _ in 0..policy.account_attempts {
        let _ = svc::login_with_password(&db, &policy, "camille@exemple.fr", "faux", &client).await;
    }
    let err = svc::login_with_password(&db, &policy, "camille@exemple.fr", password, &client)
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::Locked), "{err}");

    let (ok, _, err) = run(relais(data).args(["admin", "unlock", "--email", "inconnu@exemple.fr"]));
    assert!(
        !ok && one_line_error(&err).contains("aucun compte"),
        "{err}"
    );
    let (ok, out, err) =
        run(relais(data).args(["admin", "unlock", "--email", "camille@exemple.fr"]));
    assert!(ok && out.contains("déverrouillé"), "{out} {err}");
    svc::login_with_password(&db, &policy, "camille@exemple.fr", password, &client)
        .await
        .unwrap();
    db.close().await;
}
