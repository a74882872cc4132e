//! The national register of structures: a producer's list (the Aidants Connect export, a
//! hub's list…) imported into structures. Importing the same list again changes nothing;
//! a row changed in the list updates its structure; rows with a problem are left out and
//! said, the others kept.

use std::collections::{BTreeMap, HashMap};

use relais_domain::authz::AdminAccess;
use relais_domain::calendrier::now_ms;
use relais_domain::comptes::Role;
use relais_domain::comptes::registre::{
    Correspondance, CorrespondanceError, LigneStructure, RaisonRejet, Rapprochable, RejetStructure,
    StructureLabel, lire_avec, proposer, proposition_toml, rapprocher,
};
use relais_domain::ids::{LieuId, PersonId, StructureId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_domain::lieux::fichier::{self, FileError};
use relais_search::TerritoryIndex;
use relais_store::comptes::Structure;
use relais_store::comptes::registre::{self as repo, StructureRegistre};
use relais_store::{Db, StoreError, journal};

/// What an import of a register did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RapportRegistre {
    pub source: String,
    pub read: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows kept whose SIRET was written as a number and repaired.
    pub repaired_sirets: usize,
    /// Structures of this register that the file no longer lists (kept as they are).
    pub absent: usize,
    /// One per problem, by line (a row may have several).
    pub rejected: Vec<RejetStructure>,
    /// The column each field was read from.
    pub columns: BTreeMap<&'static str, String>,
    /// Lieux found to be the register's structures', and the structures that have some.
    pub lieux: usize,
    pub structures_with_lieux: usize,
}

impl RapportRegistre {
    pub fn kept(&self) -> usize {
        self.created + self.updated + self.unchanged
    }

