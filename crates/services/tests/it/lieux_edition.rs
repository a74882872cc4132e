//! A structure's lieux on both backends: files uploaded as the structure's source, the
//! lieux it owns, and their edit by its référents (journaled, dated today, merged again).

use std::collections::BTreeMap;

use crate::index;
use relais_domain::authz::{Actor, Membership, StructureAccess};
use relais_domain::calendrier::now_ms;
use relais_domain::comptes::{GlobalRole, Role, StructureKind};
use relais_domain::ids::LieuId;
use relais_domain::journal::JournalAction;
use relais_services::comptes as accounts;
use relais_services::lieux::edition::{self as svc, EditError, Edition};
use relais_services::lieux::fiche::fiche;
use relais_services::lieux::import::import_bytes;
use relais_store::journal::{self, JournalFilter};
use relais_store::{Db, lieux};
use relais_testkit::fixtures::{grant, structure};
use relais_testkit::store_tests;

store_tests!(
    an_upload_is_the_structures_source_and_reimports_without_change,
    an_edit_is_journaled_dated_today_and_wins_the_merge,
    another_structures_lieu_cannot_be_edited,
    invalid_values_are_refused_in_french_and_nothing_changes,
    a_hub_uploads_as_its_own_source,
    invisible_characters_typed_in_the_form_are_not_stored
);

const HEADER: &str =
    "id,nom,commune,code_postal,adresse,latitude,longitude,telephone,horaires,date_maj,services";

/// A v1 row: id, name, phone, date, postal code.
fn row(id: &str, nom: &str, telephone: &str, date: &str, code_postal: &str) -> String {
    format!(
        "{id},{nom},Saint-Étienne,{code_postal},20 rue Jo Gouttebarge,45.4400,4.3870,{telephone},Tu-Sa 10:00-18:00,{date},Aide aux démarches administratives"
    )
}

fn csv(rows: &[String]) -> Vec<u8> {
    let mut lines = vec![HEADER.to_string()];
    lines.extend(rows.iter().cloned());
    lines.join("\n").into_bytes()
}

/// Two structures, a référent in each: their accesses.
async fn two_structures(db: &Db) -> (StructureAccess, StructureAccess) {
    relais_testkit::seed_commune(db).await;
    let mut out = Vec::new();
    for (siret, nom, email) in [
        ("13002526500013", "Médiathèque A", "a@exemple.fr"),
        ("21420218600018", "Mairie B", "b@exemple.fr"),
    ] {
        let s = structure(db, siret, nom, StructureKind::Collectivite).await;
        let p = accounts::create_account(db, email, "Camille", "Martin", "une longue phrase", None)
            .await
            .unwrap();
        grant(db, p, s, Role::Referent).await;
        let actor = Actor {
            person_id: p,
            memberships: vec![Membership {
                structure: s,
                role: Role::Referent,
            }],
            global_roles: vec![],
            acting_structure: Some(s),
        };
        out.push(actor.structure(s, &[Role::Referent]).unwrap());
    }
    let b = out.pop().unwrap();
    (out.pop().unwrap(), b)
}

async fn entries(
    db: &Db,
    structure: relais_domain::ids::StructureId,
    action: JournalAction,
) -> Vec<relais_domain::journal::Entry> {
    let filter = JournalFilter {
        structure: Some(structure),
        action: Some(action),
        ..JournalFilter::default()
    };
    journal::list(db, &filter, 100).await.unwrap()
}

/// The form's values for the lieu, as they are now.
async fn current(db: &Db, access: &StructureAccess, lieu: &LieuId) -> Edition {
    svc::editable(db, access, lieu).await.unwrap().edition
}

async fn an_upload_is_the_structures_source_and_reimports_without_change(db: Db) {
    let (a, b) = two_structures(&db).await;
    let file = csv(&[
        row(
            "1",
            "Médiathèque Tarentaize",
            "04 77 00 00 01",
            "2024-06-01",
            "42000",
        ),
        row(
            "2",
            "Espace numérique",
            "04 77 00 00 02",
            "2024-06-01",
            "4200",
        ),
        row("3", "Tiers-lieu du Crêt", "", "2024-06-01", "42000"),
    ]);
    let first = svc::import_for_structure(&db, index(), &a, &file)
        .await
        .unwrap();
    assert_eq!(first.source, format!("structure-{}", a.structure()));
    assert_eq!((first.read, first.created), (3, 2));
    assert_eq!(first.rejected_rows(), 1);
    assert_eq!(crate::rejected(&first)[0].0, 3, "the bad row's line");
    assert!(crate::rejected(&first)[0].1[0].starts_with("code_postal « 4200 »"));

    let mine = svc::lieux_of(&db, &a).await.unwrap();
    assert_eq!(
        mine.iter().map(|l| l.nom.as_str()).collect::<Vec<_>>(),
        ["Médiathèque Tarentaize", "Tiers-lieu du Crêt"]
    );
    assert!(svc::lieux_of(&db, &b).await.unwrap().is_empty());
    let before = lieux::all(&db).await.unwrap();

    let again = svc::import_for_structure(&db, index(), &a, &file)
        .await
        .unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(lieux::all(&db).await.unwrap(), before, "nothing changed");
    let imports = entries(&db, a.structure(), JournalAction::LieuxImported).await;
    assert_eq!(imports.len(), 2);
    assert_eq!(imports[0].content.actor, Some(a.person()));
    assert!(
        imports[0].content.details.contains("\"rejetes\":1"),
        "{}",
        imports[0].content.details
    );
}

