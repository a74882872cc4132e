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

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use super::schema::column_name;

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
    #[error("« {0} » n’est pas un fichier ordinaire (dossier, périphérique ou tube) : refusé")]
    NotAFile(String),
    #[error("« {name} » fait {size} Mo, plus que la limite de {max} Mo")]
    TooBig { name: String, size: u64, max: u64 },
}

impl From<io::Error> for FileError {
    /// In French: the system's own text is English.
    fn from(e: io::Error) -> Self {
        use io::ErrorKind as K;
        FileError::Io(
            match e.kind() {
                K::NotFound => "fichier introuvable",
                K::PermissionDenied => "accès refusé",
                K::IsADirectory => "c’est un dossier",
                K::InvalidData => "données invalides",
                K::UnexpectedEof => "fin de fichier inattendue",
                K::OutOfMemory => "mémoire insuffisante",
                _ => "erreur d’entrée-sortie",
            }
            .to_string(),
        )
    }
}

/// The largest file read whole in memory: an upload on the web, and in the CLI a file
/// mapped (`--mapping`) or from data·inclusion.
pub const MAX_UPLOAD: u64 = 50 * 1024 * 1024;
/// The largest file `relais import lieux` streams: well above any real file (the national
/// ones are tens of Mo) yet bounded, so that a wrong path cannot keep it reading for hours.
pub const MAX_STREAMED: u64 = 1024 * 1024 * 1024;

/// Columns without which no row can be read (schema v1.0.1 and v0.1 alike).
pub const REQUIRED: [&str; 6] = ["id", "nom", "commune", "code_postal", "adresse", "date_maj"];

/// Rows per chunk: the unit of reading, preparing and storing.
pub const CHUNK: usize = 1000;

/// Splits a file held in memory into rows. `check_required`: a file of the national
/// schema, whose columns take the schema's names when written otherwise
/// ([`column_name`]) and which is refused if it lacks a required column; off for
/// producers' own formats, mapped afterwards by their own column names.
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
    /// Whether columns take the schema's names ([`column_name`]).
    schema_names: bool,
    /// JSON keys read under another name, and that name (said once in the notes).
    renamed: BTreeSet<(String, &'static str)>,
}

type Text<R> = BufReader<Decoded<R>>;

