//! Diagnostics: the test under way (its key, its draw, its answers) and its result.

use relais_domain::diagnostic::adaptatif::Reponse;
use relais_domain::diagnostic::irt::Parametres;
use relais_domain::diagnostic::referentiel::{Domaine, Niveau};
use relais_domain::diagnostic::resultat::{Resultat, ResultatDomaine};
use relais_domain::ids::{BeneficiaireId, DiagnosticId, PersonId, StructureId};
use sqlx::Row;

use crate::{Db, StoreError, Tx};

/// Who takes a new diagnostic: alone (all `None`) or with an agent of a structure, for a
/// beneficiary it follows or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Contexte {
    pub structure: Option<StructureId>,
    pub agent: Option<PersonId>,
    pub beneficiaire: Option<BeneficiaireId>,
}

/// A diagnostic as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub id: DiagnosticId,
    pub cle: String,
    pub graine: i64,
    pub contexte: Contexte,
    pub commence_le: i64,
    pub fini_le: Option<i64>,
    pub resultat: Option<Resultat>,
}

/// One answer as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReponseGardee {
    pub rang: i64,
    pub question: String,
    /// The index of the answer chosen; `None` for « je ne sais pas ».
    pub choix: Option<i64>,
    /// How it scored.
    pub reponse: Reponse,
}

/// A stored score; only Relais writes them.
fn reponse(s: &str) -> Reponse {
    Reponse::parse(s).unwrap_or(Reponse::NeSaitPas)
}

