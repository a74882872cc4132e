//! Bad input, on both backends: each case of a careless or broken file gives a clear
//! report in French, never a panic, and keeps every good row; files are read as a stream
//! (rows stored before the end of the file is read).

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::index;
use relais_services::lieux::fichier::{self, FileError};
use relais_services::lieux::import::{
    ImportError, ImportReport, import_bytes, import_path, import_rows, lieu_id,
};
use relais_store::{Db, lieux};
use relais_testkit::store_tests;

store_tests!(
    latin1_is_converted_even_when_the_first_accent_comes_late,
    a_bom_is_dropped_in_csv_and_json,
    a_missing_required_column_refuses_the_file_and_stores_nothing,
    malformed_horaires_wrong_phone_and_postal_code_are_said_row_by_row,
    json_that_is_not_an_array_of_objects_is_said,
    a_json_cut_mid_way_keeps_the_rows_before,
    rows_are_stored_before_the_file_is_read_through,
    a_file_path_is_imported_streamed,
    a_crlf_file_reports_the_right_line,
    one_bad_json_number_rejects_its_item_only_in_french,
    invisible_characters_are_stripped_with_a_warning,
    a_device_or_oversized_file_is_refused
);

const HEADER: &str =
    "id,nom,commune,code_postal,adresse,latitude,longitude,telephone,horaires,date_maj,services";

