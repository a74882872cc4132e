//! Mandates: an habilitated aidant of a structure creates one for an usager whom
//! FranceConnect identified on the aidant's screen and who consented. What it replaces is
//! revoked, everything is journaled in the hash chain, in one transaction.
//!
//! The flow in the browser: the aidant chooses (a draft, `Brouillon`), FranceConnect
//! identifies the usager on the aidant's screen (`franceconnect`), the aidant signs with the
//! usager's consent and their second factor (`signer`).

pub mod espace;
pub mod fournisseur;
pub mod franceconnect;
use crate::pdf;
pub mod transferts;

use std::collections::BTreeSet;

use relais_domain::authz::StructureAccess;
use relais_domain::comptes::Role;
use relais_domain::ids::{AutorisationId, BrouillonId, MandatId, UsagerId};
use relais_domain::journal::{JournalAction, NewEntry, PURGE_FLOOR_MS};
use relais_domain::mandats::{Attestation, CONSERVATION_MS, Demande, Demarche, remplacees};
use relais_store::mandats::{self as repo, Brouillon, Identite, NouveauMandat, conservation};
use relais_store::{Db, StoreError, Tx, journal};

/// How long a draft waits for FranceConnect and the signature.
pub const BROUILLON_LIFETIME_MS: i64 = 60 * 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum MandatError {
    #[error("seul un aidant habilité de la structure peut créer un mandat pour elle")]
    PasAidant,
    #[error(
        "ce mandat en préparation est introuvable, déjà signé ou trop ancien (il vaut une heure) : recommencez"
    )]
    BrouillonInconnu,
    #[error("l’usager ne s’est pas encore identifié avec FranceConnect")]
    NonIdentifie,
    #[error("l’usager doit avoir lu le mandat et y consentir : cochez la case")]
    SansConsentement,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The usager who consented, as FranceConnect identified them: the salted hash of their
/// `sub` (`domain::mandats::cle_usager`) and the identity a mandate shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consentement {
    pub cle: String,
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
    modele: &str,
    now: i64,
) -> Result<MandatCree, MandatError> {
    let mut tx = db.begin().await?;
    let cree = creer_en(&mut tx, access, demande, consentement, modele, now).await?;
    relais_store::commit(tx).await?;
    Ok(cree)
}

/// The aidant's choice, kept as a draft until the usager is identified and signs. The
/// aidant is `access`'s person, who must be an habilitated aidant of the structure.
pub async fn preparer(
    db: &Db,
    access: &StructureAccess,
    demande: &Demande,
    now: i64,
) -> Result<BrouillonId, MandatError> {
    if !aidant_de(access, demande) {
        return Err(MandatError::PasAidant);
    }
    repo::purger_brouillons(db, now - BROUILLON_LIFETIME_MS).await?;
    let demarches: Vec<Demarche> = demande.demarches.iter().copied().collect();
    Ok(repo::create_brouillon(
        db,
        demande.structure,
        demande.aidant,
        &demarches,
        demande.duree,
        now,
    )
    .await?)
}

/// Whether `access`'s person is an aidant of the structure and the one who asks.
fn aidant_de(access: &StructureAccess, demande: &Demande) -> bool {
    access.roles().contains(&Role::Aidant)
        && access.structure() == demande.structure
        && access.person() == demande.aidant
}

/// Signs the draft `id`: the usager FranceConnect identified consented (`consent`), the
/// aidant (`access`'s person, who made the draft) gave their second factor just before. The
/// draft is deleted in the same transaction, so a second submission creates nothing.
pub async fn signer(
    db: &Db,
    access: &StructureAccess,
    id: BrouillonId,
    consent: bool,
    modele: &str,
    now: i64,
) -> Result<MandatCree, MandatError> {
    let brouillon = brouillon_de(db, access, id, now).await?;
    let Some((cle, identite)) = brouillon.usager else {
        return Err(MandatError::NonIdentifie);
    };
    if !consent {
        return Err(MandatError::SansConsentement);
    }
    let demande = Demande {
        structure: brouillon.structure,
        aidant: brouillon.aidant,
        demarches: brouillon.demarches.into_iter().collect(),
        duree: brouillon.duree,
    };
    let mut tx = db.begin().await?;
    if !repo::supprimer_brouillon(&mut tx, id).await? {
        return Err(MandatError::BrouillonInconnu);
    }
    let cree = creer_en(
        &mut tx,
        access,
        &demande,
        &Consentement { cle, identite },
        modele,
        now,
    )
    .await?;
    if let Some(ancien) = brouillon.renouvelle {
        let details = serde_json::json!({"ancien": ancien, "nouveau": cree.id});
        let entry = NewEntry::new(JournalAction::MandatRenewed, "mandat", ancien.to_string())
            .by(access.person(), Some(access.structure()))
            .in_structure(access.structure())
            .with_details(details.to_string());
        journal::append(&mut tx, &entry).await?;
    }
    relais_store::commit(tx).await?;
    Ok(cree)
}

