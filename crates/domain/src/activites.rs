//! Activités: the accompaniments mediators report (« comptes rendus d'activité »), their
//! national vocabularies and the import of the previous version's reports.

pub mod beneficiaires;
pub mod rapport;
pub mod statistiques;
pub mod v1;
pub mod vocabulaires;
