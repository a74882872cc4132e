//! The cross-source merge of lieux on both backends: the same place from two sources is
//! one lieu with the origin of each field; missing coordinates never match; a person's
//! « distincts » holds through later imports; re-importing changes nothing; a merged lieu
//! keeps its id when a third source joins, and absorbed ids keep answering.
//!
//! `carto_2020` (ignored: `cargo nextest run -p relais-services --test fusion --run-ignored
//! only carto_2020 --no-capture`) imports the six carto-2020 files and prints what
//! docs/DATA.md reports, and the seeded sample of docs/fusion-echantillon-carto-2020.md.

use std::collections::BTreeMap;

use crate::{data, index, v1_header, v1_row};
use relais_domain::ids::LieuId;
use relais_domain::lieux::fusion::{Decision, Origines};
use relais_services::lieux::fichier;
use relais_services::lieux::fusion::{self, Verdict};
use relais_services::lieux::import::{ImportReport, import, import_bytes, lieu_id};
use relais_services::lieux::mapping::Mapping;
use relais_store::{Db, lieux};
use relais_testkit::{TestDb, store_tests};

store_tests!(
    two_sources_of_one_place_merge_with_provenance,
    missing_coordinates_never_match,
    distinct_decision_holds_through_imports,
    reimport_changes_nothing,
    stable_id_when_a_third_source_joins,
    two_services_in_one_building_go_to_review,
    a_record_that_moves_leaves_the_merged_lieu,
    duplicates_inside_one_source_merge,
    an_arrondissement_meets_its_commune,
    a_generic_name_at_the_same_address_merges,
    a_lieu_near_the_boundary_meets_the_neighbouring_commune,
);

/// A v1 row in Saint-Étienne with the given values.
fn row(changes: &[(&str, &str)]) -> String {
    v1_row(
        &[
            ("id", "1"),
            ("nom", "Médiathèque Tarentaize"),
            ("commune", "Saint-Étienne"),
            ("code_postal", "42000"),
            ("code_insee", "42218"),
            ("adresse", "20 rue Jo Gouttebarge"),
            ("latitude", "45.4330"),
            ("longitude", "4.3925"),
            ("date_maj", "2024-06-01"),
            ("services", "Aide aux démarches administratives"),
        ],
        changes,
    )
}

fn file(rows: &[String]) -> Vec<u8> {
    let mut lines = vec![v1_header()];
    lines.extend(rows.iter().cloned());
    lines.join("\n").into_bytes()
}

async fn run(db: &Db, source: &str, rows: &[String]) -> ImportReport {
    import_bytes(db, index(), source, &file(rows), &mut |_, _| {})
        .await
        .unwrap()
}

/// The same médiathèque as a département and a network describe it.
fn ville(changes: &[(&str, &str)]) -> String {
    let mut c = vec![
        ("telephone", "04 77 12 34 56"),
        ("date_maj", "2023-01-15"),
        ("horaires", "Tu-Sa 10:00-18:00"),
    ];
    c.extend_from_slice(changes);
    row(&c)
}

fn reseau(changes: &[(&str, &str)]) -> String {
    let mut c = vec![
        ("id", "R-7"),
        ("nom", "Médiathèque de Tarentaize"),
        ("adresse", "20 Rue Jo-Gouttebarge"),
        ("latitude", "45.43302"),
        ("longitude", "4.39251"),
        ("telephone", "0477123456"),
        ("date_maj", "2024-09-01"),
        ("services", "Maîtrise des outils numériques du quotidien"),
        ("courriels", "mediatheque@saint-etienne.fr"),
    ];
    c.extend_from_slice(changes);
    row(&c)
}

