//! The integration tests of relais-services, in one binary:
//! linking the workspace once rather than once per file is what keeps the build fast.

mod comptes;
mod equipe;
mod export;
mod fusion;
mod habilitations;
mod import_bad_input;
mod lieux;
mod lieux_edition;
mod mapping;
mod recherche;
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
