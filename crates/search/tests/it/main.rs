//! The integration tests of relais-search, in one binary:
//! linking the workspace once rather than once per file is what keeps the build fast.

mod lieux;
mod territoires;
