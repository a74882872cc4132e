//! A programme's figures, for its owner and its funders: what became of its passes, overall
//! and by département of the people they were handed to; what each funder paid and got
//! back; the State's leverage; all as CSV and XLSX (read back by openpyxl in the tests).

use std::collections::BTreeMap;

use relais_domain::authz::StructureAccess;
use relais_domain::calendrier::paris_days;
use relais_domain::comptes::Role;
use relais_domain::ids::ProgrammeId;
use relais_domain::pass::entonnoir::{self, Entonnoir, SuiviPass};
use relais_domain::pass::reglement::{PARTS_TOTAL, euros, releves};
use relais_search::TerritoryIndex;
use relais_store::{Db, StoreError};

use crate::courriel::Courriel;
use relais_store::pass::{self as repo, Programme};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::{PassError, par_mois, programme_gere, virements};

/// Where the people whose booklets have no commune, or none Relais knows, are counted.
pub const SANS_COMMUNE: &str = "Commune non indiquée";
/// Where the passes not handed out yet are counted.
pub const PAS_REMIS: &str = "Pas encore remis";

/// A funder's money in a programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Financement {
    pub nom: String,
    pub siret: String,
    /// Ten-thousandths of each pass.
    pub part: u32,
    /// A service of the State (its SIREN starts with 1).
    pub etat: bool,
    /// Its part of every statement so far.
    pub verse_centimes: i64,
    /// Its part of the passes never used, once the programme ended.
    pub rendu_centimes: i64,
}

/// A programme's figures on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chiffres {
    pub programme: String,
    pub entonnoir: Entonnoir,
    /// By département of the people's communes (« 42 — Loire »), then [`SANS_COMMUNE`] and
    /// [`PAS_REMIS`] when they have passes.
    pub par_territoire: Vec<(String, Entonnoir)>,
    pub financeurs: Vec<Financement>,
    /// Cents of the whole programme for each euro of the State (250: 2,50 €), if the State
    /// funds it.
    pub levier_centimes: Option<i64>,
}

/// Each pass of `p`, reimbursed once every funder paid its month's transfers, with the
/// commune of the person it was handed to.
async fn passes(db: &Db, p: &Programme) -> Result<Vec<(SuiviPass, Option<String>)>, StoreError> {
    let payes = virements::mois_payes(db, p.id, p.reglages.financeurs.len()).await?;
    Ok(repo::suivi(db, p.id)
        .await?
        .into_iter()
        .map(|l| {
            let rembourse = l
                .enregistre_le
                .is_some_and(|le| payes.contains(&virements::mois_de(le)));
            (
                SuiviPass {
                    rembourse,
                    ..l.suivi
                },
                l.commune,
            )
        })
        .collect())
}

fn funnel(p: &Programme, passes: &[SuiviPass], now: i64) -> Entonnoir {
    let fin = p.reglages.dernier_jour + p.reglages.grace_jours;
    entonnoir::entonnoir(passes, fin, paris_days(now))
}

/// What became of `programme`'s passes on `now`, for its owner's référents.
pub async fn entonnoir(
    db: &Db,
    access: &StructureAccess,
    programme: ProgrammeId,
    now: i64,
) -> Result<Entonnoir, PassError> {
    let p = programme_gere(db, access, programme).await?;
    let passes: Vec<SuiviPass> = passes(db, &p).await?.into_iter().map(|(s, _)| s).collect();
    Ok(funnel(&p, &passes, now))
}

