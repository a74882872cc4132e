//! Lieux de médiation numérique: producers' files read (`fichier`) and imported
//! (`import`) into sources' records and published lieux.

pub mod demo;
pub mod fiche;
pub mod fichier;
pub mod import;
pub mod mapping;
pub mod recherche;
