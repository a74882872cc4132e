//! The register of structures: the Aidants Connect list imported, again, and changed.

use crate::{data, index};
use relais_domain::authz::Actor;
use relais_domain::comptes::Role;
use relais_domain::comptes::StructureKind;
use relais_domain::comptes::registre::{Correspondance, Preuve, RaisonRejet, StructureLabel};
use relais_domain::ids::PersonId;
use relais_domain::journal::JournalAction;
use relais_services::comptes::registre::{
    RapportRegistre, RegistreError, RevendicationError, equipe, import, proposer_correspondance,
    revendiquer,
};
use relais_services::comptes::{StructureError, create_structure};
use relais_store::Db;
use relais_store::comptes::{registre as repo, structures_by_siret};
use relais_store::journal::{self, JournalFilter};
use relais_testkit::store_tests;

store_tests!(
    the_aidants_connect_register_imports_once,
    structures_find_their_lieux,
    a_changed_row_updates_its_structure_and_a_siret_is_claimed_not_taken,
    a_referent_claims_an_imported_structure_with_the_siret_proconnect_vouched_for,
    a_register_of_unknown_columns_imports_from_a_proposal,
);

fn aidants_connect() -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../data/structures/aidants-connect-2024-02-12.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn run(db: &Db, source: &str, bytes: &[u8]) -> RapportRegistre {
    // The structures' communes are checked by the base: every commune, as in production.
    relais_services::territoires::ensure_loaded(db)
        .await
        .unwrap();
    import(
        db,
        index(),
        source,
        bytes,
        &[StructureLabel::AidantsConnect],
        &Correspondance::default(),
        None,
    )
    .await
    .unwrap()
}

/// 5,227 rows, every SIRET written as a number: 5,198 kept, 29 left out with their reason;
/// importing it again changes nothing.
async fn the_aidants_connect_register_imports_once(db: Db) {
    let file = aidants_connect();
    let first = run(&db, "aidants-connect", &file).await;
    assert_eq!(
        (
            first.read,
            first.created,
            first.repaired_sirets,
            first.rejected_rows()
        ),
        (5227, 5198, 5198, 29),
        "{:?}",
        first.rejected
    );
    let count =
        |f: &dyn Fn(&RaisonRejet) -> bool| first.rejected.iter().filter(|r| f(&r.reason)).count();
    assert_eq!(count(&|r| *r == RaisonRejet::Absent), 16);
    assert_eq!(count(&|r| *r == RaisonRejet::SirenSeul), 4);
    assert_eq!(count(&|r| matches!(r, RaisonRejet::Siret(_))), 7);
    assert_eq!(count(&|r| *r == RaisonRejet::CommuneInconnue), 2);

    let all = repo::of_source(&db, "aidants-connect").await.unwrap();
    let by_id = |id: &str| {
        all.iter()
            .find(|s| s.source.as_ref().unwrap().1 == id)
            .unwrap()
    };
    let beta = by_id("1");
    assert_eq!(beta.siret, "13002603200016");
    assert_eq!(
        (beta.commune.as_str(), beta.kind),
        ("75107", StructureKind::Administration)
    );
    assert_eq!(beta.labels, [StructureLabel::AidantsConnect]);
    assert!(beta.deactivated_at.is_none());
    assert!(by_id("3").deactivated_at.is_some(), "« Is Active » false");
    // A CEDEX postal code: the commune of that name in its département.
    assert!(all.iter().any(|s| s.commune == "41018"));
    // The units of one establishment share its SIRET: La Poste's France Services.
    let poste = structures_by_siret(&db, "35600000000048").await.unwrap();
    assert_eq!(poste.len(), 35);

    let again = run(&db, "aidants-connect", &file).await;
    assert_eq!(
        (again.created, again.updated, again.unchanged, again.absent),
        (0, 0, 5198, 0)
    );
    let filter = JournalFilter {
        action: Some(JournalAction::StructuresImported),
        ..JournalFilter::default()
    };
    assert_eq!(journal::list(&db, &filter, 10).await.unwrap().len(), 2);
}

