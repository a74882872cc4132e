//! A structure's own lieux: the files its référents upload, and the edit of a lieu.
//!
//! Ownership, kept simple: a structure's uploads are one source named `structure-<id>`,
//! a hub coordinator's are `hub-<scope>`, and `lieu_source_owners` says whose each is.
//! The lieux holding a record of a structure's source are that structure's lieux, and
//! only its référents edit them. An edit is a new version of the structure's record,
//! dated today, so the merge treats it like any import (the freshest value wins, and the
//! provenance names the structure's source); re-uploading the file later brings the
//! file's values back, as any fresher import would.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use relais_domain::authz::{HubAccess, StructureAccess};
use relais_domain::calendrier::now_ms;
use relais_domain::calendrier::paris_days;
use relais_domain::horaires::Horaires;
use relais_domain::ids::{LieuId, StructureId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_domain::lieux::{
    Date, Issue, Lieu, Location, Reason, SchemaVersion, read_row, write_row,
};
use relais_domain::text::search_key;
use relais_search::TerritoryIndex;
use relais_store::lieux::{self as repo, NewRecord, RecordKey};
use relais_store::{Db, StoreError, journal};

use super::fusion::{self, Block, Scope};
use super::import::{ImportError, ImportReport, import_bytes, resolve_commune};
use crate::comptes::sha256_hex;

/// The source of a structure's uploads.
pub fn structure_source(structure: StructureId) -> String {
    format!("structure-{structure}")
}

/// The source of a hub's uploads: its coordinator's scope, folded (`hub-84`).
pub fn hub_source(scope: &str) -> String {
    format!("hub-{}", search_key(scope).replace(' ', "-"))
}

/// Imports a file uploaded by a référent as the structure's source, and journals it.
pub async fn import_for_structure(
    db: &Db,
    index: &TerritoryIndex,
    access: &StructureAccess,
    bytes: &[u8],
) -> Result<ImportReport, ImportError> {
    let structure = access.structure();
    let by = |e: NewEntry| {
        e.by(access.person(), Some(structure))
            .in_structure(structure)
    };
    import_owned(db, index, Owner::Structure(structure), bytes, by).await
}

/// Imports a file uploaded by a hub's coordinator as the hub's source, and journals it.
pub async fn import_for_hub(
    db: &Db,
    index: &TerritoryIndex,
    access: &HubAccess,
    bytes: &[u8],
) -> Result<ImportReport, ImportError> {
    let by = |e: NewEntry| e.by(access.person(), None);
    import_owned(db, index, Owner::Hub(access.scope()), bytes, by).await
}

/// Who owns a source of uploads: a structure, or a hub (its coordinator's scope).
#[derive(Clone, Copy)]
enum Owner<'a> {
    Structure(StructureId),
    Hub(&'a str),
}

/// Imports `bytes` as the source of `owner` (a source keeps its first owner), and
/// journals it as `by` says.
async fn import_owned(
    db: &Db,
    index: &TerritoryIndex,
    owner: Owner<'_>,
    bytes: &[u8],
    by: impl FnOnce(NewEntry) -> NewEntry,
) -> Result<ImportReport, ImportError> {
    let (source, structure, hub) = match owner {
        Owner::Structure(s) => (structure_source(s), Some(s), None),
        Owner::Hub(scope) => (hub_source(scope), None, Some(scope)),
    };
    let now = now_ms();
    let mut tx = db.begin().await?;
    let id = repo::source_id(&mut tx, &source, now).await?;
    repo::set_source_owner(&mut tx, id, structure, hub, now).await?;
    relais_store::commit(tx).await?;
    let report = import_bytes(db, index, &source, bytes, &mut |_, _| {}).await?;
    append(db, &by(imported(&report))).await?;
    Ok(report)
}

pub(super) fn imported(r: &ImportReport) -> NewEntry {
    let details = serde_json::json!({
        "lus": r.read,
        "gardes": r.kept(),
        "crees": r.created,
        "modifies": r.updated,
        "rejetes": r.rejected_rows(),
        "fusionnes": r.merged,
    });
    NewEntry::new(JournalAction::LieuxImported, "source", r.source.clone())
        .with_details(details.to_string())
}

pub(super) async fn append(db: &Db, entry: &NewEntry) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    journal::append(&mut tx, entry).await?;
    relais_store::commit(tx).await
}

