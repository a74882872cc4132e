//! What a funder pays for a month: one SEPA credit transfer (pain.001.001.09, built by the
//! `sepa` crate) per qualified structure, its part of that structure's statement, to the
//! account the structure gave when it applied. A month's transfers are kept when prepared
//! (by the owner, or by the daily job once the month is over) and their payment confirmed
//! by the owner once the month is over; every step is journaled. At a programme's end, the
//! value of its passes never used goes back to the funders, each its share.

use relais_domain::authz::StructureAccess;
use relais_domain::calendrier::{paris_civil, paris_days};
use relais_domain::ids::{ProgrammeId, StructureId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_domain::pass::reglement::{Releve, repartir};
use relais_store::pass::{self as repo, ACCEPTEE, FinProgramme, VirementsMois};
use relais_store::{Db, StoreError, journal};
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
    let (ty, tm, td, minute) = paris_civil(now);
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
    let prepares = VirementsMois {
        programme,
        financeur: financeur as i64,
        mois: format!("{y}-{m:02}"),
        virements: virements as i64,
        total_centimes: total,
        prepare_le: now,
        prepare_par: Some(access.person()),
        paye_le: None,
    };
    let mut tx = db.begin().await?;
    // Prepared again as it was (the month over), the same file is not news.
    if repo::record_transfers(&mut tx, &prepares).await? {
        let details = serde_json::json!({
            "mois": prepares.mois,
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
    }
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

/// What was prepared and paid of `programme`, and its end once past: for its owner.
pub async fn suivi_des_reglements(
    db: &Db,
    access: &StructureAccess,
    programme: ProgrammeId,
) -> Result<(Vec<VirementsMois>, Option<FinProgramme>), PassError> {
    programme_gere(db, access, programme).await?;
    Ok((
        repo::transfers_of(db, programme).await?,
        repo::end_of(db, programme).await?,
    ))
}

/// `AAAA-MM` of a month.
fn cle_mois((y, m): (i64, u32)) -> String {
    format!("{y}-{m:02}")
}

/// Whether month `mois` is over on `now` (Paris).
fn mois_fini(mois: (i64, u32), now: i64) -> bool {
    let (y, m, _, _) = paris_civil(now);
    mois < (y, m)
}

/// The owner confirms that funder `financeur` paid its transfers of month `mois`, once
/// prepared and the month over; journaled with the amount.
pub async fn payer(
    db: &Db,
    access: &StructureAccess,
    programme: ProgrammeId,
    financeur: usize,
    mois: (i64, u32),
    now: i64,
) -> Result<(), PassError> {
    let p = programme_gere(db, access, programme).await?;
    let f = p
        .reglages
        .financeurs
        .get(financeur)
        .ok_or(PassError::Introuvable("financeur"))?;
    if !mois_fini(mois, now) {
        return Err(PassError::MoisEnCours);
    }
    let cle = cle_mois(mois);
    let prepares = repo::transfers_of(db, programme)
        .await?
        .into_iter()
        .find(|v| v.financeur == financeur as i64 && v.mois == cle)
        .ok_or(PassError::Introuvable("ordre de virement préparé"))?;
    let mut tx = db.begin().await?;
    if !repo::mark_paid(
        &mut tx,
        programme,
        financeur as i64,
        &cle,
        access.person(),
        now,
    )
    .await?
    {
        return Err(PassError::DejaPaye);
    }
    let details = serde_json::json!({
        "mois": cle,
        "financeur": f.nom,
        "virements": prepares.virements,
        "total_centimes": prepares.total_centimes,
    });
    let entry = entree(
        access,
        JournalAction::TransfersPaid,
        "programme_pass",
        programme,
        &details,
    );
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// What each funder pays of `programme` in `releves`: (transfers, cents), in their order.
fn par_financeur(releves: &[Releve], programme: ProgrammeId, financeurs: usize) -> Vec<(i64, i64)> {
    (0..financeurs)
        .map(|f| {
            releves
                .iter()
                .filter(|r| r.programme == programme)
                .map(|r| r.par_financeur.get(f).copied().unwrap_or(0))
                .filter(|&part| part > 0)
                .fold((0, 0), |(n, total), part| (n + 1, total + part))
        })
        .collect()
}

/// The daily job's part of the settlement: every programme's transfers of the month
/// before `now`'s, kept as prepared for each funder that owes something (journaled in
/// the programme's structure, by Relais), and the end of every programme past its last
/// day and grace (its passes never used, their value split between the funders;
/// journaled once). Prepared or ended already: left as they are. How many it kept.
pub async fn regler(db: &Db, now: i64) -> Result<usize, StoreError> {
    let (y, m, _, _) = paris_civil(now);
    let mois = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    let releves = releves_du_mois(db, mois).await?;
    let mut kept = 0;
    for (id, _, _) in repo::all_programmes(db).await? {
        let Some(p) = repo::programme(db, id).await? else {
            continue;
        };
        let existants = repo::transfers_of(db, id).await?;
        let mut tx = db.begin().await?;
        let montants = par_financeur(&releves, id, p.reglages.financeurs.len());
        for (f, (virements, total)) in montants.into_iter().enumerate() {
            let prepares = VirementsMois {
                programme: id,
                financeur: f as i64,
                mois: cle_mois(mois),
                virements,
                total_centimes: total,
                prepare_le: now,
                prepare_par: None,
                paye_le: None,
            };
            if virements == 0
                || existants
                    .iter()
                    .any(|v| v.financeur == f as i64 && v.mois == prepares.mois)
            {
                continue;
            }
            repo::record_transfers(&mut tx, &prepares).await?;
            let details = serde_json::json!({
                "mois": prepares.mois,
                "financeur": p.reglages.financeurs[f].nom,
                "virements": virements,
                "total_centimes": total,
            });
            let entry = par_relais(JournalAction::TransfersPrepared, id, p.structure, &details);
            journal::append(&mut tx, &entry).await?;
            kept += 1;
        }
        let fin = p.reglages.dernier_jour + p.reglages.grace_jours;
        if paris_days(now) > fin && repo::end_of(db, id).await?.is_none() {
            let inutilises = repo::unused_count(db, id).await?;
            let montant = inutilises * p.reglages.valeur_centimes;
            let parts: Vec<u32> = p.reglages.financeurs.iter().map(|f| f.part).collect();
            let end = FinProgramme {
                pass_non_utilises: inutilises,
                montant_centimes: montant,
                parts: repartir(montant, &parts),
                constatee_le: now,
            };
            if repo::record_end(&mut tx, id, &end).await? {
                let details = serde_json::json!({
                    "pass_non_utilises": inutilises,
                    "montant_centimes": montant,
                    "rendu": p.reglages.financeurs.iter().zip(&end.parts)
                        .map(|(f, c)| serde_json::json!({ "financeur": f.nom, "centimes": c }))
                        .collect::<Vec<_>>(),
                });
                let entry = par_relais(JournalAction::ProgrammeEnded, id, p.structure, &details);
                journal::append(&mut tx, &entry).await?;
                kept += 1;
            }
        }
        relais_store::commit(tx).await?;
    }
    Ok(kept)
}

/// An entry Relais itself writes about a programme, in its structure's journal.
fn par_relais(
    action: JournalAction,
    programme: ProgrammeId,
    structure: StructureId,
    details: &serde_json::Value,
) -> NewEntry {
    NewEntry::new(action, "programme_pass", programme.0.to_string())
        .in_structure(structure)
        .with_details(details.to_string())
}

/// The months of `programme` whose transfers every funder paid (`AAAA-MM`).
pub(super) async fn mois_payes(
    db: &Db,
    programme: ProgrammeId,
    financeurs: usize,
) -> Result<std::collections::BTreeSet<String>, StoreError> {
    let mut payes: std::collections::BTreeMap<String, usize> = Default::default();
    for v in repo::transfers_of(db, programme).await? {
        if v.paye_le.is_some() {
            *payes.entry(v.mois).or_default() += 1;
        }
    }
    Ok(payes
        .into_iter()
        .filter(|&(_, n)| n == financeurs)
        .map(|(mois, _)| mois)
        .collect())
}

/// The month (`AAAA-MM`) of a use recorded at `enregistre_le`, as transfers name it.
pub(super) fn mois_de(enregistre_le: i64) -> String {
    let (y, m, _, _) = paris_civil(enregistre_le);
    cle_mois((y, m))
}