async fn an_edit_is_journaled_dated_today_and_wins_the_merge(db: Db) {
    let (a, _) = two_structures(&db).await;
    // An operator's file describes the same place, fresher than the structure's.
    let operator = csv(&[row(
        "op-1",
        "Médiathèque Tarentaize",
        "04 77 00 00 09",
        "2024-06-01",
        "42000",
    )]);
    import_bytes(&db, index(), "operateur", &operator, &mut |_, _| {})
        .await
        .unwrap();
    let mine = csv(&[row(
        "1",
        "Médiathèque Tarentaize",
        "04 77 00 00 01",
        "2023-01-01",
        "42000",
    )]);
    let report = svc::import_for_structure(&db, index(), &a, &mine)
        .await
        .unwrap();
    assert_eq!(report.merged, 1, "{report:?}");
    let id = svc::lieux_of(&db, &a).await.unwrap()[0].id.clone();
    let merged = fiche(&db, &id).await.unwrap().unwrap();
    assert_eq!(
        merged.lieu.telephone.unwrap().as_str(),
        "+33477000009",
        "the fresher source wins before the edit"
    );

    let mut edition = current(&db, &a, &id).await;
    assert_eq!(edition["telephone"], "+33477000001");
    edition.insert("telephone".into(), "04 77 12 34 56".into());
    edition.insert("horaires".into(), "Mo-Fr 09:00-12:00".into());
    edition.insert(
        "services".into(),
        "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien".into(),
    );
    let done = svc::edit(&db, index(), &a, &id, &edition).await.unwrap();
    assert_eq!(done.changed, ["telephone", "horaires", "services"]);
    assert_eq!(done.lieu_id, id);

    let after = fiche(&db, &id).await.unwrap().unwrap();
    let source = format!("structure-{}", a.structure());
    assert_eq!(after.lieu.telephone.unwrap().as_str(), "+33477123456");
    assert_eq!(after.lieu.horaires.as_deref(), Some("Mo-Fr 09:00-12:00"));
    assert_eq!(after.provenance["telephone"], source);
    let today = svc::paris_today(now_ms()).to_string();
    assert_eq!(after.stored.date_maj, today);
    assert_eq!(after.lieu.date_maj.to_string(), today);

    let edits = entries(&db, a.structure(), JournalAction::LieuEdited).await;
    assert_eq!(edits.len(), 1);
    assert_eq!(
        (
            edits[0].content.subject_kind.as_str(),
            edits[0].content.subject_id.as_str()
        ),
        ("lieu", id.as_str())
    );
    assert_eq!(edits[0].content.actor, Some(a.person()));
    let details: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&edits[0].content.details).unwrap();
    assert_eq!(
        details["champs"],
        serde_json::json!(["telephone", "horaires", "services"])
    );
    assert_eq!(details["source"], serde_json::json!(source));

    // The same values again: nothing written, nothing journaled.
    let edition = current(&db, &a, &id).await;
    let again = svc::edit(&db, index(), &a, &id, &edition).await.unwrap();
    assert!(again.changed.is_empty());
    assert_eq!(
        entries(&db, a.structure(), JournalAction::LieuEdited)
            .await
            .len(),
        1
    );
    assert!(matches!(
        journal::verify(&db).await.unwrap(),
        relais_domain::journal::Verification::Intact { .. }
    ));
}

async fn another_structures_lieu_cannot_be_edited(db: Db) {
    let (a, b) = two_structures(&db).await;
    svc::import_for_structure(
        &db,
        index(),
        &a,
        &csv(&[row(
            "1",
            "Médiathèque Tarentaize",
            "",
            "2024-06-01",
            "42000",
        )]),
    )
    .await
    .unwrap();
    let id = svc::lieux_of(&db, &a).await.unwrap()[0].id.clone();
    let before = lieux::all(&db).await.unwrap();
    assert!(matches!(
        svc::editable(&db, &b, &id).await,
        Err(EditError::NotOwned)
    ));
    let mut edition = current(&db, &a, &id).await;
    edition.insert("nom".into(), "Pris par B".into());
    assert!(matches!(
        svc::edit(&db, index(), &b, &id, &edition).await,
        Err(EditError::NotOwned)
    ));
    assert!(matches!(
        svc::edit(&db, index(), &b, &LieuId("inconnu".into()), &edition).await,
        Err(EditError::NotOwned)
    ));
    assert_eq!(lieux::all(&db).await.unwrap(), before);
    assert!(
        entries(&db, b.structure(), JournalAction::LieuEdited)
            .await
            .is_empty()
    );
}

