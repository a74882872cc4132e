//! A producer's file as rows of text: the encoding guessed (UTF-8, with or without BOM,
//! else Windows-1252), CSV or JSON (an array of flat objects), each row with its line.

use std::collections::BTreeMap;

/// One row: field name → text, and where it is in the file (CSV line, or JSON item).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    pub line: usize,
    pub fields: BTreeMap<String, String>,
}

/// A file read into rows, with what was noticed on the way.
#[derive(Debug, Clone, Default)]
pub struct RawFile {
    pub columns: Vec<String>,
    pub rows: Vec<RawRow>,
    /// Rows that could not even be split into fields: (line, why).
    pub broken: Vec<(usize, String)>,
    /// Said once for the file, e.g. the encoding it was converted from.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FileError {
    #[error("le fichier est vide")]
    Empty,
    #[error("JSON illisible : {0}")]
    Json(String),
    #[error("le JSON doit être un tableau d’objets (un objet par lieu), pas {0}")]
    NotAnArray(&'static str),
    #[error("CSV illisible : {0}")]
    Csv(String),
    #[error("colonne(s) obligatoire(s) absente(s) : {0}")]
    MissingColumns(String),
}

/// Columns without which no row can be read (schema v1.0.1 and v0.1 alike).
pub const REQUIRED: [&str; 6] = ["id", "nom", "commune", "code_postal", "adresse", "date_maj"];

/// Splits a file into rows. `check_required`: refuse a file that lacks a required column
/// (the national schema); off for producers' own formats, mapped afterwards.
pub fn read(bytes: &[u8], check_required: bool) -> Result<RawFile, FileError> {
    let mut notes = Vec::new();
    let text = decode(bytes, &mut notes);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(FileError::Empty);
    }
    let mut file = if trimmed.starts_with('[') || trimmed.starts_with('{') {
        read_json(trimmed)?
    } else {
        read_csv(&text)?
    };
    if check_required {
        let missing: Vec<&str> = REQUIRED
            .iter()
            .filter(|c| !file.columns.iter().any(|k| k == *c))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(FileError::MissingColumns(missing.join(", ")));
        }
    }
    file.notes.extend(notes);
    Ok(file)
}

/// UTF-8 (a BOM is dropped), or else Windows-1252, the usual encoding of a spreadsheet
/// saved "CSV" on Windows, converted and said in a note.
fn decode(bytes: &[u8], notes: &mut Vec<String>) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            notes.push(
                "fichier encodé en Windows-1252 (Latin-1) et non en UTF-8 : converti en UTF-8"
                    .to_string(),
            );
            bytes.iter().map(|&b| windows_1252(b)).collect()
        }
    }
}

fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

fn read_json(text: &str) -> Result<RawFile, FileError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| FileError::Json(e.to_string()))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(_) => return Err(FileError::NotAnArray("un objet")),
        _ => return Err(FileError::NotAnArray("une valeur seule")),
    };
    let mut file = RawFile::default();
    for (n, item) in items.into_iter().enumerate() {
        let line = n + 1;
        let serde_json::Value::Object(map) = item else {
            file.broken
                .push((line, "élément qui n’est pas un objet".to_string()));
            continue;
        };
        let mut fields = BTreeMap::new();
        for (key, value) in map {
            if !file.columns.contains(&key) {
                file.columns.push(key.clone());
            }
            if let Some(text) = flat_text(&value) {
                fields.insert(key, text);
            }
        }
        file.rows.push(RawRow { line, fields });
    }
    Ok(file)
}

/// The text of a JSON value in a flat row: lists joined with `|`, nothing for null.
fn flat_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(flat_text)
                .collect::<Vec<_>>()
                .join("|"),
        ),
        other => Some(other.to_string()),
    }
}

fn read_csv(text: &str) -> Result<RawFile, FileError> {
    let first = text.lines().next().unwrap_or("");
    // Spreadsheets in French often separate with ';'.
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| FileError::Csv(e.to_string()))?
        .iter()
        .map(|c| c.trim().to_string())
        .collect();
    let mut file = RawFile {
        columns: columns.clone(),
        ..RawFile::default()
    };
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                file.broken.push((line, format!("ligne illisible ({e})")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.len() != columns.len() {
            file.broken.push((
                line,
                format!(
                    "{} champs au lieu de {} (une virgule ou un guillemet en trop ?)",
                    record.len(),
                    columns.len()
                ),
            ));
            continue;
        }
        let fields = columns
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        file.rows.push(RawRow { line, fields });
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_bom_and_latin1_both_read() {
        let csv = "id,nom,commune,code_postal,adresse,date_maj\n1,Médiathèque,Lyon,69001,1 rue A,2024-01-01\n";
        let bom = [b"\xEF\xBB\xBF".as_slice(), csv.as_bytes()].concat();
        let file = read(&bom, true).unwrap();
        assert_eq!(file.columns[0], "id");
        assert!(file.notes.is_empty());
        let latin1: Vec<u8> = csv
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect();
        let file = read(&latin1, true).unwrap();
        assert_eq!(file.rows[0].fields["nom"], "Médiathèque");
        assert!(file.notes[0].contains("Windows-1252"));
    }

    #[test]
    fn bad_shapes_are_said() {
        assert_eq!(read(b"  ", true).unwrap_err(), FileError::Empty);
        assert_eq!(
            read(b"{\"id\": 1}", true).unwrap_err(),
            FileError::NotAnArray("un objet")
        );
        assert!(matches!(
            read(b"[1, 2", true).unwrap_err(),
            FileError::Json(_)
        ));
        let err = read(b"id,nom\n1,A\n", true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "colonne(s) obligatoire(s) absente(s) : commune, code_postal, adresse, date_maj"
        );
        let file = read(
            b"id,nom,commune,code_postal,adresse,date_maj\n1,A,B,69001,r,2024-01-01,extra\n2,A,B,69001,r,2024-01-01\n",
            true,
        )
        .unwrap();
        assert_eq!(file.rows.len(), 1);
        assert_eq!(file.broken[0].0, 2);
        assert!(file.broken[0].1.contains("7 champs au lieu de 6"));
    }

    #[test]
    fn json_values_become_flat_text() {
        let file = read(
            br#"[{"id": 7, "services": ["A", "B"], "latitude": 45.5, "vide": null}, 3]"#,
            false,
        )
        .unwrap();
        let row = &file.rows[0].fields;
        assert_eq!(row["id"], "7");
        assert_eq!(row["services"], "A|B");
        assert_eq!(row["latitude"], "45.5");
        assert!(!row.contains_key("vide"));
        assert_eq!(
            file.broken,
            vec![(2, "élément qui n’est pas un objet".to_string())]
        );
    }
}
