//! `relais bench-lieux` on small sizes: the measurement checks the index against the full
//! scan (it fails otherwise), and the synthetic lieux it writes for the API benchmark
//! import through the real import with no rejection.

use crate::common;

use common::{relais_in, run};

#[test]
fn measures_small_sizes_against_the_full_scan() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) =
        run(relais_in(dir.path()).args(["bench-lieux", "--tailles", "3000", "--recherches", "30"]));
    assert!(ok, "{err}");
    // Both distributions, each with its summary line.
    assert_eq!(out.matches("RESULT n=3000 median_us=").count(), 2, "{out}");
    assert!(out.contains("cold_median_us="), "{out}");
}

#[test]
fn synthetic_lieux_import_with_no_rejection() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("synthese.csv");
    let (ok, out, err) = run(relais_in(dir.path())
        .args(["bench-lieux", "--tailles", "500"])
        .arg("--csv-schema")
        .arg(&csv));
    assert!(ok, "{err}");
    assert!(out.contains("500 lieux de synthèse"), "{out}");
    let header = std::fs::read_to_string(&csv).unwrap();
    assert!(header.starts_with("id,pivot,nom,commune,code_postal,code_insee,adresse,"));

    let (ok, out, err) = run(relais_in(&dir.path().join("data"))
        .args(["import", "lieux", "--source", "synthese"])
        .arg(&csv));
    assert!(ok, "{err}");
    assert!(
        out.contains("500 ligne(s) lue(s), 500 gardée(s) (500 nouvelle(s)"),
        "{out}"
    );
    assert!(out.contains(", 0 rejetée(s)"), "{out}");
    // Numbered names and addresses: no two are taken for the same lieu.
    assert!(out.contains("0 fusionnée(s)"), "{out}");
}