async fn two_sources_of_one_place_merge_with_provenance(db: Db) {
    run(&db, "ville", &[ville(&[])]).await;
    let report = run(&db, "reseau", &[reseau(&[])]).await;
    assert_eq!(report.merged, 1, "{report:?}");
    assert_eq!(lieux::count(&db).await.unwrap(), 1);
    let all = lieux::all(&db).await.unwrap();
    let lieu = &all[0];
    assert_eq!(lieu.id, lieu_id("ville", "1"), "the older lieu's id");
    let data: BTreeMap<String, String> = serde_json::from_str(&lieu.data).unwrap();
    assert_eq!(data["nom"], "Médiathèque de Tarentaize", "freshest value");
    assert_eq!(
        data["horaires"], "Tu-Sa 10:00-18:00",
        "a value beats an empty one"
    );
    assert_eq!(
        data["services"],
        "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien",
        "lists united"
    );
    assert_eq!(data["date_maj"], "2024-09-01");
    let provenance: BTreeMap<String, String> = serde_json::from_str(&lieu.provenance).unwrap();
    assert_eq!(provenance["nom"], "reseau");
    assert_eq!(provenance["horaires"], "ville");
    let origines: Origines =
        serde_json::from_str(&lieux::origines(&db, &lieu.id).await.unwrap().unwrap()).unwrap();
    assert_eq!(origines.of("horaires")[0].date_maj, "2023-01-15");
    assert_eq!(origines.of("services").len(), 2);
    assert_eq!(origines.sources.len(), 2, "each origin once");
    // The absorbed lieu's id answers with the merged one.
    let absorbed = lieu_id("reseau", "R-7");
    assert_eq!(
        lieux::resolve_id(&db, &absorbed).await.unwrap().as_ref(),
        Some(&lieu.id)
    );
    assert_eq!(
        lieux::lieu_or_alias(&db, &absorbed)
            .await
            .unwrap()
            .map(|l| l.id),
        Some(lieu.id.clone())
    );
    let lineage = lieux::lineage(&db, std::slice::from_ref(&lieu.id))
        .await
        .unwrap();
    assert_eq!(lineage.len(), 2);
}

async fn missing_coordinates_never_match(db: Db) {
    // Same name and commune, no address in common, no coordinates: both placed at the
    // town hall (approximate), which is no evidence.
    run(
        &db,
        "ville",
        &[row(&[
            ("nom", "Cyber-base"),
            ("adresse", "Place de l’Hôtel de Ville"),
            ("latitude", ""),
            ("longitude", ""),
        ])],
    )
    .await;
    let report = run(
        &db,
        "reseau",
        &[row(&[
            ("id", "R-1"),
            ("nom", "Cyber-base"),
            ("adresse", "12 rue Michelet"),
            ("latitude", ""),
            ("longitude", ""),
        ])],
    )
    .await;
    assert_eq!(report.merged, 0, "{report:?}");
    assert_eq!(lieux::count(&db).await.unwrap(), 2);
    let all = lieux::all(&db).await.unwrap();
    assert!(all.iter().all(|l| l.location.approximate));
}

async fn distinct_decision_holds_through_imports(db: Db) {
    run(&db, "ville", &[ville(&[])]).await;
    run(&db, "reseau", &[reseau(&[])]).await;
    assert_eq!(lieux::count(&db).await.unwrap(), 1);
    let (a, b) = (lieu_id("ville", "1"), lieu_id("reseau", "R-7"));
    fusion::decide(&db, &a, &b, Verdict::Distinct)
        .await
        .unwrap();
    assert_eq!(lieux::count(&db).await.unwrap(), 2, "split again");
    assert!(lieux::lieu(&db, &a).await.unwrap().is_some());
    assert!(lieux::lieu(&db, &b).await.unwrap().is_some());
    // A later import that changes the network's row: still two lieux.
    let r = run(
        &db,
        "reseau",
        &[reseau(&[("horaires", "Mo-Fr 09:00-12:00")])],
    )
    .await;
    assert_eq!((r.updated, r.merged), (1, 0));
    assert_eq!(lieux::count(&db).await.unwrap(), 2);
    // And « identiques » merges them back under the older id.
    fusion::decide(&db, &a, &b, Verdict::Same).await.unwrap();
    assert_eq!(lieux::count(&db).await.unwrap(), 1);
    assert!(lieux::lieu(&db, &a).await.unwrap().is_some());
    assert!(fusion::review(&db).await.unwrap().is_empty());
}

