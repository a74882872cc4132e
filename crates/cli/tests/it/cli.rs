//! The `relais` binary as an operator runs it: help, configuration layers, clear one-line
//! errors, serving on SQLite and PostgreSQL, graceful shutdown.

use relais_testkit::TestDb;

use crate::common;

use common::{Server, assert_one_line_error, assert_serves_on_postgres, http_get, relais, run};

#[test]
fn help_lists_the_commands() {
    let (ok, out, _) = run(relais().arg("--help"));
    assert!(ok);
    for word in [
        "serve",
        "worker",
        "migrate",
        "config",
        "--base",
        "--dossier-donnees",
    ] {
        assert!(out.contains(word), "{word} missing from:\n{out}");
    }
    for sub in ["serve", "worker", "migrate", "config"] {
        assert!(run(relais().args([sub, "--help"])).0, "{sub} --help");
    }
}

#[test]
fn configuration_layers_file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relais.toml");
    std::fs::write(&file, "ecoute = \"127.0.0.1:9000\"\nhsts = true\nbase = \"postgres://relais:tres-secret@db/relais\"\n").unwrap();
    let config = |env: Option<&str>, flag: Option<&str>| {
        let mut cmd = relais();
        cmd.arg("config").arg("--config").arg(&file);
        if let Some(v) = env {
            cmd.env("RELAIS_ECOUTE", v);
        }
        if let Some(v) = flag {
            cmd.args(["--ecoute", v]);
        }
        let (ok, out, err) = run(&mut cmd);
        assert!(ok, "{err}");
        out
    };
    let out = config(None, None);
    assert!(
        out.contains("ecoute = \"127.0.0.1:9000\"") && out.contains("hsts = true"),
        "{out}"
    );
    assert!(
        out.contains("postgres://relais:***@db/relais") && !out.contains("tres-secret"),
        "secret shown:\n{out}"
    );
    assert!(config(Some("127.0.0.1:9001"), None).contains("127.0.0.1:9001"));
    assert!(config(Some("127.0.0.1:9001"), Some("127.0.0.1:9002")).contains("127.0.0.1:9002"));
    // Without a file: the embedded default.
    let (ok, out, _) = run(relais().arg("config").current_dir(dir.path().join("..")));
    assert!(
        ok && out.contains("ecoute = \"127.0.0.1:8080\"") && out.contains("SQLite"),
        "{out}"
    );
}

#[test]
fn bad_configuration_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    assert_one_line_error(
        relais().args(["config", "--config", "/nulle/part/relais.toml"]),
        "illisible",
    );
    let broken = dir.path().join("casse.toml");
    std::fs::write(&broken, "ecoute = \"127.0.0.1:9000\"\n\nhsts = peut-être\n").unwrap();
    assert_one_line_error(
        relais().arg("config").arg("--config").arg(&broken),
        "ligne 3",
    );
    // An unknown key, such as the English name of a setting, is refused.
    std::fs::write(&broken, "listen = \"127.0.0.1:9000\"\n").unwrap();
    assert_one_line_error(
        relais().arg("config").arg("--config").arg(&broken),
        "listen",
    );
    std::fs::write(&broken, "ecoute = \"pas une adresse\"\n").unwrap();
    assert_one_line_error(
        relais().arg("config").arg("--config").arg(&broken),
        "ligne 1",
    );
}

#[test]
fn unusable_storage_is_one_clear_line() {
    assert_one_line_error(
        relais().args(["migrate", "--dossier-donnees", "/dev/null/relais"]),
        "/dev/null/relais",
    );
    assert_one_line_error(
        relais().args([
            "migrate",
            "--base",
            "postgres://postgres@127.0.0.1:1/absente",
        ]),
        "postgres://postgres@127.0.0.1:1/absente",
    );
    assert_one_line_error(
        relais().args([
            "migrate",
            "--base",
            "postgres://relais:motdepasse@127.0.0.1:1/x",
        ]),
        "relais:***@",
    );
    let (_, _, err) = run(relais().args([
        "migrate",
        "--base",
        "postgres://relais:motdepasse@127.0.0.1:1/x",
    ]));
    assert!(!err.contains("motdepasse"), "password leaked: {err}");
    assert_one_line_error(
        relais().args(["migrate", "--base", "mysql://root@localhost/x"]),
        "non reconnue",
    );
}

/// `relais serve` on SQLite in a new temporary directory (`donnees/`), plus `extra`.
fn serve(extra: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        relais()
            .args(["serve", "--dossier-donnees"])
            .arg(dir.path().join("donnees"))
            .args(extra),
    );
    (server, dir)
}

