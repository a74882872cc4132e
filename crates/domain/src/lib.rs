//! Pure types and rules of Relais: no I/O, no database, no HTTP.

pub mod activites;
pub mod authz;
pub mod calendrier;
pub mod comptes;
pub mod diagnostic;
pub mod habilitations;
pub mod horaires;
pub mod ids;
pub mod journal;
pub mod lieux;
pub mod mandats;
pub mod pass;
pub mod schedule;
pub mod territoires;
pub mod text;
pub mod totp;