/// `programme`'s figures on `now`, for its owner's référents.
pub async fn chiffres(
    db: &Db,
    access: &StructureAccess,
    territoires: &TerritoryIndex,
    programme: ProgrammeId,
    now: i64,
) -> Result<Chiffres, PassError> {
    let p = programme_gere(db, access, programme).await?;
    let passes = passes(db, &p).await?;
    let tous: Vec<SuiviPass> = passes.iter().map(|(s, _)| *s).collect();
    let mut groupes: BTreeMap<(u8, String), Vec<SuiviPass>> = BTreeMap::new();
    for (s, commune) in &passes {
        let cle = match (
            s.remis_le,
            commune.as_deref().and_then(|c| territoires.chain(c)),
        ) {
            (None, _) => (2, PAS_REMIS.to_string()),
            (Some(_), Some(chain)) => match chain.departement {
                Some(d) => (0, format!("{} — {}", d.code, d.nom)),
                None => (1, SANS_COMMUNE.to_string()),
            },
            (Some(_), None) => (1, SANS_COMMUNE.to_string()),
        };
        groupes.entry(cle).or_default().push(*s);
    }
    // What each funder paid: its part of every statement of the programme so far.
    let uses = repo::uses_between(db, i64::MIN, i64::MAX, None, Some(p.id)).await?;
    let parts = BTreeMap::from([(p.id, p.reglages.financeurs.iter().map(|f| f.part).collect())]);
    let utilisations = par_mois(uses);
    let mut verse = vec![0i64; p.reglages.financeurs.len()];
    for r in releves(&utilisations, &parts) {
        for (v, part) in verse.iter_mut().zip(&r.par_financeur) {
            *v += part;
        }
    }
    let fin = repo::end_of(db, p.id).await?;
    let financeurs: Vec<Financement> = p
        .reglages
        .financeurs
        .iter()
        .enumerate()
        .map(|(i, f)| Financement {
            nom: f.nom.clone(),
            siret: f.siret.as_str().to_string(),
            part: f.part,
            etat: f.siret.as_str().starts_with('1'),
            verse_centimes: verse[i],
            rendu_centimes: fin
                .as_ref()
                .and_then(|f| f.parts.get(i).copied())
                .unwrap_or(0),
        })
        .collect();
    let etat: u32 = financeurs.iter().filter(|f| f.etat).map(|f| f.part).sum();
    Ok(Chiffres {
        programme: p.reglages.nom.clone(),
        entonnoir: funnel(&p, &tous, now),
        par_territoire: groupes
            .into_iter()
            .map(|((_, nom), passes)| (nom, funnel(&p, &passes, now)))
            .collect(),
        levier_centimes: (etat > 0).then(|| i64::from(PARTS_TOTAL) * 100 / i64::from(etat)),
        financeurs,
    })
}

/// Days before a programme's last day when its référents are told how its passes are used.
pub const JALONS: [i64; 2] = [30, 15];

/// Part of `n` in `sur`, in whole percent (rounded), if `sur` is not zero.
pub fn pourcent(n: u64, sur: u64) -> Option<u64> {
    (n * 100 + sur / 2).checked_div(sur)
}

/// The alert of a programme `jours` days before its last day, with its funnel.
pub fn alerte(p: &Programme, e: &Entonnoir, jours: i64, to: &str) -> Courriel {
    let taux = |n, sur| pourcent(n, sur).map_or_else(|| "—".to_string(), |t| format!("{t} %"));
    let (y, m, d) = relais_domain::calendrier::civil_from_days(p.reglages.dernier_jour);
    Courriel {
        to: to.to_string(),
        subject: format!(
            "Pass numérique « {} » : fin dans {jours} jours, {} des pass remis utilisés",
            p.reglages.nom,
            taux(e.utilises, e.distribues)
        ),
        body: format!(
            "Bonjour,\n\n\
             Le programme de pass numériques « {nom} » se termine le {d:02}/{m:02}/{y} \
             (puis {grace} jours de tolérance).\n\n\
             À ce jour :\n\
             - {emis} pass émis, dont {remis} remis à des personnes ({taux_remis} des pass émis) ;\n\
             - {utilises} pass utilisés ({taux_utilises} des pass remis) ;\n\
             - {rembourses} remboursés aux structures.\n\n\
             Les pass non utilisés à la fin du programme seront rendus aux financeurs. Pour \
             qu’ils servent, les prescripteurs peuvent encore remettre les carnets en stock, \
             et les personnes qui en ont reçu être orientées vers un lieu qualifié.\n\n\
             Le détail par département est sur la page du programme, dans Relais.\n",
            nom = p.reglages.nom,
            grace = p.reglages.grace_jours,
            emis = e.emis,
            remis = e.distribues,
            taux_remis = taux(e.distribues, e.emis),
            utilises = e.utilises,
            taux_utilises = taux(e.utilises, e.distribues),
            rembourses = e.rembourses,
        ),
    }
}

