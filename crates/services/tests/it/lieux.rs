//! Importing lieux on both backends: a real regional file, re-imported without change;
//! careless and hostile files reported row by row, good rows kept.

use crate::{data, index, v1_header, v1_row};
use relais_services::lieux::fichier::FileError;
use relais_services::lieux::import::{ImportError, ImportReport, import_bytes, lieu_id};
use relais_store::{Db, lieux};
use relais_testkit::fixtures::DEMO_LIEUX;
use relais_testkit::store_tests;

store_tests!(
    a_real_file_imports_and_reimports_without_change,
    bad_rows_are_reported_and_good_ones_kept,
    a_changed_row_updates_its_lieu,
    former_codes_and_wrong_postal_codes_find_the_commune
);

async fn run(db: &Db, source: &str, bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let mut calls = 0;
    let report = import_bytes(db, index(), source, bytes, &mut |_, _| calls += 1).await;
    if let Ok(r) = &report {
        assert!(calls > 0 || r.kept() == 0, "progress is reported");
    }
    report
}

async fn a_real_file_imports_and_reimports_without_change(db: Db) {
    let bytes = data("hinaura-2022-v0.json");
    let first = run(&db, "hinaura", &bytes).await.unwrap();
    assert_eq!(first.read, 687);
    assert_eq!(
        (first.created, first.rejected_rows()),
        (687, 0),
        "{:?}",
        crate::rejected(&first).first()
    );
    assert_eq!(lieux::count(&db).await.unwrap() as usize, DEMO_LIEUX);
    let all = lieux::all(&db).await.unwrap();
    let resolved = all
        .iter()
        .filter(|l| l.location.code_insee.is_some())
        .count();
    assert!(
        resolved > 650,
        "communes resolved from postal code and name: {resolved}"
    );
    assert!(all.iter().all(|l| l.location.position.is_some()));

    let again = run(&db, "hinaura", &bytes).await.unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 687));
    assert_eq!(lieux::count(&db).await.unwrap() as usize, DEMO_LIEUX);
    let after = lieux::all(&db).await.unwrap();
    assert_eq!(
        all.iter().map(|l| (&l.id, &l.data)).collect::<Vec<_>>(),
        after.iter().map(|l| (&l.id, &l.data)).collect::<Vec<_>>(),
        "same ids, same data"
    );
}

/// A v1 row with the given values over a valid default.
fn row(changes: &[(&str, &str)]) -> String {
    v1_row(
        &[
            ("id", "1"),
            ("nom", "Médiathèque Tarentaize"),
            ("commune", "Saint-Étienne"),
            ("code_postal", "42000"),
            ("adresse", "20 rue Jo Gouttebarge"),
            ("latitude", "45.4400"),
            ("longitude", "4.3870"),
            ("date_maj", "2024-06-01"),
            (
                "services",
                "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien",
            ),
            ("horaires", "Tu-Sa 10:00-18:00"),
        ],
        changes,
    )
}

