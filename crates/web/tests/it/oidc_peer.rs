//! The test OpenID Connect provider (testsupport/oidc, npm oidc-provider) as a child process:
//! it plays ProConnect or FranceConnect for the tests of Relais as a client.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CLIENT_ID: &str = "relais-test";
pub const CLIENT_SECRET: &str = "un-secret-de-test";

/// The provider, killed when dropped.
pub struct Provider {
    pub child: Child,
    pub issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn harness_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testsupport/oidc")
}

impl Provider {
    /// On this port (0: one the system chooses), for a client of this callback; `extra`:
    /// more options of provider.mjs (`--profile franceconnect`, …).
    pub fn start(port: u16, redirect_uri: &str, extra: &[&str]) -> Provider {
        let dir = harness_dir();
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test OpenID Connect provider is not installed: run `cd testsupport/oidc && npm ci` \
             (scripts/test does it) — {} has no node_modules/oidc-provider",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .args(["--port", &port.to_string(), "--client-id", CLIENT_ID])
            .args([
                "--client-secret",
                CLIENT_SECRET,
                "--redirect-uri",
                redirect_uri,
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node must be installed to run the OpenID Connect tests");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!("the test OpenID Connect provider did not say it was ready within 30 s");
        };
        let ready: serde_json::Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|_| panic!("unexpected first line from the provider: {line:?}"));
        let issuer = ready["issuer"].as_str().unwrap().to_string();
        Provider { child, issuer }
    }
}
