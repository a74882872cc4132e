//! Printed booklets: each pass on its own page, its code to type and a QR code of its token
//! (`domain::pass::jeton`), signed by Relais' newest key. A new key is made once the newest
//! is a year old; every key stays published (`cles_publiques`), for as long as a booklet
//! it signed may be presented.

use data_encoding::BASE64URL_NOPAD;
use rand::Rng;
use relais_domain::authz::StructureAccess;
use relais_domain::ids::ProgrammeId;
use relais_domain::pass::code::CodePass;
use relais_domain::pass::jeton::{CleJetons, ClePublique, ContenuJeton};
use relais_domain::pass::reglement::euros;
use relais_store::pass as repo;
use relais_store::{Db, StoreError};

use super::{PassError, programme_gere};
use crate::pdf::Bloc;

/// How long the newest key signs before a new one is made.
pub const ROTATION_CLE_MS: i64 = 365 * 86_400_000;

fn cle(numero: u32, graine: &str) -> Result<CleJetons, StoreError> {
    let seed: [u8; 32] = BASE64URL_NOPAD
        .decode(graine.as_bytes())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("clé de pass {numero} illisible")))?;
    Ok(CleJetons::from_seed(numero, &seed))
}

/// The key that signs now: the newest, or a new one if there is none or it is a year old.
pub async fn cle_courante(db: &Db, now: i64) -> Result<CleJetons, StoreError> {
    loop {
        let cles = repo::cles(db).await?;
        if let Some((numero, graine, creee_le)) = cles.last()
            && *creee_le > now - ROTATION_CLE_MS
        {
            return cle(*numero, graine);
        }
        let numero = cles.last().map_or(1, |(n, _, _)| n + 1);
        let graine = BASE64URL_NOPAD.encode(&rand::rng().random::<[u8; 32]>());
        // Another process may make the same number at the same time: read again then.
        repo::create_cle(db, numero, &graine, now).await?;
    }
}

/// Every key's public half, as a lieu's device keeps them to check passes offline.
pub async fn cles_publiques(db: &Db) -> Result<Vec<ClePublique>, StoreError> {
    repo::cles(db)
        .await?
        .iter()
        .map(|(numero, graine, _)| cle(*numero, graine).map(|c| c.publique()))
        .collect()
}

/// Booklet `numero` of `programme` as a PDF to print, for the programme's référents.
pub async fn carnet_pdf(
    db: &Db,
    access: &StructureAccess,
    programme: ProgrammeId,
    numero: i64,
    now: i64,
) -> Result<Vec<u8>, PassError> {
    let p = programme_gere(db, access, programme).await?;
    let carnet = repo::carnet(db, programme, numero)
        .await?
        .ok_or(PassError::Introuvable("carnet"))?;
    let r = &p.reglages;
    let signataire = cle_courante(db, now).await?;
    let dernier_jour = r.dernier_jour + r.grace_jours;
    let jusqu_au = relais_domain::calendrier::date_fr(dernier_jour * 86_400_000);
    let mut pages = Vec::new();
    for (i, code) in carnet.codes.iter().enumerate() {
        let code = CodePass::parse(code).map_err(|_| PassError::Introuvable("code"))?;
        let jeton = signataire.signer(&ContenuJeton {
            code,
            programme,
            valeur_centimes: u32::try_from(r.valeur_centimes).unwrap_or(0),
            dernier_jour: i32::try_from(dernier_jour).unwrap_or(i32::MAX),
        });
        pages.push(vec![
            Bloc::Titre(format!("Pass numérique — {}", r.nom)),
            Bloc::Paragraphe {
                texte: format!("Code : {code}"),
                gras: true,
            },
            Bloc::Paragraphe {
                texte: format!(
                    "Pass {} sur {} du carnet n° {numero}. Il vaut {} d’accompagnement au numérique dans un lieu qui accepte les pass de ce programme, jusqu’au {jusqu_au}. Il ne sert qu’une fois.",
                    i + 1,
                    carnet.codes.len(),
                    euros(r.valeur_centimes)
                ),
                gras: false,
            },
            Bloc::Paragraphe {
                texte: "Présentez ce pass au lieu : il lit le QR code ou tape le code.".into(),
                gras: false,
            },
            Bloc::Qr {
                donnees: jeton,
                alt: format!("QR code signé du pass {code}"),
            },
        ]);
    }
    Ok(crate::pdf::document(
        &format!("Carnet n° {numero} — {}", r.nom),
        &pages,
    )?)
}
