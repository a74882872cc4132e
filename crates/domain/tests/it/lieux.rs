//! Reading the national schema's rows on the real files of `data/lieux/`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use proptest::prelude::*;
use relais_domain::lieux::{COLUMNS, Issue, Reading, Refusal, SchemaVersion, read_row, write_row};

type Row = BTreeMap<String, String>;

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/lieux")
        .join(path)
}

fn csv_rows(path: &str) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(data(path)).expect("CSV file");
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("CSV record");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// JSON numbers as their text, arrays joined with `|`, nulls left out.
fn json_rows(path: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(data(path)).expect("JSON file");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let text_of = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join("|"),
        ),
        other => Some(other.to_string()),
    };
    value
        .as_array()
        .expect("an array of lieux")
        .iter()
        .map(|o| {
            o.as_object()
                .expect("a lieu is an object")
                .iter()
                .filter_map(|(k, v)| text_of(v).map(|t| (k.clone(), t)))
                .collect()
        })
        .collect()
}

fn version_of(rows: &[Row]) -> SchemaVersion {
    SchemaVersion::detect(rows.iter().flat_map(|r| r.keys().map(String::as_str)))
}

/// Counts of issues by field and reason, most frequent first.
fn top(issues: &[Issue]) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for i in issues {
        let reason = match &i.reason {
            relais_domain::lieux::Reason::Rewritten(_) => "corrigé".to_string(),
            r => r.to_string(),
        };
        *counts
            .entry(format!("{} : {}", i.field, reason))
            .or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
}

#[test]
fn the_schema_example_reads_without_error() {
    let rows = csv_rows("schemas/lamednum-exemple-valide-v1.0.1.csv");
    assert_eq!(rows.len(), 1);
    assert_eq!(version_of(&rows), SchemaVersion::V1);
    let Reading { lieu, warnings } = read_row(&rows[0], SchemaVersion::V1).expect("valid example");
    for w in &warnings {
        println!("{w}");
    }
    assert!(warnings.is_empty());
    assert_eq!(lieu.nom, "Anonymal");
    assert_eq!(lieu.services.len(), 3);
    assert_eq!(lieu.modalites_accompagnement.len(), 4);
    assert_eq!(lieu.courriels.len(), 2);
    assert_eq!(lieu.date_maj.to_string(), "2024-04-02");
    // Written back, the row is the example's, column for column.
    let written = write_row(&lieu);
    for (column, value) in &written {
        let original = rows[0].get(*column).map(String::as_str).unwrap_or("");
        let same_list = |a: &str, b: &str| {
            let mut a: Vec<_> = a.split('|').collect();
            let mut b: Vec<_> = b.split('|').collect();
            a.sort();
            b.sort();
            a == b
        };
        assert!(same_list(value, original), "{column}: {value} ≠ {original}");
    }
}

#[test]
fn hinaura_2022_v0_reads() {
    let rows = json_rows("hinaura-2022-v0.json");
    assert_eq!(rows.len(), 687);
    assert_eq!(version_of(&rows), SchemaVersion::V0_1);
    let (mut kept, mut with_warnings, mut rejected) = (0, 0, 0);
    let (mut warnings, mut errors) = (Vec::new(), Vec::new());
    for row in &rows {
        match read_row(row, SchemaVersion::V0_1) {
            Ok(reading) => {
                kept += 1;
                if !reading.warnings.is_empty() {
                    with_warnings += 1;
                }
                warnings.extend(reading.warnings);
                // Every lieu survives a v1 round trip, without a warning.
                let written = write_row(&reading.lieu);
                let again = read_row(&written[..], SchemaVersion::V1).expect("own row");
                assert!(again.warnings.is_empty(), "{:?}", again.warnings);
                assert_eq!(again.lieu, reading.lieu);
            }
            Err(rejection) => {
                rejected += 1;
                errors.extend(rejection.errors);
                warnings.extend(rejection.warnings);
            }
        }
    }
    println!("kept {kept}, with warnings {with_warnings}, rejected {rejected}");
    println!("warnings {}: {:#?}", warnings.len(), top(&warnings));
    println!("errors {}: {:#?}", errors.len(), top(&errors));
    for w in warnings.iter().take(10) {
        println!("{w}");
    }
    assert_eq!((kept, with_warnings, rejected), (687, 0, 0));
}