/// A good row of Saint-Étienne (CSV), numbered `id`, with some values changed.
/// A row of schema v1 for a place of its own, `Espace <id>` (rows of one file at one
/// address with one telephone and names alike would be one lieu listed twice).
fn row(id: usize, changes: &[(&str, &str)]) -> String {
    let (id, nom) = (id.to_string(), format!("Espace {id}"));
    let mut values: Vec<(&str, String)> = [
        ("id", id.as_str()),
        ("nom", nom.as_str()),
        ("commune", "Saint-Étienne"),
        ("code_postal", "42000"),
        ("adresse", "20 rue Jo Gouttebarge"),
        ("latitude", "45.4400"),
        ("longitude", "4.3870"),
        ("telephone", "04 77 43 09 77"),
        ("horaires", "Tu-Sa 10:00-18:00"),
        ("date_maj", "2024-06-01"),
        ("services", "Aide aux démarches administratives"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    for (k, v) in changes {
        values.iter_mut().find(|(c, _)| c == k).unwrap().1 = v.to_string();
    }
    values
        .iter()
        .map(|(_, v)| v.clone())
        .collect::<Vec<_>>()
        .join(",")
}

/// `n` good rows, in distinct places (ids 1..=n, names numbered).
/// Where the `i`-th place of a big file is: its own name, street and spot (200 m apart
/// from the next), so that the merge finds nothing to compare them on.
fn place(i: usize) -> (String, String, String, String) {
    (
        format!("Lieu {i}"),
        format!("{i} rue {i}"),
        format!("{:.3}", 45.40 + (i % 100) as f64 * 0.002),
        format!("{:.3}", 4.35 + (i / 100) as f64 * 0.003),
    )
}

fn csv(n: usize) -> String {
    let mut out = vec![HEADER.to_string()];
    for i in 1..=n {
        let (nom, adresse, lat, lon) = place(i);
        out.push(row(
            i,
            &[
                ("nom", &nom),
                ("adresse", &adresse),
                ("latitude", &lat),
                ("longitude", &lon),
                ("telephone", ""),
            ],
        ));
    }
    out.join("\n") + "\n"
}

fn json_item(i: usize) -> String {
    let (nom, adresse, lat, lon) = place(i);
    format!(
        r#"{{"id": "{i}", "nom": "{nom}", "commune": "Saint-Étienne", "code_postal": "42000", "adresse": "{adresse}", "latitude": {lat}, "longitude": {lon}, "date_maj": "2024-06-01", "services": ["Aide aux démarches administratives"]}}"#
    )
}

async fn run(db: &Db, source: &str, bytes: &[u8]) -> Result<ImportReport, ImportError> {
    import_bytes(db, index(), source, bytes, &mut |_, _| {}).await
}

async fn stored(db: &Db, source: &str, id: &str) -> Option<String> {
    lieux::lieu_or_alias(db, &lieu_id(source, id))
        .await
        .unwrap()
        .map(|l| l.data)
}

async fn latin1_is_converted_even_when_the_first_accent_comes_late(db: Db) {
    // 1,500 rows in plain ASCII (more than one chunk, and past any buffer), then one
    // with accents, the whole file in Latin-1.
    let mut text = vec![HEADER.to_string()];
    for i in 1..=1500 {
        text.push(row(i, &[("commune", "Saint-Etienne")]));
    }
    text.push(row(1501, &[("nom", "Médiathèque Tarentaize — Été")]));
    let latin1: Vec<u8> = text
        .join("\n")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(0x97)) // '—' is 0x97 in Windows-1252
        .collect();
    assert!(std::str::from_utf8(&latin1).is_err());
    let report = run(&db, "latin", &latin1).await.unwrap();
    assert_eq!((report.read, report.kept()), (1501, 1501), "{report:#?}");
    assert_eq!(
        report.notes,
        vec!["fichier encodé en Windows-1252 (Latin-1) et non en UTF-8 : converti en UTF-8"]
    );
    let data = stored(&db, "latin", "1501").await.unwrap();
    assert!(data.contains("Médiathèque Tarentaize — Été"), "{data}");
}

async fn a_bom_is_dropped_in_csv_and_json(db: Db) {
    let bom = |text: &str| [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    let report = run(&db, "bom-csv", &bom(&csv(3))).await.unwrap();
    assert_eq!(
        (report.kept(), report.rejected_rows()),
        (3, 0),
        "{report:#?}"
    );
    assert!(report.notes.is_empty(), "UTF-8 with BOM is not converted");
    assert!(
        stored(&db, "bom-csv", "1").await.is_some(),
        "the id column is read"
    );
    let json = format!("[{}, {}]", json_item(1), json_item(2));
    let report = run(&db, "bom-json", &bom(&json)).await.unwrap();
    assert_eq!(
        (report.kept(), report.rejected_rows()),
        (2, 0),
        "{report:#?}"
    );
}

async fn a_missing_required_column_refuses_the_file_and_stores_nothing(db: Db) {
    let without_adresse: String = csv(3)
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(4);
            cells.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let err = run(&db, "sans-adresse", without_adresse.as_bytes())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ImportError::File(FileError::MissingColumns(c)) if c == "adresse"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "colonne(s) obligatoire(s) absente(s) : adresse"
    );
    // In JSON, a column is a key that no object has.
    let json = "[{\"id\": \"1\", \"nom\": \"A\"}]";
    let err = run(&db, "json", json.as_bytes()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("absente(s) : commune, code_postal, adresse, date_maj"),
        "{err}"
    );
    assert_eq!(lieux::count(&db).await.unwrap(), 0);
}

async fn malformed_horaires_wrong_phone_and_postal_code_are_said_row_by_row(db: Db) {
    let file = [
        HEADER.to_string(),
        row(1, &[]),                                         // line 2: good
        row(2, &[("horaires", "lundi matin")]),              // 3: kept, hours not read
        row(3, &[("telephone", "04 77")]),                   // 4: kept, phone dropped
        row(4, &[("code_postal", "42 000")]),                // 5: rejected
        row(5, &[("code_postal", "4200A")]),                 // 6: rejected
        row(6, &[("telephone", "+33 4 77 43 09 77 00 00")]), // 7: kept, phone dropped
        row(7, &[("nom", "Autre lieu")]),                    // 8: good
    ]
    .join("\n");
    let report = run(&db, "essai", file.as_bytes()).await.unwrap();
    assert_eq!(report.read, 7);
    assert_eq!(report.kept(), 5, "{report:#?}");
    let rejected: Vec<(usize, String)> = crate::rejected(&report)
        .iter()
        .map(|(l, why)| (*l, why.join(" ; ")))
        .collect();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(rejected[0].0, 5);
    assert!(
        rejected[0].1.contains("code_postal « 42 000 »"),
        "{rejected:?}"
    );
    assert_eq!(rejected[1].0, 6);
    assert!(
        rejected[1].1.contains("code_postal « 4200A »"),
        "{rejected:?}"
    );
    let warning = |line: usize| {
        report
            .warnings
            .iter()
            .filter(|(l, _)| *l == line)
            .map(|(_, w)| w.as_str())
            .collect::<Vec<_>>()
            .join(" ; ")
    };
    assert!(
        warning(3).contains("horaires gardés tels quels, non évalués"),
        "{}",
        warning(3)
    );
    assert!(warning(4).contains("telephone « 04 77 »"), "{}", warning(4));
    assert!(warning(7).contains("telephone"), "{}", warning(7));
    // The kept rows are there; the malformed hours are kept as the producer wrote them.
    for id in ["1", "2", "3", "6", "7"] {
        assert!(stored(&db, "essai", id).await.is_some(), "row {id} kept");
    }
    assert!(
        stored(&db, "essai", "2")
            .await
            .unwrap()
            .contains("lundi matin")
    );
    assert!(stored(&db, "essai", "4").await.is_none());
}

async fn json_that_is_not_an_array_of_objects_is_said(db: Db) {
    let err = run(&db, "objet", json_item(1).as_bytes())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "le JSON doit être un tableau d’objets (un objet par lieu), pas un objet"
    );
    // Items that are not objects are rejected one by one; the objects are kept.
    let json = format!("[{}, 42, \"texte\", [1], {}]", json_item(1), json_item(5));
    let report = run(&db, "melange", json.as_bytes()).await.unwrap();
    assert_eq!((report.read, report.kept()), (5, 2), "{report:#?}");
    let lines: Vec<usize> = crate::rejected(&report).iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![2, 3, 4]);
    assert!(
        crate::rejected(&report)
            .iter()
            .all(|(_, why)| why[0] == "élément qui n’est pas un objet")
    );
    let err = run(&db, "casse", b"[{\"id\": ").await.unwrap_err();
    assert!(
        matches!(err, ImportError::File(FileError::Json(_))),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("JSON illisible"), "{err}");
}

