//! Producers' own formats imported through a mapping (TOML): each real file of
//! `data/lieux/sources-brutes/` and `data/lieux/carto-2020/` with its mapping of
//! `data/lieux/mappings/`, into a fresh SQLite database; bad mappings said in French.

use std::collections::BTreeMap;

use crate::{data, index};
use relais_services::lieux::fichier;
use relais_services::lieux::import::{ImportReport, import};
use relais_services::lieux::mapping::{Mapping, MappingError};
use relais_testkit::TestDb;

fn mapping(name: &str) -> Mapping {
    let text = String::from_utf8(data(&format!("mappings/{name}.toml"))).unwrap();
    Mapping::parse(&text).unwrap_or_else(|e| panic!("{name}.toml : {e}"))
}

/// The reasons of rejection, most frequent first: the field and the reason, without the value.
fn reasons(report: &ImportReport) -> Vec<(String, usize)> {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for (_, why) in &crate::rejected(report) {
        for w in why {
            let field = w.split([' ', '«']).next().unwrap_or("");
            let reason = w.rsplit(" : ").next().unwrap_or("");
            *count.entry(format!("{field} : {reason}")).or_default() += 1;
        }
    }
    let mut out: Vec<_> = count.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// Imports `file` through `mapping` as `source` into a fresh database; the report, twice
/// (the second import must change nothing).
async fn run(file: &str, mapping_name: &str, source: &str) -> (ImportReport, ImportReport) {
    let t = TestDb::sqlite().await;
    let raw = fichier::read(&data(file), false).unwrap();
    let mapped = mapping(mapping_name).apply(&raw, source).unwrap();
    let first = import(&t.db, index(), source, &mapped, &mut |_, _| {})
        .await
        .unwrap();
    let again = import(&t.db, index(), source, &mapped, &mut |_, _| {})
        .await
        .unwrap();
    let stored = relais_store::lieux::count(&t.db).await.unwrap();
    // A lieu per row kept, but for the places the file lists twice: each of their
    // records is counted in `merged`.
    let stored = stored as usize;
    assert!(
        stored <= first.kept() && stored + first.merged >= first.kept(),
        "{file}: {stored} lieux, {first:?}"
    );
    t.cleanup().await;
    let unknown = first
        .warnings
        .iter()
        .filter(|(_, w)| w.contains("valeur inconnue"))
        .count();
    let far = first
        .warnings
        .iter()
        .filter(|(_, w)| w.contains("à vérifier"))
        .count();
    let horaires = first
        .warnings
        .iter()
        .filter(|(_, w)| w.contains("horaires gardés"))
        .count();
    println!(
        "| {file} | {} | {} | {} | {} | {} | {} | {} | {} |",
        first.read,
        first.kept(),
        first.rejected_rows(),
        first.approximate,
        far,
        unknown,
        horaires,
        reasons(&first)
            .iter()
            .take(3)
            .map(|(r, n)| format!("{r} ({n})"))
            .collect::<Vec<_>>()
            .join(" ; ")
    );
    (first, again)
}

fn check(r: &(ImportReport, ImportReport), read: usize, kept: usize, rejected: usize) {
    let (first, again) = r;
    if std::env::var_os("MAPPING_MEASURE").is_some() {
        let mut w: BTreeMap<String, usize> = BTreeMap::new();
        for (_, x) in &first.warnings {
            *w.entry(x.chars().take(110).collect()).or_default() += 1;
        }
        let mut w: Vec<_> = w.into_iter().collect();
        w.sort_by_key(|b| std::cmp::Reverse(b.1));
        for (x, n) in w.iter().take(12) {
            println!("   W {n} {x}");
        }
        for (x, n) in reasons(first).iter().take(5) {
            println!("   R {n} {x}");
        }
        return;
    }
    assert_eq!(
        (first.read, first.kept(), first.rejected_rows()),
        (read, kept, rejected),
        "{}: {:?}",
        first.source,
        reasons(first)
    );
    assert_eq!(first.created, kept);
    assert_eq!(
        (again.unchanged, again.created, again.updated),
        (kept, 0, 0)
    );
}

/// Each producer's file with its mapping: (file, mapping, rows read, kept, rejected),
/// as measured; the rejections are rows without address, postal code or date.
const FILES: [(&str, &str, usize, usize, usize); 12] = [
    ("sources-brutes/angers.json", "angers", 63, 63, 0),
    ("sources-brutes/corse.json", "corse", 161, 156, 5),
    (
        "sources-brutes/etapes-numerique.json",
        "etapes-numerique",
        95,
        95,
        0,
    ),
    // 25 rows without postal code get their commune's (unambiguous in the Gironde).
    ("sources-brutes/gironde.json", "gironde", 347, 346, 1),
    ("sources-brutes/la-creuse.json", "la-creuse", 91, 89, 2),
    (
        "sources-brutes/maine-et-loire.json",
        "maine-et-loire",
        243,
        234,
        9,
    ),
    ("carto-2020/auvergne-epn.csv", "carto-2020", 134, 134, 0),
    ("carto-2020/bfc-ternum.csv", "carto-2020", 642, 641, 1),
    ("carto-2020/corse-epn.csv", "carto-2020", 22, 22, 0),
    (
        "carto-2020/france-services-cget.csv",
        "carto-2020",
        580,
        580,
        0,
    ),
    ("carto-2020/hinaura.csv", "carto-2020", 52, 50, 2),
    ("carto-2020/rhinocc.csv", "carto-2020", 459, 409, 50),
];

async fn file(n: usize) {
    let (path, mapping, read, kept, rejected) = FILES[n];
    let source = path
        .rsplit('/')
        .next()
        .and_then(|f| f.split('.').next())
        .unwrap();
    check(&run(path, mapping, source).await, read, kept, rejected);
}

#[tokio::test]
async fn angers() {
    file(0).await;
}

#[tokio::test]
async fn corse() {
    file(1).await;
}

#[tokio::test]
async fn etapes_numerique() {
    file(2).await;
}

#[tokio::test]
async fn gironde() {
    file(3).await;
}

#[tokio::test]
async fn la_creuse() {
    file(4).await;
}

#[tokio::test]
async fn maine_et_loire() {
    file(5).await;
}

#[tokio::test]
async fn carto_2020() {
    for n in 6..FILES.len() {
        file(n).await;
    }
}

#[test]
fn bad_mappings_are_said_with_line_and_key() {
    let err =
        Mapping::parse("[champs.nom]\ncolonne = \"A\"\n\n[champs.servces]\ncolonne = \"B\"\n")
            .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ligne 4, clé « champs.servces » : champ inconnu du schéma"),
        "{text}"
    );
    assert!(
        text.contains("champ obligatoire « id » sans règle"),
        "{text}"
    );

    let err = Mapping::parse("[champs.nom]\ncolone = \"A\"\n").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ligne 1, clé « champs.nom » : clé inconnue « colone »"),
        "{text}"
    );
    assert!(text.contains("d’où vient la valeur ?"), "{text}");

    let err = Mapping::parse("[champs.nom\ncolonne = \"A\"\n").unwrap_err();
    assert!(
        matches!(&err, MappingError::Syntax { line: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("mapping illisible (TOML), ligne 1")
    );

    let err = Mapping::parse("[champs.date_maj]\ncolonne = \"D\"\nformat_date = \"JJ/MM\"\n")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("ligne 1, clé « champs.date_maj » : format_date « JJ/MM »"),
        "{err}"
    );
}

