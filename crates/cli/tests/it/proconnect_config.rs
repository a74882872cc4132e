//! ProConnect settings: layered like the others, the client secret never shown.

use crate::common;

use common::{relais, run};

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
    let (ok, out, _) = run(relais()
        .arg("config")
        .arg("--config")
        .arg(&file)
        .env(
            "RELAIS_PROCONNECT_CLIENT_SECRET",
            "secret-de-l-environnement",
        )
        .args(["--proconnect-client-id", "relais-option"]));
    assert!(ok);
    assert!(
        out.contains("public_url = \"https://relais.exemple.gouv.fr\"")
            && out.contains("proconnect_issuer = \"https://proconnect.exemple/api/v2\"")
            && out.contains("proconnect_client_id = \"relais-option\"")
            && out.contains("proconnect_client_secret = \"***\""),
        "{out}"
    );
    assert!(!out.contains("secret-du-fichier") && !out.contains("secret-de-l-environnement"));

    // Without ProConnect keys: the default public URL and no ProConnect.
    let (_, out, _) = run(relais().arg("config").current_dir(dir.path().join("..")));
    assert!(
        out.contains("public_url = \"http://127.0.0.1:8080\""),
        "{out}"
    );
    assert!(!out.contains("proconnect_"), "{out}");
}
