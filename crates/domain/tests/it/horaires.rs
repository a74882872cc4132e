//! `Horaires::parse` on the opening hours of the real lieux of `data/lieux/`: how many strings
//! parse, how many are refused and why. Run with `--nocapture` to see the counts, and with
//! `HORAIRES_SHOW=1` to see every refusal and conversion.

use std::collections::BTreeMap;
use std::path::PathBuf;

use relais_domain::horaires::{Horaires, HorairesErrorKind, french_text_to_osm};

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/lieux");
    assert!(dir.is_dir(), "données absentes : {}", dir.display());
    dir
}

/// Non-empty values of one field of a JSON array of objects.
fn json_field(file: &str, field: &str) -> Vec<String> {
    let text = std::fs::read_to_string(data_dir().join(file)).unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    rows.iter()
        .filter_map(|row| row.get(field)?.as_str())
        .filter(|v| !v.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Non-empty values of one column of a CSV file.
fn csv_column(file: &str, column: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(data_dir().join(file)).unwrap();
    let index = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == column)
        .unwrap();
    reader
        .records()
        .map(|r| r.unwrap().get(index).unwrap_or("").to_string())
        .filter(|v| !v.trim().is_empty())
        .collect()
}

/// The name of an error kind, to count refusals by reason.
fn reason(kind: &HorairesErrorKind) -> String {
    match kind {
        HorairesErrorKind::Unsupported { what, .. } => format!("Unsupported({what:?})"),
        other => format!("{other:?}")
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or("")
            .to_string(),
    }
}

struct Count {
    parsed: usize,
    refused: BTreeMap<String, usize>,
}

fn count(label: &str, values: &[String]) -> Count {
    let mut c = Count {
        parsed: 0,
        refused: BTreeMap::new(),
    };
    for value in values {
        match Horaires::parse(value) {
            Ok(h) => {
                c.parsed += 1;
                // The weekly table written back reads the same.
                assert_eq!(Horaires::parse(&h.to_osm()).unwrap().to_osm(), h.to_osm());
            }
            Err(e) => {
                *c.refused.entry(reason(&e.kind)).or_default() += 1;
                if std::env::var_os("HORAIRES_SHOW").is_some() {
                    println!("  {label}: {e}");
                }
            }
        }
    }
    println!(
        "{label}: {} valeurs, {} lues, {} refusées {:?}",
        values.len(),
        c.parsed,
        values.len() - c.parsed,
        c.refused
    );
    c
}

#[test]
fn osm_fields_of_real_lieux_parse() {
    // hinaura 2022 (v0 schema): `horaires`, OSM format.
    let hinaura = json_field("hinaura-2022-v0.json", "horaires");
    let c = count("hinaura-2022-v0.json horaires", &hinaura);
    assert_eq!(hinaura.len(), 617);
    assert_eq!(c.parsed, hinaura.len());

    // carto-2020: `horaires_ouverture_osm` (empty in three of the six files).
    let mut osm = Vec::new();
    for file in [
        "auvergne-epn.csv",
        "bfc-ternum.csv",
        "corse-epn.csv",
        "france-services-cget.csv",
        "hinaura.csv",
        "rhinocc.csv",
    ] {
        osm.extend(csv_column(
            &format!("carto-2020/{file}"),
            "horaires_ouverture_osm",
        ));
    }
    let c = count("carto-2020 horaires_ouverture_osm", &osm);
    assert_eq!(osm.len(), 570);
    assert_eq!(c.parsed, osm.len());
}

#[test]
fn free_text_fields_are_refused_with_a_reason() {
    // The raw sources write opening hours as French prose, not OSM: they are refused, most
    // of them recognised as free text. Converting prose to OSM is the importer's mapping job.
    let mut prose = json_field("sources-brutes/angers.json", "HORAIRE");
    prose.extend(json_field("sources-brutes/corse.json", "Horaires"));
    prose.extend(json_field("sources-brutes/la-creuse.json", "horaires"));
    let c = count("sources-brutes (texte libre)", &prose);
    assert_eq!(prose.len(), 235);
    assert_eq!(c.parsed, 0);
    let free_text = c.refused.get("FreeText").copied().unwrap_or(0);
    assert!(
        free_text * 10 >= prose.len() * 8,
        "{free_text} / {}",
        prose.len()
    );

    // The regular part of the prose converts to OSM, which then parses.
    let mut converted = 0;
    for text in &prose {
        if let Some(osm) = french_text_to_osm(text) {
            converted += 1;
            if std::env::var_os("HORAIRES_SHOW").is_some() {
                println!("  {text}\n    → {osm}");
            }
            assert!(Horaires::parse(&osm).is_ok(), "{text} → {osm}");
        } else if std::env::var_os("HORAIRES_SHOW").is_some() {
            println!("  non converti : {text}");
        }
    }
    println!(
        "texte libre converti en OSM : {converted} / {}",
        prose.len()
    );
    // Measured on these files: 171 of 235; the rest is irregular (`un mercredi sur deux`,
    // `le premier lundi du mois`, `sauf…`, days without hours).
    assert!(converted >= 171, "{converted}");
}
