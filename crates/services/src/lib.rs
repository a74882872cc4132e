//! Use cases of Relais: each reads or changes state through the store.

pub mod comptes;
pub mod habilitations;
pub mod proconnect;
pub mod territoires;