pub async fn create(
    tx: &mut Tx,
    cle: &str,
    graine: i64,
    c: Contexte,
    now: i64,
) -> Result<DiagnosticId, StoreError> {
    let row = statement!(
        "INSERT INTO diagnostics (cle, graine, structure_id, agent_id, beneficiaire_id, \
         commence_le) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        cle,
        graine,
        c.structure.map(|s| s.0),
        c.agent.map(|p| p.0),
        c.beneficiaire.map(|b| b.0),
        now
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(DiagnosticId(row.get(0)))
}

const COLUMNS: &str = "id, cle, graine, structure_id, agent_id, beneficiaire_id, commence_le, \
                       fini_le, theta_milli, erreur_milli, niveau, domaines";

fn diagnostic(r: &sqlx::any::AnyRow) -> Diagnostic {
    let niveau: Option<i64> = r.get(10);
    let domaines: Option<String> = r.get(11);
    let resultat = match (
        r.get::<Option<i64>, _>(8),
        r.get::<Option<i64>, _>(9),
        niveau,
    ) {
        (Some(theta_milli), Some(erreur_milli), Some(niveau)) => Some(Resultat {
            theta_milli,
            erreur_milli,
            niveau: Niveau(niveau as u8),
            domaines: domaines.as_deref().map(lire_domaines).unwrap_or_default(),
        }),
        _ => None,
    };
    Diagnostic {
        id: DiagnosticId(r.get(0)),
        cle: r.get(1),
        graine: r.get(2),
        contexte: Contexte {
            structure: r.get::<Option<i64>, _>(3).map(StructureId),
            agent: r.get::<Option<i64>, _>(4).map(PersonId),
            beneficiaire: r.get::<Option<i64>, _>(5).map(BeneficiaireId),
        },
        commence_le: r.get(6),
        fini_le: r.get(7),
        resultat,
    }
}

/// Each domain as `domaine:niveau:acquis` (acquis 0 or 1), separated by `;`.
fn ecrire_domaines(domaines: &[ResultatDomaine]) -> String {
    domaines
        .iter()
        .map(|d| {
            format!(
                "{}:{}:{}",
                d.domaine.as_str(),
                d.niveau.0,
                u8::from(d.acquis)
            )
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn lire_domaines(s: &str) -> Vec<ResultatDomaine> {
    s.split(';')
        .filter_map(|d| {
            let mut p = d.split(':');
            Some(ResultatDomaine {
                domaine: Domaine::parse(p.next()?)?,
                niveau: Niveau(p.next()?.parse().ok()?),
                acquis: p.next()? == "1",
            })
        })
        .collect()
}

/// The diagnostic whose key is `cle`.
pub async fn by_cle(db: &Db, cle: &str) -> Result<Option<Diagnostic>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM diagnostics WHERE cle = $1");
    let row = statement!(&sql, cle).fetch_optional(db.pool()).await?;
    Ok(row.as_ref().map(diagnostic))
}

/// Its answers, in the order they were given.
pub async fn reponses(db: &Db, id: DiagnosticId) -> Result<Vec<ReponseGardee>, StoreError> {
    let rows = statement!(
        "SELECT rang, question, choix, reponse FROM reponses_diagnostic \
         WHERE diagnostic_id = $1 ORDER BY rang",
        id.0
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| ReponseGardee {
            rang: r.get(0),
            question: r.get(1),
            choix: r.get(2),
            reponse: reponse(r.get(3)),
        })
        .collect())
}

/// Keeps the answer at `r.rang`; `false` if that rank was answered already (the same form
/// sent twice): the first answer stays.
pub async fn answer(
    db: &Db,
    id: DiagnosticId,
    r: &ReponseGardee,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let done = answer_in(&mut tx, id, r, now).await?;
    crate::commit(tx).await?;
    Ok(done)
}

/// [`answer`] inside a transaction.
pub async fn answer_in(
    tx: &mut Tx,
    id: DiagnosticId,
    r: &ReponseGardee,
    now: i64,
) -> Result<bool, StoreError> {
    let done = statement!(
        "INSERT INTO reponses_diagnostic (diagnostic_id, rang, question, choix, reponse, \
         repondu_le) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (diagnostic_id, rang) DO NOTHING",
        id.0,
        r.rang,
        &r.question,
        r.choix,
        r.reponse.as_str(),
        now
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps the result of a finished diagnostic, once: a result given is never changed.
pub async fn finish(
    db: &Db,
    id: DiagnosticId,
    resultat: &Resultat,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let done = finish_in(&mut tx, id, resultat, now).await?;
    crate::commit(tx).await?;
    Ok(done)
}

/// [`finish`] inside a transaction.
pub async fn finish_in(
    tx: &mut Tx,
    id: DiagnosticId,
    resultat: &Resultat,
    now: i64,
) -> Result<bool, StoreError> {
    let done = statement!(
        "UPDATE diagnostics SET fini_le = $2, theta_milli = $3, erreur_milli = $4, \
         niveau = $5, domaines = $6 WHERE id = $1 AND fini_le IS NULL",
        id.0,
        now,
        resultat.theta_milli,
        resultat.erreur_milli,
        i64::from(resultat.niveau.0),
        ecrire_domaines(&resultat.domaines)
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The latest diagnostics an agent took in a structure, newest first, at most `limit`.
pub async fn of_agent(
    db: &Db,
    structure: StructureId,
    agent: PersonId,
    limit: i64,
) -> Result<Vec<Diagnostic>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM diagnostics WHERE structure_id = $1 AND agent_id = $2 \
         ORDER BY commence_le DESC, id DESC LIMIT $3"
    );
    let rows = statement!(&sql, structure.0, agent.0, limit)
        .fetch_all(db.pool())
        .await?;
    Ok(rows.iter().map(diagnostic).collect())
}

/// A followed beneficiary's finished diagnostics (those of files merged into theirs too),
/// oldest first.
pub async fn of_beneficiaire(
    db: &Db,
    beneficiaire: BeneficiaireId,
) -> Result<Vec<Diagnostic>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM diagnostics WHERE fini_le IS NOT NULL AND (beneficiaire_id = $1 \
         OR beneficiaire_id IN (SELECT id FROM beneficiaires WHERE fusionne_dans = $1)) \
         ORDER BY fini_le, id"
    );
    let rows = statement!(&sql, beneficiaire.0)
        .fetch_all(db.pool())
        .await?;
    Ok(rows.iter().map(diagnostic).collect())
}

/// A booklet handed from a diagnostic's result screen, and what became of its passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemiseSuivie {
    pub diagnostic: DiagnosticId,
    pub programme: String,
    pub numero: i64,
    pub remis_le: i64,
    pub pass: i64,
    pub utilises: i64,
}

/// The booklets handed from the diagnostics `ids`, in the order they were handed.
pub async fn remises_of(db: &Db, ids: &[DiagnosticId]) -> Result<Vec<RemiseSuivie>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT r.diagnostic_id, p.nom, c.numero, r.remis_le, \
         (SELECT COUNT(*) FROM pass WHERE carnet_id = c.id), \
         (SELECT COUNT(*) FROM pass JOIN utilisations_pass u ON u.pass_id = pass.id \
          WHERE pass.carnet_id = c.id) \
         FROM remises_pass r JOIN carnets c ON c.id = r.carnet_id \
         JOIN programmes_pass p ON p.id = c.programme_id \
         WHERE r.diagnostic_id IN ({}) ORDER BY r.remis_le, c.numero",
        marks.join(", ")
    );
    let mut q = statement!(&sql);
    for id in ids {
        q = q.bind(id.0);
    }
    Ok(q.fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| RemiseSuivie {
            diagnostic: DiagnosticId(r.get(0)),
            programme: r.get(1),
            numero: r.get(2),
            remis_le: r.get(3),
            pass: r.get(4),
            utilises: r.get(5),
        })
        .collect())
}

/// A finished diagnostic of a followed beneficiary, for the statistics of progress: whose,
/// where they live (INSEE code, if they said), and its result.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagnosticSuivi {
    pub beneficiaire: BeneficiaireId,
    pub commune: Option<String>,
    pub fini_le: i64,
    pub resultat: Resultat,
}