async fn reimport_changes_nothing(db: Db) {
    run(&db, "ville", &[ville(&[])]).await;
    run(&db, "reseau", &[reseau(&[])]).await;
    let before = lieux::all(&db).await.unwrap();
    let again = run(&db, "ville", &[ville(&[])]).await;
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 1));
    assert_eq!(again.merged, 1);
    let again = run(&db, "reseau", &[reseau(&[])]).await;
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 1));
    assert_eq!(
        before,
        lieux::all(&db).await.unwrap(),
        "same lieux, same times"
    );
    // Running the merge over everything writes nothing either.
    let o = fusion::refresh_all(&db).await.unwrap();
    assert_eq!((o.written, o.absorbed, o.merged_lieux), (0, 0, 1));
    assert_eq!(before, lieux::all(&db).await.unwrap());
}

async fn stable_id_when_a_third_source_joins(db: Db) {
    run(&db, "ville", &[ville(&[])]).await;
    run(&db, "reseau", &[reseau(&[])]).await;
    let id = lieu_id("ville", "1");
    let third = row(&[
        ("id", "FS-3"),
        ("nom", "Tarentaize médiathèque"),
        ("adresse", "20 rue Jo Gouttebarge"),
        ("latitude", "45.43301"),
        ("longitude", "4.39249"),
        ("date_maj", "2025-02-01"),
        ("courriels", "mediatheque@saint-etienne.fr"),
    ]);
    let r = run(&db, "anct", &[third]).await;
    assert_eq!(r.merged, 1);
    let all = lieux::all(&db).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, id, "the merged lieu keeps its id");
    assert_eq!(all[0].date_maj, "2025-02-01");
    for old in [lieu_id("reseau", "R-7"), lieu_id("anct", "FS-3")] {
        assert_eq!(
            lieux::resolve_id(&db, &old).await.unwrap(),
            Some(id.clone())
        );
    }
    assert_eq!(
        lieux::lineage(&db, std::slice::from_ref(&id))
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn two_services_in_one_building_go_to_review(db: Db) {
    run(&db, "ville", &[ville(&[])]).await;
    // Same address and position, nothing else in common: a person decides.
    let r = run(
        &db,
        "reseau",
        &[row(&[("id", "E-1"), ("nom", "Espace numérique")])],
    )
    .await;
    assert_eq!((r.merged, r.review), (0, 1), "{r:?}");
    let review = fusion::review(&db).await.unwrap();
    assert_eq!(review.len(), 1);
    assert!(
        review[0].details.contains("même adresse"),
        "{}",
        review[0].details
    );
    let (a, b) = (lieu_id("ville", "1"), lieu_id("reseau", "E-1"));
    fusion::decide(&db, &a, &b, Verdict::Distinct)
        .await
        .unwrap();
    assert!(fusion::review(&db).await.unwrap().is_empty());
    assert_eq!(lieux::count(&db).await.unwrap(), 2);
    // Unknown ids are said.
    let err = fusion::decide(&db, &a, &LieuId("0000".into()), Verdict::Same)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("aucun lieu"), "{err}");
}

/// A source that lists a place twice (a hub's export aggregates several producers): one
/// lieu, and importing the file again changes nothing.
async fn duplicates_inside_one_source_merge(db: Db) {
    let rows = [ville(&[]), reseau(&[])];
    let report = run(&db, "hub", &rows).await;
    assert_eq!(report.merged, 2, "{report:?}");
    assert_eq!(lieux::count(&db).await.unwrap(), 1);
    let before = lieux::all(&db).await.unwrap();
    run(&db, "hub", &rows).await;
    assert_eq!(lieux::all(&db).await.unwrap(), before);
}

