//! The integration tests of relais-web, in one binary:
//! linking the workspace once rather than once per file is what keeps the build fast.

mod activites;
mod carte;
#[allow(dead_code)]
mod common;
mod comptes;
mod demarches;
mod diagnostic;
mod equipe;
mod export;
mod fusion;
mod habilitations;
mod http;
mod journal;
mod lieux;
mod lieux_edition;
mod mandats;
mod oidc_peer;
mod pass;
mod proconnect;
mod securite;
