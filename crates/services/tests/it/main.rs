//! The integration tests of relais-services, in one binary:
//! linking the workspace once rather than once per file is what keeps the build fast.

mod activites;
mod beneficiaires;
mod comptes;
mod diagnostic;
mod equipe;
mod export;
mod fusion;
mod habilitations;
mod import_bad_input;
mod lieux;
mod lieux_edition;
mod mandats;
mod mapping;
mod pass;
mod recherche;
mod registre;
mod territoires;

/// The rows an import left out, as (line, problems in French): what the CLI says of them.
pub fn rejected(
    report: &relais_services::lieux::import::ImportReport,
) -> Vec<(usize, Vec<String>)> {
    report
        .rejected_by_row()
        .map(|row| (row[0].line, row.iter().map(ToString::to_string).collect()))
        .collect()
}

/// The shipped territories, indexed once for the whole binary.
pub fn index() -> &'static relais_search::TerritoryIndex {
    static INDEX: std::sync::OnceLock<relais_search::TerritoryIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        relais_search::TerritoryIndex::build(relais_services::territoires::parse_shipped().unwrap())
    })
}

/// A file of the repository's `data/lieux/`.
pub fn data(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../data/lieux/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The header of a schema v1.0.1 CSV file: every column in the schema's order.
pub fn v1_header() -> String {
    relais_domain::lieux::COLUMNS.join(",")
}

/// A schema v1.0.1 CSV row: `defaults`, then `changes` over them, every other column empty.
pub fn v1_row(defaults: &[(&str, &str)], changes: &[(&str, &str)]) -> String {
    let mut values: Vec<(&str, &str)> = relais_domain::lieux::COLUMNS
        .iter()
        .map(|c| (*c, ""))
        .collect();
    for (k, v) in defaults.iter().chain(changes) {
        values.iter_mut().find(|(c, _)| c == k).unwrap().1 = v;
    }
    values
        .iter()
        .map(|(_, v)| {
            if v.contains(',') || v.contains('"') {
                format!("\"{}\"", v.replace('"', "\"\""))
            } else {
                (*v).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
