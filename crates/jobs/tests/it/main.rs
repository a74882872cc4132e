//! The integration tests of relais-jobs, in one binary:
//! linking the workspace once rather than once per file is what keeps the build fast.

mod worker;
