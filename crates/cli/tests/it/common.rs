//! What the tests of the `relais` binary share: running it, reading its one-line errors,
//! and a `relais serve` answering HTTP on a free local port.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `relais` binary, with no `RELAIS_*` variable from the environment and no stdin.
pub fn relais() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relais"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("RELAIS_")) {
        cmd.env_remove(key);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// `relais --dossier-donnees <data>`.
pub fn relais_in(data: &Path) -> Command {
    let mut cmd = relais();
    cmd.arg("--dossier-donnees").arg(data);
    cmd
}

/// (success, stdout, stderr)
pub fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A failure is one French line on stderr (`relais : erreur : …`) holding each of
/// `expected`, with no panic trace.
pub fn assert_refused(ok: bool, err: &str, expected: &[&str]) {
    assert!(!ok, "should fail: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("erreur")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("relais : erreur : "), "{err}");
    for word in expected {
        assert!(lines[0].contains(word), "{word} missing: {err}");
    }
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

/// Runs `cmd`, which must fail with one clear line holding `expected`.
pub fn assert_one_line_error(cmd: &mut Command, expected: &str) {
    let (ok, _, err) = run(cmd);
    assert_refused(ok, &err, &[expected]);
}

pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// (status, body), or `None` if nothing answers.
pub fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
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

/// A running `relais serve`.
/// The server at `addr` is ready on PostgreSQL and answers from its territories.
pub fn assert_serves_on_postgres(addr: SocketAddr) {
    let (status, body) = http_get(addr, "/readyz").unwrap();
    assert_eq!(
        (status, body.contains(r#""base":"postgres""#)),
        (200, true),
        "{body}"
    );
    let (_, body) = http_get(addr, "/api/v1/territoires/communes?q=st-etienne&limite=1").unwrap();
    assert!(body.contains("42218"), "{body}");
}

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Spawns `cmd` (a `relais serve …` without `--ecoute`) on a free local port; returns
    /// once it is ready (`/readyz` 200) or has exited, within 60 s.
    pub fn start(cmd: &mut Command) -> Server {
        let addr = free_addr();
        let mut child = cmd
            .arg("--ecoute")
            .arg(addr.to_string())
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
        Server { child, addr }
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM (if still running) and returns (exit success, stderr).
    pub fn terminate(mut self) -> (bool, String) {
        if self.child.try_wait().unwrap().is_none() {
            Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status()
                .unwrap();
        }
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (self.child.wait().unwrap().success(), err)
    }
}
