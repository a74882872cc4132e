//! The diagnostic of basic digital skills: started alone from the public site or with an
//! agent, one question at a time, resumed from its key, its result kept once given.

use std::time::Duration;

use relais_domain::authz::StructureAccess;
use relais_domain::diagnostic::adaptatif::{Passation, REGLES, Reponse};
use relais_domain::diagnostic::banque::Banque;
use relais_domain::diagnostic::resultat::{Resultat, tirage};
use relais_store::diagnostic::{self as repo, Contexte, Diagnostic, ReponseGardee};
use relais_store::{Db, StoreError, sessions};

use crate::comptes::Client;

/// Diagnostics one address may start alone in [`FENETRE`]: a family or a public
/// computer takes a few, a script thousands.
const PAR_ADRESSE: i64 = 30;
const FENETRE: Duration = Duration::from_secs(3_600);

#[derive(Debug, thiserror::Error)]
pub enum DiagnosticError {
    #[error("ce diagnostic n’existe pas : vérifiez l’adresse")]
    Inconnu,
    #[error("trop de diagnostics commencés depuis cette adresse : réessayez dans une heure")]
    TropNombreux,
    #[error("cette réponse ne fait pas partie de la question")]
    ChoixInconnu,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a diagnostic stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Etape {
    /// The question to answer now: its rank (from 0) and its index in the bank.
    Question {
        rang: usize,
        question: usize,
    },
    Fini(Resultat),
}

/// A diagnostic, its answers and where it stands.
#[derive(Debug, Clone)]
pub struct Vue {
    pub diagnostic: Diagnostic,
    pub reponses: Vec<ReponseGardee>,
    pub etape: Etape,
}

/// What the person chose: an answer (its index) or « je ne sais pas ».
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choix {
    Reponse(usize),
    NeSaitPas,
}

fn nouvelle_cle() -> String {
    use rand::Rng;
    data_encoding::BASE32_NOPAD
        .encode(&rand::rng().random::<[u8; 16]>())
        .to_ascii_lowercase()
}

/// Starts a diagnostic: alone (`agent` is `None`, limited per address) or with an agent
/// of a structure. Its key.
pub async fn commencer(
    db: &Db,
    client: &Client,
    agent: Option<&StructureAccess>,
    now: i64,
) -> Result<String, DiagnosticError> {
    let contexte = match agent {
        Some(a) => Contexte {
            structure: Some(a.structure()),
            agent: Some(a.person()),
            beneficiaire: None,
        },
        None => {
            let bucket = format!("diagnostic-ip:{}", client.ip);
            let fenetre = FENETRE.as_millis() as i64;
            if !sessions::admit(db, &bucket, now, fenetre, PAR_ADRESSE).await? {
                return Err(DiagnosticError::TropNombreux);
            }
            Contexte::default()
        }
    };
    let cle = nouvelle_cle();
    let graine = {
        use rand::Rng;
        rand::rng().random::<i64>()
    };
    repo::create(db, &cle, graine, contexte, now).await?;
    Ok(cle)
}

/// The test as its answers left it; answers to a question the bank no longer holds are
/// left out (they cannot be scored).
fn passation(banque: &Banque, reponses: &[ReponseGardee]) -> Passation {
    let donnees: Vec<(usize, Reponse)> = reponses
        .iter()
        .filter_map(|r| {
            let reponse = match r.reponse.as_str() {
                "juste" => Reponse::Juste,
                "fausse" => Reponse::Fausse,
                _ => Reponse::NeSaitPas,
            };
            Some((banque.index(&r.question)?, reponse))
        })
        .collect();
    Passation::reprise(&banque.items, REGLES, &donnees)
}

/// Diagnostic `cle` and where it stands. A test that is over gets its result kept, once.
pub async fn voir(db: &Db, banque: &Banque, cle: &str, now: i64) -> Result<Vue, DiagnosticError> {
    let diagnostic = repo::by_cle(db, cle)
        .await?
        .ok_or(DiagnosticError::Inconnu)?;
    let reponses = repo::reponses(db, diagnostic.id).await?;
    vue(db, banque, diagnostic, reponses, now).await
}

async fn vue(
    db: &Db,
    banque: &Banque,
    mut diagnostic: Diagnostic,
    reponses: Vec<ReponseGardee>,
    now: i64,
) -> Result<Vue, DiagnosticError> {
    if let Some(resultat) = diagnostic.resultat.clone() {
        return Ok(Vue {
            diagnostic,
            reponses,
            etape: Etape::Fini(resultat),
        });
    }
    let p = passation(banque, &reponses);
    let rang = reponses.len();
    let etape = match p.prochaine(&banque.items, tirage(diagnostic.graine, rang)) {
        Some(question) => Etape::Question { rang, question },
        None => {
            let resultat = Resultat::de(&p, &banque.items);
            repo::finish(db, diagnostic.id, &resultat, now).await?;
            // Another request may have finished it first: what is kept is what is shown.
            diagnostic = repo::by_cle(db, &diagnostic.cle)
                .await?
                .ok_or(DiagnosticError::Inconnu)?;
            Etape::Fini(diagnostic.resultat.clone().unwrap_or(resultat))
        }
    };
    Ok(Vue {
        diagnostic,
        reponses,
        etape,
    })
}

/// Answers the question at `rang`, which must be `question` (its id): the same form sent
/// twice, or from an older page, changes nothing and shows where the test stands.
pub async fn repondre(
    db: &Db,
    banque: &Banque,
    cle: &str,
    rang: usize,
    question: &str,
    choix: Choix,
    now: i64,
) -> Result<Vue, DiagnosticError> {
    let v = voir(db, banque, cle, now).await?;
    let Etape::Question {
        rang: attendu,
        question: index,
    } = v.etape
    else {
        return Ok(v);
    };
    let q = &banque.questions[index];
    if rang != attendu || q.id != question {
        return Ok(v);
    }
    let (choix, reponse) = match choix {
        Choix::NeSaitPas => (None, "ne_sait_pas"),
        Choix::Reponse(i) if i >= q.reponses.len() => return Err(DiagnosticError::ChoixInconnu),
        Choix::Reponse(i) if i == q.bonne => (Some(i as i64), "juste"),
        Choix::Reponse(i) => (Some(i as i64), "fausse"),
    };
    let gardee = ReponseGardee {
        rang: rang as i64,
        question: q.id.clone(),
        choix,
        reponse: reponse.into(),
    };
    repo::answer(db, v.diagnostic.id, &gardee, now).await?;
    let reponses = repo::reponses(db, v.diagnostic.id).await?;
    vue(db, banque, v.diagnostic, reponses, now).await
}
