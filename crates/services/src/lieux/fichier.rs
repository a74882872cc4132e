//! A producer's file as rows of text: the encoding guessed (UTF-8, with or without BOM,
//! else Windows-1252), CSV or JSON (an array of flat objects), each row with its line.
//!
//! Files are read as a stream, in chunks of rows ([`Rows`]), so that a file of hundreds of
//! megabytes never sits in memory whole; [`read`] gathers every chunk for small files.
//! The encoding is decided on the whole file before any row is read: a first pass checks
//! that every byte is valid UTF-8 (fast, constant memory), then the file is read again
//! from its start, converted on the fly if it is not. Deciding on a prefix would misread a
//! Latin-1 file whose first accent comes late; restarting at the first invalid byte would
//! come after rows were already stored.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

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
    #[error("lecture du fichier impossible : {0}")]
    Io(String),
}

impl From<io::Error> for FileError {
    fn from(e: io::Error) -> Self {
        FileError::Io(e.to_string())
    }
}

/// Columns without which no row can be read (schema v1.0.1 and v0.1 alike).
pub const REQUIRED: [&str; 6] = ["id", "nom", "commune", "code_postal", "adresse", "date_maj"];

/// Rows per chunk: the unit of reading, preparing and storing.
pub const CHUNK: usize = 1000;

/// Splits a file held in memory into rows. `check_required`: refuse a file that lacks a
/// required column (the national schema); off for producers' own formats, mapped
/// afterwards.
pub fn read(bytes: &[u8], check_required: bool) -> Result<RawFile, FileError> {
    let mut rows = open(io::Cursor::new(bytes), check_required)?;
    let mut file = RawFile::default();
    while let Some(chunk) = rows.next_chunk() {
        if let Some(e) = chunk.error {
            return Err(e);
        }
        file.rows.extend(chunk.rows);
        file.broken.extend(chunk.broken);
    }
    file.columns = rows.columns;
    file.notes = rows.notes;
    Ok(file)
}

/// Some rows of a file, in order.
#[derive(Debug, Default)]
pub struct Chunk {
    pub rows: Vec<RawRow>,
    pub broken: Vec<(usize, String)>,
    /// The file could not be read past these rows (a JSON cut or malformed mid-way):
    /// no chunk follows.
    pub error: Option<FileError>,
}

impl Chunk {
    /// The line after the last one read: where a reading error stands.
    pub fn next_line(&self) -> usize {
        let last = self.rows.last().map_or(0, |r| r.line);
        last.max(self.broken.last().map_or(0, |b| b.0)) + 1
    }
}

/// A file being read, chunk by chunk.
pub struct Rows<R> {
    /// The CSV header, or for JSON the keys met so far (all of them once read through).
    pub columns: Vec<String>,
    pub notes: Vec<String>,
    first: Option<Chunk>,
    inner: Inner<R>,
}

type Text<R> = BufReader<Decoded<R>>;

enum Inner<R> {
    Csv {
        reader: csv::Reader<Text<R>>,
        /// Lines skipped before the header (blank lines).
        offset: usize,
    },
    Json(JsonItems<Text<R>>),
    Done,
}

/// Opens a file: encoding decided, format recognised, first chunk read (so that the
/// columns are known and a whole-file problem is said before anything is stored).
pub fn open<R: Read + Seek>(mut source: R, check_required: bool) -> Result<Rows<R>, FileError> {
    let mut bom = [0u8; 3];
    let n = read_up_to(&mut source, &mut bom)?;
    let start = if n == 3 && bom == *b"\xEF\xBB\xBF" {
        3
    } else {
        0
    };
    source.seek(SeekFrom::Start(start))?;
    let utf8 = is_utf8(&mut source)?;
    source.seek(SeekFrom::Start(start))?;
    let mut notes = Vec::new();
    if !utf8 {
        notes.push(
            "fichier encodé en Windows-1252 (Latin-1) et non en UTF-8 : converti en UTF-8"
                .to_string(),
        );
    }
    let mut text = BufReader::with_capacity(
        64 * 1024,
        Decoded {
            inner: source,
            utf8,
            out: Vec::new(),
            pos: 0,
        },
    );
    let (first, newlines) = first_char(&mut text)?;
    let (columns, inner) = match first {
        None => return Err(FileError::Empty),
        Some(b'{') => return Err(FileError::NotAnArray("un objet")),
        Some(b'[') => (Vec::new(), Inner::Json(JsonItems::new(text))),
        Some(_) => {
            let buffered = text.fill_buf()?;
            let first_line = buffered.split(|&b| b == b'\n').next().unwrap_or_default();
            // Spreadsheets in French often separate with ';'.
            let count = |c: u8| first_line.iter().filter(|&&b| b == c).count();
            let delimiter = if count(b';') > count(b',') {
                b';'
            } else {
                b','
            };
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .flexible(true)
                .from_reader(text);
            let columns: Vec<String> = reader
                .headers()
                .map_err(|e| FileError::Csv(e.to_string()))?
                .iter()
                .map(|c| c.trim().to_string())
                .collect();
            (
                columns,
                Inner::Csv {
                    reader,
                    offset: newlines,
                },
            )
        }
    };
    let mut rows = Rows {
        columns,
        notes,
        first: None,
        inner,
    };
    let first = rows.read_chunk();
    if let Some(e) = first.error {
        return Err(e);
    }
    if check_required {
        let missing: Vec<&str> = REQUIRED
            .iter()
            .filter(|c| !rows.columns.iter().any(|k| k == *c))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(FileError::MissingColumns(missing.join(", ")));
        }
    }
    rows.first = Some(first);
    Ok(rows)
}

