//! The mapping assistant: a file a structure or a hub uploads that does not follow the
//! schema is kept a day while a person checks the mapping Relais proposes for it
//! (`domain::lieux::proposition`), corrects it field by field, previews the first rows,
//! and imports it; the mapping is then kept for that producer and applied to its next
//! uploads without asking.

use relais_domain::authz::{HubAccess, StructureAccess};
use relais_domain::calendrier::{now_ms, paris_civil};
use relais_domain::ids::PersonId;
use relais_domain::journal::NewEntry;
use relais_domain::lieux::fichier::{self, FileError, RawFile};
use relais_domain::lieux::mapping::Mapping;
use relais_domain::lieux::proposition::{Corrections, Proposition, proposer_corrige};
use relais_domain::lieux::{SchemaVersion, read_row};
use relais_search::TerritoryIndex;
use relais_store::lieux::correspondances as repo;
use relais_store::{Db, StoreError};

use super::edition::{
    append, hub_source, import_for_hub, import_for_structure, imported, structure_source,
};
use super::import::{ImportError, ImportReport, import};

/// How long an uploaded file waits for its mapping.
const KEPT_MS: i64 = 24 * 3600 * 1000;
/// Rows shown in the preview.
const PREVIEW_ROWS: usize = 5;
/// The fields the preview shows of each row.
pub const PREVIEW_FIELDS: [&str; 6] = [
    "nom",
    "adresse",
    "code_postal",
    "commune",
    "telephone",
    "services",
];

/// Who uploads: made from an access proof only.
#[derive(Clone, Copy)]
pub enum Deposant<'a> {
    Structure(&'a StructureAccess),
    Hub(&'a HubAccess),
}

impl Deposant<'_> {
    fn source(&self) -> String {
        match self {
            Deposant::Structure(a) => structure_source(a.structure()),
            Deposant::Hub(a) => hub_source(a.scope()),
        }
    }

    fn person(&self) -> PersonId {
        match self {
            Deposant::Structure(a) => a.person(),
            Deposant::Hub(a) => a.person(),
        }
    }

    fn journaled(&self, e: NewEntry) -> NewEntry {
        match self {
            Deposant::Structure(a) => e
                .by(a.person(), Some(a.structure()))
                .in_structure(a.structure()),
            Deposant::Hub(a) => e.by(a.person(), None),
        }
    }
}

/// A row of the preview: the fields shown, and why it would be left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apercu {
    pub ligne: usize,
    pub valeurs: Vec<String>,
    pub problemes: Vec<String>,
}

/// A file waiting for its mapping, with the mapping as corrected so far.
#[derive(Debug, Clone)]
pub struct Assistant {
    pub id: i64,
    pub fichier: String,
    pub colonnes: Vec<String>,
    pub proposition: Proposition,
    pub apercu: Vec<Apercu>,
    /// The mapping cannot be applied to the file: why.
    pub erreur: Option<String>,
}

/// What an upload gave.
#[derive(Debug)]
pub enum Televerse {
    Importe(ImportReport),
    /// The file does not follow the schema: its mapping is to confirm.
    ACorreler(Assistant),
}

