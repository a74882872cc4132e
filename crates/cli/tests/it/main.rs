//! The integration tests of relais-cli, in one binary:
//! linking the workspace once rather than once per file is what keeps the build fast.

mod admin;
mod bench_lieux;
mod cli;
#[allow(dead_code)]
mod common;
mod import;
mod journal;
mod pass;
mod proconnect_config;
mod roles;
