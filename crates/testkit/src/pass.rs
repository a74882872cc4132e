//! A Pass numérique circuit as the tests of several crates need it: a département runs a
//! programme, a médiathèque is qualified to accept its passes, a CCAS hands its booklets.

use std::collections::BTreeSet;

use relais_domain::authz::{Actor, MediateurAccess, Membership, StructureAccess};
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::ids::{PersonId, ProgrammeId, QualificationId, StructureId};
use relais_domain::pass::programme::{
    FinanceurSaisi, NiveauTerritoire, ProgrammeSaisi, Public, ServicePass,
};
use relais_services::pass::{self as svc, DemandeQualification};
use relais_store::Db;

use crate::fixtures;

/// The proof that `person` holds `role` in `structure`, as the guard would give it.
pub fn access(person: PersonId, structure: StructureId, role: Role) -> StructureAccess {
    Actor {
        person_id: person,
        memberships: vec![Membership { structure, role }],
        global_roles: vec![],
        acting_structure: Some(structure),
    }
    .structure(structure, &[role])
    .unwrap()
}

/// The Loire's programme: two funders (60 % and 40 %), passes of 10 € in booklets of 5,
/// valid 30 days after `now` and 10 more of grace, in the département, for collective
/// workshops; `budget_centimes` caps what may be issued.
pub fn programme(now: i64, budget_centimes: i64) -> ProgrammeSaisi {
    ProgrammeSaisi {
        nom: "Pass numérique Loire".into(),
        financeurs: vec![
            FinanceurSaisi {
                nom: "Département de la Loire".into(),
                siret: "21420218600018".into(),
                part: "60".into(),
                iban: "FR76 3000 6000 0112 3456 7890 189".into(),
                bic: "AGRIFRPP".into(),
            },
            FinanceurSaisi {
                nom: "État".into(),
                siret: "13002526500013".into(),
                part: "40".into(),
                iban: "FR7630001007941234567890185".into(),
                bic: "BDFEFRPPCCT".into(),
            },
        ],
        valeur_centimes: 1000,
        taille_carnet: 5,
        budget_centimes,
        achat_minimum_centimes: 0,
        dernier_jour: relais_domain::calendrier::paris_days(now) + 30,
        grace_jours: 10,
        territoires: vec![(NiveauTerritoire::Departement, "42".into())],
        publics: BTreeSet::from([Public::ToutPublic]),
        services: BTreeSet::from([ServicePass::AtelierCollectif]),
    }
}

/// The médiathèque's application, as its référent types it.
pub fn demande() -> DemandeQualification {
    DemandeQualification {
        titulaire: "Médiathèque de Saint-Étienne".into(),
        iban: "FR7630006000011234567890189".into(),
        bic: "AGRIFRPP".into(),
        services: vec![ServicePass::AtelierCollectif],
    }
}

/// Who takes part in [`circuit`].
pub struct Circuit {
    pub programme: ProgrammeId,
    /// Alice, référent of the département that runs the programme.
    pub porteur: StructureAccess,
    /// Bruno, référent of the médiathèque.
    pub referent: StructureAccess,
    /// The médiathèque's application, not decided yet.
    pub qualification: QualificationId,
    /// Camille, mediator of the médiathèque (her account holds the role).
    pub mediateur: MediateurAccess,
    /// Dana, prescripteur of the CCAS.
    pub prescripteur: StructureAccess,
}

/// Saint-Étienne's structures and people around [`programme`]; the médiathèque has
/// applied (its référent's [`demande`]) and waits for the decision. Needs the commune
/// 42218 ([`crate::seed_commune`]).
pub async fn circuit(db: &Db, now: i64, budget_centimes: i64) -> Circuit {
    let departement = fixtures::structure(
        db,
        "21420218600018",
        "Département de la Loire",
        StructureKind::Collectivite,
    )
    .await;
    let mediatheque = fixtures::structure(
        db,
        "13002526500013",
        "Médiathèque",
        StructureKind::Collectivite,
    )
    .await;
    let ccas =
        fixtures::structure(db, "35600000049837", "CCAS", StructureKind::Administration).await;
    let alice = fixtures::person(db, "alice@exemple.fr", "Alice", "Porteuse").await;
    let bruno = fixtures::person(db, "bruno@exemple.fr", "Bruno", "Référent").await;
    let camille = fixtures::person(db, "camille@exemple.fr", "Camille", "Médiatrice").await;
    let dana = fixtures::person(db, "dana@exemple.fr", "Dana", "Prescriptrice").await;
    fixtures::grant(db, alice, departement, Role::Referent).await;
    fixtures::grant(db, bruno, mediatheque, Role::Referent).await;
    fixtures::grant(db, camille, mediatheque, Role::Mediateur).await;
    fixtures::grant(db, dana, ccas, Role::Prescripteur).await;
    let porteur = access(alice, departement, Role::Referent);
    let programme = svc::creer_programme(db, &porteur, &programme(now, budget_centimes), now)
        .await
        .unwrap();
    let referent = access(bruno, mediatheque, Role::Referent);
    let qualification = svc::demander_qualification(db, &referent, programme, &demande(), now)
        .await
        .unwrap();
    Circuit {
        programme,
        porteur,
        referent,
        qualification,
        mediateur: fixtures::mediateur(camille, mediatheque),
        prescripteur: access(dana, ccas, Role::Prescripteur),
    }
}

impl Circuit {
    /// The programme's owner accepts the médiathèque.
    pub async fn qualifier(&self, db: &Db, now: i64) {
        svc::decider_qualification(db, &self.porteur, self.qualification, true, "", now)
            .await
            .unwrap();
    }

    /// Issues `n` booklets to the CCAS: their codes, booklet after booklet.
    pub async fn emettre(&self, db: &Db, n: usize, now: i64) -> Vec<String> {
        let numeros = svc::emettre(
            db,
            &self.porteur,
            self.programme,
            n,
            Some(self.prescripteur.structure()),
            now,
        )
        .await
        .unwrap();
        let mut codes = Vec::new();
        for numero in numeros {
            let carnet = relais_store::pass::carnet(db, self.programme, numero)
                .await
                .unwrap()
                .unwrap();
            codes.extend(carnet.codes);
        }
        codes
    }
}
