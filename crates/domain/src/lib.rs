//! Pure types and rules of Relais: no I/O, no database, no HTTP.

pub mod schedule;
pub mod territoire;
pub mod text;