async fn a_changed_row_updates_its_structure_and_a_siret_is_claimed_not_taken(db: Db) {
    let header =
        "ID,Name,Siret,Address,Zip Code,City,City Insee Code,Is Active,France Services Label\n";
    let before = format!(
        "{header}a,Mairie de Chabeuil,21260084700017,1 place,26120,Chabeuil,,oui,non\n\
         b,CCAS,2.6260084700012E13,2 rue,26120,Chabeuil,26064,oui,oui\n"
    );
    let first = run(&db, "hub-drome", before.as_bytes()).await;
    assert_eq!(
        (first.created, first.repaired_sirets),
        (2, 1),
        "{:?}",
        first.rejected
    );
    let after = format!(
        "{header}a,Mairie de Chabeuil (France Services),21260084700017,1 place,26120,Chabeuil,,non,oui\n"
    );
    let second = run(&db, "hub-drome", after.as_bytes()).await;
    assert_eq!(
        (
            second.created,
            second.updated,
            second.unchanged,
            second.absent
        ),
        (0, 1, 0, 1)
    );
    let mairie = &structures_by_siret(&db, "21260084700017").await.unwrap()[0];
    assert_eq!(mairie.nom, "Mairie de Chabeuil (France Services)");
    assert!(mairie.deactivated_at.is_some());
    assert_eq!(
        mairie.labels,
        [
            StructureLabel::FranceServices,
            StructureLabel::AidantsConnect
        ]
    );
    assert_eq!(mairie.commune, "26064");
    // Created by hand with an imported structure's SIRET: refused (its référent adds
    // people to it instead).
    let taken = create_structure(
        &db,
        "21260084700017",
        "Mairie",
        StructureKind::Collectivite,
        "1 place",
        "26064",
        None,
    )
    .await;
    assert!(
        matches!(taken, Err(StructureError::SiretTaken)),
        "{taken:?}"
    );
}

/// The demo lieux, then the register: each structure finds its lieux by the same name, or
/// the same address with a word of the name in common, in its commune; again after the
/// lieux change.
async fn structures_find_their_lieux(db: Db) {
    let lieux = data("hinaura-2022-v0.json");
    relais_services::lieux::import::import_bytes(&db, index(), "hinaura", &lieux, &mut |_, _| {})
        .await
        .unwrap();
    let report = run(&db, "aidants-connect", &aidants_connect()).await;
    assert_eq!((report.lieux, report.structures_with_lieux), (65, 65));
    let structures = repo::of_source(&db, "aidants-connect").await.unwrap();
    let lapte = structures
        .iter()
        .find(|s| s.nom == "Mairie de Lapte")
        .unwrap();
    let found = repo::lieux_of(&db, lapte.id).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, Preuve::NomAdresse);
    let lieu = relais_store::lieux::lieu(&db, &found[0].0)
        .await
        .unwrap()
        .unwrap();
    assert!(lieu.data.contains("Mairie de Lapte"), "{}", lieu.data);
    // Two associations at one address, sharing only the word « Association »: apart.
    let age_d_or = structures
        .iter()
        .find(|s| s.nom == "Association l'Age d'Or")
        .unwrap();
    for (id, _) in repo::lieux_of(&db, age_d_or.id).await.unwrap() {
        let l = relais_store::lieux::lieu(&db, &id).await.unwrap().unwrap();
        assert!(!l.data.contains("PANGOLIN"), "{}", l.data);
    }
    // Run again: the same pairs, not twice.
    let again = relais_services::comptes::registre::rapprocher_lieux(&db, "aidants-connect")
        .await
        .unwrap();
    assert_eq!(again, (65, 65));
}

fn actor(person: PersonId) -> Actor {
    Actor {
        person_id: person,
        memberships: Vec::new(),
        global_roles: Vec::new(),
        acting_structure: None,
    }
}