async fn a_json_cut_mid_way_keeps_the_rows_before(db: Db) {
    // 1,200 items (more than one chunk), the file cut inside the 1,201st.
    let items: Vec<String> = (1..=1200).map(json_item).collect();
    let json = format!(
        "[{}, {{\"id\": \"1201\", \"nom\": \"Lieu",
        items.join(",\n")
    );
    let report = run(&db, "coupe", json.as_bytes()).await.unwrap();
    assert_eq!(report.kept(), 1200, "{:?}", crate::rejected(&report));
    let rows = crate::rejected(&report);
    let (line, why) = rows.last().unwrap();
    assert_eq!(*line, 1201);
    assert!(why[0].starts_with("JSON illisible"), "{why:?}");
    assert!(why[0].contains("lecture arrêtée"), "{why:?}");
    assert!(stored(&db, "coupe", "1200").await.is_some());
}

/// A reader that counts the bytes read since its last seek: the first pass (encoding)
/// seeks back to the start.
struct Counting {
    inner: Cursor<Vec<u8>>,
    read: Arc<AtomicU64>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::SeqCst);
        Ok(n)
    }
}

impl Seek for Counting {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.read.store(0, Ordering::SeqCst);
        self.inner.seek(pos)
    }
}

/// About 3.7 MB of CSV and 4.4 MB of JSON: the first chunk of rows is given when a small
/// part of the file has been read.
#[test]
fn a_big_file_is_read_chunk_by_chunk() {
    let items: Vec<String> = (1..=16_000).map(json_item).collect();
    let json = format!("[{}]", items.join(",\n"));
    for bytes in [csv(25_000).into_bytes(), json.into_bytes()] {
        let total = bytes.len() as u64;
        assert!(total > 3_000_000, "{total}");
        let read = Arc::new(AtomicU64::new(0));
        let mut rows = fichier::open(
            Counting {
                inner: Cursor::new(bytes),
                read: read.clone(),
            },
            true,
        )
        .unwrap();
        let first = rows.next_chunk().unwrap();
        assert_eq!(first.rows.len(), fichier::CHUNK);
        let at = read.load(Ordering::SeqCst);
        assert!(at < total / 10, "first chunk after {at} of {total} bytes");
        let mut n = first.rows.len();
        while let Some(chunk) = rows.next_chunk() {
            assert!(chunk.rows.len() <= fichier::CHUNK && chunk.error.is_none());
            n += chunk.rows.len();
        }
        assert!(n == 25_000 || n == 16_000, "{n}");
    }
}

