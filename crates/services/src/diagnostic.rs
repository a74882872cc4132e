//! The diagnostic of basic digital skills: started alone from the public site or with an
//! agent, one question at a time, resumed from its key, its result kept once given.

use std::time::Duration;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use relais_domain::authz::{MediateurAccess, StructureAccess};
use relais_domain::diagnostic::adaptatif::{Passation, REGLES, Reponse};
use relais_domain::diagnostic::banque::Banque;
use relais_domain::diagnostic::calibration::{self, Reglage};
use relais_domain::diagnostic::resultat::{Progres, Resultat, tirage};
use relais_domain::ids::{BeneficiaireId, LieuId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_domain::lieux::vocabulaires::Frais;
use relais_search::TerritoryIndex;
use relais_store::diagnostic::{self as repo, Contexte, Diagnostic, RemiseSuivie, ReponseGardee};
use relais_store::{Db, StoreError, journal, sessions};

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
    #[error("cette personne n’est pas dans les fiches que vous pouvez voir")]
    BeneficiaireInconnu,
    #[error(
        "la personne doit accepter que son résultat rejoigne sa fiche : cochez la case, ou \
         commencez sans choisir de fiche"
    )]
    ConsentementManquant,
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

/// A diagnostic, its answers and where it stands, with the bank it is taken on.
#[derive(Debug, Clone)]
pub struct Vue {
    pub banque: Arc<Banque>,
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

/// Starts a diagnostic alone, from the public site: 30 an hour per address. Its key.
pub async fn commencer(db: &Db, client: &Client, now: i64) -> Result<String, DiagnosticError> {
    let bucket = format!("diagnostic-ip:{}", client.ip);
    let fenetre = FENETRE.as_millis() as i64;
    if !sessions::admit(db, &bucket, now, fenetre, PAR_ADRESSE).await? {
        return Err(DiagnosticError::TropNombreux);
    }
    creer(db, Contexte::default(), None, now).await
}

/// Whom a diagnostic taken with a mediator is for: a person of their file who agreed that
/// the result joins it.
#[derive(Debug, Clone, Copy)]
pub struct Pour<'a> {
    pub mediateur: &'a MediateurAccess,
    pub beneficiaire: BeneficiaireId,
    pub consentement: bool,
}

/// Starts a diagnostic with an agent of a structure, for a followed person or not. Its key.
pub async fn commencer_avec(
    db: &Db,
    access: &StructureAccess,
    pour: Option<Pour<'_>>,
    now: i64,
) -> Result<String, DiagnosticError> {
    let mut contexte = Contexte {
        structure: Some(access.structure()),
        agent: Some(access.person()),
        beneficiaire: None,
    };
    let mut entree = None;
    if let Some(pour) = pour {
        let fiche = crate::activites::beneficiaires::fiche(db, pour.mediateur, pour.beneficiaire)
            .await
            .map_err(|_| DiagnosticError::BeneficiaireInconnu)?;
        if fiche.structure != access.structure() {
            return Err(DiagnosticError::BeneficiaireInconnu);
        }
        if !pour.consentement {
            return Err(DiagnosticError::ConsentementManquant);
        }
        contexte.beneficiaire = Some(fiche.id);
        entree = Some(
            NewEntry::new(
                JournalAction::DiagnosticJoined,
                "beneficiaire",
                fiche.id.to_string(),
            )
            .by(access.person(), Some(access.structure()))
            .in_structure(access.structure()),
        );
    }
    creer(db, contexte, entree, now).await
}

async fn creer(
    db: &Db,
    contexte: Contexte,
    entree: Option<NewEntry>,
    now: i64,
) -> Result<String, DiagnosticError> {
    let cle = nouvelle_cle();
    let graine = {
        use rand::Rng;
        rand::rng().random::<i64>()
    };
    let mut tx = db.begin().await?;
    let id = repo::create(&mut tx, &cle, graine, contexte, now).await?;
    if let Some(e) = entree {
        let details = serde_json::json!({ "diagnostic": id.0 }).to_string();
        journal::append(&mut tx, &e.with_details(details)).await?;
    }
    relais_store::commit(tx).await?;
    Ok(cle)
}

