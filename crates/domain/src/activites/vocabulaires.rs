//! The national vocabularies of an activity report (version 2, the one Relais records),
//! with their stable wire values and French labels, and the rules that tie them: the
//! démarche sub-thématiques need « Aide aux démarches administratives », durations have
//! presets and statistics buckets, an age band follows from a birth year.

use std::collections::BTreeSet;

use crate::comptes::vocabulary;

/// The version of these vocabularies; an import from an older one goes through its mapping
/// (`activites::v1`).
pub const VERSION: u32 = 2;

vocabulary! {
    /// One person helped alone, or a workshop.
    TypeActivite {
        Individuel => "individuel", "Accompagnement individuel";
        Collectif => "collectif", "Atelier collectif";
    }
}

vocabulary! {
    /// Where the activity took place: always resolved to a commune.
    TypeLieu {
        LieuActivite => "lieu_activite", "Lieu d’activité";
        Domicile => "domicile", "À domicile";
        ADistance => "a_distance", "À distance";
        Autre => "autre", "Autre lieu";
    }
}

vocabulary! {
    /// What the activity was about: at least one per activity.
    Thematique {
        DiagnosticNumerique => "diagnostic_numerique", "Diagnostic numérique";
        PrendreEnMainDuMateriel => "prendre_en_main_du_materiel", "Prendre en main du matériel";
        MaintenanceDeMateriel => "maintenance_de_materiel", "Entretenir son matériel";
        GereSesContenusNumeriques => "gere_ses_contenus_numeriques", "Gérer ses contenus numériques";
        NavigationSurInternet => "navigation_sur_internet", "Naviguer sur internet";
        Email => "email", "Courriel";
        Bureautique => "bureautique", "Bureautique";
        ReseauxSociaux => "reseaux_sociaux", "Réseaux sociaux, communication";
        Sante => "sante", "Santé";
        BanqueEtAchatsEnLigne => "banque_et_achats_en_ligne", "Banque et achats en ligne";
        Entrepreneuriat => "entrepreneuriat", "Accompagner un professionnel";
        InsertionProfessionnelle => "insertion_professionnelle", "Insertion professionnelle";
        SecuriteNumerique => "securite_numerique", "Sécurité numérique, prévention";
        Parentalite => "parentalite", "Parentalité";
        ScolariteEtNumerique => "scolarite_et_numerique", "Scolarité et numérique";
        CreerAvecLeNumerique => "creer_avec_le_numerique", "Créer avec le numérique";
        CultureNumerique => "culture_numerique", "Culture numérique";
        IntelligenceArtificielle => "intelligence_artificielle", "Intelligence artificielle";
        AideAuxDemarchesAdministratives => "aide_aux_demarches_administratives", "Aide aux démarches administratives";
    }
}

vocabulary! {
    /// Which administrative démarche was helped with: only with
    /// [`Thematique::AideAuxDemarchesAdministratives`].
    ThematiqueDemarche {
        PapiersElectionsCitoyennete => "papiers_elections_citoyennete", "Papiers, élections, citoyenneté";
        FamilleScolarite => "famille_scolarite", "Famille, scolarité";
        SocialSante => "social_sante", "Social, santé";
        TravailFormation => "travail_formation", "Travail, formation";
        Logement => "logement", "Logement";
        TransportsMobilite => "transports_mobilite", "Transports, mobilité";
        ArgentImpots => "argent_impots", "Argent, impôts";
        Justice => "justice", "Justice";
        EtrangersEurope => "etrangers_europe", "Étrangers, Europe";
        LoisirsSportsCulture => "loisirs_sports_culture", "Loisirs, sports, culture";
        Associations => "associations", "Associations";
    }
}

vocabulary! {
    /// The equipment used (several, or none).
    Materiel {
        Ordinateur => "ordinateur", "Ordinateur";
        Telephone => "telephone", "Téléphone";
        Tablette => "tablette", "Tablette";
        Autre => "autre", "Autre matériel";
        Aucun => "aucun", "Pas de matériel";
    }
}