/// One producer writes Lyon (69123), another its 3rd arrondissement (69383): the records
/// are compared, and the lieu keeps the arrondissement, the more precise.
async fn an_arrondissement_meets_its_commune(db: Db) {
    let lyon = |id: &str, commune: &str, code_insee: &str| {
        row(&[
            ("id", id),
            ("nom", "Espace Jean Couty"),
            ("commune", commune),
            ("code_postal", "69003"),
            ("code_insee", code_insee),
            ("adresse", "12 rue Servient"),
            ("latitude", "45.7602"),
            ("longitude", "4.8490"),
            ("telephone", "04 78 00 00 01"),
        ])
    };
    run(&db, "metropole", &[lyon("M-1", "Lyon", "69123")]).await;
    let r = run(
        &db,
        "arrondissement",
        &[lyon("A-1", "Lyon 3e Arrondissement", "69383")],
    )
    .await;
    assert_eq!(r.merged, 1, "{r:?}");
    let all = lieux::all(&db).await.unwrap();
    assert_eq!(all.len(), 1);
    // A person's decision on them is kept by the whole commune too.
    let (a, b) = (
        lieu_id("metropole", "M-1"),
        lieu_id("arrondissement", "A-1"),
    );
    fusion::decide(&db, &a, &b, Verdict::Distinct)
        .await
        .unwrap();
    assert_eq!(lieux::count(&db).await.unwrap(), 2);
}

/// « Point numérique » twice at the same number and street: the same lieu, without review,
/// though the name has no distinctive word.
async fn a_generic_name_at_the_same_address_merges(db: Db) {
    let point = |id: &str, adresse: &str| {
        row(&[
            ("id", id),
            ("nom", "Point Numérique"),
            ("adresse", adresse),
            ("latitude", ""),
            ("longitude", ""),
        ])
    };
    run(&db, "caf", &[point("C-1", "3 rue de la Gare")]).await;
    let r = run(&db, "mairie", &[point("V-9", "3, Rue de la Gare")]).await;
    assert_eq!((r.merged, r.review), (1, 0), "{r:?}");
    assert_eq!(lieux::count(&db).await.unwrap(), 1);
    assert!(fusion::review(&db).await.unwrap().is_empty());
}

async fn a_record_that_moves_leaves_the_merged_lieu(db: Db) {
    run(&db, "ville", &[ville(&[])]).await;
    run(&db, "reseau", &[reseau(&[])]).await;
    let (a, b) = (lieu_id("ville", "1"), lieu_id("reseau", "R-7"));
    assert_eq!(lieux::resolve_id(&db, &b).await.unwrap(), Some(a.clone()));
    // The network corrects its row: the place is in Lyon.
    let moved = reseau(&[
        ("commune", "Lyon"),
        ("code_postal", "69001"),
        ("code_insee", "69123"),
        ("latitude", "45.7670"),
        ("longitude", "4.8340"),
    ]);
    let r = run(&db, "reseau", &[moved]).await;
    assert_eq!((r.updated, r.merged), (1, 0), "{r:?}");
    assert_eq!(lieux::count(&db).await.unwrap(), 2);
    let stay = lieux::lieu(&db, &a).await.unwrap().unwrap();
    assert_eq!(
        stay.location.code_insee.as_deref(),
        Some("42218"),
        "the merged lieu keeps its id"
    );
    let data: BTreeMap<String, String> = serde_json::from_str(&stay.data).unwrap();
    assert_eq!(
        data["nom"], "Médiathèque Tarentaize",
        "only the town's record left"
    );
    let gone = lieux::lieu_or_alias(&db, &b).await.unwrap().unwrap();
    assert_eq!(gone.location.code_insee.as_deref(), Some("69123"));
}

// ---- Measure on carto-2020 -----------------------------------------------------------

/// The six carto-2020 files.
const CARTO: [&str; 6] = [
    "auvergne-epn",
    "bfc-ternum",
    "corse-epn",
    "france-services-cget",
    "hinaura",
    "rhinocc",
];