impl<R: Read> Rows<R> {
    /// The next rows, `None` once the file is read through.
    pub fn next_chunk(&mut self) -> Option<Chunk> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        if matches!(self.inner, Inner::Done) {
            return None;
        }
        let chunk = self.read_chunk();
        if chunk.rows.is_empty() && chunk.broken.is_empty() && chunk.error.is_none() {
            return None;
        }
        Some(chunk)
    }

    fn read_chunk(&mut self) -> Chunk {
        let mut chunk = Chunk::default();
        match &mut self.inner {
            Inner::Csv { reader, offset } => {
                csv_chunk(
                    reader,
                    *offset,
                    self.columns.len(),
                    &self.columns,
                    &mut chunk,
                );
                if chunk.rows.len() + chunk.broken.len() < CHUNK {
                    self.inner = Inner::Done;
                }
            }
            Inner::Json(items) => {
                while chunk.rows.len() + chunk.broken.len() < CHUNK {
                    match items.next_item() {
                        Ok(None) => {
                            self.inner = Inner::Done;
                            break;
                        }
                        Ok(Some((line, value))) => {
                            json_row(line, value, &mut self.columns, &mut chunk);
                        }
                        Err(e) => {
                            chunk.error = Some(e);
                            self.inner = Inner::Done;
                            break;
                        }
                    }
                }
            }
            Inner::Done => {}
        }
        chunk
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Whether everything from here to the end is valid UTF-8.
fn is_utf8(r: &mut impl Read) -> io::Result<bool> {
    let mut buf = vec![0u8; 256 * 1024];
    // Bytes of a character cut by the end of the previous read.
    let mut carry = 0;
    loop {
        let n = r.read(&mut buf[carry..])?;
        if n == 0 {
            return Ok(carry == 0);
        }
        let len = carry + n;
        match std::str::from_utf8(&buf[..len]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..len, 0);
                carry = len - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

/// The first byte that is not blank, left in the reader; and the line breaks skipped.
fn first_char(r: &mut impl BufRead) -> io::Result<(Option<u8>, usize)> {
    let mut newlines = 0;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok((None, newlines));
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                newlines += buf[..i].iter().filter(|&&b| b == b'\n').count();
                r.consume(i);
                return Ok((Some(b), newlines));
            }
            None => {
                newlines += buf.iter().filter(|&&b| b == b'\n').count();
                let len = buf.len();
                r.consume(len);
            }
        }
    }
}