/// Only a person whose SIRET ProConnect vouched for becomes the référent of an imported
/// structure, and only while it has none; journaled in the structure.
async fn a_referent_claims_an_imported_structure_with_the_siret_proconnect_vouched_for(db: Db) {
    let file = "ID,Name,Siret,Address,Zip Code,City,City Insee Code\n\
                a,CCAS de Chabeuil,21260084700017,2 rue,26120,Chabeuil,26064\n";
    run(&db, "hub-drome", file.as_bytes()).await;
    let ccas = structures_by_siret(&db, "21260084700017").await.unwrap()[0].id;
    let camille =
        relais_testkit::fixtures::person(&db, "camille@exemple.fr", "Camille", "Martin").await;
    let refused = revendiquer(&db, &actor(camille), ccas).await;
    assert!(
        matches!(&refused, Err(RevendicationError::SiretNonAtteste { siret }) if siret == "21260084700017"),
        "{refused:?}"
    );
    // Another organisation's SIRET is no better.
    relais_store::comptes::proconnect::set_proconnect_siret(&db, camille, Some("13002526500013"))
        .await
        .unwrap();
    assert!(matches!(
        revendiquer(&db, &actor(camille), ccas).await,
        Err(RevendicationError::SiretNonAtteste { .. })
    ));
    relais_store::comptes::proconnect::set_proconnect_siret(&db, camille, Some("21260084700017"))
        .await
        .unwrap();
    revendiquer(&db, &actor(camille), ccas).await.unwrap();
    let team = equipe(&db, ccas).await.unwrap();
    assert!(team.contains(&(Role::Referent, 1)), "{team:?}");
    let filter = JournalFilter {
        structure: Some(ccas),
        action: Some(JournalAction::StructureClaimed),
        ..JournalFilter::default()
    };
    let entries = journal::list(&db, &filter, 10).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].content.actor, Some(camille));
    // A colleague with the same SIRET is told to ask Camille.
    let dominique =
        relais_testkit::fixtures::person(&db, "dominique@exemple.fr", "Dominique", "Petit").await;
    relais_store::comptes::proconnect::set_proconnect_siret(&db, dominique, Some("21260084700017"))
        .await
        .unwrap();
    assert!(matches!(
        revendiquer(&db, &actor(dominique), ccas).await,
        Err(RevendicationError::DejaUnReferent)
    ));
    assert!(matches!(
        revendiquer(
            &db,
            &actor(dominique),
            relais_domain::ids::StructureId(999_999)
        )
        .await,
        Err(RevendicationError::Introuvable)
    ));

    // Two colleagues claim another structure at the same moment: one becomes its référent,
    // the other is told there is one (five structures, five races).
    let mut file = String::from("ID,Name,Siret,Address,Zip Code,City,City Insee Code\n");
    for k in 1..=5 {
        file.push_str(&format!(
            "b{k},Antenne {k} de Chabeuil,21260084700017,{k} place,26120,Chabeuil,26064\n"
        ));
    }
    run(&db, "hub-drome-2", file.as_bytes()).await;
    let (first, second) = (actor(camille), actor(dominique));
    for s in repo::of_source(&db, "hub-drome-2").await.unwrap() {
        let (a, b) = tokio::join!(
            revendiquer(&db, &first, s.id),
            revendiquer(&db, &second, s.id)
        );
        let ok = [&a, &b].iter().filter(|r| r.is_ok()).count();
        let told = [&a, &b]
            .iter()
            .filter(|r| matches!(r, Err(RevendicationError::DejaUnReferent)))
            .count();
        assert_eq!((ok, told), (1, 1), "{a:?} {b:?}");
        let team = equipe(&db, s.id).await.unwrap();
        assert!(team.contains(&(Role::Referent, 1)), "{team:?}");
    }
}

/// A register whose columns Relais does not know: refused with the missing fields, then a
/// proposal (SIRET found by its values, the rest by the words of the names) that imports it
/// once one line is corrected by hand.
async fn a_register_of_unknown_columns_imports_from_a_proposal(db: Db) {
    relais_services::territoires::ensure_loaded(&db)
        .await
        .unwrap();
    let csv = "Référence;Identifiant établissement;Dénomination;Voie;CP de la ville;Ville\n\
               r1;13002603200016;Maison France Services de Die;1 rue de la Gare;26150;Die\n\
               r2;21260113400019;Mairie de Die;Place de l'Hôtel de Ville;26150;Die\n";
    let err = import(
        &db,
        index(),
        "reseau",
        csv.as_bytes(),
        &[],
        &Correspondance::default(),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, RegistreError::MissingColumns { missing, .. } if missing == "siret, nom"),
        "{err}"
    );
    let proposal = proposer_correspondance(csv.as_bytes(), "reseau.csv").unwrap();
    assert!(
        proposal.contains("siret = \"Identifiant établissement\"  # confiance 0.7"),
        "{proposal}"
    );
    assert!(
        proposal.contains("code_postal = \"CP de la ville\"  # confiance 0.8"),
        "{proposal}"
    );
    assert!(
        proposal.contains("commune = \"Ville\"  # confiance 1.0"),
        "{proposal}"
    );
    assert!(proposal.contains("# nom = \"\""), "{proposal}");
    // One correction: the name's column, which no known word names.
    let corrected = proposal.replace("# nom = \"\"", "nom = \"Dénomination\"");
    let correspondance = Correspondance::parse(&corrected).unwrap();
    let r = import(
        &db,
        index(),
        "reseau",
        csv.as_bytes(),
        &[],
        &correspondance,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (r.read, r.created, r.rejected_rows()),
        (2, 2, 0),
        "{:?}",
        r.rejected
    );
    assert_eq!(r.columns["nom"], "Dénomination");
    // A column the file does not have is said, with the file's columns.
    let wrong = Correspondance::parse("[colonnes]\nnom = \"Raison sociale\"").unwrap();
    let err = import(&db, index(), "reseau", csv.as_bytes(), &[], &wrong, None)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("colonne « Raison sociale » (champ nom) absente du fichier"),
        "{err}"
    );
    assert!(Correspondance::parse("[colonnes]\ncouleur = \"x\"").is_err());
}