vocabulary! {
    /// How autonomous the person was (individual accompaniments; 1 to 3 stars).
    Autonomie {
        EntierementAccompagne => "entierement_accompagne", "Entièrement accompagné";
        PartiellementAutonome => "partiellement_autonome", "Autonome avec de l’aide au besoin";
        Autonome => "autonome", "Autonome";
    }
}

vocabulary! {
    /// A workshop's level (1 to 3 stars).
    NiveauAtelier {
        Debutant => "debutant", "Débutant";
        Intermediaire => "intermediaire", "Intermédiaire";
        Avance => "avance", "Avancé";
    }
}

vocabulary! {
    /// Where the person was sent afterwards.
    StructureDeRedirection {
        Administration => "administration", "Administration";
        MediationNumerique => "mediation_numerique", "Structure de médiation numérique";
        OperateurOuOrganismeEnCharge => "operateur_ou_organisme_en_charge", "Opérateur ou organisme en charge de la démarche";
        AideSociale => "aide_sociale", "Structure d’aide sociale";
        InsertionProfessionnelle => "insertion_professionnelle", "Structure d’insertion professionnelle";
        AideAuxDemarchesAdministratives => "aide_aux_demarches_administratives", "Structure d’aide aux démarches administratives";
        Autre => "autre", "Autre structure";
    }
}

vocabulary! {
    Genre {
        Masculin => "masculin", "Masculin";
        Feminin => "feminin", "Féminin";
        NonCommunique => "non_communique", "Non communiqué";
    }
}

vocabulary! {
    /// Age bands, in order.
    TrancheAge {
        MoinsDeDouze => "moins_de_douze", "Moins de 12 ans";
        DouzeDixHuit => "douze_dix_huit", "12 à 17 ans";
        DixHuitVingtQuatre => "dix_huit_vingt_quatre", "18 à 24 ans";
        VingtCinqTrenteNeuf => "vingt_cinq_trente_neuf", "25 à 39 ans";
        QuaranteCinquanteNeuf => "quarante_cinquante_neuf", "40 à 59 ans";
        SoixanteSoixanteNeuf => "soixante_soixante_neuf", "60 à 69 ans";
        SoixanteDixPlus => "soixante_dix_plus", "70 ans et plus";
        NonCommunique => "non_communique", "Non communiqué";
    }
}

impl TrancheAge {
    /// The band of someone born in `annee_naissance`, in `annee` (their age on their
    /// birthday that year: a birth year is all a report asks).
    pub fn depuis_naissance(annee_naissance: i32, annee: i32) -> TrancheAge {
        match annee - annee_naissance {
            ..0 => TrancheAge::NonCommunique,
            0..=11 => TrancheAge::MoinsDeDouze,
            12..=17 => TrancheAge::DouzeDixHuit,
            18..=24 => TrancheAge::DixHuitVingtQuatre,
            25..=39 => TrancheAge::VingtCinqTrenteNeuf,
            40..=59 => TrancheAge::QuaranteCinquanteNeuf,
            60..=69 => TrancheAge::SoixanteSoixanteNeuf,
            _ => TrancheAge::SoixanteDixPlus,
        }
    }
}

vocabulary! {
    StatutSocial {
        Scolarise => "scolarise", "Scolarisé";
        SansEmploi => "sans_emploi", "Sans emploi";
        EnEmploi => "en_emploi", "En emploi";
        Retraite => "retraite", "Retraité";
        NonCommunique => "non_communique", "Non communiqué ou hétérogène";
    }
}

/// The thématiques in the order the form offers them: those of a mediator's latest
/// activities first (`recentes`: latest activity first), the most recent use first, then the
/// others in the national order.
pub fn thematiques_proposees<'a>(
    recentes: impl IntoIterator<Item = &'a BTreeSet<Thematique>>,
) -> Vec<Thematique> {
    let mut out: Vec<Thematique> = Vec::with_capacity(Thematique::ALL.len());
    for t in recentes.into_iter().flatten().chain(Thematique::ALL) {
        if !out.contains(t) {
            out.push(*t);
        }
    }
    out
}