enum Inner<R> {
    Csv {
        reader: csv::Reader<Lines<Text<R>>>,
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
                .from_reader(Lines::new(text));
            let mut columns: Vec<String> = reader
                .headers()
                .map_err(|e| FileError::Csv(e.to_string()))?
                .iter()
                .map(|c| c.trim().to_string())
                .collect();
            if check_required {
                notes.extend(schema_names(&mut columns));
            }
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
        schema_names: check_required,
        renamed: BTreeSet::new(),
    };
    let first = rows.read_chunk();
    if let Some(e) = first.error {
        return Err(e);
    }
    for (key, name) in std::mem::take(&mut rows.renamed) {
        rows.notes.push(synonym_note(&key, name));
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
                        Ok(Some((line, Ok(value)))) => {
                            let names = self.schema_names.then_some(&mut self.renamed);
                            json_row(line, value, &mut self.columns, names, &mut chunk);
                        }
                        Ok(Some((line, Err(why)))) => chunk.broken.push((line, why)),
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

/// Gives the schema's names to columns written otherwise ([`column_name`]); a name the
/// file already has as the schema writes it stays with its own column. Returns a note for
/// each synonym read.
fn schema_names(columns: &mut [String]) -> Vec<String> {
    let mut taken: HashSet<String> = columns
        .iter()
        .filter(|c| column_name(c).is_some_and(|(name, _)| name == c.as_str()))
        .cloned()
        .collect();
    let mut notes = Vec::new();
    for c in columns.iter_mut() {
        if let Some((name, synonym)) = column_name(c)
            && name != c.as_str()
            && taken.insert(name.to_string())
        {
            if synonym {
                notes.push(synonym_note(c, name));
            }
            *c = name.to_string();
        }
    }
    notes
}

fn synonym_note(column: &str, name: &str) -> String {
    format!("colonne « {column} » lue comme « {name} » du schéma")
}

/// One JSON item as a row; with `renamed`, keys take the schema's names ([`column_name`])
/// unless the item has that name already, and synonyms read are added to `renamed`.
fn json_row(
    line: usize,
    item: serde_json::Value,
    columns: &mut Vec<String>,
    mut renamed: Option<&mut BTreeSet<(String, &'static str)>>,
    chunk: &mut Chunk,
) {
    let serde_json::Value::Object(map) = item else {
        chunk
            .broken
            .push((line, "élément qui n’est pas un objet".to_string()));
        return;
    };
    let mut fields = BTreeMap::new();
    // Schema names the item has as the schema writes them, then those given.
    let mut taken: HashSet<String> = map
        .keys()
        .filter(|k| column_name(k).is_some_and(|(name, _)| name == k.as_str()))
        .cloned()
        .collect();
    for (mut key, value) in map {
        if let Some(renamed) = renamed.as_deref_mut()
            && let Some((name, synonym)) = column_name(&key)
            && name != key
            && taken.insert(name.to_string())
        {
            if synonym {
                renamed.insert((key.clone(), name));
            }
            key = name.to_string();
        }
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
    /// Line breaks consumed so far: the file's line is this + 1.
    newlines: usize,
}

/// An item that could not be parsed: why, in French (serde's text is English), and on
/// which line of the file.
fn json_reason(e: &serde_json::Error, n: usize, start_line: usize) -> String {
    let line = start_line + e.line().saturating_sub(1);
    format!(
        "élément {n} illisible, ligne {line} du fichier : {}",
        json_error(e)
    )
}

/// What a serde_json error says, in French: its category, and the field or value it
/// names (its line is the caller's to say).
pub fn json_error(e: &serde_json::Error) -> String {
    let message = e.to_string();
    // The name between the first pair of backquotes: `missing field `id``.
    let quoted = || {
        message
            .split('`')
            .nth(1)
            .map(|s| s.chars().take(80).collect::<String>())
            .unwrap_or_default()
    };
    if message.starts_with("missing field") {
        return format!("champ « {} » absent", quoted());
    }
    if message.starts_with("duplicate field") {
        return format!("champ « {} » en double", quoted());
    }
    if message.starts_with("unknown variant") {
        return format!("valeur « {} » inconnue", quoted());
    }
    [
        ("number out of range", "nombre hors limites"),
        ("invalid number", "nombre mal écrit"),
        ("EOF while parsing", "élément incomplet"),
        (
            "control character",
            "caractère de contrôle dans une chaîne (à écrire \\u00XX)",
        ),
        (
            "invalid escape",
            "échappement « \\ » invalide dans une chaîne",
        ),
        (
            "invalid unicode",
            "échappement « \\u » invalide dans une chaîne",
        ),
        (
            "lone leading surrogate",
            "échappement « \\u » invalide dans une chaîne",
        ),
        (
            "unexpected end of hex",
            "échappement « \\u » invalide dans une chaîne",
        ),
        ("recursion limit", "imbrication trop profonde"),
        (
            "key must be a string",
            "clé d’objet qui n’est pas une chaîne",
        ),
        ("trailing comma", "virgule en trop"),
        ("trailing characters", "texte après la fin du JSON"),
        ("invalid type", "valeur d’un type inattendu"),
        ("invalid value", "valeur non valable"),
        ("invalid length", "nombre d’éléments inattendu"),
    ]
    .iter()
    .find(|(en, _)| message.starts_with(en))
    .map_or(
        if e.is_data() {
            "valeur non conforme"
        } else {
            "syntaxe JSON invalide"
        },
        |(_, fr)| fr,
    )
    .to_string()
}

impl<R: BufRead> JsonItems<R> {
    /// `r` stands on the opening `[`.
    fn new(r: R) -> Self {
        JsonItems {
            r,
            n: 0,
            done: false,
            item: Vec::new(),
            newlines: 0,
        }
    }

    /// The next blank-free byte, line breaks counted.
    fn first_char(&mut self) -> io::Result<Option<u8>> {
        let (b, newlines) = first_char(&mut self.r)?;
        self.newlines += newlines;
        Ok(b)
    }

    /// Moves past `take` bytes of `buf` (the reader's buffer), into the item or not.
    fn take(&mut self, take: usize) {
        let buf = self.r.fill_buf().unwrap_or_default();
        self.newlines += buf[..take].iter().filter(|&&b| b == b'\n').count();
        self.item.extend_from_slice(&buf[..take]);
        self.r.consume(take);
    }

    /// The next item: its number, and its value or why it could not be parsed (the
    /// other items are still read). An error stops the whole file: the array itself is
    /// broken, so where the next item starts is unknown.
    #[allow(clippy::type_complexity)]
    fn next_item(
        &mut self,
    ) -> Result<Option<(usize, Result<serde_json::Value, String>)>, FileError> {
        if self.done {
            return Ok(None);
        }
        let cut = |what: &str, line: usize| {
            FileError::Json(format!("fin du fichier au milieu {what} (ligne {line})"))
        };
        if self.n == 0 {
            self.r.consume(1); // '['
        }
        let Some(mut b) = self.first_char()? else {
            return Err(cut("du tableau", self.newlines + 1));
        };
        if b == b']' {
            self.r.consume(1);
            self.done = true;
            if self.first_char()?.is_some() {
                return Err(FileError::Json(format!(
                    "texte après la fin du tableau (ligne {})",
                    self.newlines + 1
                )));
            }
            return Ok(None);
        }
        if self.n > 0 {
            if b != b',' {
                return Err(FileError::Json(format!(
                    "« , » ou « ] » attendu après l’élément {} (ligne {})",
                    self.n,
                    self.newlines + 1
                )));
            }
            self.r.consume(1);
            b = self
                .first_char()?
                .ok_or_else(|| cut("du tableau", self.newlines + 1))?;
        }
        self.n += 1;
        self.item.clear();
        let start_line = self.newlines + 1;
        match b {
            b'{' | b'[' => self.nested()?,
            b'"' => self.string()?,
            _ => self.scalar()?,
        }
        let value =
            serde_json::from_slice(&self.item).map_err(|e| json_reason(&e, self.n, start_line));
        Ok(Some((self.n, value)))
    }

    /// The next bytes of the item begun on `start_line`: the file must not end there.
    fn fill_item(&mut self, start_line: usize) -> Result<&[u8], FileError> {
        let n = self.n;
        let buf = self.r.fill_buf()?;
        if buf.is_empty() {
            return Err(FileError::Json(format!(
                "fin du fichier au milieu de l’élément {n} (commencé ligne {start_line})"
            )));
        }
        Ok(buf)
    }

    /// An object or array, up to its closing bracket.
    fn nested(&mut self) -> Result<(), FileError> {
        let start_line = self.newlines + 1;
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        loop {
            let buf = self.fill_item(start_line)?;
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
            self.take(take);
            if end.is_some() {
                return Ok(());
            }
        }
    }

    fn string(&mut self) -> Result<(), FileError> {
        let start_line = self.newlines + 1;
        let mut escaped = false;
        let mut started = false;
        loop {
            let buf = self.fill_item(start_line)?;
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
            self.take(take);
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
            self.take(take);
            if end.is_some() {
                return Ok(());
            }
        }
    }
}

/// The line where a record just read starts. csv's own start position is wrong after
/// CRLF (the record before it stops at `\r`, so its `\n` is counted in this one) and
/// after blank lines: it is computed from the record's end instead, less the line breaks
/// of the record (inside its quoted fields, and its own `\n` unless the file ended it).
fn record_line<R: Read>(reader: &mut csv::Reader<Lines<R>>, record: &csv::StringRecord) -> usize {
    let end = reader.position().byte();
    let inside: usize = record.iter().map(|f| f.matches('\n').count()).sum();
    let lines = reader.get_mut();
    let last = end.saturating_sub(1);
    let before = lines.newlines_before(last) as usize;
    let last_is_newline = lines.newline_at(last);
    let at_end_of_file = lines.eof && end == lines.read;
    // A `\n` last is the record's end, or (a quote left open to the end of the file)
    // inside its last field, and then counted in `inside`.
    let terminator = usize::from(last_is_newline && !at_end_of_file);
    (before + usize::from(last_is_newline) + 1).saturating_sub(inside + terminator)
}

/// A reader that notes where its line breaks are, so that a byte offset read later can be
/// turned into a line number (offsets must be asked in increasing order).
pub struct Lines<R> {
    inner: R,
    read: u64,
    /// The inner reader said it has nothing more.
    eof: bool,
    ahead: VecDeque<u64>,
    passed: u64,
}

impl<R> Lines<R> {
    fn new(inner: R) -> Self {
        Lines {
            inner,
            read: 0,
            eof: false,
            ahead: VecDeque::new(),
            passed: 0,
        }
    }

    /// How many line breaks stand before byte `at`.
    fn newlines_before(&mut self, at: u64) -> u64 {
        while self.ahead.front().is_some_and(|&b| b < at) {
            self.ahead.pop_front();
            self.passed += 1;
        }
        self.passed
    }

    /// Whether byte `at` is a line break (after [`Lines::newlines_before`] of `at`).
    fn newline_at(&self, at: u64) -> bool {
        self.ahead.front() == Some(&at)
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.eof |= n == 0 && !buf.is_empty();
        for (i, _) in buf[..n].iter().enumerate().filter(|&(_, &b)| b == b'\n') {
            self.ahead.push_back(self.read + i as u64);
        }
        self.read += n as u64;
        Ok(n)
    }
}

fn csv_chunk<R: Read>(
    reader: &mut csv::Reader<Lines<R>>,
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
        let line = record_line(reader, &record) + offset;
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
    fn columns_take_the_schema_names_in_csv_with_crlf_and_in_json() {
        // A spreadsheet's export: CRLF, `;`, capitals, accents and synonyms.
        let csv = "ID;Nom du lieu;Commune;Code Postal;Adresse postale;Date_Soumission;Téléphone;Remarque\r\n\
                   7;Médiathèque;Lyon;69001;1 rue A;2024-01-01;0478000000;à voir\r\n";
        let file = read(csv.as_bytes(), true).unwrap();
        assert_eq!(
            file.columns,
            [
                "id",
                "nom",
                "commune",
                "code_postal",
                "adresse",
                "date_maj",
                "telephone",
                "Remarque"
            ]
        );
        assert_eq!(file.rows[0].line, 2);
        assert_eq!(file.rows[0].fields["adresse"], "1 rue A");
        assert_eq!(file.rows[0].fields["date_maj"], "2024-01-01");
        assert_eq!(
            file.notes,
            [
                "colonne « Nom du lieu » lue comme « nom » du schéma",
                "colonne « Adresse postale » lue comme « adresse » du schéma",
                "colonne « Date_Soumission » lue comme « date_maj » du schéma",
            ]
        );
        // A column the schema already has as it writes it keeps its name: the other stays.
        let both =
            "id,nom,commune,code_postal,adresse,Adresse,date_maj\n1,A,Lyon,69001,r,R,2024-01-01\n";
        let file = read(both.as_bytes(), true).unwrap();
        assert_eq!(file.rows[0].fields["adresse"], "r");
        assert_eq!(file.rows[0].fields["Adresse"], "R");
        // JSON keys alike.
        let json = r#"[{"ID": "1", "Nom": "A", "Ville": "Lyon", "CP": "69001", "Adresse": "r", "date_soumission": "2024-01-01"}]"#;
        let file = read(json.as_bytes(), true).unwrap();
        let fields: Vec<&str> = file.rows[0].fields.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            ["adresse", "code_postal", "commune", "date_maj", "id", "nom"]
        );
        assert_eq!(file.notes.len(), 3, "{:?}", file.notes);
        // A producer's own format (mapped afterwards) keeps its own names.
        let file = read(csv.as_bytes(), false).unwrap();
        assert_eq!(file.columns[1], "Nom du lieu");
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

    const HEAD: &str = "id,nom,commune,code_postal,adresse,date_maj";

    fn lines(file: &RawFile) -> Vec<(String, usize)> {
        file.rows
            .iter()
            .map(|r| (r.fields["id"].clone(), r.line))
            .collect()
    }

    #[test]
    fn csv_lines_are_right_with_crlf_quoted_breaks_blank_lines_and_bom() {
        let rows = [
            HEAD,
            "a,A,B,69001,r,2024-01-01",
            "b,\"Deux\nlignes\",B,69001,r,2024-01-01",
            "",
            "c,C,B,69001,r,2024-01-01",
            "d,D,B,69001,\"r\r\nsuite\",2024-01-01",
            "e,E,B,69001,r,2024-01-01",
        ];
        let want = vec![
            ("a".to_string(), 2),
            ("b".to_string(), 3),
            ("c".to_string(), 6),
            ("d".to_string(), 7),
            ("e".to_string(), 9),
        ];
        for end in ["\n", "\r\n"] {
            let text = rows.join(end) + end;
            assert_eq!(
                lines(&read(text.as_bytes(), true).unwrap()),
                want,
                "{end:?}"
            );
            let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
            assert_eq!(lines(&read(&bom, true).unwrap()), want, "BOM {end:?}");
            // Blank lines before the header, and no line break at the end.
            let text = format!("{end}{end}{}", rows.join(end));
            let got: Vec<usize> = read(text.as_bytes(), true)
                .unwrap()
                .rows
                .iter()
                .map(|r| r.line)
                .collect();
            assert_eq!(got, vec![4, 5, 8, 9, 11], "{end:?}");
        }
        // A quote left open to the end of the file (found by fuzzing: said on line 2).
        let text = [HEAD, "a,A,B,69001,r,2024-01-01", "b,\"B\n"].join("\n");
        let file = read(text.as_bytes(), false).unwrap();
        assert_eq!(file.broken[0].0, 3, "{file:?}");
        let text = [HEAD, "a,A,B,69001,r,2024-01-01", "b,B,B,69001,r,\"2024\n\n"].join("\n");
        assert_eq!(lines(&read(text.as_bytes(), false).unwrap())[1].1, 3);
        // A broken row is said on its own line too.
        let text = [
            HEAD,
            "a,A,B,69001,r,2024-01-01",
            "b,B,B,69001,r,2024-01-01,x",
        ]
        .join("\r\n");
        assert_eq!(read(text.as_bytes(), true).unwrap().broken[0].0, 3);
    }

    #[test]
    fn a_bad_json_item_is_one_broken_row_in_french() {
        let text = "[\n{\"id\": \"1\"},\n{\"id\": \"2\", \"latitude\": 1e400},\n{\"id\": \"3\", \"nom\": tru},\n1e999,\n{\"id\": \"4\"}\n]";
        let file = read(text.as_bytes(), false).unwrap();
        let ids: Vec<&str> = file.rows.iter().map(|r| r.fields["id"].as_str()).collect();
        assert_eq!(ids, ["1", "4"]);
        assert_eq!(
            file.broken,
            vec![
                (
                    2,
                    "élément 2 illisible, ligne 3 du fichier : nombre hors limites".to_string()
                ),
                (
                    3,
                    "élément 3 illisible, ligne 4 du fichier : syntaxe JSON invalide".to_string()
                ),
                (
                    4,
                    "élément 4 illisible, ligne 5 du fichier : nombre hors limites".to_string()
                ),
            ]
        );
        // The array itself broken: the rows before are kept, the error is in French.
        let err = read(b"[{\"id\": \"1\"}\n{\"id\": \"2\"}]", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "JSON illisible : « , » ou « ] » attendu après l’élément 1 (ligne 2)"
        );
        let err = read(b"[{\"id\": \"1\"},\n{\"id\": \"2", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "JSON illisible : fin du fichier au milieu de l’élément 2 (commencé ligne 2)"
        );
    }
}