fn mapping_from(text: &str) -> Mapping {
    Mapping::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_column_missing_from_the_file_is_said() {
    let raw = fichier::read(&data("sources-brutes/angers.json"), false).unwrap();
    let text = String::from_utf8(data("mappings/angers.toml"))
        .unwrap()
        .replace("\"USER_NOM\"", "\"NOM\"");
    let err = mapping_from(&text).apply(&raw, "angers").unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("mapping inapplicable à ce fichier : ligne "),
        "{text}"
    );
    assert!(
        text.contains("clé « champs.nom » : colonne « NOM » absente du fichier"),
        "{text}"
    );
    assert!(text.contains("colonnes du fichier : ACCES_ORDI"), "{text}");
}

#[test]
fn values_templates_and_lists_are_mapped() {
    let raw = fichier::read(
        r#"[{"num": 3, "rue": "rue A", "cp": 1000, "ville": "Bourg", "maj": "9/2/2024", "svc": "Wifi; Aide; Cuisine", "h": "Du lundi au vendredi de 9h à 12h"},
            {"rue": "rue B", "cp": "69001", "ville": "Lyon", "maj": "31/12/2023", "h": "un jeudi sur deux"}]"#
            .as_bytes(),
        false,
    )
    .unwrap();
    let m = mapping_from(
        r#"
separateur = ";"
[champs.id]
modele = "{source}-{ligne}"
[champs.nom]
constante = "Lieu"
[champs.adresse]
colonnes = ["num", "rue"]
[champs.code_postal]
colonne = "cp"
chiffres = 5
[champs.commune]
colonne = "ville"
[champs.date_maj]
colonne = "maj"
format_date = "JJ/MM/AAAA"
[champs.horaires]
colonne = "h"
horaires = true
[champs.services]
colonne = "svc"
valeurs = { "wifi" = "Accès internet et matériel informatique", "Aide" = ["Aide aux démarches administratives", "Maîtrise des outils numériques du quotidien"] }
"#,
    );
    let out = m.apply(&raw, "essai").unwrap();
    let a = &out.rows[0].fields;
    assert_eq!(a["id"], "essai-1");
    assert_eq!(a["adresse"], "3 rue A");
    assert_eq!(a["code_postal"], "01000");
    assert_eq!(a["date_maj"], "2024-02-09");
    assert_eq!(a["horaires"], "Mo-Fr 09:00-12:00");
    assert_eq!(
        a["services"],
        "Accès internet et matériel informatique|Aide aux démarches administratives|Maîtrise des outils numériques du quotidien|Cuisine"
    );
    let b = &out.rows[1].fields;
    assert_eq!(b["id"], "essai-2");
    assert_eq!(b["adresse"], "rue B");
    assert_eq!(b["horaires"], "un jeudi sur deux");
    assert!(!b.contains_key("services"));
    assert!(
        out.notes
            .iter()
            .any(|n| n.starts_with("1 horaire(s) en texte"))
    );
}

