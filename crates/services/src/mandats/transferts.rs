//! A mandate moved to another structure: a référent of the structure that holds it
//! proposes, a référent of the other accepts or refuses; each step journaled for both.

use relais_domain::authz::StructureAccess;
use relais_domain::comptes::Role;
use relais_domain::ids::{MandatId, StructureId, TransfertId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::mandats::{self as repo, transferts};
use relais_store::{Db, StoreError, journal};

pub use transferts::Transfert;

#[derive(Debug, thiserror::Error)]
pub enum TransfertError {
    #[error("seul un référent de la structure peut proposer ou accepter un transfert")]
    PasReferent,
    #[error("ce mandat n’est pas à votre structure")]
    MandatInconnu,
    #[error("aucune structure n’a le SIRET « {0} »")]
    StructureInconnue(String),
    #[error("plusieurs structures ont le SIRET « {0} » : indiquez aussi le numéro de la structure")]
    PlusieursStructures(String),
    #[error("le mandat est déjà à cette structure")]
    MemeStructure,
    #[error("un transfert de ce mandat attend déjà une réponse")]
    DejaPropose,
    #[error("ce transfert est inconnu ou déjà décidé")]
    TransfertInconnu,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn referent(access: &StructureAccess) -> Result<(), TransfertError> {
    if access.roles().contains(&Role::Referent) {
        Ok(())
    } else {
        Err(TransfertError::PasReferent)
    }
}

/// Both structures' journals get the entry: each référent reads their own.
async fn journal_both(
    tx: &mut relais_store::Tx,
    action: JournalAction,
    access: &StructureAccess,
    t: (MandatId, StructureId, StructureId),
    details: serde_json::Value,
) -> Result<(), StoreError> {
    let (mandat, de, vers) = t;
    for structure in [de, vers] {
        let entry = NewEntry::new(action, "mandat", mandat.to_string())
            .by(access.person(), Some(access.structure()))
            .in_structure(structure)
            .with_details(details.to_string());
        journal::append(tx, &entry).await?;
    }
    Ok(())
}

/// Proposes to move the structure's mandate to the structure of `siret` (`numero` when
/// several share it).
pub async fn proposer(
    db: &Db,
    access: &StructureAccess,
    mandat: MandatId,
    siret: &str,
    numero: Option<i64>,
    now: i64,
) -> Result<TransfertId, TransfertError> {
    referent(access)?;
    let de = access.structure();
    repo::mandat(db, mandat)
        .await?
        .filter(|m| m.structure == de)
        .ok_or(TransfertError::MandatInconnu)?;
    let siret = siret.trim().replace(' ', "");
    let mut found = relais_store::comptes::structures_by_siret(db, &siret).await?;
    found.retain(|s| s.deactivated_at.is_none() && numero.is_none_or(|n| s.id.0 == n));
    let vers = match found.as_slice() {
        [] => return Err(TransfertError::StructureInconnue(siret)),
        [one] => one.id,
        _ => return Err(TransfertError::PlusieursStructures(siret)),
    };
    if vers == de {
        return Err(TransfertError::MemeStructure);
    }
    if transferts::en_attente(db, de)
        .await?
        .iter()
        .any(|t| t.mandat == mandat)
    {
        return Err(TransfertError::DejaPropose);
    }
    let mut tx = db.begin().await?;
    let id = transferts::create(&mut tx, mandat, de, vers, access.person(), now).await?;
    let details = serde_json::json!({"transfert": id, "de": de, "vers": vers});
    journal_both(
        &mut tx,
        JournalAction::TransferProposed,
        access,
        (mandat, de, vers),
        details,
    )
    .await?;
    relais_store::commit(tx).await?;
    Ok(id)
}

/// A référent of the structure the transfer goes to accepts it (the mandate moves, its
/// authorizations with it) or refuses it.
pub async fn decider(
    db: &Db,
    access: &StructureAccess,
    id: TransfertId,
    accepter: bool,
    now: i64,
) -> Result<Transfert, TransfertError> {
    referent(access)?;
    let t = transferts::transfert(db, id)
        .await?
        .filter(|t| t.vers == access.structure() && t.decision.is_none())
        .ok_or(TransfertError::TransfertInconnu)?;
    let still_there = repo::mandat(db, t.mandat)
        .await?
        .is_some_and(|m| m.structure == t.de);
    let mut tx = db.begin().await?;
    let decision = if accepter && still_there {
        "acceptee"
    } else {
        "refusee"
    };
    if !transferts::decide(&mut tx, id, access.person(), decision, now).await? {
        return Err(TransfertError::TransfertInconnu);
    }
    let action = if decision == "acceptee" {
        transferts::move_mandat(&mut tx, t.mandat, t.vers).await?;
        JournalAction::MandatTransferred
    } else {
        JournalAction::TransferRefused
    };
    let details = serde_json::json!({"transfert": id, "de": t.de, "vers": t.vers});
    journal_both(&mut tx, action, access, (t.mandat, t.de, t.vers), details).await?;
    relais_store::commit(tx).await?;
    Ok(t)
}

/// The transfers waiting for an answer that involve the structure.
pub async fn en_attente(db: &Db, access: &StructureAccess) -> Result<Vec<Transfert>, StoreError> {
    transferts::en_attente(db, access.structure()).await
}