/// The test as its answers left it; answers to a question the bank no longer holds are
/// left out (they cannot be scored).
fn passation(banque: &Banque, reponses: &[ReponseGardee]) -> Passation {
    let donnees: Vec<(usize, Reponse)> = reponses
        .iter()
        .filter_map(|r| Some((banque.index(&r.question)?, r.reponse)))
        .collect();
    Passation::reprise(&banque.items, REGLES, &donnees)
}

/// Diagnostic `cle` and where it stands, on the bank served now. A test that is over gets
/// its result kept, once.
pub async fn voir(
    db: &Db,
    banques: &BanqueServie,
    cle: &str,
    now: i64,
) -> Result<Vue, DiagnosticError> {
    let banque = banques.actuelle(db).await?;
    let diagnostic = repo::by_cle(db, cle)
        .await?
        .ok_or(DiagnosticError::Inconnu)?;
    let reponses = repo::reponses(db, diagnostic.id).await?;
    vue(db, banque, diagnostic, reponses, now).await
}

async fn vue(
    db: &Db,
    banque: Arc<Banque>,
    mut diagnostic: Diagnostic,
    reponses: Vec<ReponseGardee>,
    now: i64,
) -> Result<Vue, DiagnosticError> {
    if let Some(resultat) = diagnostic.resultat.clone() {
        return Ok(Vue {
            banque,
            diagnostic,
            reponses,
            etape: Etape::Fini(resultat),
        });
    }
    let p = passation(&banque, &reponses);
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
        banque,
        diagnostic,
        reponses,
        etape,
    })
}

/// Answers the question at `rang`, which must be `question` (its id): the same form sent
/// twice, or from an older page, changes nothing and shows where the test stands.
pub async fn repondre(
    db: &Db,
    banques: &BanqueServie,
    cle: &str,
    rang: usize,
    question: &str,
    choix: Choix,
    now: i64,
) -> Result<Vue, DiagnosticError> {
    let v = voir(db, banques, cle, now).await?;
    let Etape::Question {
        rang: attendu,
        question: index,
    } = v.etape
    else {
        return Ok(v);
    };
    let q = &v.banque.questions[index];
    if rang != attendu || q.id != question {
        return Ok(v);
    }
    let (choix, reponse) = match choix {
        Choix::NeSaitPas => (None, Reponse::NeSaitPas),
        Choix::Reponse(i) if i >= q.reponses.len() => return Err(DiagnosticError::ChoixInconnu),
        Choix::Reponse(i) if i == q.bonne => (Some(i as i64), Reponse::Juste),
        Choix::Reponse(i) => (Some(i as i64), Reponse::Fausse),
    };
    let gardee = ReponseGardee {
        rang: rang as i64,
        question: q.id.clone(),
        choix,
        reponse,
    };
    repo::answer(db, v.diagnostic.id, &gardee, now).await?;
    let reponses = repo::reponses(db, v.diagnostic.id).await?;
    vue(db, v.banque, v.diagnostic, reponses, now).await
}

/// The latest diagnostics the agent took in their structure, newest first.
pub async fn mes_diagnostics(
    db: &Db,
    access: &StructureAccess,
) -> Result<Vec<Diagnostic>, StoreError> {
    repo::of_agent(db, access.structure(), access.person(), 50).await
}

/// A followed person's diagnostics, the booklets handed from them, and what they gained
/// from the first to the last.
#[derive(Debug, Clone)]
pub struct Parcours {
    pub diagnostics: Vec<Diagnostic>,
    pub remises: Vec<RemiseSuivie>,
    pub progres: Option<Progres>,
}

/// The path of the person of file `beneficiaire`, which the mediator may see.
pub async fn parcours(
    db: &Db,
    access: &MediateurAccess,
    beneficiaire: BeneficiaireId,
) -> Result<Parcours, DiagnosticError> {
    crate::activites::beneficiaires::fiche(db, access, beneficiaire)
        .await
        .map_err(|_| DiagnosticError::BeneficiaireInconnu)?;
    let diagnostics = repo::of_beneficiaire(db, beneficiaire).await?;
    let ids: Vec<_> = diagnostics.iter().map(|d| d.id).collect();
    let remises = repo::remises_of(db, &ids).await?;
    let resultats: Vec<&Resultat> = diagnostics
        .iter()
        .filter_map(|d| d.resultat.as_ref())
        .collect();
    let progres = match resultats.as_slice() {
        [premier, .., dernier] => Some(dernier.progres_depuis(premier)),
        _ => None,
    };
    Ok(Parcours {
        diagnostics,
        remises,
        progres,
    })
}

