//! A structure's file of followed beneficiaries on both backends: who sees which file,
//! duplicates merged with « premier accompagnement » derived again and the statistics
//! index level with the rows, erasure on request and at the end of conservation, both
//! journaled without the name; and the exports of participations past one page.

use std::collections::BTreeSet;

use relais_domain::activites::beneficiaires::CONSERVATION_MS;
use relais_domain::activites::rapport::{Rapport, jour};
use relais_domain::activites::statistiques::Filtres;
use relais_domain::activites::vocabulaires::{Genre, StatutSocial, TrancheAge, TypeActivite};
use relais_domain::calendrier::now_ms;
use relais_domain::comptes::StructureKind;
use relais_domain::ids::BeneficiaireId;
use relais_domain::journal::JournalAction;
use relais_services::activites::beneficiaires::{self as fichier, FicheError, NouvelleFiche};
use relais_services::activites::{self as svc, SaisieError, Statistiques};
use relais_store::Db;
use relais_store::activites as repo;
use relais_testkit::fixtures;

fn fiche(prenom: &str, nom: &str, partage: bool) -> NouvelleFiche {
    NouvelleFiche {
        prenom: prenom.into(),
        nom: nom.into(),
        commune: Some("42218".into()),
        genre: Genre::Feminin,
        tranche: TrancheAge::SoixanteDixPlus,
        statut: StatutSocial::Retraite,
        consentement: true,
        partage,
    }
}

/// A followed person's accompaniment on day `jour_du_mois` of March 2026.
fn rapport(jour_du_mois: u32, suivis: &[BeneficiaireId]) -> Rapport {
    Rapport {
        date: jour(2026, 3, jour_du_mois),
        ..fixtures::rapport(suivis.iter().copied().collect())
    }
}