#[test]
fn serves_on_sqlite_then_stops_gracefully_on_sigterm() {
    let (server, dir) = serve(&[]);
    assert!(dir.path().join("donnees/relais.db").exists());
    assert!(
        dir.path().join("donnees/relais.db-wal").exists(),
        "SQLite runs in WAL mode"
    );
    let (status, body) = http_get(server.addr, "/readyz").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains(r#""base":"sqlite""#), "{body}");
    let (status, body) =
        http_get(server.addr, "/api/v1/territoires/communes?q=ile%20d%20yeu").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("85113"), "{body}");
    // The port is taken now: a second server says so in one line.
    assert_one_line_error(
        relais()
            .args([
                "serve",
                "--ecoute",
                &server.addr.to_string(),
                "--dossier-donnees",
            ])
            .arg(dir.path().join("autre")),
        &server.addr.to_string(),
    );
    let (ok, err) = server.terminate();
    assert!(ok, "{err}");
    assert!(err.contains("arrêt propre terminé"), "{err}");
}

#[tokio::test]
async fn serves_the_same_code_on_postgres() {
    let t = TestDb::postgres().await;
    // As the `postgres` superuser; the runtime role is tested in tests/roles.rs.
    let (server, _dir) = serve(&["--base", &t.url, "--autoriser-superutilisateur"]);
    assert_serves_on_postgres(server.addr);
    let (ok, err) = server.terminate();
    assert!(ok, "{err}");
    t.cleanup().await;
}

#[test]
fn json_logs_on_request() {
    let (server, _dir) = serve(&["--format-traces", "json"]);
    http_get(server.addr, "/healthz").unwrap();
    let (_, err) = server.terminate();
    let request_line = err
        .lines()
        .find(|l| l.contains("/healthz"))
        .expect("a log line for the request");
    let json: serde_json::Value = serde_json::from_str(request_line).expect("JSON log line");
    assert!(
        json["span"]["id"].as_str().is_some_and(|id| id.len() == 16),
        "{request_line}"
    );
}

#[test]
fn trusted_proxies_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(relais()
        .arg("config")
        .current_dir(dir.path())
        .env("RELAIS_PROXYS_DE_CONFIANCE", "10.0.0.0/8, 192.0.2.7"));
    assert!(ok, "{err}");
    assert!(
        out.contains("proxys_de_confiance = [\"10.0.0.0/8\", \"192.0.2.7\"]"),
        "{out}"
    );
    let file = dir.path().join("relais.toml");
    std::fs::write(&file, "proxys_de_confiance = [\"2001:db8::/32\"]\n").unwrap();
    let (ok, out, err) = run(relais().arg("config").current_dir(dir.path()));
    assert!(ok && out.contains("2001:db8::/32"), "{out}{err}");
    assert_one_line_error(
        relais()
            .arg("config")
            .current_dir(dir.path())
            .args(["--proxys-de-confiance", "10.0.0.0/8,proxy.interne"]),
        "« proxy.interne »",
    );
}

/// Off a terminal, no colour codes; each request one short line in its span, whose level
/// the `traces_requetes` setting chooses.
#[test]
fn access_log_is_one_plain_line_per_request_and_can_be_turned_off() {
    let (server, _dir) = serve(&[]);
    http_get(server.addr, "/healthz").unwrap();
    http_get(server.addr, "/api/v1/territoires/communes?q=lyon").unwrap();
    let (_, err) = server.terminate();
    assert!(!err.contains('\x1b'), "ANSI codes in a file: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("acces:")).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=/healthz") && l.contains("statut=200")),
        "{err}"
    );
    // The route's pattern and the status, not the query (it may hold what people typed).
    let search = lines
        .iter()
        .find(|l| l.contains("route=/api/v1/territoires/communes"))
        .expect("a line for the search");
    assert!(!search.contains("lyon"), "{search}");
    assert!(search.contains("duree_ms="), "{search}");

    let (server, _dir) = serve(&["--traces-requetes", "non"]);
    http_get(server.addr, "/healthz").unwrap();
    let (_, err) = server.terminate();
    assert!(!err.contains("acces:"), "{err}");
    assert!(err.contains("Relais est prêt"), "other logs remain: {err}");
}

#[test]
fn access_log_level_from_file_environment_or_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relais.toml");
    std::fs::write(&file, "traces_requetes = \"debug\"\n").unwrap();
    let shown = |env: Option<&str>, flag: &[&str]| {
        let mut cmd = relais();
        cmd.arg("config").arg("--config").arg(&file).args(flag);
        if let Some(v) = env {
            cmd.env("RELAIS_TRACES_REQUETES", v);
        }
        let (ok, out, err) = run(&mut cmd);
        assert!(ok, "{err}");
        out
    };
    assert!(shown(None, &[]).contains("traces_requetes = \"debug\""));
    assert!(shown(Some("non"), &[]).contains("traces_requetes = \"non\""));
    assert!(
        shown(Some("non"), &["--traces-requetes", "info"]).contains("traces_requetes = \"info\"")
    );
    std::fs::write(&file, "traces_requetes = \"bavard\"\n").unwrap();
    let (ok, _, err) = run(relais().arg("config").arg("--config").arg(&file));
    assert!(!ok && err.contains("ligne 1"), "{err}");
}

