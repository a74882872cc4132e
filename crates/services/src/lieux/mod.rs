//! Lieux de médiation numérique: producers' files read (`fichier`) and imported
//! (`import`) into sources' records and published lieux.

pub mod assistant;
pub mod carte;
pub mod data_inclusion;
pub mod demo;
pub mod edition;
pub mod export;
pub mod fiche;
pub mod fichier;
pub mod fusion;
pub mod import;
pub mod mapping;
pub mod recherche;