/// A lieu of the structure, as its list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LieuDeStructure {
    pub id: LieuId,
    pub nom: String,
    /// `adresse, code postal commune`.
    pub adresse: String,
    pub date_maj: String,
}

/// The structure's lieux, by name.
pub async fn lieux_of(
    db: &Db,
    access: &StructureAccess,
) -> Result<Vec<LieuDeStructure>, StoreError> {
    let mut out: Vec<LieuDeStructure> = repo::structure_lieux(db, access.structure())
        .await?
        .into_iter()
        .map(|l| {
            let row: BTreeMap<String, String> = serde_json::from_str(&l.data).unwrap_or_default();
            let get = |k: &str| row.get(k).map(String::as_str).unwrap_or("");
            LieuDeStructure {
                nom: get("nom").to_string(),
                adresse: format!(
                    "{}, {} {}",
                    get("adresse"),
                    get("code_postal"),
                    get("commune")
                ),
                date_maj: l.date_maj,
                id: l.id,
            }
        })
        .collect();
    out.sort_by_key(|l| (search_key(&l.nom), l.id.clone()));
    Ok(out)
}

/// The fields a référent edits, by their schema v1.0.1 name.
pub const FIELDS: [&str; 15] = [
    "nom",
    "adresse",
    "code_postal",
    "commune",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "services",
    "publics_specifiquement_adresses",
    "frais_a_charge",
    "modalites_acces",
    "modalites_accompagnement",
];

/// Values of the edited fields by schema name; lists and several addresses are written
/// as the schema writes them, separated by `|`.
pub type Edition = BTreeMap<String, String>;

/// A field the edit refused, and why, in French.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("ce lieu n’est pas décrit par votre structure")]
    NotOwned,
    #[error("{} champ(s) à corriger", .0.len())]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A lieu of the structure, ready to edit.
#[derive(Debug, Clone, PartialEq)]
pub struct Editable {
    /// The lieu's current id (an absorbed id gives the merged lieu's).
    pub lieu_id: LieuId,
    /// What the structure's record says now.
    pub edition: Edition,
}

/// What an edit changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    pub lieu_id: LieuId,
    /// Empty: the values sent were those already stored, and nothing was written.
    pub changed: Vec<&'static str>,
}

/// The structure's record of the lieu `id`, as the form shows it.
pub async fn editable(
    db: &Db,
    access: &StructureAccess,
    id: &LieuId,
) -> Result<Editable, EditError> {
    let lieu_id = repo::resolve_id(db, id).await?.ok_or(EditError::NotOwned)?;
    let mut tx = db.begin().await?;
    let record = repo::structure_record(&mut tx, access.structure(), &lieu_id)
        .await?
        .ok_or(EditError::NotOwned)?;
    drop(tx);
    let row: BTreeMap<String, String> = serde_json::from_str(&record.data).unwrap_or_default();
    let edition = FIELDS
        .iter()
        .filter_map(|f| Some((f.to_string(), row.get(*f)?.clone())))
        .collect();
    Ok(Editable { lieu_id, edition })
}

/// Today in Europe/Paris.
pub fn paris_today(unix_ms: i64) -> Date {
    Date::from_days(paris_days(unix_ms))
}

