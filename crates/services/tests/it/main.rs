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