async fn invalid_values_are_refused_in_french_and_nothing_changes(db: Db) {
    let (a, _) = two_structures(&db).await;
    svc::import_for_structure(
        &db,
        index(),
        &a,
        &csv(&[row(
            "1",
            "Médiathèque Tarentaize",
            "04 77 00 00 01",
            "2024-06-01",
            "42000",
        )]),
    )
    .await
    .unwrap();
    let id = svc::lieux_of(&db, &a).await.unwrap()[0].id.clone();
    let before = lieux::all(&db).await.unwrap();
    let mut edition = current(&db, &a, &id).await;
    edition.insert("horaires".into(), "du lundi au vendredi de 9h à 12h".into());
    edition.insert("telephone".into(), "12".into());
    edition.insert("code_postal".into(), "4200".into());
    edition.insert("courriels".into(), "pas-une-adresse".into());
    edition.insert("nom".into(), "  ".into());
    let Err(EditError::Invalid(errors)) = svc::edit(&db, index(), &a, &id, &edition).await else {
        panic!("refused");
    };
    let by_field: BTreeMap<&str, &str> = errors
        .iter()
        .map(|e| (e.field, e.message.as_str()))
        .collect();
    assert_eq!(
        by_field.keys().copied().collect::<Vec<_>>(),
        ["code_postal", "courriels", "horaires", "nom", "telephone"],
        "{errors:?}"
    );
    assert_eq!(by_field["nom"], "Ce champ est obligatoire.");
    assert!(by_field["code_postal"].contains("5 chiffres"));
    assert!(by_field["telephone"].starts_with("Numéro non reconnu"));
    assert!(by_field["courriels"].contains("nom@domaine.fr"));
    assert!(
        by_field["horaires"].starts_with("Horaires illisibles")
            && by_field["horaires"].contains("OSM"),
        "{}",
        by_field["horaires"]
    );
    assert_eq!(lieux::all(&db).await.unwrap(), before, "nothing changed");
    assert!(
        entries(&db, a.structure(), JournalAction::LieuEdited)
            .await
            .is_empty()
    );

    // A lone bad value is refused too.
    let mut edition = current(&db, &a, &id).await;
    edition.insert("horaires".into(), "Mo-Fr 9x-12h".into());
    let Err(EditError::Invalid(errors)) = svc::edit(&db, index(), &a, &id, &edition).await else {
        panic!("refused");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "horaires");
    assert_eq!(lieux::all(&db).await.unwrap(), before);
}

async fn a_hub_uploads_as_its_own_source(db: Db) {
    relais_testkit::seed_commune(&db).await;
    let p = accounts::create_account(
        &db,
        "hub@exemple.fr",
        "Camille",
        "Martin",
        "une longue phrase",
        None,
    )
    .await
    .unwrap();
    let hub = Actor {
        person_id: p,
        memberships: vec![],
        global_roles: vec![(GlobalRole::CoordinateurHub, "84".into())],
        acting_structure: None,
    }
    .hub()
    .unwrap();
    let file = csv(&[row("h-1", "Fabrique du Crêt", "", "2024-06-01", "42000")]);
    let report = svc::import_for_hub(&db, index(), &hub, &file)
        .await
        .unwrap();
    assert_eq!((report.source.as_str(), report.created), ("hub-84", 1));
    let again = svc::import_for_hub(&db, index(), &hub, &file)
        .await
        .unwrap();
    assert_eq!((again.created, again.unchanged), (0, 1));
    let filter = JournalFilter {
        actor: Some(p),
        action: Some(JournalAction::LieuxImported),
        ..JournalFilter::default()
    };
    assert_eq!(journal::list(&db, &filter, 10).await.unwrap().len(), 2);
}

async fn invisible_characters_typed_in_the_form_are_not_stored(db: Db) {
    let (a, _) = two_structures(&db).await;
    let mine = csv(&[row(
        "1",
        "Médiathèque",
        "04 77 00 00 01",
        "2023-01-01",
        "42000",
    )]);
    svc::import_for_structure(&db, index(), &a, &mine)
        .await
        .unwrap();
    let id = svc::lieux_of(&db, &a).await.unwrap()[0].id.clone();
    let mut edition = current(&db, &a, &id).await;
    edition.insert(
        "nom".into(),
        "\u{202E}Médiathèque\u{7} Tarentaize\u{0}".into(),
    );
    let done = svc::edit(&db, index(), &a, &id, &edition).await.unwrap();
    assert_eq!(done.changed, ["nom"]);
    let after = fiche(&db, &id).await.unwrap().unwrap();
    assert_eq!(after.lieu.nom, "Médiathèque Tarentaize");
}
