//! The integration tests of relais-store, in one binary:
//! linking the workspace once rather than once per file is what keeps the build fast.

mod comptes;
mod journal;
mod mandats;
mod oidc;
mod roles;
mod store;