/// The corrections a person makes to a proposed mapping before importing: the producers'
/// typos, which no proposal can guess (docs/DATA.md, « Proposed mappings »).
const CORRECTIONS: [(&str, &str, &str); 2] = [
    (
        "corse",
        "colonne = \"lat\"\n",
        "valeurs = { \"41.93414,8\" = \"41.93414\" }\n",
    ),
    (
        "maine-et-loire",
        "colonne = \"DAT_MaJ\"\n",
        "valeurs = { \"09/0102023\" = \"09/01/2023\" }\n",
    ),
];

/// Each raw file of `data/lieux/sources-brutes/` imports from the mapping Relais proposes
/// for it, after at most one correction, keeping at least the rows its hand-written
/// mapping keeps.
#[tokio::test]
async fn a_proposed_mapping_imports_each_raw_file() {
    for (path, name, read, kept, _) in &FILES[..6] {
        let raw = fichier::read(&data(path), false).unwrap();
        let mut text =
            relais_domain::lieux::proposition::proposer(&raw, "2026-12-06").toml("proposition");
        for (file, after, line) in CORRECTIONS {
            if file == *name {
                assert!(text.contains(after), "{name}: {text}");
                text = text.replace(after, &format!("{after}{line}"));
            }
        }
        let mapping = Mapping::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        let mapped = mapping.apply(&raw, name).unwrap();
        let t = TestDb::sqlite().await;
        let report = import(&t.db, index(), name, &mapped, &mut |_, _| {})
            .await
            .unwrap();
        t.cleanup().await;
        assert_eq!(report.read, *read, "{name}");
        assert!(
            report.kept() >= *kept,
            "{name}: {} rows kept, {kept} with the hand-written mapping: {:?}\n{text}",
            report.kept(),
            reasons(&report)
        );
    }
}