/// Among a territory's followed people who took two diagnostics or more, how many
/// progressed from their first to their last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgresTerritoire {
    /// « 42 — Loire », or « Commune non renseignée ».
    pub territoire: String,
    pub personnes: usize,
    pub progresse: usize,
}

/// The progress of the people the structure follows, per département where they live.
pub async fn progres(
    db: &Db,
    access: &StructureAccess,
    territoires: &TerritoryIndex,
) -> Result<Vec<ProgresTerritoire>, StoreError> {
    let suivis = repo::of_files(db, Some(access.structure())).await?;
    Ok(par_departement(suivis, territoires))
}

/// The progress of the people every structure follows who live in `communes` (INSEE codes;
/// empty: everywhere), per département: the territorial statistics.
pub async fn progres_territoire(
    db: &Db,
    territoires: &TerritoryIndex,
    communes: &std::collections::BTreeSet<String>,
) -> Result<Vec<ProgresTerritoire>, StoreError> {
    let suivis = repo::of_files(db, None)
        .await?
        .into_iter()
        .filter(|d| communes.is_empty() || d.commune.as_ref().is_some_and(|c| communes.contains(c)))
        .collect();
    Ok(par_departement(suivis, territoires))
}

fn par_departement(
    suivis: Vec<repo::DiagnosticSuivi>,
    territoires: &TerritoryIndex,
) -> Vec<ProgresTerritoire> {
    let mut par_personne: BTreeMap<BeneficiaireId, Vec<repo::DiagnosticSuivi>> = BTreeMap::new();
    for d in suivis {
        par_personne.entry(d.beneficiaire).or_default().push(d);
    }
    let mut par_territoire: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for suivis in par_personne.values() {
        let [premier, .., dernier] = suivis.as_slice() else {
            continue;
        };
        let territoire = dernier
            .commune
            .as_deref()
            .and_then(|c| territoires.chain(c))
            .and_then(|chain| chain.departement)
            .map_or_else(
                || "Commune non renseignée".to_string(),
                |d| format!("{} — {}", d.code, d.nom),
            );
        let compte = par_territoire.entry(territoire).or_default();
        compte.0 += 1;
        if dernier
            .resultat
            .progres_depuis(&premier.resultat)
            .progresse()
        {
            compte.1 += 1;
        }
    }
    par_territoire
        .into_iter()
        .map(|(territoire, (personnes, progresse))| ProgresTerritoire {
            territoire,
            personnes,
            progresse,
        })
        .collect()
}

/// A lieu where a person may learn what their result suggests.
#[derive(Debug, Clone, PartialEq)]
pub struct LieuPropose {
    pub id: LieuId,
    pub nom: String,
    pub adresse: String,
    pub distance_km: f64,
    pub gratuit: bool,
}

/// Up to `n` lieux near the commune `commune` (INSEE or postal code, or its name) that
/// teach the first service `r` suggests: the free ones first, then the others, nearest
/// first in each. `None` when no commune with a position answers to `commune`.
pub fn orientation(
    lieux: &crate::lieux::recherche::Lieux,
    territoires: &TerritoryIndex,
    r: &Resultat,
    commune: &str,
    n: usize,
) -> Option<(String, Vec<LieuPropose>)> {
    let commune = territoires.search(commune, 1).into_iter().next()?.commune;
    let point = commune.position?;
    let service = r.services_a_suivre()[0];
    let recherche = lieux.get();
    let filtre = |frais: Vec<Frais>| relais_search::lieux::Filter {
        services: vec![service],
        frais,
        ..Default::default()
    };
    let gratuits = recherche
        .index
        .nearest(point, n, &filtre(vec![Frais::Gratuit]));
    let tous = recherche.index.nearest(point, n, &filtre(Vec::new()));
    let mut vus = std::collections::BTreeSet::new();
    let proposes = gratuits
        .iter()
        .map(|&(i, d)| (i, d, true))
        .chain(tous.iter().map(|&(i, d)| (i, d, false)))
        .filter(|(i, _, _)| vus.insert(*i))
        .take(n)
        .map(|(i, d, gratuit)| {
            let s = &recherche.summaries[i];
            LieuPropose {
                id: recherche.index.lieu(i).id.clone(),
                nom: s.nom.clone(),
                adresse: format!("{}, {} {}", s.adresse, s.code_postal, s.commune),
                distance_km: d / 1_000.0,
                gratuit,
            }
        })
        .collect();
    Some((commune.nom.clone(), proposes))
}

