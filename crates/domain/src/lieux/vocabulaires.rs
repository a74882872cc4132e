//! The closed lists of the national schema v1.0.x, with their exact French values
//! (`as_str`), verbatim from `lamednum-schema-v1.0.1.json` (plus « Étapes numériques
//! (La Poste) » of v1.0.2 and the 91 typologie codes of the reference library).

use crate::comptes::vocabulary;
use crate::text::search_key;

vocabulary! {
    /// `services`: what a lieu helps people do.
    Service {
        AideDemarches => "Aide aux démarches administratives";
        MaitriseOutils => "Maîtrise des outils numériques du quotidien";
        InsertionProfessionnelle => "Insertion professionnelle via le numérique";
        UtilisationSecurisee => "Utilisation sécurisée du numérique";
        Parentalite => "Parentalité et éducation avec le numérique";
        LoisirsCreations => "Loisirs et créations numériques";
        ComprehensionMonde => "Compréhension du monde numérique";
        AccesInternetMateriel => "Accès internet et matériel informatique";
        AcquisitionMateriel => "Acquisition de matériel informatique à prix solidaire";
    }
}

vocabulary! {
    /// `publics_specifiquement_adresses`: publics the lieu addresses specifically.
    Public {
        Jeunes => "Jeunes";
        Etudiants => "Étudiants";
        FamillesEnfants => "Familles et/ou enfants";
        Seniors => "Seniors";
        Femmes => "Femmes";
    }
}

vocabulary! {
    /// `prise_en_charge_specifique`: needs the lieu is equipped and trained for.
    PriseEnCharge {
        Surdite => "Surdité";
        HandicapsMoteurs => "Handicaps moteurs";
        HandicapsMentaux => "Handicaps mentaux";
        Illettrisme => "Illettrisme";
        LanguesAnglais => "Langues étrangères (anglais)";
        LanguesAutres => "Langues étrangères (autres)";
        DeficienceVisuelle => "Déficience visuelle";
    }
}

vocabulary! {
    /// `frais_a_charge`: what the person pays.
    Frais {
        Gratuit => "Gratuit";
        GratuitSousCondition => "Gratuit sous condition";
        Payant => "Payant";
    }
}

vocabulary! {
    /// `dispositif_programmes_nationaux`: national programmes the lieu belongs to.
    Dispositif {
        AidantsConnect => "Aidants Connect";
        BibliothequesNumeriqueReference => "Bibliothèques numérique de référence";
        CertificationPix => "Certification PIX";
        ConseillersNumeriques => "Conseillers numériques";
        EmmausConnect => "Emmaüs Connect";
        FranceServices => "France Services";
        GrandeEcoleNumerique => "Grande école du numérique";
        CroixRouge => "La Croix Rouge";
        PointAccesNumeriqueCaf => "Point d'accès numérique CAF";
        PromeneursDuNet => "Promeneurs du net";
        RelaisNumeriqueEmmaus => "Relais numérique (Emmaüs Connect)";
    }
}

vocabulary! {
    /// `formations_labels`: trainings and local labels. `EtapesNumeriques` exists only
    /// in v1.0.2 (unpublished): a v1.0.1 file carries it in `autres_formations_labels`.
    FormationLabel {
        MonEspaceSante => "Formé à « Mon Espace Santé »";
        Duplex => "Formé à « DUPLEX » (illettrisme)";
        ArniaMednumBfc => "Arnia/MedNum BFC (Bourgogne-Franche-Comté)";
        CollectifReemploiNormandie => "Collectif ressources et acteurs réemploi (Normandie)";
        EtapesNumeriques => "Étapes numériques (La Poste)";
        FabriquesDeTerritoire => "Fabriques de Territoire";
        EclaireursDrome => "Les Éclaireurs du numérique (Drôme)";
        MesPapiersLyon => "Mes Papiers (Métropole de Lyon)";
        Ordi3 => "ORDI 3.0";
        SudLabs => "SUD LABS (PACA)";
    }
}

impl FormationLabel {
    /// Whether the published schema v1.0.1 accepts this value in `formations_labels`.
    pub fn in_v1_0_1(self) -> bool {
        self != FormationLabel::EtapesNumeriques
    }
}

vocabulary! {
    /// `modalites_acces`: how to get in touch or come.
    ModaliteAcces {
        SePresenter => "Se présenter";
        Telephoner => "Téléphoner";
        ContacterParMail => "Contacter par mail";
        RdvEnLigne => "Prendre un RDV en ligne";
        PasDePublic => "Ce lieu n'accueille pas de public";
        FichePrescription => "Envoyer un mail avec une fiche de prescription";
    }
}

vocabulary! {
    /// `modalites_accompagnement`: how people are helped.
    ModaliteAccompagnement {
        EnAutonomie => "En autonomie";
        Individuel => "Accompagnement individuel";
        AtelierCollectif => "Dans un atelier collectif";
        ADistance => "À distance";
    }
}

vocabulary! {
    /// `itinerance`: whether the lieu moves.
    Itinerance {
        Itinerant => "Itinérant";
        Fixe => "Fixe";
    }
}