/// Stores `edition` as the new version of the structure's record of the lieu `id`, dated
/// today, journaled in the same transaction; then merges the lieu's commune again. The
/// values are read by the schema's row reader, as an import's are, and a value an import
/// would drop (phone, address, list value) or keep unread (hours) is refused here: a
/// person can fix it now. Refused, nothing is written.
pub async fn edit(
    db: &Db,
    index: &TerritoryIndex,
    access: &StructureAccess,
    id: &LieuId,
    edition: &Edition,
) -> Result<Edited, EditError> {
    let lieu_id = repo::resolve_id(db, id).await?.ok_or(EditError::NotOwned)?;
    let now = now_ms();
    let mut tx = db.begin().await?;
    let record = repo::structure_record(&mut tx, access.structure(), &lieu_id)
        .await?
        .ok_or(EditError::NotOwned)?;
    let old: BTreeMap<String, String> = serde_json::from_str(&record.data).unwrap_or_default();
    let mut row = old.clone();
    for field in FIELDS {
        let value = normalize(field, edition.get(field).map_or("", String::as_str));
        if value.is_empty() {
            row.remove(field);
        } else {
            row.insert(field.to_string(), value);
        }
    }
    // A new postal code or commune name: the INSEE code is found again below.
    let moved = ["code_postal", "commune"]
        .iter()
        .any(|f| old.get(*f) != row.get(*f));
    if moved {
        row.remove("code_insee");
    }
    row.insert("date_maj".into(), paris_today(now).to_string());
    let mut lieu = check(&row).map_err(EditError::Invalid)?;

    let mut location = record.location.clone();
    if moved {
        let commune = resolve_commune(index, &lieu);
        lieu.adresse.code_insee = commune.map(|c| c.code.clone());
        // Coordinates the lieu gave stay; the old commune's give way to the new one's.
        let own = location.position.filter(|_| !location.approximate);
        location = Location::new(own, commune);
    }
    let new: BTreeMap<String, String> = write_row(&lieu)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let changed: Vec<&'static str> = FIELDS
        .into_iter()
        .filter(|f| old.get(*f) != new.get(*f))
        .collect();
    if changed.is_empty() {
        return Ok(Edited { lieu_id, changed });
    }
    let data = serde_json::to_string(&new).expect("a row serializes");
    repo::put_record(
        &mut tx,
        &NewRecord {
            source: record.source_id,
            external_id: &record.external_id,
            lieu_id: &record.lieu_id,
            data: &data,
            fingerprint: &sha256_hex(&data),
            location: &location,
        },
        now,
    )
    .await?;
    let details = serde_json::json!({ "champs": changed, "source": record.source });
    let entry = NewEntry::new(JournalAction::LieuEdited, "lieu", lieu_id.as_str())
        .by(access.person(), Some(access.structure()))
        .in_structure(access.structure())
        .with_details(details.to_string());
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;

    // The merge rebuilds the lieu from its records, the edited one included: before and
    // after a move, or the record alone when it has no commune.
    let mut blocks = BTreeSet::new();
    for code in [&record.location.code_insee, &location.code_insee]
        .into_iter()
        .flatten()
    {
        blocks.insert(Block::commune(code));
    }
    if location.code_insee.is_none() {
        blocks.insert(Block::Record(RecordKey {
            source_id: record.source_id,
            external_id: record.external_id.clone(),
        }));
    }
    let stale = HashSet::from([record.lieu_id.clone()]);
    fusion::refresh(db, &blocks, Scope::Changed(&stale)).await?;
    Ok(Edited {
        lieu_id: repo::resolve_id(db, &lieu_id).await?.unwrap_or(lieu_id),
        changed,
    })
}

/// Lists typed with commas, semicolons or spaces are written the schema's way.
fn normalize(field: &str, value: &str) -> String {
    let split: &[char] = match field {
        "courriels" => &['|', ',', ';', ' ', '\n'],
        "site_web" => &['|', ' ', '\n'],
        _ => return value.trim().to_string(),
    };
    value
        .split(split)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect::<Vec<_>>()
        .join("|")
}