/// Imports the six files into a fresh SQLite base: the base and the reports. With
/// `everything`, then the other real files of data/lieux (Hinaura 2022 and the six raw
/// sources): the pairs of carto-2020 alone are too few for a sample of 100.
async fn carto_2020_base(everything: bool) -> (TestDb, Vec<ImportReport>) {
    let t = TestDb::sqlite().await;
    let mapping = |name: &str| {
        let text = String::from_utf8(data(&format!("mappings/{name}.toml"))).unwrap();
        Mapping::parse(&text).unwrap()
    };
    let mut files: Vec<(String, Option<&str>, &str)> = CARTO
        .iter()
        .map(|n| (format!("carto-2020/{n}.csv"), Some("carto-2020"), *n))
        .collect();
    if everything {
        files.push(("hinaura-2022-v0.json".to_string(), None, "hinaura-2022"));
        for n in RAW {
            files.push((format!("sources-brutes/{n}.json"), Some(n), n));
        }
    }
    let mut reports = Vec::new();
    for (path, map, source) in files {
        let report = match map {
            Some(m) => {
                let raw = fichier::read(&data(&path), false).unwrap();
                let mapped = mapping(m).apply(&raw, source).unwrap();
                import(&t.db, index(), source, &mapped, &mut |_, _| {})
                    .await
                    .map_err(|e| e.to_string())
            }
            None => import_bytes(&t.db, index(), source, &data(&path), &mut |_, _| {})
                .await
                .map_err(|e| e.to_string()),
        };
        reports.push(report.unwrap());
    }
    (t, reports)
}

/// The raw sources, each with the mapping of its name.
const RAW: [&str; 6] = [
    "angers",
    "corse",
    "etapes-numerique",
    "gironde",
    "la-creuse",
    "maine-et-loire",
];

/// A small deterministic generator (xorshift64*): the sample is the same on every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn cell(row: &BTreeMap<String, String>, f: &str) -> String {
    row.get(f).cloned().unwrap_or_default().replace('|', "/")
}

/// What docs/DATA.md « Fusion » reports, from the files: merged and reviewed pairs, and
/// the import order does not matter.
#[tokio::test]
async fn carto_2020_counts() {
    let (t, reports) = carto_2020_base(false).await;
    let pairs = fusion::measure(&t.db, false).await.unwrap();
    let merged = pairs.iter().filter(|p| p.merged).count();
    let review = pairs.len() - merged;
    let kept: usize = reports.iter().map(ImportReport::kept).sum();
    let lieux_count = lieux::count(&t.db).await.unwrap() as usize;
    let listed = fusion::review(&t.db).await.unwrap().len();
    // Importing them all again changes nothing, and merging everything again writes nothing.
    let before = lieux::all(&t.db).await.unwrap();
    let o = fusion::refresh_all(&t.db).await.unwrap();
    assert_eq!((o.written, o.absorbed), (0, 0));
    assert_eq!(before, lieux::all(&t.db).await.unwrap());
    t.cleanup().await;
    println!(
        "carto-2020 : {kept} fiches gardées, {lieux_count} lieux, {merged} paires fusionnées, \
         {review} paires à revoir ({listed} dans la liste)"
    );
    assert_eq!(listed, review);
    assert_eq!((kept, merged, review, lieux_count), CARTO_COUNTS);
}

/// (records kept, pairs merged, pairs to review, lieux): measured, see docs/DATA.md.
const CARTO_COUNTS: (usize, usize, usize, usize) = (1836, 117, 11, 1725);