/// The démarches of the structure's mandate `mandat` still in force at `now` (`None`: no
/// such mandate in the structure), to start its renewal from.
pub async fn demarches_en_cours(
    db: &Db,
    access: &StructureAccess,
    mandat: MandatId,
    now: i64,
) -> Result<Option<Vec<Demarche>>, StoreError> {
    if repo::mandat(db, mandat)
        .await?
        .is_none_or(|m| m.structure != access.structure())
    {
        return Ok(None);
    }
    Ok(Some(
        repo::autorisations_du_mandat(db, mandat)
            .await?
            .into_iter()
            .filter(|a| a.autorisation.active(now))
            .map(|a| a.autorisation.demarche)
            .collect(),
    ))
}

/// A renewal of the structure's mandate `mandat`: a draft for the same usager, already
/// identified (FranceConnect is not asked again), with the démarches and duration chosen;
/// the usager consents and the aidant signs as for a new mandate.
pub async fn preparer_renouvellement(
    db: &Db,
    access: &StructureAccess,
    mandat: MandatId,
    demande: &Demande,
    now: i64,
) -> Result<BrouillonId, MandatError> {
    let Some(m) = repo::mandat(db, mandat)
        .await?
        .filter(|m| m.structure == access.structure())
    else {
        return Err(MandatError::BrouillonInconnu);
    };
    let (Some(cle), Some(usager)) = (
        repo::cle_de_l_usager(db, m.usager).await?,
        repo::usager(db, m.usager).await?,
    ) else {
        return Err(StoreError::Corrupt(format!("usager du mandat {mandat} absent")).into());
    };
    let id = preparer(db, access, demande, now).await?;
    repo::identifier_brouillon(db, id, &cle, &usager.identite).await?;
    repo::set_renouvelle(db, id, mandat).await?;
    Ok(id)
}

