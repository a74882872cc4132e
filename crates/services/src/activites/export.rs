//! Exports of participations, one row each: CSV for Excel (`;`, UTF-8 BOM) streamed a page
//! at a time, and XLSX (`rust_xlsxwriter`) whose rows go to disk as they are written (its
//! constant-memory worksheets), then read from disk by the response. Memory stays that of
//! one page either way.

use std::collections::HashMap;
use std::io::{Seek, SeekFrom};

use relais_domain::activites::statistiques::Filtres;
use relais_domain::activites::vocabulaires::{Autonomie, NiveauAtelier, StructureDeRedirection};
use relais_domain::calendrier::civil_from_days;
use relais_domain::ids::LieuId;
use relais_store::activites::export::{LigneExport, page};
use relais_store::{Db, StoreError};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

/// Participations read per query.
const PAGE: i64 = 2_000;

/// Data rows of one worksheet: Excel's limit is 1,048,576 rows, the header included.
const LIGNES_PAR_FEUILLE: u32 = 1_048_575;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("écriture du fichier XLSX : {0}")]
    Xlsx(#[from] XlsxError),
    #[error("fichier temporaire : {0}")]
    Fichier(#[from] std::io::Error),
    #[error("csv : {0}")]
    Csv(#[from] csv::Error),
}

const COLONNES: [&str; 24] = [
    "Participation",
    "Activité",
    "Date",
    "Type d’activité",
    "Durée (minutes)",
    "Type de lieu",
    "Lieu",
    "Commune (code INSEE)",
    "Commune",
    "Thématiques",
    "Démarches",
    "Matériel",
    "Autonomie",
    "Niveau de l’atelier",
    "Orientation",
    "Titre de l’atelier",
    "Médiateur",
    "N° de fiche (personne suivie)",
    "Premier accompagnement",
    "Genre",
    "Tranche d’âge",
    "Statut",
    "Commune du bénéficiaire (code INSEE)",
    "Commune du bénéficiaire",
];

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
enum Cellule {
    Texte(String),
    Nombre(i64),
    /// Midnight UTC of the day, in Unix milliseconds.
    Date(i64),
}

fn civil(ms: i64) -> (i64, u32, u32) {
    civil_from_days(ms.div_euclid(86_400_000))
}

fn labels<T>(values: &[T], label: impl Fn(&T) -> &'static str) -> String {
    values.iter().map(label).collect::<Vec<_>>().join(", ")
}

fn cellules(l: &LigneExport, lieux: &HashMap<LieuId, String>) -> [Cellule; 24] {
    use Cellule::{Date, Nombre, Texte};
    let text = |s: Option<&str>| Texte(s.unwrap_or_default().to_string());
    [
        Nombre(l.id),
        Nombre(l.activite.0),
        Date(l.date),
        Texte(l.type_activite.label().into()),
        Nombre(i64::from(l.duree)),
        Texte(l.type_lieu.label().into()),
        text(
            l.lieu
                .as_ref()
                .map(|id| lieux.get(id).map_or(id.as_str(), String::as_str)),
        ),
        Texte(l.commune.clone()),
        text(l.commune_nom.as_deref()),
        Texte(labels(&l.thematiques, |t| t.label())),
        Texte(labels(&l.demarches, |t| t.label())),
        Texte(labels(&l.materiel, |t| t.label())),
        text(l.autonomie.map(Autonomie::label)),
        text(l.niveau.map(NiveauAtelier::label)),
        text(l.orientation.map(StructureDeRedirection::label)),
        Texte(l.titre_atelier.clone()),
        Texte(l.mediateur.clone()),
        l.beneficiaire.map_or(Texte(String::new()), |b| Nombre(b.0)),
        Texte(if l.premier { "oui" } else { "non" }.into()),
        Texte(l.genre.label().into()),
        Texte(l.tranche.label().into()),
        Texte(l.statut.label().into()),
        text(l.commune_beneficiaire.as_deref()),
        text(l.commune_beneficiaire_nom.as_deref()),
    ]
}

/// The live participations matching a filter, a page at a time, with the names of the
/// lieux of the structures asked (other lieux are shown by their id).
pub struct Lignes {
    db: Db,
    filtres: Filtres,
    apres: i64,
    fini: bool,
    lieux: HashMap<LieuId, String>,
}

impl Lignes {
    pub async fn new(db: Db, filtres: Filtres) -> Result<Lignes, StoreError> {
        let mut lieux = HashMap::new();
        for s in &filtres.structures {
            lieux.extend(super::noms_des_lieux(&db, *s).await?);
        }
        Ok(Lignes {
            db,
            filtres,
            apres: 0,
            fini: false,
            lieux,
        })
    }

    async fn suivantes(&mut self) -> Result<Option<Vec<[Cellule; 24]>>, StoreError> {
        if self.fini {
            return Ok(None);
        }
        let lignes = page(&self.db, &self.filtres, self.apres, PAGE).await?;
        self.fini = (lignes.len() as i64) < PAGE;
        let Some(last) = lignes.last() else {
            return Ok(None);
        };
        self.apres = last.id;
        Ok(Some(
            lignes.iter().map(|l| cellules(l, &self.lieux)).collect(),
        ))
    }
}

/// A text Excel would take for a formula (`=`, `+`, `-`, `@`, tab, carriage return
/// first) is written after an apostrophe, which Excel shows as text.
fn texte_csv(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// The CSV export: the BOM and the header first, then a page of rows per chunk.
pub struct Csv {
    lignes: Lignes,
    debut: bool,
}

impl Csv {
    pub fn new(lignes: Lignes) -> Csv {
        Csv {
            lignes,
            debut: true,
        }
    }

    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ExportError> {
        let debut = std::mem::take(&mut self.debut);
        // The byte order mark tells Excel the file is UTF-8 (accents intact).
        let bom = if debut { "\u{feff}".as_bytes() } else { b"" };
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(bom.to_vec());
        if debut {
            w.write_record(COLONNES)?;
        }
        match self.lignes.suivantes().await? {
            Some(rows) => {
                for row in rows {
                    w.write_record(row.iter().map(|c| match c {
                        Cellule::Texte(s) => texte_csv(s).into_owned(),
                        Cellule::Nombre(n) => n.to_string(),
                        Cellule::Date(ms) => {
                            let (y, m, d) = civil(*ms);
                            format!("{d:02}/{m:02}/{y}")
                        }
                    }))?;
                }
            }
            None if !debut => return Ok(None),
            None => {}
        }
        w.flush()?;
        Ok(Some(
            w.into_inner().map_err(csv::IntoInnerError::into_error)?,
        ))
    }
}

/// The header sheet: what was exported, and when.
pub struct Entete {
    /// (label, value) pairs: the structure, the period, the type…
    pub filtres: Vec<(String, String)>,
    /// « 07/12/2026 à 14 h 05 ».
    pub exporte_le: String,
}

/// The XLSX export in an unnamed temporary file (gone when closed), read from its start:
/// a « Filtres » sheet, then the participations (more sheets past Excel's row limit).
pub async fn xlsx(mut lignes: Lignes, entete: Entete) -> Result<std::fs::File, ExportError> {
    let mut workbook = Workbook::new();
    let gras = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    workbook.add_worksheet().set_name("Filtres")?;
    let mut feuilles = 0u32;
    let mut ligne = LIGNES_PAR_FEUILLE;
    let mut total = 0u64;
    while let Some(rows) = lignes.suivantes().await? {
        for row in rows {
            if ligne == LIGNES_PAR_FEUILLE {
                feuilles += 1;
                let sheet = workbook.add_worksheet_with_constant_memory()?;
                sheet.set_name(if feuilles == 1 {
                    "Participations".to_string()
                } else {
                    format!("Participations ({feuilles})")
                })?;
                sheet.write_row_with_format(0, 0, COLONNES, &gras)?;
                sheet.set_freeze_panes(1, 0)?;
                ligne = 0;
            }
            ligne += 1;
            total += 1;
            let sheet = workbook.worksheet_from_index(feuilles as usize)?;
            for (col, cell) in row.iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cellule::Texte(s) if s.is_empty() => {}
                    Cellule::Texte(s) => {
                        sheet.write_string(ligne, col, s)?;
                    }
                    Cellule::Nombre(n) => {
                        sheet.write_number(ligne, col, *n as f64)?;
                    }
                    Cellule::Date(ms) => {
                        let (y, m, d) = civil(*ms);
                        let day = ExcelDateTime::from_ymd(y as u16, m as u8, d as u8)?;
                        sheet.write_datetime_with_format(ligne, col, &day, &date)?;
                    }
                }
            }
        }
    }
    if feuilles == 0 {
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name("Participations")?;
        sheet.write_row_with_format(0, 0, COLONNES, &gras)?;
    }
    let filtres = workbook.worksheet_from_index(0)?;
    filtres.write_string_with_format(0, 0, "Export des participations", &gras)?;
    let mut rows = entete.filtres;
    rows.push(("Participations exportées".into(), total.to_string()));
    rows.push(("Exporté le".into(), entete.exporte_le));
    for (i, (label, value)) in rows.iter().enumerate() {
        let r = i as u32 + 2;
        filtres.write_string_with_format(r, 0, label, &gras)?;
        filtres.write_string(r, 1, value)?;
    }
    filtres.set_column_width(0, 28)?;
    filtres.set_column_width(1, 48)?;
    // Compressing the workbook is the long part: off the async threads.
    tokio::task::spawn_blocking(move || -> Result<std::fs::File, ExportError> {
        let mut file = tempfile::tempfile()?;
        workbook.save_to_writer(&mut file)?;
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    })
    .await
    .map_err(|e| ExportError::Fichier(std::io::Error::other(e)))?
}
