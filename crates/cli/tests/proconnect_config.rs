//! ProConnect settings: layered like the others, the client secret never shown.

use std::process::{Command, Stdio};

fn relais() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relais"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("RELAIS_")) {
        cmd.env_remove(key);
    }
    cmd.stdin(Stdio::null());
    cmd
}

#[test]
fn proconnect_keys_are_layered_and_the_secret_is_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relais.toml");
    std::fs::write(
        &file,
        "public_url = \"https://relais.exemple.gouv.fr/\"\n\
         proconnect_issuer = \"https://proconnect.exemple/api/v2\"\n\
         proconnect_client_id = \"relais\"\n\
         proconnect_client_secret = \"secret-du-fichier\"\n",
    )
    .unwrap();
    let out = relais()
        .arg("config")
        .arg("--config")
        .arg(&file)
        .env(
            "RELAIS_PROCONNECT_CLIENT_SECRET",
            "secret-de-l-environnement",
        )
        .args(["--proconnect-client-id", "relais-option"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.contains("public_url = \"https://relais.exemple.gouv.fr\"")
            && out.contains("proconnect_issuer = \"https://proconnect.exemple/api/v2\"")
            && out.contains("proconnect_client_id = \"relais-option\"")
            && out.contains("proconnect_client_secret = \"***\""),
        "{out}"
    );
    assert!(!out.contains("secret-du-fichier") && !out.contains("secret-de-l-environnement"));

    // Without ProConnect keys: the default public URL and no ProConnect.
    let out = relais()
        .arg("config")
        .current_dir(dir.path().join(".."))
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.contains("public_url = \"http://127.0.0.1:8080\""),
        "{out}"
    );
    assert!(!out.contains("proconnect_"), "{out}");
}