/// The help of a command: French words only (a sample of English ones clap or a careless
/// doc comment would leave), and a description on every option.
fn assert_french_help(args: &[&str]) -> String {
    let (ok, out, err) = run(relais().args(args).arg("--help"));
    assert!(ok, "{args:?}: {err}");
    let lower = out.to_lowercase();
    for english in [
        "usage:",
        "commands:",
        "arguments:",
        "print help",
        "print version",
        "[default:",
        "[env:",
        "possible values",
        " the ",
        " of ",
        " and ",
        " with ",
        " file",
        " database",
        "listen",
        "e-mail",
    ] {
        assert!(
            !lower.contains(english),
            "« {english} » in relais {args:?} --help:\n{out}"
        );
    }
    // Each option has its description: on its line, or on the next one (long help).
    let lines: Vec<&str> = out.lines().map(str::trim_start).collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with('-') && line.split_whitespace().count() <= 2 {
            let next = lines.get(i + 1).copied().unwrap_or_default();
            assert!(
                !next.is_empty() && !next.starts_with('-'),
                "option without a description in relais {args:?} --help: {line}"
            );
        }
    }
    out
}

#[test]
fn help_is_in_french_with_every_option_described() {
    let out = assert_french_help(&[]);
    for heading in [
        "Utilisation :",
        "Commandes:",
        "Base de données:",
        "Options:",
    ] {
        assert!(out.contains(heading), "{heading} missing from:\n{out}");
    }
    let serve = assert_french_help(&["serve"]);
    for heading in [
        "Serveur web:",
        "ProConnect:",
        "Tâches de fond, courriels et journal:",
    ] {
        assert!(serve.contains(heading), "{heading} missing from:\n{serve}");
    }
    assert!(serve.contains("[variable RELAIS_ECOUTE]"), "{serve}");
    assert!(
        serve.contains("[valeurs : info, debug, non ; variable RELAIS_TRACES_REQUETES]"),
        "{serve}"
    );
    for args in [
        &["worker"][..],
        &["migrate"],
        &["admin"],
        &["admin", "creer-compte"],
        &["admin", "creer-structure"],
        &["import", "lieux"],
        &["export", "lieux"],
        &["journal"],
        &["journal", "verifier"],
        &["lieux", "distincts"],
        &["bench-import-lieux"],
    ] {
        assert_french_help(args);
    }
    let (ok, out, _) = run(relais().arg("--version"));
    assert!(ok && out.starts_with("relais "), "{out}");
}

#[test]
fn server_settings_are_options_of_the_server_only() {
    let (_, import, _) = run(relais().args(["import", "lieux", "--help"]));
    let (_, serve, _) = run(relais().args(["serve", "--help"]));
    let (_, worker, _) = run(relais().args(["worker", "--help"]));
    for option in ["--url-smtp", "--expediteur", "--fichier-cle-journal"] {
        assert!(
            !import.contains(option),
            "{option} in import lieux:\n{import}"
        );
        assert!(
            serve.contains(option) && worker.contains(option),
            "{option}"
        );
    }
    for option in ["--ecoute", "--proconnect-emetteur", "--proxys-de-confiance"] {
        assert!(
            !import.contains(option) && !worker.contains(option),
            "{option}"
        );
        assert!(serve.contains(option), "{option}");
    }
    for option in ["--base", "--dossier-donnees", "--config"] {
        assert!(
            import.contains(option) && serve.contains(option),
            "{option}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    for refused in [
        &["--url-smtp", "smtp://courriel.exemple:25"][..],
        &["--ecoute", "127.0.0.1:9000"],
    ] {
        let (ok, _, err) = run(relais()
            .args(["import", "lieux", "--dossier-donnees"])
            .arg(dir.path())
            .args(refused)
            .arg("lieux.csv"));
        assert!(
            !ok && err.contains(refused[0]) && err.contains("option inconnue"),
            "{refused:?}: {err}"
        );
    }
    // The journal's key is the one server setting the journal commands read.
    let (_, journal, _) = run(relais().args(["journal", "verifier", "--help"]));
    assert!(journal.contains("--fichier-cle-journal") && !journal.contains("--url-smtp"));
}
