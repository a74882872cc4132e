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
        "--database-url",
        "--data-dir",
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
    std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nhsts = true\ndatabase_url = \"postgres://relais:tres-secret@db/relais\"\n").unwrap();
    let config = |env: Option<&str>, flag: Option<&str>| {
        let mut cmd = relais();
        cmd.arg("config").arg("--config").arg(&file);
        if let Some(v) = env {
            cmd.env("RELAIS_LISTEN", v);
        }
        if let Some(v) = flag {
            cmd.args(["--listen", v]);
        }
        let (ok, out, err) = run(&mut cmd);
        assert!(ok, "{err}");
        out
    };
    let out = config(None, None);
    assert!(
        out.contains("listen = \"127.0.0.1:9000\"") && out.contains("hsts = true"),
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
        ok && out.contains("listen = \"127.0.0.1:8080\"") && out.contains("SQLite"),
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
    std::fs::write(&broken, "listen = \"127.0.0.1:9000\"\n\nhsts = peut-être\n").unwrap();
    assert_one_line_error(
        relais().arg("config").arg("--config").arg(&broken),
        "ligne 3",
    );
    std::fs::write(&broken, "ecoute = \"127.0.0.1:9000\"\n").unwrap();
    assert_one_line_error(
        relais().arg("config").arg("--config").arg(&broken),
        "ecoute",
    );
    std::fs::write(&broken, "listen = \"pas une adresse\"\n").unwrap();
    assert_one_line_error(
        relais().arg("config").arg("--config").arg(&broken),
        "ligne 1",
    );
}

#[test]
fn unusable_storage_is_one_clear_line() {
    assert_one_line_error(
        relais().args(["migrate", "--data-dir", "/dev/null/relais"]),
        "/dev/null/relais",
    );
    assert_one_line_error(
        relais().args([
            "migrate",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/absente",
        ]),
        "postgres://postgres@127.0.0.1:1/absente",
    );
    assert_one_line_error(
        relais().args([
            "migrate",
            "--database-url",
            "postgres://relais:motdepasse@127.0.0.1:1/x",
        ]),
        "relais:***@",
    );
    let (_, _, err) = run(relais().args([
        "migrate",
        "--database-url",
        "postgres://relais:motdepasse@127.0.0.1:1/x",
    ]));
    assert!(!err.contains("motdepasse"), "password leaked: {err}");
    assert_one_line_error(
        relais().args(["migrate", "--database-url", "mysql://root@localhost/x"]),
        "non reconnue",
    );
}

/// `relais serve` on SQLite in a new temporary directory (`donnees/`), plus `extra`.
fn serve(extra: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        relais()
            .args(["serve", "--data-dir"])
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
            .args(["serve", "--listen", &server.addr.to_string(), "--data-dir"])
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
    let (server, _dir) = serve(&["--database-url", &t.url, "--allow-superuser"]);
    assert_serves_on_postgres(server.addr);
    let (ok, err) = server.terminate();
    assert!(ok, "{err}");
    t.cleanup().await;
}

#[test]
fn json_logs_on_request() {
    let (server, _dir) = serve(&["--log-format", "json"]);
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
        .env("RELAIS_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7"));
    assert!(ok, "{err}");
    assert!(
        out.contains("trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\"]"),
        "{out}"
    );
    let file = dir.path().join("relais.toml");
    std::fs::write(&file, "trusted_proxies = [\"2001:db8::/32\"]\n").unwrap();
    let (ok, out, err) = run(relais().arg("config").current_dir(dir.path()));
    assert!(ok && out.contains("2001:db8::/32"), "{out}{err}");
    assert_one_line_error(
        relais()
            .arg("config")
            .current_dir(dir.path())
            .args(["--trusted-proxies", "10.0.0.0/8,proxy.interne"]),
        "« proxy.interne »",
    );
}

/// Off a terminal, no colour codes; each request one short line in its span, whose level
/// the `access_log` setting chooses.
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

    let (server, _dir) = serve(&["--access-log", "off"]);
    http_get(server.addr, "/healthz").unwrap();
    let (_, err) = server.terminate();
    assert!(!err.contains("acces:"), "{err}");
    assert!(err.contains("Relais est prêt"), "other logs remain: {err}");
}

#[test]
fn access_log_level_from_file_environment_or_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relais.toml");
    std::fs::write(&file, "access_log = \"debug\"\n").unwrap();
    let shown = |env: Option<&str>, flag: &[&str]| {
        let mut cmd = relais();
        cmd.arg("config").arg("--config").arg(&file).args(flag);
        if let Some(v) = env {
            cmd.env("RELAIS_ACCESS_LOG", v);
        }
        let (ok, out, err) = run(&mut cmd);
        assert!(ok, "{err}");
        out
    };
    assert!(shown(None, &[]).contains("access_log = \"debug\""));
    assert!(shown(Some("off"), &[]).contains("access_log = \"off\""));
    assert!(shown(Some("off"), &["--access-log", "info"]).contains("access_log = \"info\""));
    std::fs::write(&file, "access_log = \"bavard\"\n").unwrap();
    let (ok, _, err) = run(relais().arg("config").arg("--config").arg(&file));
    assert!(!ok && err.contains("ligne 1"), "{err}");
}
