//! `relais admin …` as an operator runs it to prepare an instance.

use crate::common;

use common::{assert_refused, relais_in, run};

#[test]
fn prepare_an_instance_and_refuse_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let account = |email: &str, password: &str, admin: bool| {
        let mut cmd = relais_in(data);
        cmd.args([
            "admin",
            "creer-compte",
            "--courriel",
            email,
            "--prenom",
            "Camille",
            "--nom",
            "Martin",
        ])
        .env("RELAIS_NOUVEAU_MOT_DE_PASSE", password);
        if admin {
            cmd.arg("--admin");
        }
        run(&mut cmd)
    };
    let (ok, out, err) = account("Admin@Exemple.fr", "une longue phrase de passe", true);
    assert!(ok, "{err}");
    assert!(out.contains("créé pour Admin@Exemple.fr"), "{out}");
    let (ok, _, err) = account("admin@exemple.fr", "une longue phrase de passe", false);
    assert_refused(ok, &err, &["déjà un compte"]);
    let (ok, _, err) = account("court@exemple.fr", "court", false);
    assert_refused(ok, &err, &["au moins 12 caractères"]);

    let structure = |siret: &str, commune: &str| {
        run(relais_in(data).args([
            "admin",
            "creer-structure",
            "--siret",
            siret,
            "--nom",
            "Médiathèque",
            "--type",
            "collectivite",
            "--commune",
            commune,
        ]))
    };
    let (ok, _, err) = structure("13002526500014", "42218");
    assert_refused(ok, &err, &["clé de contrôle"]);
    let (ok, _, err) = structure("13002526500013", "99999");
    assert_refused(ok, &err, &["commune « 99999 » est inconnue"]);
    let (ok, out, err) = structure("130 025 265 00013", "42218");
    assert!(ok && out.contains("Structure n°"), "{err}");
    let (ok, _, err) = structure("13002526500013", "42218");
    assert_refused(ok, &err, &["existe déjà"]);

    let grant = |role: &str| {
        run(relais_in(data).args([
            "admin",
            "attribuer-role",
            "--courriel",
            "admin@exemple.fr",
            "--siret",
            "13002526500013",
            "--role",
            role,
        ]))
    };
    let (ok, _, err) = grant("chef");
    assert_refused(ok, &err, &["rôle « chef » inconnu"]);
    let (ok, out, err) = grant("referent");
    assert!(
        ok && out.contains("Référent de structure de Médiathèque"),
        "{out}{err}"
    );

    // A hub's coordinator: their territory must be a département or a région.
    let hub = |perimetre: &str| {
        run(relais_in(data).args([
            "admin",
            "coordinateur-hub",
            "--courriel",
            "admin@exemple.fr",
            "--perimetre",
            perimetre,
        ]))
    };
    let (ok, _, err) = hub("Atlantide");
    assert_refused(
        ok,
        &err,
        &["« Atlantide » n’est ni un département ni une région"],
    );
    let (ok, out, err) = hub("loire");
    assert!(
        ok && out.contains("coordonne désormais le hub : Loire (42)"),
        "{out}{err}"
    );

    // Every change is in the journal, and the chain holds.
    let (ok, out, err) = run(relais_in(data).args(["journal", "verifier"]));
    assert!(ok, "{err}");
    assert!(
        out.contains("Journal intègre : 5 entrées vérifiées."),
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
    let (ok, _, err) = run(relais_in(data)
        .args(["admin", "creer-compte", "--courriel", "camille@exemple.fr"])
        .args(["--prenom", "Camille", "--nom", "Martin"])
        .env("RELAIS_NOUVEAU_MOT_DE_PASSE", password));
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

    let (ok, _, err) =
        run(relais_in(data).args(["admin", "deverrouiller", "--courriel", "inconnu@exemple.fr"]));
    assert_refused(ok, &err, &["aucun compte"]);
    let (ok, out, err) =
        run(relais_in(data).args(["admin", "deverrouiller", "--courriel", "camille@exemple.fr"]));
    assert!(ok && out.contains("déverrouillé"), "{out} {err}");
    svc::login_with_password(&db, &policy, "camille@exemple.fr", password, &client)
        .await
        .unwrap();
    db.close().await;
}