/// The row read by the schema, or every edited field that is not right.
fn check(row: &BTreeMap<String, String>) -> Result<Lieu, Vec<FieldError>> {
    let edited = |i: &Issue| FIELDS.iter().find(|f| **f == i.field).copied();
    let mut errors: Vec<FieldError> = Vec::new();
    let mut push = |i: &Issue| {
        let field = edited(i).unwrap_or(i.field);
        if !errors.iter().any(|e| e.field == field) {
            errors.push(FieldError {
                field,
                message: message(&i.reason),
            });
        }
    };
    let lieu = match read_row(row, SchemaVersion::V1) {
        Err(rejection) => {
            rejection.errors.iter().for_each(&mut push);
            rejection
                .warnings
                .iter()
                .filter(|w| edited(w).is_some() && refused(&w.reason))
                .for_each(&mut push);
            None
        }
        Ok(reading) => {
            reading
                .warnings
                .iter()
                .filter(|w| edited(w).is_some() && refused(&w.reason))
                .for_each(&mut push);
            Some(reading.lieu)
        }
    };
    if let Some(Err(e)) = row.get("horaires").map(|h| Horaires::parse(h)) {
        errors.push(FieldError {
            field: "horaires",
            message: {
                let why = e.kind.to_string();
                if why.contains("exemple") {
                    format!("Horaires illisibles : {why}.")
                } else {
                    format!("Horaires illisibles : {why}. Exemple : Mo-Fr 09:00-12:00,14:00-17:00")
                }
            },
        });
    }
    match lieu {
        Some(lieu) if errors.is_empty() => Ok(lieu),
        _ => Err(errors),
    }
}

/// Warnings an import lives with but a form refuses.
fn refused(reason: &Reason) -> bool {
    matches!(
        reason,
        Reason::Telephone
            | Reason::FirstTelephoneOnly(_)
            | Reason::Courriel
            | Reason::Url
            | Reason::UnknownValue
            | Reason::ResumeMoved(_)
            | Reason::ResumeCut(_)
    )
}

/// What the form says of a refused value.
fn message(reason: &Reason) -> String {
    match reason {
        Reason::Missing => "Ce champ est obligatoire.".into(),
        Reason::CodePostal => "Le code postal compte 5 chiffres, par exemple 42000.".into(),
        Reason::Telephone | Reason::FirstTelephoneOnly(_) => {
            "Numéro non reconnu : un seul numéro, de 10 chiffres (04 77 00 00 00) ou +33 suivi de 9 chiffres.".into()
        }
        Reason::Courriel => {
            "Adresse électronique non valide : format attendu nom@domaine.fr.".into()
        }
        Reason::Url => "Adresse web non valide : elle commence par https:// ou http://.".into(),
        Reason::UnknownValue => "Valeur inconnue de la liste du schéma.".into(),
        Reason::ResumeMoved(n) | Reason::ResumeCut(n) => {
            format!("{n} caractères : le résumé en compte 280 au plus.")
        }
        other => {
            let text = other.to_string();
            let mut c = text.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>() + ".")
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_named_after_their_owner() {
        assert_eq!(structure_source(StructureId(12)), "structure-12");
        assert_eq!(hub_source("Hub Rhône-Alpes"), "hub-hub-rhone-alpes");
    }

    #[test]
    fn paris_date_turns_at_local_midnight() {
        // 2024-06-30 22:30 UTC is 2024-07-01 00:30 in Paris (summer time).
        assert_eq!(paris_today(1_719_786_600_000).to_string(), "2024-07-01");
        // 2024-01-15 22:30 UTC is 23:30 in Paris (winter time).
        assert_eq!(paris_today(1_705_357_800_000).to_string(), "2024-01-15");
    }

    #[test]
    fn typed_lists_are_written_the_schema_way() {
        assert_eq!(
            normalize("courriels", " a@b.fr, c@d.fr ;e@f.fr"),
            "a@b.fr|c@d.fr|e@f.fr"
        );
        assert_eq!(normalize("nom", "  Tiers-lieu "), "Tiers-lieu");
    }
}