// --- the parameters re-estimated ----------------------------------------------------------

/// When the parameters are re-estimated: finished diagnostics needed, and answers an item
/// needs to be re-estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seuils {
    pub diagnostics: usize,
    pub reponses: usize,
}

/// Relais' thresholds: enough answers for an item's two parameters to be estimated within
/// about 0.2 logit.
pub const SEUILS: Seuils = Seuils {
    diagnostics: 500,
    reponses: 200,
};

/// The bank served: the one compiled in, with the parameters of the latest re-estimation
/// over it; reloaded when a new run is kept (one small read a page to know).
pub struct BanqueServie {
    base: Banque,
    courante: RwLock<(Option<i64>, Arc<Banque>)>,
}

impl BanqueServie {
    pub fn new(base: Banque) -> BanqueServie {
        let courante = RwLock::new((None, Arc::new(base.clone())));
        BanqueServie { base, courante }
    }

    /// The bank compiled in.
    pub fn base(&self) -> &Banque {
        &self.base
    }

    pub async fn actuelle(&self, db: &Db) -> Result<Arc<Banque>, StoreError> {
        let id = repo::latest_estimation_id(db).await?;
        {
            let c = self
                .courante
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if c.0 == id {
                return Ok(c.1.clone());
            }
        }
        let estimes: Vec<(String, relais_domain::diagnostic::irt::Parametres)> =
            match repo::latest_estimation(db).await? {
                Some(e) => e.estimes.into_iter().map(|(q, p, _)| (q, p)).collect(),
                None => Vec::new(),
            };
        let banque = Arc::new(self.base.avec(&estimes));
        *self
            .courante
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (id, banque.clone());
        Ok(banque)
    }
}

/// Re-estimates the parameters from the answers of the finished diagnostics (a daily job),
/// once there are `seuils.diagnostics` and more than at the last run, starting from those
/// served; keeps the run. How many items it re-estimated (`None`: not run).
pub async fn reestimer(
    db: &Db,
    banque: &BanqueServie,
    seuils: Seuils,
    now: i64,
) -> Result<Option<usize>, StoreError> {
    let diagnostics = repo::finished_answers(db).await?;
    let deja = repo::latest_estimation(db)
        .await?
        .map_or(0, |e| e.diagnostics);
    if diagnostics.len() < seuils.diagnostics || diagnostics.len() as i64 <= deja {
        return Ok(None);
    }
    let servie = banque.actuelle(db).await?;
    let personnes: Vec<Vec<(usize, bool)>> = diagnostics
        .iter()
        .map(|d| {
            d.iter()
                .filter_map(|(q, juste)| Some((servie.index(q)?, *juste)))
                .collect()
        })
        .collect();
    let depart: Vec<_> = servie.items.iter().map(|i| i.parametres).collect();
    let estimes = calibration::reestimer(
        &depart,
        &personnes,
        Reglage {
            ecart_a_priori: REGLES.ecart_a_priori,
            minimum: seuils.reponses,
            tours: 20,
        },
    );
    let mut reponses = vec![0i64; depart.len()];
    for p in &personnes {
        for &(i, _) in p {
            reponses[i] += 1;
        }
    }
    let gardes: Vec<repo::Estime> = estimes
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((servie.questions[i].id.clone(), (*e)?, reponses[i])))
        .collect();
    let mut tx = db.begin().await?;
    repo::save_estimation(&mut tx, diagnostics.len() as i64, &gardes, now).await?;
    relais_store::commit(tx).await?;
    Ok(Some(gardes.len()))
}