/// Journals, once, the end of every mandate whose last démarche ended (a daily job).
pub async fn journaliser_fins(db: &Db, now: i64) -> Result<usize, StoreError> {
    let mut n = 0;
    for (mandat, structure, usager, fin) in repo::fins_a_journaliser(db, now).await? {
        let mut tx = db.begin().await?;
        let details = serde_json::json!({"usager": usager, "fin": fin});
        let entry = NewEntry::new(JournalAction::MandatExpired, "mandat", mandat.to_string())
            .in_structure(structure)
            .with_details(details.to_string());
        // The head first (SQLite: the transaction begins with a write), then the mark.
        journal::append(&mut tx, &entry).await?;
        if repo::marquer_expiration(&mut tx, mandat, now).await? {
            relais_store::commit(tx).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// Erases the mandates that ended more than [`CONSERVATION_MS`] before `now` (a daily
/// job), each in one transaction: the erasure journaled, the details of the journal's
/// entries about the mandate and its démarches blanked (the chain still links through
/// them), its rows deleted, and the usager with them when nothing else of theirs is kept.
/// Returns how many mandates were erased.
pub async fn purger(db: &Db, now: i64) -> Result<usize, StoreError> {
    let avant = now - CONSERVATION_MS;
    let mut n = 0;
    loop {
        let finis = conservation::finis_avant(db, avant, 100).await?;
        if finis.is_empty() {
            return Ok(n);
        }
        for f in finis {
            let mut tx = db.begin().await?;
            // Blanked first: a write (SQLite: the transaction holds the write lock from
            // there), and before the erasure's own entry. Every entry about the mandate
            // was written before it ended, six years ago; one written far later, under the
            // floor the database enforces, is left whole.
            let floor = now - PURGE_FLOOR_MS;
            let (b, id) = (db.backend(), f.mandat.to_string());
            let mut blanked = journal::purger(&mut tx, b, "mandat", &id, now, floor).await?;
            for a in conservation::autorisations(&mut tx, f.mandat).await? {
                let id = a.to_string();
                blanked.extend(journal::purger(&mut tx, b, "autorisation", &id, now, floor).await?);
            }
            let details =
                serde_json::json!({ "fini_avant": avant, "entrees_effacees": blanked.len() });
            let entry = NewEntry::new(JournalAction::MandatPurged, "mandat", f.mandat.to_string())
                .in_structure(f.structure)
                .with_details(details.to_string());
            journal::append(&mut tx, &entry).await?;
            conservation::supprimer(&mut tx, &f).await?;
            relais_store::commit(tx).await?;
            n += 1;
        }
    }
}

/// The draft `id` of `access`'s person in `access`'s structure, still valid at `now`; any
/// other draft is « unknown ».
pub async fn brouillon_de(
    db: &Db,
    access: &StructureAccess,
    id: BrouillonId,
    now: i64,
) -> Result<Brouillon, MandatError> {
    repo::brouillon(db, id)
        .await?
        .filter(|b| {
            b.aidant == access.person()
                && b.structure == access.structure()
                && b.created_at >= now - BROUILLON_LIFETIME_MS
        })
        .ok_or(MandatError::BrouillonInconnu)
}

async fn creer_en(
    tx: &mut Tx,
    access: &StructureAccess,
    demande: &Demande,
    consentement: &Consentement,
    modele: &str,
    now: i64,
) -> Result<MandatCree, MandatError> {
    if !aidant_de(access, demande) {
        return Err(MandatError::PasAidant);
    }
    let structure = demande.structure;
    let cle = &consentement.cle;
    let (debut, fin) = (now, demande.duree.fin(now));
    let empreinte = Attestation {
        aidant: demande.aidant,
        structure,
        usager: cle,
        demarches: &demande.demarches,
        debut,
        fin,
        modele,
    }
    .empreinte();

    let usager = repo::put_usager(tx, cle, &consentement.identite, now).await?;
    let actives = repo::autorisations_actives(tx, structure, usager, now).await?;
    let pairs: Vec<_> = actives
        .iter()
        .map(|a| (a.id, a.autorisation.clone()))
        .collect();
    let replaced = remplacees(&pairs, &demande.demarches, now);
    repo::revoquer(tx, &replaced, now).await?;
    let demarches: Vec<Demarche> = demande.demarches.iter().copied().collect();
    let id = repo::create_mandat(
        tx,
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
        journal::append(tx, &entry).await?;
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
    journal::append(tx, &entry).await?;
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

/// What the printed mandate shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandatImprime {
    pub mandat: repo::MandatStocke,
    pub structure: relais_store::comptes::Structure,
    /// The aidant's name, as their account gives it.
    pub aidant: String,
    pub usager: Identite,
    pub demarches: Vec<Demarche>,
}

/// The mandate `id` of `access`'s structure (any member may print it); another structure's
/// mandate is « not found ».
pub async fn imprime(
    db: &Db,
    access: &StructureAccess,
    id: MandatId,
) -> Result<Option<MandatImprime>, StoreError> {
    let Some(mandat) = repo::mandat(db, id)
        .await?
        .filter(|m| m.structure == access.structure())
    else {
        return Ok(None);
    };
    let (Some(structure), Some(aidant), Some(usager)) = (
        relais_store::comptes::structure(db, mandat.structure).await?,
        relais_store::comptes::person(db, mandat.aidant).await?,
        repo::usager(db, mandat.usager).await?,
    ) else {
        return Err(StoreError::Corrupt(format!("mandat {id} incomplet")));
    };
    let demarches = repo::autorisations_du_mandat(db, id)
        .await?
        .into_iter()
        .map(|a| a.autorisation.demarche)
        .collect();
    Ok(Some(MandatImprime {
        aidant: format!("{} {}", aidant.given_name, aidant.family_name),
        mandat,
        structure,
        usager: usager.identite,
        demarches,
    }))
}

/// The printed mandate as a PDF: the same two copies as the page, each on its own page.
pub fn mandat_pdf(m: &MandatImprime) -> Result<Vec<u8>, pdf::PdfError> {
    use pdf::Bloc;
    use relais_domain::calendrier::date_fr;
    let naissance = relais_domain::calendrier::parse_date_iso(&m.usager.birthdate)
        .map_or_else(|| m.usager.birthdate.clone(), date_fr);
    let para = |t: String| Bloc::Paragraphe {
        texte: t,
        gras: false,
    };
    let copy = |exemplaire: &str| {
        let mut b = vec![
            Bloc::Titre(format!("Mandat n° {} — {exemplaire}", m.mandat.id)),
            para(format!(
                "Usager (mandant) : {} {}, né ou née le {naissance}.",
                m.usager.family_name, m.usager.given_name
            )),
            para(format!(
                "Structure (mandataire) : {}, SIRET {}{}.",
                m.structure.nom,
                m.structure.siret,
                if m.structure.adresse.is_empty() {
                    String::new()
                } else {
                    format!(", {}", m.structure.adresse)
                }
            )),
            para(format!("Aidant habilité : {}.", m.aidant)),
            para(format!(
                "Durée : {}, du {} au {}.",
                m.mandat.duree.libelle(),
                date_fr(m.mandat.debut),
                date_fr(m.mandat.fin)
            )),
            Bloc::Paragraphe {
                texte: "Démarches :".into(),
                gras: true,
            },
        ];
        b.extend(
            m.demarches
                .iter()
                .map(|d| Bloc::Element(format!("{} : {}", d.titre(), d.exemples()))),
        );
        b.extend(
            relais_domain::mandats::TEXTE_MANDAT
                .split("\n\n")
                .map(|p| para(p.to_string())),
        );
        b.push(Bloc::Qr {
            donnees: m.mandat.empreinte.clone(),
            alt: "Code QR de l’empreinte du mandat, la même que le texte qui suit".into(),
        });
        b.push(para(format!(
            "Empreinte du mandat (SHA-256) : {}",
            m.mandat.empreinte
        )));
        b.push(para(format!(
            "Signé en ligne le {} : consentement de l’usager identifié par FranceConnect, code personnel de l’aidant.",
            date_fr(m.mandat.debut)
        )));
        b
    };
    pdf::document(
        &format!("Mandat n° {} — {}", m.mandat.id, m.structure.nom),
        &[
            copy("Exemplaire de l’usager"),
            copy("Exemplaire de la structure"),
        ],
    )
}

/// A structure's mandate, as its team reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandatDeStructure {
    pub mandat: repo::MandatStocke,
    pub usager: Identite,
    pub etat: relais_domain::mandats::Etat,
    pub demarches: Vec<Demarche>,
}

/// What the structure's mandates page shows: its mandates, and the uses of the last 30
/// days with their anomaly flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VueStructure {
    pub mandats: Vec<MandatDeStructure>,
    pub utilisations: Vec<(
        relais_store::mandats::espace::UtilisationStructure,
        BTreeSet<relais_domain::mandats::anomalies::Anomalie>,
    )>,
}

pub async fn vue_structure(
    db: &Db,
    access: &StructureAccess,
    now: i64,
) -> Result<VueStructure, StoreError> {
    use relais_domain::mandats::anomalies::{Usage, anomalies};
    use relais_store::mandats::espace;
    let mut mandats = Vec::new();
    for (mandat, usager) in espace::mandats_de_la_structure(db, access.structure()).await? {
        let all = repo::autorisations_du_mandat(db, mandat.id).await?;
        let autorisations: Vec<_> = all.iter().map(|a| a.autorisation.clone()).collect();
        mandats.push(MandatDeStructure {
            etat: relais_domain::mandats::etat(&autorisations, now),
            demarches: autorisations
                .iter()
                .filter(|a| a.active(now))
                .map(|a| a.demarche)
                .collect(),
            mandat,
            usager,
        });
    }
    let uses =
        espace::utilisations_de_la_structure(db, access.structure(), now - 30 * 86_400_000, 1_000)
            .await?;
    let flags = anomalies(
        &uses
            .iter()
            .map(|u| Usage {
                at: u.at,
                aidant: u.aidant_id,
                usager: u.usager_id,
            })
            .collect::<Vec<_>>(),
    );
    Ok(VueStructure {
        mandats,
        utilisations: uses.into_iter().zip(flags).collect(),
    })
}

/// The structure ends a mandate (an aidant or a référent of it): every démarche still in
/// force is revoked, journaled once for the mandate.
pub async fn annuler(
    db: &Db,
    access: &StructureAccess,
    mandat: MandatId,
    now: i64,
) -> Result<usize, RevocationError> {
    let Some(m) = repo::mandat(db, mandat)
        .await?
        .filter(|m| m.structure == access.structure())
    else {
        return Err(RevocationError::Introuvable);
    };
    let en_cours: Vec<AutorisationId> = repo::autorisations_du_mandat(db, mandat)
        .await?
        .into_iter()
        .filter(|a| a.autorisation.active(now))
        .map(|a| a.id)
        .collect();
    if en_cours.is_empty() {
        return Err(RevocationError::DejaTerminee);
    }
    let mut tx = db.begin().await?;
    let details = serde_json::json!({"usager": m.usager, "autorisations": en_cours});
    let entry = NewEntry::new(JournalAction::MandatCancelled, "mandat", mandat.to_string())
        .by(access.person(), Some(access.structure()))
        .in_structure(access.structure())
        .with_details(details.to_string());
    journal::append(&mut tx, &entry).await?;
    repo::revoquer(&mut tx, &en_cours, now).await?;
    relais_store::commit(tx).await?;
    Ok(en_cours.len())
}