    pub fn rejected_rows(&self) -> usize {
        let mut lines: Vec<usize> = self.rejected.iter().map(|r| r.line).collect();
        lines.dedup();
        lines.len()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistreError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(
        "colonne(s) introuvable(s) : {missing} ; colonnes du fichier : {columns} (noms reconnus dans docs/DATA.md, « Registre des structures »)"
    )]
    MissingColumns { missing: String, columns: String },
    #[error(transparent)]
    Correspondance(#[from] CorrespondanceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An administrator's import, from the upload page: the same import, journaled as theirs;
/// `correspondance` is the TOML the page's field holds (empty: none).
pub async fn import_as_admin(
    db: &Db,
    index: &TerritoryIndex,
    access: &AdminAccess,
    source: &str,
    bytes: &[u8],
    labels: &[StructureLabel],
    correspondance: &str,
) -> Result<RapportRegistre, RegistreError> {
    let correspondance = Correspondance::parse(correspondance)?;
    let by = Some(access.person());
    import(db, index, source, bytes, labels, &correspondance, by).await
}

/// A correspondence proposed for the columns of the register in `bytes`, as the TOML
/// `--correspondance` and the upload page read.
pub fn proposer_correspondance(bytes: &[u8], fichier: &str) -> Result<String, RegistreError> {
    let file = fichier::read(bytes, false)?;
    Ok(proposition_toml(&proposer(&file), fichier))
}

/// Imports the register `source` from a file's bytes (CSV or JSON); `labels` are given
/// to every structure it lists; `correspondance` names the columns of the fields it does
/// not recognise. Journaled, with the counts.
pub async fn import(
    db: &Db,
    index: &TerritoryIndex,
    source: &str,
    bytes: &[u8],
    labels: &[StructureLabel],
    correspondance: &Correspondance,
    by: Option<PersonId>,
) -> Result<RapportRegistre, RegistreError> {
    let file = fichier::read(bytes, false)?;
    let lecture = lire_avec(&file, labels, correspondance.colonnes(&file.columns)?);
    let missing: Vec<&str> = ["siret", "nom"]
        .into_iter()
        .filter(|c| !lecture.colonnes.contains_key(c))
        .collect();
    if !missing.is_empty() {
        return Err(RegistreError::MissingColumns {
            missing: missing.join(", "),
            columns: file.columns.join(", "),
        });
    }
    let mut report = RapportRegistre {
        source: source.to_string(),
        read: lecture.lues,
        rejected: lecture.rejets,
        columns: lecture.colonnes,
        ..RapportRegistre::default()
    };
    let existing: HashMap<String, Structure> = repo::of_source(db, source)
        .await?
        .into_iter()
        .filter_map(|s| Some((s.source.clone()?.1, s)))
        .collect();
    let mut listed = 0;
    let now = now_ms();
    let mut tx = db.begin().await?;
    for ligne in &lecture.lignes {
        let Some(commune) = commune(index, ligne) else {
            report.rejected.push(RejetStructure {
                line: ligne.line,
                field: "code_insee",
                value: [
                    ligne.code_insee.as_deref().unwrap_or(""),
                    &ligne.code_postal,
                    &ligne.commune,
                ]
                .into_iter()
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
                reason: RaisonRejet::CommuneInconnue,
            });
            continue;
        };
        let new = StructureRegistre {
            source_id: ligne.id.clone(),
            siret: ligne.siret.to_string(),
            nom: ligne.nom.clone(),
            kind: ligne.kind,
            adresse: ligne.adresse.clone(),
            commune,
            labels: ligne.labels.clone(),
            qpv: ligne.qpv,
            zrr: ligne.zrr,
            active: ligne.active,
        };
        report.repaired_sirets += usize::from(ligne.siret_repare);
        match existing.get(&ligne.id) {
            None => {
                repo::insert(&mut tx, source, &new, now).await?;
                report.created += 1;
            }
            Some(old) => {
                listed += 1;
                if same(old, &new) {
                    report.unchanged += 1;
                } else {
                    let deactivated_at = (!new.active).then(|| old.deactivated_at.unwrap_or(now));
                    repo::update(&mut tx, old.id, &new, deactivated_at).await?;
                    report.updated += 1;
                }
            }
        }
    }
    report.absent = existing.len() - listed;
    report.rejected.sort_by_key(|r| r.line);
    let details = serde_json::json!({
        "lues": report.read,
        "creees": report.created,
        "modifiees": report.updated,
        "inchangees": report.unchanged,
        "siret_repares": report.repaired_sirets,
        "rejetees": report.rejected_rows(),
    });
    let entry = NewEntry::new(JournalAction::StructuresImported, "registre", source)
        .with_details(details.to_string());
    journal::append(&mut tx, &super::done_by(entry, by)).await?;
    relais_store::commit(tx).await?;
    (report.lieux, report.structures_with_lieux) = rapprocher_lieux(db, source).await?;
    Ok(report)
}

/// Finds the lieux of each structure of the register `source` among every lieu
/// (`registre::rapprocher`) and stores them, replacing those found before: run again after
/// lieux are imported. Returns the pairs found and the structures that have lieux.
pub async fn rapprocher_lieux(db: &Db, source: &str) -> Result<(usize, usize), StoreError> {
    let structures = repo::of_source(db, source).await?;
    let mut par_siret: HashMap<&str, usize> = HashMap::new();
    for s in &structures {
        *par_siret.entry(s.siret.as_str()).or_default() += 1;
    }
    let lieux: Vec<(LieuId, Rapprochable)> = relais_store::lieux::all(db)
        .await?
        .into_iter()
        .map(|l| {
            let text = fields(&l.data);
            let commune = l.location.code_insee.clone().unwrap_or_default();
            let r = Rapprochable::new(
                &text("pivot"),
                &text("nom"),
                &text("adresse"),
                &commune,
                &text("commune"),
            );
            (l.id, r)
        })
        .collect();
    let mut par_commune: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut par_pivot: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (_, l)) in lieux.iter().enumerate() {
        par_commune.entry(l.commune.as_str()).or_default().push(i);
        if let Some(siret) = &l.fiche.siret {
            par_pivot.entry(siret.as_str()).or_default().push(i);
        }
    }
    let mut pairs = Vec::new();
    let mut with = 0;
    for s in &structures {
        let r = Rapprochable::new(&s.siret, &s.nom, &s.adresse, &s.commune, "");
        let partage = par_siret[s.siret.as_str()] > 1;
        let mut candidats: Vec<usize> = [
            par_commune.get(r.commune.as_str()),
            par_pivot.get(s.siret.as_str()),
        ]
        .into_iter()
        .flatten()
        .flatten()
        .copied()
        .collect();
        candidats.sort_unstable();
        candidats.dedup();
        let before = pairs.len();
        for i in candidats {
            if let Some(preuve) = rapprocher(&r, partage, &lieux[i].1) {
                pairs.push((s.id, lieux[i].0.clone(), preuve));
            }
        }
        with += usize::from(pairs.len() > before);
    }
    let mut tx = db.begin().await?;
    repo::replace_lieux(&mut tx, source, &pairs).await?;
    relais_store::commit(tx).await?;
    Ok((pairs.len(), with))
}

/// Whether the register says of a structure what the base already holds.
fn same(old: &Structure, new: &StructureRegistre) -> bool {
    old.siret == new.siret
        && old.nom == new.nom
        && old.kind == new.kind
        && old.adresse == new.adresse
        && old.commune == new.commune
        && old.labels == new.labels
        && old.qpv == new.qpv
        && old.zrr == new.zrr
        && old.deactivated_at.is_none() == new.active
}

/// The row's commune: its INSEE code when known, else its postal code and name.
fn commune(index: &TerritoryIndex, l: &LigneStructure) -> Option<String> {
    l.code_insee
        .as_deref()
        .and_then(|code| index.commune(code))
        .or_else(|| crate::territoires::commune_of_address(index, &l.code_postal, &l.commune, None))
        .map(|c| c.code.to_string())
}

/// The text of each field of a stored lieu (a schema row as JSON); empty when missing.
fn fields(data: &str) -> impl Fn(&str) -> String {
    let data: BTreeMap<String, serde_json::Value> = serde_json::from_str(data).unwrap_or_default();
    move |f| {
        data.get(f)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    }
}

/// The demonstration register: the Aidants Connect structures of 2024-02-12 (5,198 kept),
/// shipped in the binary.
pub const DEMO_SOURCE: &str = "aidants-connect-2024";
const DEMO_FILE: &[u8] =
    include_bytes!("../../../../data/structures/aidants-connect-2024-02-12.csv");

/// Imports the demonstration register if it is not there yet (after the demonstration
/// lieux, so that its structures find theirs).
pub async fn ensure_demo(
    db: &Db,
    index: &TerritoryIndex,
) -> Result<Option<RapportRegistre>, RegistreError> {
    if !repo::of_source(db, DEMO_SOURCE).await?.is_empty() {
        return Ok(None);
    }
    let labels = [StructureLabel::AidantsConnect];
    Ok(Some(
        import(
            db,
            index,
            DEMO_SOURCE,
            DEMO_FILE,
            &labels,
            &Correspondance::default(),
            None,
        )
        .await?,
    ))
}

/// A structure as its public page shows it: the register's values and its lieux.
#[derive(Debug, Clone)]
pub struct FicheStructure {
    pub structure: Structure,
    /// (id, name, address) of each lieu, by name.
    pub lieux: Vec<(LieuId, String, String)>,
}

/// The structure `id` and its lieux; `None` when there is no such structure.
pub async fn fiche(db: &Db, id: StructureId) -> Result<Option<FicheStructure>, StoreError> {
    let Some(structure) = relais_store::comptes::structure(db, id).await? else {
        return Ok(None);
    };
    let mut lieux = Vec::new();
    for (lieu, _) in repo::lieux_of(db, id).await? {
        // Merged since: its id is an alias of the lieu it went into.
        let Some(l) = relais_store::lieux::lieu_or_alias(db, &lieu).await? else {
            continue;
        };
        let text = fields(&l.data);
        let adresse = format!(
            "{}, {} {}",
            text("adresse"),
            text("code_postal"),
            text("commune")
        );
        lieux.push((l.id, text("nom"), adresse));
    }
    lieux.sort_by(|a, b| a.1.cmp(&b.1));
    lieux.dedup_by(|a, b| a.0 == b.0);
    Ok(Some(FicheStructure { structure, lieux }))
}

/// Why a person may not claim a structure.
#[derive(Debug, thiserror::Error)]
pub enum RevendicationError {
    #[error("cette structure n’existe pas")]
    Introuvable,
    #[error("cette structure n’est plus active")]
    Inactive,
    #[error(
        "ProConnect n’atteste pas que vous travaillez pour cette structure (SIRET {siret}) : connectez-vous avec ProConnect au titre de cette structure, ou demandez à un administrateur de Relais de vous y rattacher"
    )]
    SiretNonAtteste { siret: String },
    #[error(
        "cette structure a déjà un référent dans Relais : demandez-lui de vous inviter dans son équipe"
    )]
    DejaUnReferent,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The logged-in `actor` becomes the référent of a structure that has none (one imported
/// from a register, typically) when ProConnect vouched at their last login that they work
/// for its SIRET: they join the structure that exists instead of creating a second one.
/// Journaled in the structure.
pub async fn revendiquer(
    db: &Db,
    actor: &relais_domain::authz::Actor,
    id: StructureId,
) -> Result<(), RevendicationError> {
    let structure = relais_store::comptes::structure(db, id)
        .await?
        .ok_or(RevendicationError::Introuvable)?;
    if structure.deactivated_at.is_some() {
        return Err(RevendicationError::Inactive);
    }
    let person = relais_store::comptes::person(db, actor.person_id)
        .await?
        .ok_or(RevendicationError::Introuvable)?;
    if person.proconnect_siret.as_deref() != Some(structure.siret.as_str()) {
        return Err(RevendicationError::SiretNonAtteste {
            siret: structure.siret,
        });
    }
    let mut tx = db.begin().await?;
    // Two claims at once: the second waits, then sees the first's référent.
    relais_store::comptes::lock_structure(&mut tx, id).await?;
    if relais_store::comptes::live_role_count(&mut tx, id, Role::Referent).await? > 0 {
        return Err(RevendicationError::DejaUnReferent);
    }
    let change = relais_store::comptes::RoleChange {
        person: person.id,
        structure: id,
        role: Role::Referent,
        by: Some(person.id),
        at: now_ms(),
    };
    relais_store::comptes::grant_role(&mut tx, &change).await?;
    let entry = NewEntry::new(JournalAction::StructureClaimed, "structure", id.to_string())
        .with_role(Role::Referent.as_str())
        .by(person.id, Some(id))
        .in_structure(id);
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// How many people hold each role in the structure (active accounts), in the order of
/// [`Role::ALL`].
pub async fn equipe(db: &Db, id: StructureId) -> Result<Vec<(Role, usize)>, StoreError> {
    let team = relais_store::comptes::team(db, id).await?;
    Ok(Role::ALL
        .iter()
        .map(|&role| {
            let n = team
                .iter()
                .filter(|m| m.deactivated_at.is_none() && m.roles.contains(&role))
                .count();
            (role, n)
        })
        .collect())
}