async fn bad_rows_are_reported_and_good_ones_kept(db: Db) {
    let csv = [
        v1_header(),
        row(&[]),                                     // line 2: good
        row(&[("id", "2"), ("code_postal", "4200")]), // 3: postal code
        row(&[("id", "3"), ("nom", "")]),             // 4: no name
        row(&[("id", "1")]),                          // 5: id already used
        // Places of their own, each named after its id (6 to 10).
        row(&[("id", "4"), ("nom", "Lieu 4"), ("horaires", "Mo-Fr 9x-12h")]), // hours not read
        row(&[
            ("id", "5"),
            ("nom", "Lieu 5"),
            ("latitude", ""),
            ("longitude", ""),
        ]), // approximate
        row(&[("id", "6"), ("nom", "Lieu 6"), ("telephone", "12")]),          // phone dropped
        format!("{},en trop", row(&[("id", "7")])),                           // one field too many
        row(&[
            ("id", "8"),
            ("nom", "Lieu 8"),
            ("latitude", "48.85"),
            ("longitude", "2.35"),
        ]),
    ]
    .join("\n");
    let report = run(&db, "essai", csv.as_bytes()).await.unwrap();
    assert_eq!(report.read, 9);
    assert_eq!(report.created, 5, "{report:#?}");
    let lines: Vec<usize> = crate::rejected(&report).iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3, 4, 5, 9]);
    let why = |line| {
        crate::rejected(&report)
            .iter()
            .find(|(l, _)| *l == line)
            .unwrap()
            .1
            .join(" ; ")
    };
    assert!(why(3).contains("code_postal « 4200 »"), "{}", why(3));
    assert!(why(4).contains("nom"), "{}", why(4));
    assert!(why(5).contains("déjà utilisé ligne 2"), "{}", why(5));
    assert!(why(9).contains("33 champs au lieu de 32"), "{}", why(9));
    let warned = |line: usize, what: &str| {
        report
            .warnings
            .iter()
            .any(|(l, w)| *l == line && w.contains(what))
    };
    assert!(warned(6, "9x"), "{:?}", report.warnings);
    assert!(warned(8, "telephone"), "{:?}", report.warnings);
    assert!(
        warned(10, "km de la mairie de Saint-Étienne"),
        "{:?}",
        report.warnings
    );
    assert_eq!(report.approximate, 1);
    let approximate = lieux::lieu(&db, &lieu_id("essai", "5"))
        .await
        .unwrap()
        .unwrap();
    assert!(approximate.location.approximate && approximate.location.position.is_some());
    assert_eq!(approximate.location.code_insee.as_deref(), Some("42218"));

    // Whole-file problems: said, and nothing stored.
    for (bytes, expected) in [
        (b"{\"id\": \"1\"}".to_vec(), "tableau"),
        (
            b"id,nom\n1,A\n".to_vec(),
            "colonne(s) obligatoire(s) absente(s) : commune",
        ),
        (b"".to_vec(), "vide"),
    ] {
        let err = run(&db, "autre", &bytes).await.unwrap_err();
        assert!(matches!(err, ImportError::File(_)), "{err}");
        assert!(err.to_string().contains(expected), "{err}");
    }
    assert!(matches!(
        run(&db, "autre", b"[1").await.unwrap_err(),
        ImportError::File(FileError::Json(_))
    ));
    assert_eq!(lieux::count(&db).await.unwrap(), 5);

    // A spreadsheet saved in Latin-1 with a BOM-less header: converted and said.
    let latin1: Vec<u8> = [v1_header(), row(&[("id", "9")])]
        .join("\n")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    let report = run(&db, "latin", &latin1).await.unwrap();
    assert_eq!(report.created, 1);
    assert!(report.notes[0].contains("Windows-1252"));
    // The same médiathèque as source « essai »: merged, its own id answers (alias).
    let stored = lieux::lieu_or_alias(&db, &lieu_id("latin", "9"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.data.contains("Médiathèque Tarentaize"),
        "{}",
        stored.data
    );
}

async fn a_changed_row_updates_its_lieu(db: Db) {
    // Row 2 is another place of the same address (a producer's « Médiathèque » and
    // « Médiathèque Tarentaize » there without contacts would be one place listed twice).
    let other = row(&[("id", "2"), ("nom", "Mairie annexe")]);
    let file = |nom: &str| [v1_header(), row(&[("nom", nom)]), other.clone()].join("\n");
    run(&db, "essai", file("Médiathèque").as_bytes())
        .await
        .unwrap();
    let report = run(
        &db,
        "essai",
        file("Médiathèque Tarentaize (rénovée)").as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 1, 1)
    );
    let lieu = lieux::lieu(&db, &lieu_id("essai", "1"))
        .await
        .unwrap()
        .unwrap();
    assert!(lieu.data.contains("(rénovée)"));
    assert!(
        lieu.provenance.contains("\"nom\":\"essai\""),
        "{}",
        lieu.provenance
    );
}

async fn former_codes_and_wrong_postal_codes_find_the_commune(db: Db) {
    let at = |id: &str, code_insee: &str, code_postal: &str, commune: &str| {
        row(&[
            ("id", id),
            ("nom", &format!("Lieu {id}")),
            ("code_insee", code_insee),
            ("code_postal", code_postal),
            ("commune", commune),
            ("latitude", ""),
            ("longitude", ""),
        ])
    };
    let csv = [
        v1_header(),
        // Drain's code since it joined Orée d'Anjou (2015): unknown to today's territories.
        at("1", "49069", "49530", "Orée d'Anjou"),
        // Sartène's postal code with Propriano written out: the name wins in its
        // département (before: Bilia, the nearest commune of 20100).
        at("2", "", "20100", "PROPRIANO"),
        // An unknown code with nothing else to go by: said, no commune.
        at("3", "99999", "75000", "Nulle part"),
    ]
    .join("\n");
    let report = run(&db, "communes", csv.as_bytes()).await.unwrap();
    assert_eq!(report.created, 3, "{report:#?}");
    let commune = async |id: &str| {
        lieux::lieu(&db, &lieu_id("communes", id))
            .await
            .unwrap()
            .unwrap()
            .location
            .code_insee
    };
    assert_eq!(commune("1").await.as_deref(), Some("49126"));
    assert_eq!(commune("2").await.as_deref(), Some("2A249"));
    assert_eq!(commune("3").await, None);
    let warned = |line: usize, what: &str| {
        report
            .warnings
            .iter()
            .any(|(l, w)| *l == line && w.contains(what))
    };
    assert!(
        warned(
            2,
            "« 49069 » : commune inconnue des territoires (ancienne commune ?), remplacé par 49126 (Orée d'Anjou)"
        ),
        "{:?}",
        report.warnings
    );
    assert!(warned(4, "« 99999 » : commune inconnue des territoires"));
}