async fn rows_are_stored_before_the_file_is_read_through(db: Db) {
    // A chunk is read while the one before it is stored: the first rows are stored
    // once two chunks of the five are read.
    let items: Vec<String> = (1..=5_000)
        .map(|i| {
            // In another commune than the CSV's: the merge has no pairs to compare.
            json_item(i)
                .replace("Saint-Étienne", "Roanne")
                .replace("42000", "42300")
        })
        .collect();
    let json = format!("[{}]", items.join(",\n"));
    for (source, bytes) in [
        ("csv", csv(5_000).into_bytes()),
        ("json", json.into_bytes()),
    ] {
        let total = bytes.len() as u64;
        let read = Arc::new(AtomicU64::new(0));
        let rows = fichier::open(
            Counting {
                inner: Cursor::new(bytes),
                read: read.clone(),
            },
            true,
        )
        .unwrap();
        let mut first: Option<(usize, u64)> = None;
        let mut calls = 0;
        let report = import_rows(&db, index(), source, rows, &mut |done, _| {
            calls += 1;
            first.get_or_insert((done, read.load(Ordering::SeqCst)));
        })
        .await
        .unwrap();
        assert_eq!(
            (report.kept(), report.rejected_rows()),
            (5_000, 0),
            "{:?}",
            crate::rejected(&report).first()
        );
        let (done, at) = first.unwrap();
        assert!(done > 0 && calls >= 5, "{done} {calls}");
        assert!(
            at < total / 2,
            "{source}: first rows stored after {at} of {total} bytes"
        );
    }
}

