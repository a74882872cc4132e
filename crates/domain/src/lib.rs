//! Pure types and rules of Relais: no I/O, no database, no HTTP.

pub mod authz;
pub mod comptes;
pub mod habilitation;
pub mod horaires;
pub mod journal;
pub mod lieux;
pub mod schedule;
pub mod territoire;
pub mod text;
pub mod totp;
