//! Use cases of Relais: each reads or changes state through the store.

pub mod comptes;
pub mod courriel;
pub mod equipe;
pub mod habilitations;
pub mod invitations;
pub mod journal;
pub mod lieux;
pub mod password_reset;
pub mod periodic;
pub mod proconnect;
pub mod signalements;
pub mod territoires;