#[derive(Debug, thiserror::Error)]
pub enum AssistantError {
    #[error("la correspondance ne s’applique pas au fichier : {0}")]
    Correspondance(String),
    #[error(transparent)]
    Import(#[from] ImportError),
}

impl From<StoreError> for AssistantError {
    fn from(e: StoreError) -> Self {
        AssistantError::Import(ImportError::Store(e))
    }
}

fn today() -> String {
    let (y, m, d, _) = paris_civil(now_ms());
    format!("{y:04}-{m:02}-{d:02}")
}

/// Imports an uploaded file: as it is when it follows the schema, else with the mapping
/// kept for this producer when it fits, else the file waits for its mapping.
pub async fn televerser(
    db: &Db,
    index: &TerritoryIndex,
    d: Deposant<'_>,
    nom: &str,
    bytes: &[u8],
) -> Result<Televerse, ImportError> {
    let result = match d {
        Deposant::Structure(a) => import_for_structure(db, index, a, bytes).await,
        Deposant::Hub(a) => import_for_hub(db, index, a, bytes).await,
    };
    let Err(ImportError::File(FileError::MissingColumns(_))) = result else {
        return result.map(Televerse::Importe);
    };
    let file = fichier::read(bytes, false)?;
    let source = d.source();
    let kept = repo::mapping_of(db, &source)
        .await?
        .and_then(|toml| Mapping::parse(&toml).ok())
        .and_then(|m| m.apply(&file, &source).ok());
    if let Some(mapped) = kept {
        let mut report = import_mapped(db, index, d, &mapped).await?;
        report.notes.insert(
            0,
            "correspondance gardée pour ce producteur appliquée".to_string(),
        );
        return Ok(Televerse::Importe(report));
    }
    let now = now_ms();
    let id = repo::keep_upload(db, &source, nom, bytes, now, now - KEPT_MS).await?;
    Ok(Televerse::ACorreler(assistant_of(
        id,
        nom,
        &file,
        &Corrections::default(),
    )))
}

async fn import_mapped(
    db: &Db,
    index: &TerritoryIndex,
    d: Deposant<'_>,
    mapped: &RawFile,
) -> Result<ImportReport, StoreError> {
    let report = import(db, index, &d.source(), mapped, &mut |_, _| {}).await?;
    append(db, &d.journaled(imported(&report))).await?;
    Ok(report)
}

/// The file `id` waiting for its mapping, with `corrections`; `None` when it is not this
/// producer's or no longer kept.
pub async fn assistant(
    db: &Db,
    d: Deposant<'_>,
    id: i64,
    corrections: &Corrections,
) -> Result<Option<Assistant>, ImportError> {
    let Some(t) = repo::upload(db, &d.source(), id, now_ms() - KEPT_MS).await? else {
        return Ok(None);
    };
    let file = fichier::read(&t.bytes, false)?;
    Ok(Some(assistant_of(t.id, &t.nom, &file, corrections)))
}

/// Imports the file `id` with its mapping as corrected, and keeps that mapping for the
/// producer's next uploads. `None`: no such file waiting.
pub async fn importer_corrige(
    db: &Db,
    index: &TerritoryIndex,
    d: Deposant<'_>,
    id: i64,
    corrections: &Corrections,
) -> Result<Option<ImportReport>, AssistantError> {
    let source = d.source();
    let Some(t) = repo::upload(db, &source, id, now_ms() - KEPT_MS).await? else {
        return Ok(None);
    };
    let file = fichier::read(&t.bytes, false).map_err(ImportError::from)?;
    let toml = proposer_corrige(&file, &today(), corrections).toml(&format!(
        "Correspondance de {} (confirmée dans Relais)",
        t.nom
    ));
    let mapping =
        Mapping::parse(&toml).map_err(|e| AssistantError::Correspondance(e.to_string()))?;
    let mapped = mapping
        .apply(&file, &source)
        .map_err(|e| AssistantError::Correspondance(e.to_string()))?;
    let report = import_mapped(db, index, d, &mapped).await?;
    repo::keep_mapping(db, &source, &toml, d.person(), now_ms()).await?;
    repo::forget_upload(db, id).await?;
    Ok(Some(report))
}

fn assistant_of(id: i64, nom: &str, file: &RawFile, corrections: &Corrections) -> Assistant {
    let proposition = proposer_corrige(file, &today(), corrections);
    let head = RawFile {
        columns: file.columns.clone(),
        rows: file.rows.iter().take(PREVIEW_ROWS).cloned().collect(),
        ..RawFile::default()
    };
    let applied = Mapping::parse(&proposition.toml("")).and_then(|m| m.apply(&head, "apercu"));
    let (apercu, erreur) = match applied {
        Ok(mapped) => (
            mapped
                .rows
                .iter()
                .map(|r| Apercu {
                    ligne: r.line,
                    valeurs: PREVIEW_FIELDS
                        .iter()
                        .map(|f| r.fields.get(*f).cloned().unwrap_or_default())
                        .collect(),
                    problemes: match read_row(&r.fields, SchemaVersion::V1) {
                        Ok(_) => Vec::new(),
                        Err(refus) => refus.errors.iter().map(ToString::to_string).collect(),
                    },
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Assistant {
        id,
        fichier: nom.to_string(),
        colonnes: file.columns.clone(),
        proposition,
        apercu,
        erreur,
    }
}
