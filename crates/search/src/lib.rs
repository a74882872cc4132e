//! In-memory indexes rebuilt from the store.

pub mod activites;
pub mod lieux;
pub mod territoires;

pub use territoires::{CommuneMatch, MatchKind, TerritoryIndex};