vocabulary! {
    /// `typologie`: the kind of structure (codes of the data·inclusion v0 typologies
    /// as the reference library lists them; `Autre` is written so, not uppercase).
    Typologie {
        Aci => "ACI", "Atelier et chantier d’insertion";
        Aciphc => "ACIPHC", "Atelier chantier d’insertion premières heures en chantier";
        Afpa => "AFPA", "Agence nationale pour la formation professionnelle des adultes";
        Ai => "AI", "Association intermédiaire";
        Ase => "ASE", "Aide sociale à l’enfance";
        Asso => "ASSO", "Association";
        AssoChomeur => "ASSO_CHOMEUR", "Association de chômeurs";
        Autre => "Autre", "Autre";
        Avip => "AVIP", "Crèche à vocation d’insertion professionnelle";
        Bib => "BIB", "Bibliothèque / médiathèque";
        Caarud => "CAARUD", "Centre d’accueil et d’accompagnement à la réduction des risques pour usagers de drogues";
        Cada => "CADA", "Centre d’accueil de demandeurs d’asile";
        Caf => "CAF", "Caisse d’allocations familiales";
        CapEmploi => "CAP_EMPLOI", "Cap emploi";
        Cava => "CAVA", "Centre d’adaptation à la vie active";
        Cc => "CC", "Communauté de communes";
        Ccas => "CCAS", "Centre communal d’action sociale";
        Ccons => "CCONS", "Chambre consulaire";
        Cd => "CD", "Conseil départemental";
        Cdas => "CDAS", "Centre départemental d’action sociale";
        Cfp => "CFP", "Centre des finances publiques";
        Chrs => "CHRS", "Centre d’hébergement et de réinsertion sociale";
        Chu => "CHU", "Centre d’hébergement d’urgence";
        Cias => "CIAS", "Centre intercommunal d’action sociale";
        Cidff => "CIDFF", "Centre d’information sur les droits des femmes et des familles";
        Citmet => "CITMET", "Cité des métiers";
        Cmp => "CMP", "Centre médico-psychologique";
        Cms => "CMS", "Centre médico-social";
        Cpam => "CPAM", "Caisse primaire d’assurance maladie";
        Cph => "CPH", "Centre provisoire d’hébergement";
        Cs => "CS", "Centre social";
        Csapa => "CSAPA", "Centre de soins, d’accompagnement et de prévention en addictologie";
        Csc => "CSC", "Centre socioculturel";
        Deets => "DEETS", "Direction de l’économie, de l’emploi, du travail et des solidarités";
        Dept => "DEPT", "Services sociaux du conseil départemental";
        Diplp => "DIPLP", "Délégation interministérielle à la prévention et à la lutte contre la pauvreté";
        E2c => "E2C", "École de la deuxième chance";
        Ea => "EA", "Entreprise adaptée";
        Eatt => "EATT", "Entreprise adaptée de travail temporaire";
        Ei => "EI", "Entreprise d’insertion";
        Eiti => "EITI", "Entreprise d’insertion par le travail indépendant";
        Enm => "ENM", "Espace numérique mobile";
        Epci => "EPCI", "Intercommunalité";
        Epi => "EPI", "Espace public internet";
        Epide => "EPIDE", "Établissement pour l’insertion dans l’emploi";
        Epn => "EPN", "Espace public numérique";
        Es => "ES", "Épicerie solidaire";
        Esat => "ESAT", "Établissement ou service d’aide par le travail";
        Ess => "ESS", "Entreprise de l’économie sociale et solidaire";
        Etti => "ETTI", "Entreprise de travail temporaire d’insertion";
        Evs => "EVS", "Espace de vie sociale";
        Fablab => "FABLAB", "Fablab";
        Fabrique => "FABRIQUE", "Fabrique de territoire";
        Fais => "FAIS", "Fédération d’acteurs de l’insertion et de la solidarité";
        Ft => "FT", "France Travail";
        Geiq => "GEIQ", "Groupement d’employeurs pour l’insertion et la qualification";
        Huda => "HUDA", "Hébergement d’urgence pour demandeurs d’asile";
        LaPoste => "LA_POSTE", "La Poste";
        Mde => "MDE", "Maison de l’emploi";
        Mdh => "MDH", "Maison des habitants";
        Mdef => "MDEF", "Maison de l’emploi et de la formation";
        Mdph => "MDPH", "Maison départementale des personnes handicapées";
        Mds => "MDS", "Maison départementale des solidarités";
        Mjc => "MJC", "Maison des jeunes et de la culture";
        Ml => "ML", "Mission locale";
        Mq => "MQ", "Maison de quartier";
        Msa => "MSA", "Mutualité sociale agricole";
        Msap => "MSAP", "Maison de services au public";
        Muni => "MUNI", "Mairie, municipalité";
        Oacas => "OACAS", "Organisme d’accueil communautaire et d’activités solidaires";
        Odc => "ODC", "Organisation délégataire d’un conseil départemental";
        Of => "OF", "Organisme de formation";
        Oil => "OIL", "Opérateur d’intermédiation locative";
        Opcs => "OPCS", "Organisation porteuse de la clause sociale";
        Pad => "PAD", "Point d’accès au droit";
        Pension => "PENSION", "Pension de famille";
        Pi => "PI", "Point info";
        PijBij => "PIJ_BIJ", "Point ou bureau information jeunesse";
        Pimms => "PIMMS", "Point information médiation multi-services";
        Pjj => "PJJ", "Protection judiciaire de la jeunesse";
        Plie => "PLIE", "Plan local pour l’insertion et l’emploi";
        Pref => "PREF", "Préfecture, sous-préfecture";
        Prevention => "PREVENTION", "Service ou club de prévention";
        Reg => "REG", "Région";
        RelaisLecture => "RELAIS_LECTURE", "Relais lecture";
        Ressourcerie => "RESSOURCERIE", "Ressourcerie";
        Rfs => "RFS", "Réseau France Services";
        RsFjt => "RS_FJT", "Résidence sociale, foyer de jeunes travailleurs";
        Scp => "SCP", "Services et clubs de prévention";
        Spip => "SPIP", "Service pénitentiaire d’insertion et de probation";
        TiersLieux => "TIERS_LIEUX", "Tiers-lieu et coworking";
        Udaf => "UDAF", "Union départementale des associations familiales";
    }
}