/// The file as UTF-8: as it is, or converted from Windows-1252 byte by byte.
pub struct Decoded<R> {
    inner: R,
    utf8: bool,
    out: Vec<u8>,
    pos: usize,
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.utf8 {
            return self.inner.read(buf);
        }
        if self.pos == self.out.len() {
            let mut raw = [0u8; 16 * 1024];
            let n = self.inner.read(&mut raw)?;
            self.out.clear();
            self.pos = 0;
            let mut tmp = [0u8; 4];
            for &b in &raw[..n] {
                if b < 0x80 {
                    self.out.push(b);
                } else {
                    self.out
                        .extend_from_slice(windows_1252(b).encode_utf8(&mut tmp).as_bytes());
                }
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
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

fn json_row(line: usize, item: serde_json::Value, columns: &mut Vec<String>, chunk: &mut Chunk) {
    let serde_json::Value::Object(map) = item else {
        chunk
            .broken
            .push((line, "élément qui n’est pas un objet".to_string()));
        return;
    };
    let mut fields = BTreeMap::new();
    for (key, value) in map {
        if !columns.contains(&key) {
            columns.push(key.clone());
        }
        if let Some(text) = flat_text(&value) {
            fields.insert(key, text);
        }
    }
    chunk.rows.push(RawRow { line, fields });
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

/// The items of a JSON array, one at a time: each item's text is cut out of the stream
/// (strings and nesting followed), then parsed alone by serde_json.
struct JsonItems<R> {
    r: R,
    /// Items given so far.
    n: usize,
    done: bool,
    item: Vec<u8>,
}

impl<R: BufRead> JsonItems<R> {
    /// `r` stands on the opening `[`.
    fn new(r: R) -> Self {
        JsonItems {
            r,
            n: 0,
            done: false,
            item: Vec::new(),
        }
    }

    fn next_item(&mut self) -> Result<Option<(usize, serde_json::Value)>, FileError> {
        if self.done {
            return Ok(None);
        }
        let cut = |what: &str| FileError::Json(format!("fin du fichier au milieu {what}"));
        if self.n == 0 {
            self.r.consume(1); // '['
        }
        let Some(mut b) = first_char(&mut self.r)?.0 else {
            return Err(cut("du tableau"));
        };
        if b == b']' {
            self.r.consume(1);
            self.done = true;
            if first_char(&mut self.r)?.0.is_some() {
                return Err(FileError::Json("texte après la fin du tableau".to_string()));
            }
            return Ok(None);
        }
        if self.n > 0 {
            if b != b',' {
                return Err(FileError::Json(format!(
                    "« , » ou « ] » attendu après l’élément {}",
                    self.n
                )));
            }
            self.r.consume(1);
            b = first_char(&mut self.r)?
                .0
                .ok_or_else(|| cut("du tableau"))?;
        }
        self.n += 1;
        self.item.clear();
        match b {
            b'{' | b'[' => self.nested()?,
            b'"' => self.string()?,
            _ => self.scalar()?,
        }
        let value = serde_json::from_slice(&self.item)
            .map_err(|e| FileError::Json(format!("élément {} : {e}", self.n)))?;
        Ok(Some((self.n, value)))
    }

    /// An object or array, up to its closing bracket.
    fn nested(&mut self) -> Result<(), FileError> {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Err(FileError::Json(format!(
                    "fin du fichier au milieu de l’élément {}",
                    self.n
                )));
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let take = end.unwrap_or(buf.len());
            self.item.extend_from_slice(&buf[..take]);
            self.r.consume(take);
            if end.is_some() {
                return Ok(());
            }
        }
    }

    fn string(&mut self) -> Result<(), FileError> {
        let mut escaped = false;
        let mut started = false;
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Err(FileError::Json(format!(
                    "fin du fichier au milieu de l’élément {}",
                    self.n
                )));
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                if !started {
                    started = true; // the opening quote
                } else if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    end = Some(i + 1);
                    break;
                }
            }
            let take = end.unwrap_or(buf.len());
            self.item.extend_from_slice(&buf[..take]);
            self.r.consume(take);
            if end.is_some() {
                return Ok(());
            }
        }
    }

    /// A number, `true`, `false` or `null`: up to the next separator.
    fn scalar(&mut self) -> Result<(), FileError> {
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Ok(());
            }
            let end = buf
                .iter()
                .position(|&b| b == b',' || b == b']' || b.is_ascii_whitespace());
            let take = end.unwrap_or(buf.len());
            self.item.extend_from_slice(&buf[..take]);
            self.r.consume(take);
            if end.is_some() {
                return Ok(());
            }
        }
    }
}

fn csv_chunk<R: Read>(
    reader: &mut csv::Reader<R>,
    offset: usize,
    width: usize,
    columns: &[String],
    chunk: &mut Chunk,
) {
    let mut record = csv::StringRecord::new();
    while chunk.rows.len() + chunk.broken.len() < CHUNK {
        match reader.read_record(&mut record) {
            Ok(false) => return,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize + offset);
                chunk.broken.push((line, format!("ligne illisible ({e})")));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line() as usize) + offset;
        if record.len() != width {
            chunk.broken.push((
                line,
                format!(
                    "{} champs au lieu de {} (une virgule ou un guillemet en trop ?)",
                    record.len(),
                    width
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
        chunk.rows.push(RawRow { line, fields });
    }
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
