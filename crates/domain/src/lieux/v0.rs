//! Values of the legacy schema v0.1 and what each becomes in v1 (reference §1.5: the
//! schema's `descriptif-des-evolutions` and the mappings of the national pipeline).

use super::vocabulaires::{
    Dispositif, FormationLabel, Frais, ModaliteAccompagnement, PriseEnCharge, Public, Service,
};
use crate::text::search_key;

/// One v1 value a v0 value becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Service(Service),
    Public(Public),
    PriseEnCharge(PriseEnCharge),
    Frais(Frais),
    Dispositif(Dispositif),
    Formation(FormationLabel),
    /// A label with no v1 value: kept in `autres_formations_labels`.
    AutreLabel(&'static str),
    Accompagnement(ModaliteAccompagnement),
}

use Target as T;

/// A v0 value and what it becomes (nothing, for `Adultes`: everyone is welcome).
pub type Mapping = (&'static str, &'static [Target]);

pub const SERVICES: &[Mapping] = &[
    (
        "Devenir autonome dans les démarches administratives",
        &[T::Service(Service::AideDemarches)],
    ),
    (
        "Réaliser des démarches administratives avec un accompagnement",
        &[T::Service(Service::AideDemarches)],
    ),
    (
        "Prendre en main un smartphone ou une tablette",
        &[T::Service(Service::MaitriseOutils)],
    ),
    (
        "Prendre en main un ordinateur",
        &[T::Service(Service::MaitriseOutils)],
    ),
    (
        "Utiliser le numérique au quotidien",
        &[T::Service(Service::MaitriseOutils)],
    ),
    (
        "Approfondir ma culture numérique",
        &[T::Service(Service::ComprehensionMonde)],
    ),
    (
        "Favoriser mon insertion professionnelle",
        &[T::Service(Service::InsertionProfessionnelle)],
    ),
    (
        "Accéder à une connexion internet",
        &[T::Service(Service::AccesInternetMateriel)],
    ),
    (
        "Accéder à du matériel",
        &[T::Service(Service::AccesInternetMateriel)],
    ),
    (
        "S'équiper en matériel informatique",
        &[T::Service(Service::AcquisitionMateriel)],
    ),
    (
        "Créer et développer mon entreprise",
        &[T::Service(Service::InsertionProfessionnelle)],
    ),
    (
        "Créer avec le numérique",
        &[T::Service(Service::LoisirsCreations)],
    ),
    (
        "Accompagner les démarches de santé",
        &[T::Service(Service::AideDemarches)],
    ),
    (
        "Promouvoir la citoyenneté numérique",
        &[T::Service(Service::ComprehensionMonde)],
    ),
    (
        "Soutenir la parentalité et l'éducation avec le numérique",
        &[T::Service(Service::Parentalite)],
    ),
];

/// `publics_accueillis` splits into `publics_specifiquement_adresses` and
/// `prise_en_charge_specifique`. « Public langues étrangères » does not say which
/// language: it becomes both language values.
pub const PUBLICS_ACCUEILLIS: &[Mapping] = &[
    ("Seniors (+ 65 ans)", &[T::Public(Public::Seniors)]),
    ("Familles/enfants", &[T::Public(Public::FamillesEnfants)]),
    ("Adultes", &[]),
    ("Jeunes (16-26 ans)", &[T::Public(Public::Jeunes)]),
    (
        "Public langues étrangères",
        &[
            T::PriseEnCharge(PriseEnCharge::LanguesAnglais),
            T::PriseEnCharge(PriseEnCharge::LanguesAutres),
        ],
    ),
    (
        "Déficience visuelle",
        &[T::PriseEnCharge(PriseEnCharge::DeficienceVisuelle)],
    ),
    ("Surdité", &[T::PriseEnCharge(PriseEnCharge::Surdite)]),
    (
        "Handicaps psychiques : troubles psychiatriques donnant lieu à des atteintes comportementales",
        &[T::PriseEnCharge(PriseEnCharge::HandicapsMentaux)],
    ),
    (
        "Handicaps mentaux : déficiences limitant les activités d'une personne",
        &[T::PriseEnCharge(PriseEnCharge::HandicapsMentaux)],
    ),
    ("Uniquement femmes", &[T::Public(Public::Femmes)]),
    (
        "Personnes en situation d'illettrisme",
        &[T::PriseEnCharge(PriseEnCharge::Illettrisme)],
    ),
];

/// `conditions_acces` → `frais_a_charge` (Adhésion → Payant, Pass numérique → Gratuit
/// sous condition).
pub const CONDITIONS_ACCES: &[Mapping] = &[
    (
        "Gratuit : Je peux accéder gratuitement au lieu et à ses services",
        &[T::Frais(Frais::Gratuit)],
    ),
    (
        "Gratuit sous condition : La gratuité est conditionnée à des critères (situation familiale, convention avec un organisme social...)",
        &[T::Frais(Frais::GratuitSousCondition)],
    ),
    (
        "Payant : L'accès au lieu et/ou à ses services est payant",
        &[T::Frais(Frais::Payant)],
    ),
    (
        "Accepte le Pass numérique : Il est possible d'utiliser un Pass numérique pour accéder au lieu",
        &[T::Frais(Frais::GratuitSousCondition)],
    ),
    (
        "Adhésion : L'accès au lieu et/ou à ses services nécessite d'y adhérer",
        &[T::Frais(Frais::Payant)],
    ),
];