async fn a_file_path_is_imported_streamed(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lieux.csv");
    std::fs::write(&path, csv(1200)).unwrap();
    let report = import_path(&db, index(), "fichier", &path, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!((report.read, report.kept()), (1200, 1200));
    let missing = dir.path().join("absent.csv");
    let err = import_path(&db, index(), "fichier", &missing, &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("lecture du fichier impossible"),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("absent.csv : fichier introuvable"),
        "{err}"
    );
}

async fn a_crlf_file_reports_the_right_line(db: Db) {
    // Every Excel export ends its lines with CRLF; a quoted field holds a line break.
    let file = [
        HEADER.to_string(),
        row(1, &[("nom", "\"Deux\r\nlignes\"")]), // lines 2-3
        row(2, &[("latitude", "nord")]),          // line 4: rejected
        row(3, &[]),                              // line 5
    ]
    .join("\r\n")
        + "\r\n";
    let bom = [b"\xEF\xBB\xBF".as_slice(), file.as_bytes()].concat();
    for (source, bytes) in [("crlf", file.as_bytes()), ("crlf-bom", bom.as_slice())] {
        let report = run(&db, source, bytes).await.unwrap();
        assert_eq!(report.kept(), 2, "{report:#?}");
        assert_eq!(report.rejected_rows(), 1, "{report:#?}");
        let (line, why) = &crate::rejected(&report)[0];
        assert_eq!(*line, 4, "{why:?}");
        assert!(why[0].starts_with("latitude « nord »"), "{why:?}");
        // The line break of the name is a space, said on the row's first line.
        assert!(
            report
                .warnings
                .iter()
                .any(|(l, w)| *l == 2 && w.starts_with("nom « Deux lignes »")),
            "{:?}",
            report.warnings
        );
    }
}

async fn one_bad_json_number_rejects_its_item_only_in_french(db: Db) {
    let json = format!(
        "[{},\n{},\n{}]",
        json_item(1),
        json_item(2).replace(&place(2).2, "1e400"),
        json_item(3)
    );
    let report = run(&db, "nombre", json.as_bytes()).await.unwrap();
    assert_eq!((report.read, report.kept()), (3, 2), "{report:#?}");
    assert_eq!(
        crate::rejected(&report),
        vec![(
            2,
            vec!["élément 2 illisible, ligne 2 du fichier : nombre hors limites".to_string()]
        )]
    );
    assert!(stored(&db, "nombre", "3").await.is_some());
    // Not JSON at all: one clear French error, nothing of serde's English.
    let err = run(&db, "texte", b"[ceci n'est pas du JSON")
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("JSON illisible"), "{err}");
    let json = format!("[{}, ceci, n'est, pas]", json_item(1));
    let report = run(&db, "texte2", json.as_bytes()).await.unwrap();
    assert_eq!(
        (report.kept(), report.rejected_rows()),
        (1, 3),
        "{report:#?}"
    );
    for (_, why) in &crate::rejected(&report) {
        assert!(why[0].ends_with("syntaxe JSON invalide"), "{why:?}");
    }
}

async fn invisible_characters_are_stripped_with_a_warning(db: Db) {
    let file = [
        HEADER.to_string(),
        row(1, &[("nom", "Espace\u{0} \u{7}\u{202E}numérique\u{2069}")]),
        row(2, &[]),
    ]
    .join("\n");
    let report = run(&db, "controle", file.as_bytes()).await.unwrap();
    assert_eq!(report.kept(), 2, "{report:#?}");
    let warnings: Vec<&(usize, String)> = report
        .warnings
        .iter()
        .filter(|(_, w)| w.contains("invisible"))
        .collect();
    assert_eq!(warnings.len(), 1, "{:?}", report.warnings);
    assert_eq!(warnings[0].0, 2);
    assert_eq!(
        warnings[0].1,
        "nom « Espace numérique » : caractère(s) de contrôle ou de direction invisible(s) retiré(s) : U+0000, U+0007, U+202E, U+2069"
    );
    let data = stored(&db, "controle", "1").await.unwrap();
    assert!(data.contains("\"Espace numérique\""), "{data}");
    // The published lieu holds none of them either.
    assert!(
        !data.contains("\\u0000") && !data.contains('\u{202E}'),
        "{data}"
    );
}

async fn a_device_or_oversized_file_is_refused(db: Db) {
    let err = import_path(
        &db,
        index(),
        "zero",
        std::path::Path::new("/dev/zero"),
        &mut |_, _| {},
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "« /dev/zero » n’est pas un fichier ordinaire (dossier, périphérique ou tube) : refusé"
    );
    let dir = tempfile::tempdir().unwrap();
    let err = import_path(&db, index(), "dossier", dir.path(), &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(err, ImportError::File(FileError::NotAFile(_))),
        "{err:?}"
    );
    // A sparse file: as big as said, nothing written.
    let big = dir.path().join("gros.csv");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(fichier::MAX_STREAMED + 1).unwrap();
    let err = import_path(&db, index(), "gros", &big, &mut |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "« {} » fait 1025 Mo, plus que la limite de 1024 Mo",
            big.display()
        )
    );
    let bytes = fichier::read_path(&big, fichier::MAX_UPLOAD).unwrap_err();
    assert!(
        bytes.to_string().ends_with("plus que la limite de 50 Mo"),
        "{bytes}"
    );
    assert_eq!(lieux::count(&db).await.unwrap(), 0);
}
