//! The usager's space: after FranceConnect, the usager sees their mandates, each démarche's
//! end, every use (date, aidant, structure, service), ends a démarche or a whole mandate,
//! and downloads their data.

use rand::Rng;
use relais_domain::ids::{AutorisationId, MandatId, UsagerId};
use relais_domain::mandats::{Demarche, Etat, etat};
use relais_store::mandats::espace::{self as repo, Utilisation};
use relais_store::mandats::{self as mandats_repo, Identite, MandatStocke};
use relais_store::{Db, StoreError};

use super::{RevocationError, revoquer_par_l_usager};
use crate::comptes::sha256_hex;

/// How long the usager's session lasts: a visit, not a day.
pub const SESSION_MS: i64 = 30 * 60_000;

/// Opens a session for the usager; returns the cookie's token.
pub async fn ouvrir_session(db: &Db, usager: UsagerId, now: i64) -> Result<String, StoreError> {
    let bytes: [u8; 32] = rand::rng().random();
    let token = data_encoding::BASE64URL_NOPAD.encode(&bytes);
    repo::create_session(db, &sha256_hex(&token), usager, now, now + SESSION_MS).await?;
    Ok(token)
}

pub async fn session(db: &Db, token: &str, now: i64) -> Result<Option<UsagerId>, StoreError> {
    repo::session(db, &sha256_hex(token), now).await
}

pub async fn fermer_session(db: &Db, token: &str) -> Result<(), StoreError> {
    repo::close_session(db, &sha256_hex(token)).await
}

/// One démarche family of a mandate, as the usager reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemarcheVue {
    pub autorisation: AutorisationId,
    pub demarche: Demarche,
    pub fin: i64,
    pub revoquee_le: Option<i64>,
    pub en_cours: bool,
}

/// One mandate, as the usager reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandatVu {
    pub mandat: MandatStocke,
    pub structure: String,
    pub etat: Etat,
    pub demarches: Vec<DemarcheVue>,
}

/// Everything the space shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Espace {
    pub identite: Identite,
    pub mandats: Vec<MandatVu>,
    pub utilisations: Vec<Utilisation>,
}

pub async fn espace(db: &Db, usager: UsagerId, now: i64) -> Result<Espace, StoreError> {
    let identite = mandats_repo::usager(db, usager)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("usager {usager} absent")))?
        .identite;
    let autorisations = mandats_repo::autorisations_de_l_usager(db, usager).await?;
    let mandats = repo::mandats_de_l_usager(db, usager)
        .await?
        .into_iter()
        .map(|(mandat, structure)| {
            let mine: Vec<_> = autorisations
                .iter()
                .filter(|a| a.mandat == mandat.id)
                .collect();
            let all: Vec<_> = mine.iter().map(|a| a.autorisation.clone()).collect();
            MandatVu {
                etat: etat(&all, now),
                demarches: mine
                    .iter()
                    .map(|a| DemarcheVue {
                        autorisation: a.id,
                        demarche: a.autorisation.demarche,
                        fin: a.autorisation.fin,
                        revoquee_le: a.autorisation.revoquee_le,
                        en_cours: a.autorisation.active(now),
                    })
                    .collect(),
                mandat,
                structure,
            }
        })
        .collect();
    Ok(Espace {
        identite,
        mandats,
        utilisations: repo::utilisations_de_l_usager(db, usager).await?,
    })
}

/// The usager ends every démarche still in force of their mandate `mandat`.
pub async fn revoquer_mandat(
    db: &Db,
    usager: UsagerId,
    mandat: MandatId,
    now: i64,
) -> Result<usize, RevocationError> {
    let en_cours: Vec<AutorisationId> = mandats_repo::autorisations_de_l_usager(db, usager)
        .await?
        .into_iter()
        .filter(|a| a.mandat == mandat && a.autorisation.active(now))
        .map(|a| a.id)
        .collect();
    if en_cours.is_empty() {
        return Err(RevocationError::DejaTerminee);
    }
    for id in &en_cours {
        revoquer_par_l_usager(db, usager, *id, now).await?;
    }
    Ok(en_cours.len())
}

/// The usager's data, to download: their identity as kept, their mandates and every use.
pub async fn donnees(db: &Db, usager: UsagerId, now: i64) -> Result<serde_json::Value, StoreError> {
    let e = espace(db, usager, now).await?;
    let day = relais_domain::calendrier::date_heure_fr;
    Ok(serde_json::json!({
        "identite": {
            "prenoms": e.identite.given_name,
            "nom": e.identite.family_name,
            "date_de_naissance": e.identite.birthdate,
            "lieu_de_naissance": e.identite.birthplace,
            "pays_de_naissance": e.identite.birthcountry,
            "sexe": e.identite.gender,
            "adresse_electronique": e.identite.email,
        },
        "mandats": e.mandats.iter().map(|m| serde_json::json!({
            "numero": m.mandat.id,
            "structure": m.structure,
            "debut": day(m.mandat.debut),
            "fin": day(m.mandat.fin),
            "empreinte": m.mandat.empreinte,
            "etat": m.etat.libelle(),
            "demarches": m.demarches.iter().map(|d| serde_json::json!({
                "demarche": d.demarche.code(),
                "libelle": d.demarche.titre(),
                "fin": day(d.fin),
                "revoquee_le": d.revoquee_le.map(day),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "utilisations": e.utilisations.iter().map(|u| serde_json::json!({
            "date": day(u.at),
            "demarche": u.demarche,
            "aidant": u.aidant,
            "structure": u.structure,
            "service": u.service,
        })).collect::<Vec<_>>(),
    }))
}