/// `labels_nationaux` splits into `dispositif_programmes_nationaux` and
/// `formations_labels`; labels with no v1 value go to `autres_formations_labels`.
pub const LABELS_NATIONAUX: &[Mapping] = &[
    (
        "France Services",
        &[T::Dispositif(Dispositif::FranceServices)],
    ),
    ("CNFS", &[T::Dispositif(Dispositif::ConseillersNumeriques)]),
    ("APTIC", &[T::AutreLabel("APTIC")]),
    (
        "Aidants Connect",
        &[T::Dispositif(Dispositif::AidantsConnect)],
    ),
    (
        "Fabriques de Territoire",
        &[T::Formation(FormationLabel::FabriquesDeTerritoire)],
    ),
    (
        "Grandes écoles du numérique",
        &[T::Dispositif(Dispositif::GrandeEcoleNumerique)],
    ),
    (
        "Point relais CAF",
        &[T::Dispositif(Dispositif::PointAccesNumeriqueCaf)],
    ),
    (
        "Point numérique CAF",
        &[T::Dispositif(Dispositif::PointAccesNumeriqueCaf)],
    ),
    ("Relais pôle emploi", &[T::AutreLabel("Relais pôle emploi")]),
    ("French Tech", &[T::AutreLabel("French Tech")]),
    ("Campus connecté", &[T::AutreLabel("Campus connecté")]),
];

pub const MODALITES_ACCOMPAGNEMENT: &[Mapping] = &[
    (
        "Seul : j'ai accès à du matériel et une connexion",
        &[T::Accompagnement(ModaliteAccompagnement::EnAutonomie)],
    ),
    (
        "Avec de l'aide : je suis accompagné seul dans l'usage du numérique",
        &[T::Accompagnement(ModaliteAccompagnement::Individuel)],
    ),
    (
        "Dans un atelier : j'apprends collectivement à utiliser le numérique",
        &[T::Accompagnement(ModaliteAccompagnement::AtelierCollectif)],
    ),
    (
        "A ma place : une personne habilitée fait les démarches à ma place",
        &[T::Accompagnement(ModaliteAccompagnement::Individuel)],
    ),
];

impl Target {
    /// The v1 value, as the schema writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            T::Service(v) => v.as_str(),
            T::Public(v) => v.as_str(),
            T::PriseEnCharge(v) => v.as_str(),
            T::Frais(v) => v.as_str(),
            T::Dispositif(v) => v.as_str(),
            T::Formation(v) => v.as_str(),
            T::AutreLabel(s) => s,
            T::Accompagnement(v) => v.as_str(),
        }
    }
}

/// The entry of a v0 value: `Some((entry, exact))`, `exact` false when the value was
/// written another way (case, accents, apostrophes) or only its short form before
/// « : » was given (`Gratuit`, `Seul`).
pub fn lookup(table: &'static [Mapping], raw: &str) -> Option<(&'static Mapping, bool)> {
    if let Some(entry) = table.iter().find(|(v0, _)| *v0 == raw) {
        return Some((entry, true));
    }
    let key = search_key(raw);
    if key.is_empty() {
        return None;
    }
    table
        .iter()
        .find(|(v0, _)| {
            search_key(v0) == key
                || v0
                    .split_once(" : ")
                    .is_some_and(|(short, _)| search_key(short) == key)
        })
        .map(|entry| (entry, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_v0_value_maps() {
        for table in [
            SERVICES,
            PUBLICS_ACCUEILLIS,
            CONDITIONS_ACCES,
            LABELS_NATIONAUX,
            MODALITES_ACCOMPAGNEMENT,
        ] {
            for entry in table {
                assert_eq!(lookup(table, entry.0), Some((entry, true)));
            }
        }
        assert_eq!(SERVICES.len(), 15);
        assert_eq!(PUBLICS_ACCUEILLIS.len(), 11);
        assert_eq!(CONDITIONS_ACCES.len(), 5);
        assert_eq!(LABELS_NATIONAUX.len(), 11);
        assert_eq!(MODALITES_ACCOMPAGNEMENT.len(), 4);
    }

    #[test]
    fn short_and_other_spellings() {
        let targets = |raw| lookup(CONDITIONS_ACCES, raw).map(|(e, exact)| (e.1, exact));
        assert_eq!(
            targets("Accepte le Pass numérique"),
            Some((&[T::Frais(Frais::GratuitSousCondition)][..], false))
        );
        assert_eq!(
            targets("gratuit"),
            Some((&[T::Frais(Frais::Gratuit)][..], false))
        );
        let publics = lookup(
            PUBLICS_ACCUEILLIS,
            "Handicaps mentaux : déficiences limitant les activités d’une personne",
        );
        assert_eq!(
            publics.map(|(e, exact)| (e.1, exact)),
            Some((
                &[T::PriseEnCharge(PriseEnCharge::HandicapsMentaux)][..],
                false
            ))
        );
        assert_eq!(lookup(SERVICES, "Cuisine"), None);
    }
}
