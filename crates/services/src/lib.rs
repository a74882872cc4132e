//! Use cases of Relais: each reads or changes state through the store.

pub mod activites;
pub mod comptes;
pub mod courriel;
pub mod diagnostic;
pub mod habilitations;
pub mod journal;
pub mod lieux;
pub mod mandats;
pub mod oidc_client;
pub mod pass;
pub mod pdf;
pub mod periodic;
pub mod signalements;
pub mod territoires;
