//! Mandates: an habilitated aidant of a structure creates one for an usager whom
//! FranceConnect identified on the aidant's screen and who consented. What it replaces is
//! revoked, everything is journaled in the hash chain, in one transaction.

use std::collections::BTreeSet;

use relais_domain::authz::StructureAccess;
use relais_domain::comptes::Role;
use relais_domain::ids::{AutorisationId, MandatId, UsagerId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_domain::mandats::{Attestation, Demande, Demarche, cle_usager, remplacees};
use relais_store::mandats::{self as repo, Identite, NouveauMandat};
use relais_store::{Db, StoreError, journal};

#[derive(Debug, thiserror::Error)]
pub enum MandatError {
    #[error("seul un aidant habilité de la structure peut créer un mandat pour elle")]
    PasAidant,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What FranceConnect returned for the usager who consented: their `sub` at FranceConnect
/// and the identity a mandate shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consentement {
    pub sub: String,
    pub identite: Identite,
}

/// A mandate just created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandatCree {
    pub id: MandatId,
    pub usager: UsagerId,
    pub debut: i64,
    pub fin: i64,
    /// The hash printed on both copies.
    pub empreinte: String,
    /// Authorizations of earlier mandates it replaced (same structure, same family).
    pub remplacees: Vec<AutorisationId>,
}

/// Creates the mandate `demande` for the usager of `consentement`, at `now`; `modele` is
/// the SHA-256 of the mandate text the usager read. The aidant is `access`'s person, who
/// must be an habilitated aidant of the structure.
pub async fn creer(
    db: &Db,
    access: &StructureAccess,
    demande: &Demande,
    consentement: &Consentement,
    sel: &[u8],
    modele: &str,
    now: i64,
) -> Result<MandatCree, MandatError> {
    if !access.roles().contains(&Role::Aidant)
        || access.structure() != demande.structure
        || access.person() != demande.aidant
    {
        return Err(MandatError::PasAidant);
    }
    let structure = demande.structure;
    let cle = cle_usager(sel, &consentement.sub);
    let (debut, fin) = (now, demande.duree.fin(now));
    let empreinte = Attestation {
        aidant: demande.aidant,
        structure,
        usager: &cle,
        demarches: &demande.demarches,
        debut,
        fin,
        modele,
    }
    .empreinte();

    let mut tx = db.begin().await?;
    let usager = repo::put_usager(&mut tx, &cle, &consentement.identite, now).await?;
    let actives = repo::autorisations_actives(&mut tx, structure, usager, now).await?;
    let pairs: Vec<_> = actives
        .iter()
        .map(|a| (a.id, a.autorisation.clone()))
        .collect();
    let replaced = remplacees(&pairs, &demande.demarches, now);
    repo::revoquer(&mut tx, &replaced, now).await?;
    let demarches: Vec<Demarche> = demande.demarches.iter().copied().collect();
    let id = repo::create_mandat(
        &mut tx,
        &NouveauMandat {
            structure,
            usager,
            aidant: demande.aidant,
            duree: demande.duree,
            demarches: &demarches,
            debut,
            fin,
            empreinte: &empreinte,
        },
    )
    .await?;
    for a in actives.iter().filter(|a| replaced.contains(&a.id)) {
        let details = serde_json::json!({
            "mandat": a.mandat,
            "demarche": a.autorisation.demarche.code(),
            "raison": "remplacee",
            "par_mandat": id,
        });
        let entry = NewEntry::new(
            JournalAction::AutorisationRevoked,
            "autorisation",
            a.id.to_string(),
        )
        .by(demande.aidant, Some(structure))
        .in_structure(structure)
        .with_details(details.to_string());
        journal::append(&mut tx, &entry).await?;
    }
    let codes: BTreeSet<&str> = demande.demarches.iter().map(|d| d.code()).collect();
    let details = serde_json::json!({
        "usager": usager,
        "demarches": codes,
        "duree": demande.duree.code(),
        "fin": fin,
        "empreinte": empreinte,
    });
    let entry = NewEntry::new(JournalAction::MandatCreated, "mandat", id.to_string())
        .by(demande.aidant, Some(structure))
        .in_structure(structure)
        .with_details(details.to_string());
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(MandatCree {
        id,
        usager,
        debut,
        fin,
        empreinte,
        remplacees: replaced,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum RevocationError {
    #[error("cette démarche ne fait partie d’aucun de vos mandats")]
    Introuvable,
    #[error("cette démarche n’est plus en cours : rien à révoquer")]
    DejaTerminee,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The usager revokes one démarche family of one of their mandates, from their space
/// (`usager` comes from their FranceConnect session): effective at once, for the next call
/// of any démarche; journaled for the structure too.
pub async fn revoquer_par_l_usager(
    db: &Db,
    usager: UsagerId,
    autorisation: AutorisationId,
    now: i64,
) -> Result<(), RevocationError> {
    let mut tx = db.begin().await?;
    let Some(a) = repo::autorisation(&mut tx, autorisation).await? else {
        return Err(RevocationError::Introuvable);
    };
    // Another usager's authorization is not said to exist.
    if a.usager != usager {
        return Err(RevocationError::Introuvable);
    }
    if !a.autorisation.active(now) || repo::revoquer(&mut tx, &[a.id], now).await? == 0 {
        return Err(RevocationError::DejaTerminee);
    }
    let details = serde_json::json!({
        "mandat": a.mandat,
        "demarche": a.autorisation.demarche.code(),
        "raison": "usager",
        "usager": usager,
    });
    let entry = NewEntry::new(
        JournalAction::AutorisationRevoked,
        "autorisation",
        a.id.to_string(),
    )
    .in_structure(a.structure)
    .with_details(details.to_string());
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(())
}
