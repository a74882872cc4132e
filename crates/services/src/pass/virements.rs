//! What a funder pays for a month: one SEPA credit transfer (pain.001.001.09, built by the
//! `sepa` crate) per qualified structure, its part of that structure's statement, to the
//! account the structure gave when it applied. Preparing the file is journaled.

use relais_domain::authz::StructureAccess;
use relais_domain::ids::{ProgrammeId, StructureId};
use relais_domain::journal::JournalAction;
use relais_store::pass::{self as repo, ACCEPTEE};
use relais_store::{Db, journal};
use sepa::{CreditTransferEntry, CreditTransferGroup, IsoDate, IsoDateTime, Pain001Builder};

use super::{PassError, entree, programme_gere, releves_du_mois};

/// A funder's transfer file for a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Virements {
    /// `virements-P{programme}-F{financeur}-{AAAA}-{MM}.xml`
    pub nom_fichier: String,
    pub xml: String,
    /// One per structure paid.
    pub virements: usize,
    pub total_centimes: i64,
}

fn sepa_error(e: impl std::fmt::Display) -> PassError {
    PassError::Champ {
        champ: "virements",
        raison: format!("le fichier de virements n’a pas pu être écrit : {e}"),
    }
}

/// The transfers by which funder `financeur` (its rank in the programme, from 0) pays the
/// structures their part of month `mois` ((year, 1–12), Paris) of `programme`, for its
/// owner's référent; journaled with the count and the total.
pub async fn virements(
    db: &Db,
    access: &StructureAccess,
    programme: ProgrammeId,
    financeur: usize,
    mois: (i64, u32),
    now: i64,
) -> Result<Virements, PassError> {
    let p = programme_gere(db, access, programme).await?;
    let f = p
        .reglages
        .financeurs
        .get(financeur)
        .ok_or(PassError::Introuvable("financeur"))?;
    let comptes: Vec<_> = repo::qualifications_of(db, programme)
        .await?
        .into_iter()
        .filter(|q| q.statut == ACCEPTEE)
        .collect();
    let (y, m) = mois;
    let mut entries = Vec::new();
    let mut total = 0;
    for r in releves_du_mois(db, mois)
        .await?
        .into_iter()
        .filter(|r| r.programme == programme)
    {
        let part = r.par_financeur.get(financeur).copied().unwrap_or(0);
        if part == 0 {
            continue;
        }
        let q = comptes
            .iter()
            .find(|q| q.structure == r.structure)
            .ok_or(PassError::Introuvable("compte de la structure"))?;
        let iban = q.iban.parse().map_err(sepa_error)?;
        let bic = q.bic.parse().map_err(sepa_error)?;
        entries.push(
            CreditTransferEntry::new(
                q.titulaire.as_str(),
                iban,
                part,
                reference(programme, r.structure, mois),
            )
            .with_bic(bic)
            .with_description(format!(
                "Pass numérique {} {m:02}/{y} : {} pass",
                p.reglages.nom, r.pass
            )),
        );
        total += part;
    }
    if entries.is_empty() {
        return Err(PassError::AucunVirement);
    }
    let (ty, tm, td, minute) = relais_domain::calendrier::paris_civil(now);
    let date = |y: i64, m: u32, d: u32| {
        IsoDate::new(u16::try_from(y).map_err(sepa_error)?, m as u8, d as u8).map_err(sepa_error)
    };
    let today = date(ty, tm, td)?;
    let created =
        IsoDateTime::new(today, (minute / 60) as u8, (minute % 60) as u8, 0).map_err(sepa_error)?;
    let virements = entries.len();
    let debtor_iban = f.iban.parse().map_err(sepa_error)?;
    let group = CreditTransferGroup::new(f.nom.as_str(), &debtor_iban, today)
        .debtor_bic(f.bic.parse().map_err(sepa_error)?)
        .add_entries(entries);
    let msg_id = format!("RELAIS-P{}-F{}-{y}{m:02}", programme.0, financeur + 1);
    let xml = Pain001Builder::new("Relais", msg_id)
        .created_at(created)
        .add_group(group)
        .build()
        .map_err(sepa_error)?;
    let mut tx = db.begin().await?;
    let details = serde_json::json!({
        "mois": format!("{y}-{m:02}"),
        "financeur": f.nom,
        "virements": virements,
        "total_centimes": total,
    });
    let entry = entree(
        access,
        JournalAction::TransfersPrepared,
        "programme_pass",
        programme,
        &details,
    );
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(Virements {
        nom_fichier: format!(
            "virements-P{}-F{}-{y}-{m:02}.xml",
            programme.0,
            financeur + 1
        ),
        xml,
        virements,
        total_centimes: total,
    })
}

/// The end-to-end reference of a structure's transfer for a month (35 characters at most).
fn reference(programme: ProgrammeId, structure: StructureId, (y, m): (i64, u32)) -> String {
    format!("RELAIS-P{}-S{}-{y}{m:02}", programme.0, structure.0)
}