fn row(pairs: &[(&str, &str)]) -> Row {
    let mut r: Row = [
        ("id", "lieu-1"),
        ("nom", "Espace public numérique"),
        ("commune", "Saint-Étienne"),
        ("code_postal", "42000"),
        ("adresse", "12 rue de la Paix"),
        ("date_maj", "2024-04-02"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in pairs {
        r.insert(k.to_string(), v.to_string());
    }
    r
}

fn errors(pairs: &[(&str, &str)]) -> Vec<String> {
    match read_row(&row(pairs), SchemaVersion::V1) {
        Ok(reading) => panic!("read: {:?}", reading.lieu),
        Err(Refusal { errors, .. }) => errors.iter().map(Issue::to_string).collect(),
    }
}

fn warnings(pairs: &[(&str, &str)]) -> Vec<String> {
    let reading = read_row(&row(pairs), SchemaVersion::V1).expect("a lieu");
    reading.warnings.iter().map(Issue::to_string).collect()
}

#[test]
fn bad_values_say_what_is_wrong() {
    assert_eq!(
        errors(&[("code_postal", "7500")]),
        ["code_postal « 7500 » : 5 chiffres attendus"]
    );
    assert_eq!(errors(&[("nom", " ")]), ["nom : champ obligatoire vide"]);
    assert_eq!(
        errors(&[("date_maj", "2023-02-30")]),
        ["date_maj « 2023-02-30 » : cette date n’existe pas"]
    );
    assert_eq!(
        errors(&[("date_maj", "avril 2024")]),
        ["date_maj « avril 2024 » : date attendue sous la forme AAAA-MM-JJ"]
    );
    assert_eq!(
        errors(&[("latitude", "200"), ("longitude", "4.38")]),
        ["latitude « 200 » : la latitude doit être comprise entre −90 et 90"]
    );
    assert_eq!(
        errors(&[("longitude", "abc"), ("latitude", "45")]),
        ["longitude « abc » : nombre attendu"]
    );
    // Every error of the row at once.
    let all = errors(&[("id", ""), ("code_postal", "ABCDE"), ("date_maj", "")]);
    assert_eq!(all.len(), 3, "{all:?}");

    assert_eq!(
        warnings(&[("telephone", "04 77 12 34")]),
        [
            "telephone « 04 77 12 34 » : numéro non reconnu (attendu : 10 chiffres, ou +33 et 9 chiffres), ignoré"
        ]
    );
    assert_eq!(
        warnings(&[("telephone", "04.77.12.34.56")]),
        ["telephone « 04.77.12.34.56 » : corrigé en « +33477123456 »"]
    );
    assert_eq!(
        warnings(&[("telephone", "04 77 12 34 56 / 06 12 34 56 78")]),
        [
            "telephone « 04 77 12 34 56 / 06 12 34 56 78 » : un seul numéro possible : « +33477123456 » est gardé"
        ]
    );
    assert_eq!(
        warnings(&[("services", "Aide aux démarches administratives|Cuisine")]),
        ["services « Cuisine » : valeur inconnue de la liste du schéma, ignorée"]
    );
    assert_eq!(
        warnings(&[("pivot", "1234")]),
        ["pivot « 1234 » : SIRET (14 chiffres) ou RNA (W et 9 caractères) attendu, ignoré"]
    );
    assert_eq!(
        warnings(&[("code_insee", "4200")]),
        ["code_insee « 4200 » : code INSEE non valide, ignoré"]
    );
    assert_eq!(
        warnings(&[("latitude", "45,43"), ("longitude", "4.39")]),
        ["latitude « 45,43 » : corrigé en « 45.43 »"]
    );
    assert_eq!(
        warnings(&[("latitude", "45.43")]),
        ["latitude « 45.43 » : latitude et longitude vont ensemble : coordonnées ignorées"]
    );
    assert_eq!(
        warnings(&[("courriels", "contact@epn.fr|pas-une-adresse")]),
        ["courriels « pas-une-adresse » : adresse électronique non valide, ignorée"]
    );
    assert_eq!(
        warnings(&[("site_web", "www.epn.fr")]),
        ["site_web « www.epn.fr » : corrigé en « https://www.epn.fr »"]
    );
    assert_eq!(
        warnings(&[("date_maj", "02/04/2024")]),
        ["date_maj « 02/04/2024 » : corrigé en « 2024-04-02 »"]
    );
    assert_eq!(
        warnings(&[("formations_labels", "Étapes numériques(La Poste)")]),
        [
            "formations_labels « Étapes numériques(La Poste) » : corrigé en « Étapes numériques (La Poste) »"
        ]
    );
    let long = "mot ".repeat(100);
    let w = warnings(&[("presentation_resume", &long)]);
    assert_eq!(w.len(), 1);
    assert!(w[0].ends_with(
        "399 caractères, au plus 280 : raccourci, le texte entier est gardé dans presentation_detail"
    ));
}

#[test]
fn pivot_missing_is_no_error() {
    let reading = read_row(&row(&[]), SchemaVersion::V1).expect("a lieu");
    assert_eq!(reading.lieu.pivot, None);
    assert!(reading.warnings.is_empty());
    let written = write_row(&reading.lieu);
    assert_eq!(written[1], ("pivot", "00000000000000".to_string()));
}

#[test]
fn v0_values_map_to_v1() {
    let r = row(&[
        (
            "services",
            "Prendre en main un ordinateur;Accompagner les démarches de santé;Créer avec le numérique",
        ),
        (
            "publics_accueillis",
            "Adultes;Uniquement femmes;Public langues étrangères;Surdité",
        ),
        (
            "conditions_acces",
            "Accepte le Pass numérique : Il est possible d'utiliser un Pass numérique pour accéder au lieu;Adhésion",
        ),
        (
            "labels_nationaux",
            "CNFS;Fabriques de Territoire;French Tech",
        ),
        ("labels_autres", "QPV;Étapes numériques (La Poste)"),
        (
            "modalites_accompagnement",
            "A ma place : une personne habilitée fait les démarches à ma place",
        ),
        ("courriel", "contact@epn.fr"),
        (
            "accessibilite",
            "https://acceslibre.beta.gouv.fr/app/erp/epn/",
        ),
    ]);
    let Reading { lieu, warnings } = read_row(&r, SchemaVersion::V0_1).expect("a lieu");
    let w: Vec<String> = warnings.iter().map(Issue::to_string).collect();
    assert_eq!(
        w,
        [
            "conditions_acces « Adhésion » : corrigé en « Adhésion : L'accès au lieu et/ou à ses services nécessite d'y adhérer »"
        ]
    );
    let written: BTreeMap<&str, String> = write_row(&lieu).into_iter().collect();
    assert_eq!(
        written["services"],
        "Aide aux démarches administratives|Maîtrise des outils numériques du quotidien|Loisirs et créations numériques"
    );
    assert_eq!(written["publics_specifiquement_adresses"], "Femmes");
    assert_eq!(
        written["prise_en_charge_specifique"],
        "Surdité|Langues étrangères (anglais)|Langues étrangères (autres)"
    );
    assert_eq!(written["frais_a_charge"], "Gratuit sous condition|Payant");
    assert_eq!(
        written["dispositif_programmes_nationaux"],
        "Conseillers numériques"
    );
    assert_eq!(written["formations_labels"], "Fabriques de Territoire");
    assert_eq!(
        written["autres_formations_labels"],
        "French Tech|QPV|Étapes numériques (La Poste)"
    );
    assert_eq!(
        written["modalites_accompagnement"],
        "Accompagnement individuel"
    );
    assert_eq!(written["courriels"], "contact@epn.fr");
    assert_eq!(
        written["fiche_acces_libre"],
        "https://acceslibre.beta.gouv.fr/app/erp/epn/"
    );
}

fn field_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ a-zA-Z0-9éÉ'’,.;|/:()@+-]{0,40}",
        Just("Aide aux démarches administratives|Seniors;  Payant |".to_string()),
        Just("04 77 12 34 56".to_string()),
        Just("+590590123456".to_string()),
        Just("42000".to_string()),
        Just("2A004".to_string()),
        Just("2024-02-29".to_string()),
        Just("45,5".to_string()),
        Just("-4.25".to_string()),
        Just("https://exemple.fr/a|www.exemple.org".to_string()),
        Just("a@exemple.fr; B@Exemple.fr".to_string()),
        Just("BIB|tiers_lieux|Autre|XYZ".to_string()),
        Just("Étapes numériques (La Poste)|QPV".to_string()),
        Just("W751234567".to_string()),
        Just("13002526500013".to_string()),
        "(mot ){60,120}",
    ]
}