/// The daily job's alerts: every programme 30 and 15 days (or fewer, if the job did not
/// run that day) before its last day tells its structure's référents how its passes are
/// used, once per milestone. How many alerts went out.
pub async fn alerter(db: &Db, now: i64) -> Result<usize, StoreError> {
    let today = paris_days(now);
    let mut sent = 0;
    for (id, _, _) in repo::all_programmes(db).await? {
        let Some(p) = repo::programme(db, id).await? else {
            continue;
        };
        let reste = p.reglages.dernier_jour - today;
        // The nearest milestone reached (a programme created 20 days before its end gets
        // the 30 days' alert, not both).
        let Some(jalon) = JALONS
            .iter()
            .rev()
            .copied()
            .find(|&j| (0..=j).contains(&reste))
        else {
            continue;
        };
        let mut tx = db.begin().await?;
        // The figures and the team are read only for an alert not sent yet.
        if repo::record_alert(&mut tx, id, jalon, now).await? {
            let passes: Vec<SuiviPass> =
                passes(db, &p).await?.into_iter().map(|(s, _)| s).collect();
            let e = funnel(&p, &passes, now);
            let referents: Vec<String> = relais_store::comptes::team(db, p.structure)
                .await?
                .into_iter()
                .filter(|m| m.deactivated_at.is_none() && m.roles.contains(&Role::Referent))
                .map(|m| m.email)
                .collect();
            for to in &referents {
                crate::courriel::queue(&mut tx, &alerte(&p, &e, reste, to)).await?;
            }
            sent += 1;
        }
        relais_store::commit(tx).await?;
    }
    Ok(sent)
}

/// The funnel's columns, in the exports' order.
pub const COLONNES: [&str; 8] = [
    "territoire",
    "emis",
    "remis",
    "carnet_entame",
    "utilises",
    "rembourses",
    "expires",
    "delai_median_jours",
];

fn ligne(territoire: &str, e: &Entonnoir) -> (String, [i64; 6], Option<i64>) {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    (
        territoire.to_string(),
        [
            n(e.emis),
            n(e.distribues),
            n(e.entames),
            n(e.utilises),
            n(e.rembourses),
            n(e.expires),
        ],
        e.delai_median_jours,
    )
}

/// The funnel's rows: the whole programme (« Ensemble »), then each territory.
fn lignes(c: &Chiffres) -> Vec<(String, [i64; 6], Option<i64>)> {
    std::iter::once(ligne("Ensemble", &c.entonnoir))
        .chain(c.par_territoire.iter().map(|(t, e)| ligne(t, e)))
        .collect()
}

/// The funnel overall and by territory, as CSV (RFC 4180, CRLF).
pub fn csv(c: &Chiffres) -> String {
    let mut out = COLONNES.join(",") + "\r\n";
    for (t, n, delai) in lignes(c) {
        out += &format!(
            "\"{}\",{},{}\r\n",
            t.replace('"', "\"\""),
            n.map(|v| v.to_string()).join(","),
            delai.map(|d| d.to_string()).unwrap_or_default()
        );
    }
    out
}

/// The figures as XLSX: the funnel (overall and by territory), then the funders.
pub fn xlsx(c: &Chiffres) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let gras = Format::new().set_bold();
    let euro = Format::new().set_num_format("#,##0.00 €");
    let sheet = workbook.add_worksheet().set_name("Entonnoir")?;
    sheet.write_row_with_format(0, 0, COLONNES, &gras)?;
    for (i, (t, n, delai)) in lignes(c).iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, t)?;
        for (col, v) in n.iter().enumerate() {
            sheet.write_number(r, col as u16 + 1, *v as f64)?;
        }
        if let Some(d) = delai {
            sheet.write_number(r, 7, *d as f64)?;
        }
    }
    let sheet = workbook.add_worksheet().set_name("Financeurs")?;
    sheet.write_row_with_format(
        0,
        0,
        [
            "financeur",
            "siret",
            "part_pourcent",
            "etat",
            "verse_euros",
            "rendu_euros",
        ],
        &gras,
    )?;
    for (i, f) in c.financeurs.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, &f.nom)?;
        sheet.write_string(r, 1, &f.siret)?;
        sheet.write_number(r, 2, f64::from(f.part) / 100.0)?;
        sheet.write_string(r, 3, if f.etat { "oui" } else { "non" })?;
        sheet.write_number_with_format(r, 4, f.verse_centimes as f64 / 100.0, &euro)?;
        sheet.write_number_with_format(r, 5, f.rendu_centimes as f64 / 100.0, &euro)?;
    }
    if let Some(l) = c.levier_centimes {
        let r = c.financeurs.len() as u32 + 2;
        sheet.write_string_with_format(r, 0, "Effet de levier de l’État", &gras)?;
        sheet.write_string(r, 1, format!("{} pour 1 € de l’État", euros(l)))?;
    }
    workbook.save_to_buffer()
}
