//! ProConnect settings: layered like the others, the client secret never shown.

use crate::common;

use common::{relais, run};

#[test]
fn proconnect_keys_are_layered_and_the_secret_is_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("relais.toml");
    std::fs::write(
        &file,
        "url_publique = \"https://relais.exemple.gouv.fr/\"\n\
         proconnect_emetteur = \"https://proconnect.exemple/api/v2\"\n\
         proconnect_client = \"relais\"\n\
         proconnect_secret = \"secret-du-fichier\"\n",
    )
    .unwrap();
    let (ok, out, _) = run(relais()
        .arg("config")
        .arg("--config")
        .arg(&file)
        .env("RELAIS_PROCONNECT_SECRET", "secret-de-l-environnement")
        .args(["--proconnect-client", "relais-option"]));
    assert!(ok);
    assert!(
        out.contains("url_publique = \"https://relais.exemple.gouv.fr\"")
            && out.contains("proconnect_emetteur = \"https://proconnect.exemple/api/v2\"")
            && out.contains("proconnect_client = \"relais-option\"")
            && out.contains("proconnect_secret = \"***\""),
        "{out}"
    );
    assert!(!out.contains("secret-du-fichier") && !out.contains("secret-de-l-environnement"));

    // Without ProConnect keys: the default public URL and no ProConnect.
    let (_, out, _) = run(relais().arg("config").current_dir(dir.path().join("..")));
    assert!(
        out.contains("url_publique = \"http://127.0.0.1:8080\""),
        "{out}"
    );
    assert!(!out.contains("proconnect_"), "{out}");
}