async fn a_file_is_seen_merged_and_erased_by_the_rules(db: Db) {
    relais_testkit::seed_commune(&db).await;
    let s = fixtures::structure(
        &db,
        "13002526500013",
        "Médiathèque",
        StructureKind::Collectivite,
    )
    .await;
    let other =
        fixtures::structure(&db, "35600000049837", "Poste", StructureKind::Entreprise).await;
    let camille = fixtures::person(&db, "camille@exemple.fr", "Camille", "Martin").await;
    let dominique = fixtures::person(&db, "dominique@exemple.fr", "Dominique", "Petit").await;
    let (moi, collegue) = (
        fixtures::mediateur(camille, s),
        fixtures::mediateur(dominique, s),
    );
    let ailleurs = fixtures::mediateur(dominique, other);

    let privee = fichier::creer(&db, &moi, &fiche("Jeanne", "Roux", false))
        .await
        .unwrap();
    let partagee = fichier::creer(&db, &moi, &fiche("Jean-Marie", "Dupont", true))
        .await
        .unwrap();
    let doublon = fichier::creer(&db, &collegue, &fiche("jean marie", "DUPOND", true))
        .await
        .unwrap();

    // Who sees what: the one who opened it, the team when shared, nobody elsewhere.
    let (mine, groupes) = fichier::fichier(&db, &moi).await.unwrap();
    assert_eq!(
        mine.iter().map(|f| f.id).collect::<Vec<_>>(),
        [doublon, partagee, privee]
    );
    assert_eq!(groupes, vec![vec![partagee, doublon]]);
    let (theirs, _) = fichier::fichier(&db, &collegue).await.unwrap();
    assert_eq!(
        theirs.iter().map(|f| f.id).collect::<Vec<_>>(),
        [doublon, partagee]
    );
    for (who, id) in [(&collegue, privee), (&ailleurs, partagee)] {
        assert!(matches!(
            fichier::fiche(&db, who, id).await,
            Err(FicheError::Inconnue)
        ));
        assert!(matches!(
            fichier::donnees(&db, who, id).await,
            Err(FicheError::Inconnue)
        ));
        assert!(matches!(
            fichier::effacer(&db, who, id).await,
            Err(FicheError::Inconnue)
        ));
    }
    // Nor can a hidden file be named as a participant.
    assert!(matches!(
        svc::enregistrer(&db, &collegue, "saisie-cachee", rapport(1, &[privee])).await,
        Err(SaisieError::BeneficiaireInconnu)
    ));

    // Activities on both duplicates: each file has its own first accompaniment.
    for (cle, who, jour_du_mois, id) in [
        ("saisie-0001", &moi, 10, partagee),
        ("saisie-0002", &collegue, 3, doublon),
        ("saisie-0003", &moi, 12, partagee),
    ] {
        svc::enregistrer(&db, who, cle, rapport(jour_du_mois, &[id]))
            .await
            .unwrap();
    }
    let stats = Statistiques::new();
    let before = stats.figures(&db, &Filtres::default()).await.unwrap();
    assert_eq!(
        (before.totaux.beneficiaires, before.totaux.nouveaux),
        (2, 2)
    );

    // Merged: one person, whose first accompaniment is the earliest of both files.
    assert!(matches!(
        fichier::fusionner(&db, &moi, partagee, partagee).await,
        Err(FicheError::FusionImpossible)
    ));
    assert!(matches!(
        fichier::fusionner(&db, &collegue, partagee, privee).await,
        Err(FicheError::Inconnue)
    ));
    fichier::fusionner(&db, &moi, partagee, doublon)
        .await
        .unwrap();
    let (f, etapes) = fichier::parcours(&db, &moi, partagee).await.unwrap();
    assert_eq!(f.activites, 3);
    assert_eq!(
        etapes
            .iter()
            .map(|e| (e.date, e.premier))
            .collect::<Vec<_>>(),
        [
            (jour(2026, 3, 3), true),
            (jour(2026, 3, 10), false),
            (jour(2026, 3, 12), false)
        ]
    );
    assert!(matches!(
        fichier::fiche(&db, &moi, doublon).await,
        Err(FicheError::Inconnue)
    ));
    let after = stats.figures(&db, &Filtres::default()).await.unwrap();
    assert_eq!((after.totaux.beneficiaires, after.totaux.nouveaux), (1, 1));
    assert_eq!(after.totaux.participations, 3);
    assert_eq!(
        after,
        repo::figures_par_group_by(&db, &Filtres::default())
            .await
            .unwrap()
    );

    // Their data, then erasure on request: the name is gone, the figures stay.
    let data = fichier::donnees(&db, &moi, partagee).await.unwrap();
    assert_eq!(data["fiche"]["nom"], "Dupont");
    assert_eq!(data["activites"].as_array().unwrap().len(), 3);
    fichier::effacer(&db, &moi, partagee).await.unwrap();
    assert!(matches!(
        fichier::fiche(&db, &moi, partagee).await,
        Err(FicheError::Inconnue)
    ));
    assert_eq!(
        stats.figures(&db, &Filtres::default()).await.unwrap(),
        after
    );

    // Conservation: a file without activity for two years is erased by the job, not a
    // recent one.
    let now = now_ms();
    assert_eq!(fichier::effacer_expirees(&db, now).await.unwrap(), 0);
    assert_eq!(
        fichier::effacer_expirees(&db, now + CONSERVATION_MS + 86_400_000)
            .await
            .unwrap(),
        1,
        "Jeanne's file, opened today, never used"
    );
    assert!(fichier::fichier(&db, &moi).await.unwrap().0.is_empty());

    let filter = relais_store::journal::JournalFilter {
        structure: Some(s),
        ..Default::default()
    };
    let mut entries = relais_store::journal::list(&db, &filter, 100)
        .await
        .unwrap();
    entries.reverse();
    let ours: Vec<(JournalAction, String)> = entries
        .iter()
        .filter(|e| e.content.subject_kind == "beneficiaire")
        .map(|e| (e.content.action, e.content.details.clone()))
        .collect();
    assert_eq!(
        ours,
        [
            (
                JournalAction::BeneficiairesMerged,
                format!(r#"{{"fiche_fusionnee":{doublon}}}"#)
            ),
            (
                JournalAction::BeneficiaireErased,
                r#"{"motif":"demande"}"#.to_string()
            ),
            (
                JournalAction::BeneficiaireErased,
                r#"{"motif":"conservation"}"#.to_string()
            ),
        ]
    );
    assert!(
        entries
            .iter()
            .all(|e| !e.content.details.contains("Dupont"))
    );
}

/// Exports past one page of the store (2,000 participations): every participation once, in
/// order, in the CSV and in the XLSX, which openpyxl reads back.
async fn exports_cross_pages_and_keep_every_row(db: Db) {
    use relais_services::activites::export::{self, Csv, Entete, Lignes};
    relais_testkit::seed_commune(&db).await;
    let s = fixtures::structure(
        &db,
        "13002526500013",
        "Médiathèque",
        StructureKind::Collectivite,
    )
    .await;
    let camille = fixtures::person(&db, "camille@exemple.fr", "Camille", "Martin").await;
    let moi = fixtures::mediateur(camille, s);
    for i in 0..6u32 {
        let mut r = rapport(1 + i, &[]);
        r.type_activite = TypeActivite::Collectif;
        r.anonymes.total = 500;
        svc::enregistrer(&db, &moi, &format!("atelier-{i:04}"), r)
            .await
            .unwrap();
    }
    let filtres = Filtres {
        structures: BTreeSet::from([s]),
        ..Filtres::default()
    };
    let mut csv = Csv::new(Lignes::new(db.clone(), filtres.clone()).await.unwrap());
    let mut bytes = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = csv.next_chunk().await.unwrap() {
        bytes.extend(chunk);
        chunks += 1;
    }
    assert!(chunks >= 2, "{chunks} chunk(s)");
    let text = String::from_utf8(bytes).unwrap();
    let ids: Vec<i64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(';').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 3_000);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "each once, in order");

    let entete = Entete {
        filtres: vec![("Structure".into(), "Médiathèque".into())],
        exporte_le: "aujourd’hui".into(),
    };
    let mut file = export::xlsx(Lignes::new(db.clone(), filtres).await.unwrap(), entete)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xlsx");
    std::io::copy(&mut file, &mut std::fs::File::create(&path).unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testsupport/tableurs/lire_xlsx.py"
        ))
        .arg(&path)
        .output()
        .expect("python3 must be installed (scripts/test installs openpyxl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = read["cellules"]["Participations"].as_array().unwrap();
    assert_eq!(rows.len(), 3_001);
    let xlsx_ids: Vec<i64> = rows[1..].iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert_eq!(xlsx_ids, ids);
    assert!(
        read["cellules"]["Filtres"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["Participations exportées", "3000"]))
    );
}

relais_testkit::store_tests!(
    a_file_is_seen_merged_and_erased_by_the_rules,
    exports_cross_pages_and_keep_every_row
);