proptest! {
    /// Whatever a row holds, a lieu read from it is written and read back the same,
    /// without a warning, and written again the same.
    #[test]
    fn write_read_is_stable(
        values in proptest::collection::vec(field_value(), COLUMNS.len()),
        required in proptest::collection::vec("[a-zA-Z0-9 ]{1,20}", 4),
        coordinates in proptest::collection::vec(
            prop_oneof![Just(String::new()), "-?[0-9]{1,2}[.,][0-9]{1,8}", Just("0".to_string())],
            2,
        ),
    ) {
        let mut r: Row = COLUMNS.iter().zip(&values).map(|(k, v)| (k.to_string(), v.clone())).collect();
        r.insert("id".into(), required[0].clone());
        r.insert("nom".into(), required[1].clone());
        r.insert("commune".into(), required[2].clone());
        r.insert("adresse".into(), required[3].clone());
        r.insert("code_postal".into(), "69001".into());
        r.insert("date_maj".into(), "2024-02-29".into());
        r.insert("latitude".into(), coordinates[0].clone());
        r.insert("longitude".into(), coordinates[1].clone());
        if let Ok(first) = read_row(&r, SchemaVersion::V1) {
            let written = write_row(&first.lieu);
            let again = read_row(&written[..], SchemaVersion::V1).expect("own row");
            prop_assert!(again.warnings.is_empty(), "{:?}", again.warnings);
            prop_assert_eq!(&again.lieu, &first.lieu);
            prop_assert_eq!(write_row(&again.lieu), written);
        }
    }
}
