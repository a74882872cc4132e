//! What the diagnostic measures: five domains of basic digital skills, aligned on Pix's
//! CRCN and DigComp, and five levels of ability mapped on Pix's first levels.

use crate::comptes::vocabulary;
use crate::lieux::vocabulaires::Service;

vocabulary! {
    /// A domain of basic digital skills.
    Domaine {
        Appareil => "appareil", "Utiliser un appareil";
        Information => "information", "Trouver une information";
        Communication => "communication", "Communiquer";
        Demarches => "demarches", "Faire une démarche en ligne";
        Securite => "securite", "Se protéger";
    }
}

impl Domaine {
    /// The Pix (CRCN) competences the domain covers.
    pub fn pix(self) -> &'static str {
        match self {
            Domaine::Appareil => {
                "5.1 Résoudre des problèmes techniques ; 5.2 Construire un environnement numérique"
            }
            Domaine::Information => {
                "1.1 Mener une recherche et une veille d’information ; 1.3 Traiter des données"
            }
            Domaine::Communication => "2.1 Interagir ; 2.2 Partager et publier",
            Domaine::Demarches => "2.4 S’insérer dans le monde numérique",
            Domaine::Securite => {
                "4.1 Sécuriser l’environnement numérique ; 4.2 Protéger les données personnelles et la vie privée"
            }
        }
    }

    /// The service of the lieux (national schema) that teaches it.
    pub fn service(self) -> Service {
        match self {
            Domaine::Appareil | Domaine::Information | Domaine::Communication => {
                Service::MaitriseOutils
            }
            Domaine::Demarches => Service::AideDemarches,
            Domaine::Securite => Service::UtilisationSecurisee,
        }
    }

    /// What a person who knows this domain can do, in their words.
    pub fn savoir(self) -> &'static str {
        match self {
            Domaine::Appareil => "vous servir d’un téléphone ou d’un ordinateur",
            Domaine::Information => "trouver une information sur internet",
            Domaine::Communication => "écrire et répondre à un message",
            Domaine::Demarches => "faire une démarche en ligne",
            Domaine::Securite => "vous protéger des arnaques et garder vos codes secrets",
        }
    }
}

/// A level of ability, from 0 (first steps) to 4: each spans 1.2 logits of the scale on
/// which the items are calibrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Niveau(pub u8);

/// The abilities where each level starts (logits), from level 1 on.
pub const SEUILS: [f64; 4] = [-1.8, -0.6, 0.6, 1.8];

impl Niveau {
    pub const MAX: u8 = SEUILS.len() as u8;

    /// The level of an ability.
    pub fn de(theta: f64) -> Niveau {
        Niveau(SEUILS.iter().filter(|&&s| theta >= s).count() as u8)
    }

    /// Its name, for the person.
    pub fn label(self) -> &'static str {
        match self.0 {
            0 => "Premiers pas",
            1 => "Débutant",
            2 => "Initié",
            3 => "Autonome",
            _ => "Confirmé",
        }
    }

    /// The Pix level it corresponds to.
    pub fn pix(self) -> &'static str {
        match self.0 {
            0 => "avant le niveau 1 de Pix",
            1 => "niveau 1 de Pix",
            2 => "niveau 2 de Pix",
            3 => "niveau 3 de Pix",
            _ => "niveau 4 de Pix et plus",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_thresholds() {
        assert_eq!(Niveau::de(-3.0), Niveau(0));
        assert_eq!(Niveau::de(-1.8), Niveau(1));
        assert_eq!(Niveau::de(0.0), Niveau(2));
        assert_eq!(Niveau::de(0.6), Niveau(3));
        assert_eq!(Niveau::de(5.0), Niveau(4));
        assert_eq!(Niveau::de(5.0).0, Niveau::MAX);
    }
}