/// The exact values of a list, joined with `separator` (`|` in a file of the schema).
pub fn joined<V: Vocabulary>(values: &[V], separator: &str) -> String {
    values
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(separator)
}

/// What the readers and writers of rows need from every vocabulary of the schema.
pub trait Vocabulary: Copy + Ord + 'static {
    /// Every value, in a fixed order: `index()` is the position here.
    const ALL: &'static [Self];
    /// The exact value of the schema.
    fn as_str(self) -> &'static str;
    /// The exact value only.
    fn parse(s: &str) -> Option<Self>;

    /// The value written another way: other case, accents or apostrophes, missing or
    /// extra spaces and punctuation (`Étapes numériques(La Poste)`, `bib`).
    fn parse_loose(s: &str) -> Option<Self> {
        let key = search_key(s);
        if key.is_empty() {
            return None;
        }
        Self::ALL
            .iter()
            .copied()
            .find(|v| search_key(v.as_str()) == key)
    }
}

macro_rules! impl_vocabulary {
    ($($name:ident),*) => {$(
        impl Vocabulary for $name {
            const ALL: &'static [Self] = $name::ALL;
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn parse(s: &str) -> Option<Self> {
                $name::parse(s)
            }
        }
    )*};
}

impl_vocabulary!(
    Service,
    Public,
    PriseEnCharge,
    Frais,
    Dispositif,
    FormationLabel,
    ModaliteAcces,
    ModaliteAccompagnement,
    Itinerance,
    Typologie
);

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<V: Vocabulary + std::fmt::Debug>(expected_len: usize) {
        assert_eq!(V::ALL.len(), expected_len);
        let mut keys = std::collections::HashSet::new();
        for (i, &v) in V::ALL.iter().enumerate() {
            assert_eq!(V::parse(v.as_str()), Some(v));
            assert_eq!(V::parse_loose(v.as_str()), Some(v));
            assert_eq!(V::parse_loose(&v.as_str().to_uppercase()), Some(v));
            assert!(
                keys.insert(search_key(v.as_str())),
                "{v:?}: loose key shared"
            );
            assert_eq!(V::ALL.iter().position(|&w| w == v), Some(i));
        }
    }

    #[test]
    fn every_value_round_trips() {
        round_trip::<Service>(9);
        round_trip::<Public>(5);
        round_trip::<PriseEnCharge>(7);
        round_trip::<Frais>(3);
        round_trip::<Dispositif>(11);
        round_trip::<FormationLabel>(10);
        round_trip::<ModaliteAcces>(6);
        round_trip::<ModaliteAccompagnement>(4);
        round_trip::<Itinerance>(2);
        round_trip::<Typologie>(92);
    }

    #[test]
    fn index_is_the_position_in_all() {
        for (i, t) in Typologie::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
        assert_eq!(Service::AcquisitionMateriel.index(), 8);
    }

    #[test]
    fn labels() {
        assert_eq!(Typologie::Bib.label(), "Bibliothèque / médiathèque");
        assert_eq!(Typologie::parse("BIB"), Some(Typologie::Bib));
        assert_eq!(
            Service::AideDemarches.label(),
            "Aide aux démarches administratives"
        );
    }

    #[test]
    fn loose_spellings() {
        assert_eq!(
            FormationLabel::parse_loose("Étapes numériques(La Poste)"),
            Some(FormationLabel::EtapesNumeriques)
        );
        assert_eq!(
            Typologie::parse_loose("tiers_lieux"),
            Some(Typologie::TiersLieux)
        );
        assert_eq!(Typologie::parse_loose("AUTRE"), Some(Typologie::Autre));
        assert_eq!(
            ModaliteAcces::parse_loose("Ce lieu n’accueille pas de public"),
            Some(ModaliteAcces::PasDePublic)
        );
        assert_eq!(Service::parse_loose("Cuisine"), None);
    }
}
