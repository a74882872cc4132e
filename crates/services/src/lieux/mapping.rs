//! A producer's own format mapped to the national schema by a TOML file: pure, in
//! `relais_domain` (fuzzed there); re-exported here for the importers.

pub use relais_domain::lieux::mapping::*;
