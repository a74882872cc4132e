//! The integration tests of relais-domain, in one binary:
//! linking the workspace once rather than once per file is what keeps the build fast.

mod diagnostic;
mod horaires;
mod horaires_regles;
mod lieux;