/// The finished diagnostics of the beneficiaries a structure follows, or every structure
/// (a merged file counted as the one kept), oldest first.
pub async fn of_files(
    db: &Db,
    structure: Option<StructureId>,
) -> Result<Vec<DiagnosticSuivi>, StoreError> {
    let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("d.{c}")).collect();
    let sql = format!(
        "SELECT {}, COALESCE(b.fusionne_dans, b.id), b.commune FROM diagnostics d \
         JOIN beneficiaires b ON b.id = d.beneficiaire_id \
         WHERE ($1 IS NULL OR b.structure_id = $1) AND d.fini_le IS NOT NULL \
         ORDER BY d.fini_le, d.id",
        columns.join(", ")
    );
    let rows = statement!(&sql, structure.map(|s| s.0))
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let d = diagnostic(r);
            Some(DiagnosticSuivi {
                beneficiaire: BeneficiaireId(r.get(12)),
                commune: r.get(13),
                fini_le: d.fini_le?,
                resultat: d.resultat?,
            })
        })
        .collect())
}

/// The answers of every finished diagnostic, diagnostic by diagnostic: (question, scored
/// right). For the re-estimation of the parameters.
pub async fn finished_answers(db: &Db) -> Result<Vec<Vec<(String, bool)>>, StoreError> {
    let rows = statement!(
        "SELECT r.diagnostic_id, r.question, r.reponse FROM reponses_diagnostic r \
         JOIN diagnostics d ON d.id = r.diagnostic_id WHERE d.fini_le IS NOT NULL \
         ORDER BY r.diagnostic_id, r.rang"
    )
    .fetch_all(db.pool())
    .await?;
    let mut out: Vec<Vec<(String, bool)>> = Vec::new();
    let mut courant = None;
    for r in &rows {
        let id: i64 = r.get(0);
        if courant != Some(id) {
            out.push(Vec::new());
            courant = Some(id);
        }
        if let Some(last) = out.last_mut() {
            last.push((r.get(1), reponse(r.get(2)).juste()));
        }
    }
    Ok(out)
}

/// An item's re-estimated parameters: (question, a, b, answers it was estimated from).
pub type Estime = (String, Parametres, i64);

/// Keeps a run of the re-estimation; its id.
pub async fn save_estimation(
    tx: &mut Tx,
    diagnostics: i64,
    estimes: &[Estime],
    now: i64,
) -> Result<i64, StoreError> {
    let id: i64 = statement!(
        "INSERT INTO estimations_diagnostic (estime_le, diagnostics) VALUES ($1, $2) \
         RETURNING id",
        now,
        diagnostics
    )
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    for (question, p, reponses) in estimes {
        statement!(
            "INSERT INTO parametres_diagnostic (estimation_id, question, \
             discrimination_milli, difficulte_milli, reponses) VALUES ($1, $2, $3, $4, $5)",
            id,
            question,
            (p.a * 1_000.0).round() as i64,
            (p.b * 1_000.0).round() as i64,
            *reponses
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

/// A kept run of the re-estimation.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimation {
    pub id: i64,
    /// Finished diagnostics it read.
    pub diagnostics: i64,
    pub estimes: Vec<Estime>,
}

/// The latest run, if any was kept.
pub async fn latest_estimation(db: &Db) -> Result<Option<Estimation>, StoreError> {
    let Some(id) = latest_estimation_id(db).await? else {
        return Ok(None);
    };
    let diagnostics: i64 = statement!(
        "SELECT diagnostics FROM estimations_diagnostic WHERE id = $1",
        id
    )
    .fetch_one(db.pool())
    .await?
    .get(0);
    let rows = statement!(
        "SELECT question, discrimination_milli, difficulte_milli, reponses \
         FROM parametres_diagnostic WHERE estimation_id = $1 ORDER BY question",
        id
    )
    .fetch_all(db.pool())
    .await?;
    let estimes = rows
        .iter()
        .map(|r| {
            let p = Parametres {
                a: r.get::<i64, _>(1) as f64 / 1_000.0,
                b: r.get::<i64, _>(2) as f64 / 1_000.0,
            };
            (r.get(0), p, r.get(3))
        })
        .collect();
    Ok(Some(Estimation {
        id,
        diagnostics,
        estimes,
    }))
}

/// The latest run's id: what a server checks to know whether its bank is current.
pub async fn latest_estimation_id(db: &Db) -> Result<Option<i64>, StoreError> {
    Ok(statement!("SELECT MAX(id) FROM estimations_diagnostic")
        .fetch_one(db.pool())
        .await?
        .get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_read_back_as_written() {
        let d = vec![
            ResultatDomaine {
                domaine: Domaine::Appareil,
                niveau: Niveau(3),
                acquis: true,
            },
            ResultatDomaine {
                domaine: Domaine::Securite,
                niveau: Niveau(0),
                acquis: false,
            },
        ];
        assert_eq!(lire_domaines(&ecrire_domaines(&d)), d);
    }
}
