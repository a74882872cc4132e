//! Diagnostics: the test under way (its key, its draw, its answers) and its result.

use relais_domain::diagnostic::referentiel::{Domaine, Niveau};
use relais_domain::diagnostic::resultat::{Resultat, ResultatDomaine};
use relais_domain::ids::{BeneficiaireId, DiagnosticId, PersonId, StructureId};
use sqlx::Row;

use crate::{Db, StoreError};

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
    /// How it scored: `juste`, `fausse` or `ne_sait_pas`.
    pub reponse: String,
}

pub async fn create(
    db: &Db,
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
    .fetch_one(db.pool())
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
            reponse: r.get(3),
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
    let done = statement!(
        "INSERT INTO reponses_diagnostic (diagnostic_id, rang, question, choix, reponse, \
         repondu_le) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (diagnostic_id, rang) DO NOTHING",
        id.0,
        r.rang,
        &r.question,
        r.choix,
        &r.reponse,
        now
    )
    .execute(db.pool())
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
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
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