/// Prints every merged and reviewed pair, and the seeded sample of merged pairs.
#[tokio::test]
#[ignore = "measure: prints the pairs of carto-2020 (docs/fusion-echantillon-carto-2020.md)"]
async fn carto_2020() {
    let everything = std::env::var_os("FUSION_TOUT").is_some();
    let (t, reports) = carto_2020_base(everything).await;
    for r in &reports {
        println!(
            "{} : lues {}, gardées {}, fusionnées {}, à revoir {}",
            r.source,
            r.read,
            r.kept(),
            r.merged,
            r.review
        );
    }
    let pairs = fusion::measure(&t.db, true).await.unwrap();
    t.cleanup().await;
    let line = |p: &fusion::Measured| {
        let side = |(s, r): &(String, BTreeMap<String, String>)| {
            format!(
                "{s} : {} — {} — {} {}",
                cell(r, "nom"),
                cell(r, "adresse"),
                cell(r, "telephone"),
                cell(r, "courriels")
            )
        };
        format!(
            "{} | {:.1} | {} | {} | {}",
            p.code_insee,
            p.comparaison.score,
            side(&p.a),
            side(&p.b),
            fusion::details(&p.comparaison)
        )
    };
    let show = std::env::var("FUSION_SHOW").unwrap_or_default();
    for (what, decision) in [
        ("SAME", Decision::Same),
        ("REVIEW", Decision::Review),
        ("DIFFERENT", Decision::Different),
    ] {
        if show.contains(what) {
            for p in pairs.iter().filter(|p| p.decision == decision) {
                println!(
                    "{what} {} {}",
                    if p.merged {
                        "fusionnée"
                    } else {
                        "non fusionnée"
                    },
                    line(p)
                );
            }
        }
    }
    let mut merged: Vec<&fusion::Measured> = pairs.iter().filter(|p| p.merged).collect();
    let mut rng = Seeded(20_201_231);
    // Fisher–Yates with the seeded generator, then the first 120.
    for i in (1..merged.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        merged.swap(i, j);
    }
    println!("SAMPLE");
    for (n, p) in merged.iter().take(120).enumerate() {
        println!("{} | {}", n + 1, line(p));
    }
}

/// A France Services on the edge of Valgelon-La Rochette, and a hub's record of it placed
/// 140 m away in La Croix-de-la-Rochette (a postal code both communes share): the two
/// communes are merged as one block while those lieux are close, and part when one moves.
async fn a_lieu_near_the_boundary_meets_the_neighbouring_commune(db: Db) {
    let at = |id: &str, commune: &str, code_insee: &str, latitude: &str| {
        row(&[
            ("id", id),
            ("nom", "France Services Valgelon La Rochette"),
            ("commune", commune),
            ("code_postal", "73110"),
            ("code_insee", code_insee),
            ("adresse", "Rue des Grives"),
            ("latitude", latitude),
            ("longitude", "6.1180"),
            ("telephone", "04 79 65 36 02"),
            ("dispositif_programmes_nationaux", "France Services"),
        ])
    };
    run(
        &db,
        "anct",
        &[at("A", "Valgelon-La Rochette", "73215", "45.4610")],
    )
    .await;
    let hub = |latitude: &str| at("H", "La Croix-de-la-Rochette", "73095", latitude);
    let r = run(&db, "hub", &[hub("45.4622")]).await;
    assert_eq!(r.merged, 1, "{r:?}");
    assert_eq!(lieux::count(&db).await.unwrap(), 1);
    let records = lieux::lieu_records(&db, &lieu_id("anct", "A"))
        .await
        .unwrap();
    let blocs: Vec<Option<&str>> = records.iter().map(|r| r.bloc.as_deref()).collect();
    assert_eq!(
        blocs,
        [Some("73095"), Some("73095")],
        "one block, the smaller code"
    );
    // The hub moves its record 4 km away: the communes part, each lieu alone again.
    let r = run(&db, "hub", &[hub("45.4990")]).await;
    assert_eq!(r.updated, 1, "{r:?}");
    assert_eq!(lieux::count(&db).await.unwrap(), 2);
    for (id, bloc) in [
        (lieu_id("anct", "A"), "73215"),
        (lieu_id("hub", "H"), "73095"),
    ] {
        let records = lieux::lieu_records(&db, &id).await.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].bloc.as_deref(), Some(bloc));
    }
    assert!(fusion::review(&db).await.unwrap().is_empty());
}
