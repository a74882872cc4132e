//! PostgreSQL deployment with two roles, as an operator runs it: `relais migrate` as the
//! owner makes the runtime role, `serve` and `worker` run as that role, and refuse a
//! superuser unless `--allow-superuser`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use relais_testkit::{drop_role, unique_role, TestDb};

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

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let status = raw.split(' ').nth(1)?.parse().ok()?;
    Some((status, raw.split_once("\r\n\r\n")?.1.to_string()))
}

/// `relais serve` on `url`; ready (`/readyz` 200) or exited, within 60 s.
fn serve(url: &str, extra: &[&str]) -> (Child, SocketAddr) {
    let addr = free_addr();
    let mut child = relais()
        .args([
            "serve",
            "--listen",
            &addr.to_string(),
            "--database-url",
            url,
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while http_get(addr, "/readyz").map(|r| r.0) != Some(200) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "not ready in 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, addr)
}

/// Sends SIGTERM (if still running) and returns (exit success, stderr).
fn stop(mut child: Child) -> (bool, String) {
    if child.try_wait().unwrap().is_none() {
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap().success(), err)
}

/// One French line on stderr, no trace.
fn assert_refused(ok: bool, err: &str, expected: &[&str]) {
    assert!(!ok, "should fail: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("erreur")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("relais : erreur : "), "{err}");
    for word in expected {
        assert!(lines[0].contains(word), "{word} missing: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test]
async fn serve_and_worker_refuse_a_superuser_without_the_flag() {
    let t = TestDb::postgres().await;
    let (ok, _, err) = run(relais().args([
        "serve",
        "--listen",
        &free_addr().to_string(),
        "--database-url",
        &t.url,
    ]));
    assert_refused(
        ok,
        &err,
        &[
            "refus de démarrer",
            "« postgres »",
            "superutilisateur",
            "--allow-superuser",
            "relais_app",
        ],
    );
    let (ok, _, err) = run(relais().args(["worker", "--database-url", &t.url]));
    assert_refused(ok, &err, &["superutilisateur", "--allow-superuser"]);

    // Allowed, by flag or environment: it starts, and says the risk.
    let (child, addr) = serve(&t.url, &["--allow-superuser"]);
    assert_eq!(http_get(addr, "/readyz").map(|r| r.0), Some(200));
    let (ok, err) = stop(child);
    assert!(ok, "{err}");
    assert!(
        err.contains("WARN")
            && err.contains("superutilisateur")
            && err.contains("pourrait réécrire le journal"),
        "{err}"
    );
    let (child, addr) = {
        let addr = free_addr();
        let child = relais()
            .args([
                "serve",
                "--listen",
                &addr.to_string(),
                "--database-url",
                &t.url,
            ])
            .env("RELAIS_ALLOW_SUPERUSER", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        (child, addr)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while http_get(addr, "/readyz").map(|r| r.0) != Some(200) {
        assert!(Instant::now() < deadline, "not ready in 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (ok, err) = stop(child);
    assert!(ok, "{err}");
    t.cleanup().await;
}

#[tokio::test]
async fn migrate_as_owner_then_serve_as_the_runtime_role() {
    let t = TestDb::postgres().await;
    let role = unique_role("rt");
    let migrate = || {
        run(relais()
            .args(["migrate", "--database-url", &t.url, "--runtime-role", &role])
            .env("RELAIS_RUNTIME_PASSWORD", "exécution-secrète"))
    };
    let (ok, out, err) = migrate();
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("Rôle d’exécution « {role} » créé"))
            && out.contains("Mot de passe défini")
            && out.contains("journal et journal_checkpoints : SELECT et INSERT seulement")
            && out.contains(&format!("--database-url postgres://{role}:MOT_DE_PASSE@"))
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
    let (child, addr) = serve(&runtime_url, &["--journal-checkpoint-secs", "0"]);
    let (status, body) = http_get(addr, "/readyz").unwrap();
    assert_eq!(
        (status, body.contains(r#""base":"postgres""#)),
        (200, true),
        "{body}"
    );
    let (_, body) = http_get(addr, "/api/v1/territoires/communes?q=st-etienne&limit=1").unwrap();
    assert!(body.contains("42218"), "{body}");
    let (ok, err) = stop(child);
    assert!(ok, "{err}");
    assert!(!err.contains("WARN"), "{err}");

    // A migration the runtime role cannot apply: it says to run migrate as the owner.
    t.db.execute_admin("DELETE FROM schema_migrations WHERE version = 12")
        .await
        .unwrap();
    let (child, _) = serve(&runtime_url, &[]);
    let (ok, err) = stop(child);
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
    let (ok, _, err) = run(relais().args(["worker", "--database-url", &runtime_url]));
    assert_refused(ok, &err, &["relais migrate"]);

    t.cleanup().await;
    drop_role(&role).await;
}

#[test]
fn sqlite_is_unchanged_by_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(relais()
        .args(["migrate", "--runtime-role", "autre", "--data-dir"])
        .arg(dir.path()));
    assert!(ok, "{err}");
    assert_eq!(out, "Base SQLite à jour.\n");
    let (ok, out, _) = run(relais().args(["config", "--allow-superuser"]));
    assert!(
        ok && out.contains("allow_superuser = true")
            && out.contains("runtime_role = \"relais_app\""),
        "{out}"
    );
}