/// The durations offered in one tap, in minutes; any other is typed (hours and minutes).
pub const DUREES_PROPOSEES: [u32; 6] = [15, 30, 45, 60, 90, 120];

/// The longest activity a report accepts: 23 h 59.
pub const DUREE_MAX_MINUTES: u32 = 23 * 60 + 59;

vocabulary! {
    /// The duration buckets of the statistics.
    TrancheDuree {
        MoinsDeTrente => "moins_de_30", "Moins de 30 min";
        TrenteSoixante => "30_60", "30 min à 1 h";
        SoixanteCentVingt => "60_120", "1 h à 2 h";
        CentVingtPlus => "120_plus", "2 h et plus";
    }
}

impl TrancheDuree {
    pub fn de(minutes: u32) -> TrancheDuree {
        match minutes {
            ..30 => TrancheDuree::MoinsDeTrente,
            30..60 => TrancheDuree::TrenteSoixante,
            60..120 => TrancheDuree::SoixanteCentVingt,
            _ => TrancheDuree::CentVingtPlus,
        }
    }
}

/// Why a report's vocabulary values do not hold together; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VocabulaireError {
    #[error("Thématiques : choisissez au moins une thématique.")]
    AucuneThematique,
    #[error(
        "Thématiques : les démarches administratives précisées demandent la thématique « Aide aux démarches administratives »."
    )]
    DemarcheSansAide,
    #[error("Durée : indiquez une durée d’au moins une minute.")]
    DureeNulle,
    #[error("Durée : une activité dure au plus 23 h 59.")]
    DureeTropLongue,
    #[error("Matériel : « Pas de matériel » ne se coche pas avec un matériel.")]
    AucunEtMateriel,
}

/// The thématiques of one activity, checked: at least one, and démarche sub-thématiques
/// only under « Aide aux démarches administratives ».
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thematiques {
    pub thematiques: BTreeSet<Thematique>,
    pub demarches: BTreeSet<ThematiqueDemarche>,
}

impl Thematiques {
    pub fn new(
        thematiques: BTreeSet<Thematique>,
        demarches: BTreeSet<ThematiqueDemarche>,
    ) -> Result<Thematiques, VocabulaireError> {
        if thematiques.is_empty() {
            return Err(VocabulaireError::AucuneThematique);
        }
        if !demarches.is_empty()
            && !thematiques.contains(&Thematique::AideAuxDemarchesAdministratives)
        {
            return Err(VocabulaireError::DemarcheSansAide);
        }
        Ok(Thematiques {
            thematiques,
            demarches,
        })
    }
}

/// A duration in minutes, checked: 1 minute to 23 h 59.
pub fn duree(minutes: u32) -> Result<u32, VocabulaireError> {
    match minutes {
        0 => Err(VocabulaireError::DureeNulle),
        m if m > DUREE_MAX_MINUTES => Err(VocabulaireError::DureeTropLongue),
        m => Ok(m),
    }
}

