//! The diagnostic of basic digital skills: the référentiel (five domains, levels mapped on
//! Pix's first ones), the item bank and its lint, and the adaptive test (2PL item response
//! model, EAP estimate, Fisher information with content balancing and exposure control),
//! and the result it gives in words.

pub mod adaptatif;
pub mod banque;
pub mod calibration;
pub mod irt;
pub mod referentiel;
pub mod resultat;