/// The equipment of one activity, checked: « Pas de matériel » stands alone.
pub fn materiel(choisi: BTreeSet<Materiel>) -> Result<BTreeSet<Materiel>, VocabulaireError> {
    if choisi.contains(&Materiel::Aucun) && choisi.len() > 1 {
        return Err(VocabulaireError::AucunEtMateriel);
    }
    Ok(choisi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_have_their_national_sizes_and_unique_wire_values() {
        assert_eq!(Thematique::ALL.len(), 19);
        assert_eq!(ThematiqueDemarche::ALL.len(), 11);
        assert_eq!(StructureDeRedirection::ALL.len(), 7);
        assert_eq!(TrancheAge::ALL.len(), 8);
        assert_eq!(StatutSocial::ALL.len(), 5);
        assert_eq!(Autonomie::ALL.len(), 3);
        let wires: Vec<&str> = Thematique::ALL.iter().map(|t| t.as_str()).collect();
        let unique: BTreeSet<&str> = wires.iter().copied().collect();
        assert_eq!(unique.len(), wires.len());
        for t in Thematique::ALL {
            assert_eq!(Thematique::parse(t.as_str()), Some(*t));
        }
        assert_eq!(Thematique::parse("Email"), None, "wire values are exact");
    }

    #[test]
    fn demarches_need_the_administrative_thematique() {
        assert_eq!(
            Thematiques::new(BTreeSet::new(), BTreeSet::new()),
            Err(VocabulaireError::AucuneThematique)
        );
        assert_eq!(
            Thematiques::new(
                BTreeSet::from([Thematique::Email]),
                BTreeSet::from([ThematiqueDemarche::Logement])
            ),
            Err(VocabulaireError::DemarcheSansAide)
        );
        assert!(
            Thematiques::new(
                BTreeSet::from([
                    Thematique::Email,
                    Thematique::AideAuxDemarchesAdministratives
                ]),
                BTreeSet::from([ThematiqueDemarche::Logement])
            )
            .is_ok()
        );
        assert!(Thematiques::new(BTreeSet::from([Thematique::Sante]), BTreeSet::new()).is_ok());
    }

    #[test]
    fn durations_and_their_buckets() {
        assert_eq!(duree(0), Err(VocabulaireError::DureeNulle));
        assert_eq!(duree(24 * 60), Err(VocabulaireError::DureeTropLongue));
        assert_eq!(duree(DUREE_MAX_MINUTES), Ok(DUREE_MAX_MINUTES));
        let buckets: Vec<TrancheDuree> = [1, 29, 30, 59, 60, 119, 120, 600]
            .map(TrancheDuree::de)
            .to_vec();
        assert_eq!(
            buckets,
            [
                TrancheDuree::MoinsDeTrente,
                TrancheDuree::MoinsDeTrente,
                TrancheDuree::TrenteSoixante,
                TrancheDuree::TrenteSoixante,
                TrancheDuree::SoixanteCentVingt,
                TrancheDuree::SoixanteCentVingt,
                TrancheDuree::CentVingtPlus,
                TrancheDuree::CentVingtPlus,
            ]
        );
        for preset in DUREES_PROPOSEES {
            assert_eq!(duree(preset), Ok(preset));
        }
    }

    #[test]
    fn age_bands_follow_the_birth_year() {
        let band = |born| TrancheAge::depuis_naissance(born, 2026);
        assert_eq!(band(2015), TrancheAge::MoinsDeDouze);
        assert_eq!(band(2014), TrancheAge::DouzeDixHuit);
        assert_eq!(band(2008), TrancheAge::DixHuitVingtQuatre);
        assert_eq!(band(2001), TrancheAge::VingtCinqTrenteNeuf);
        assert_eq!(band(1987), TrancheAge::VingtCinqTrenteNeuf);
        assert_eq!(band(1986), TrancheAge::QuaranteCinquanteNeuf);
        assert_eq!(band(1966), TrancheAge::SoixanteSoixanteNeuf);
        assert_eq!(band(1957), TrancheAge::SoixanteSoixanteNeuf);
        assert_eq!(band(1956), TrancheAge::SoixanteDixPlus);
        assert_eq!(
            band(2030),
            TrancheAge::NonCommunique,
            "born after the report"
        );
    }

    #[test]
    fn no_equipment_stands_alone() {
        assert_eq!(
            materiel(BTreeSet::from([Materiel::Aucun, Materiel::Tablette])),
            Err(VocabulaireError::AucunEtMateriel)
        );
        assert!(materiel(BTreeSet::from([Materiel::Aucun])).is_ok());
        assert!(materiel(BTreeSet::from([Materiel::Ordinateur, Materiel::Telephone])).is_ok());
    }

    #[test]
    fn the_latest_thematiques_come_first() {
        let recentes = [
            BTreeSet::from([Thematique::Sante]),
            BTreeSet::from([Thematique::Email, Thematique::Sante]),
        ];
        let offered = thematiques_proposees(&recentes);
        assert_eq!(
            offered[..3],
            [
                Thematique::Sante,
                Thematique::Email,
                Thematique::DiagnosticNumerique
            ]
        );
        assert_eq!(offered.len(), Thematique::ALL.len());
        assert_eq!(thematiques_proposees([]), Thematique::ALL);
    }
}
