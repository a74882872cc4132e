//! The diagnostic's pages: the start, one question per page (server-rendered, each text
//! with its recording to read it aloud), the result in words with where to learn, and the
//! result sheet to print or send.

use std::sync::OnceLock;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::calendrier::{date_fr, now_ms};
use relais_domain::diagnostic::banque::{self, Banque, Question};
use relais_domain::diagnostic::referentiel::{Domaine, Niveau};
use relais_domain::diagnostic::resultat::{Resultat, ResultatDomaine};
use relais_domain::ids::{BeneficiaireId, StructureId};
use relais_services::diagnostic::{
    self as svc, BanqueServie, Choix, DiagnosticError, Etape, Pour, ProgresTerritoire, Vue,
};
use relais_store::diagnostic::Diagnostic;

use crate::AppState;
use crate::auth::{Authenticated, CsrfForm, InStructure, Orienteurs, RequiredRoles};
use crate::comptes::ClientInfo;
use crate::comptes::capitalized;
use crate::error::{error_page, internal};
use crate::pages::{Page, PageContext, render};

/// The bank served: the one compiled in, with its illustrations (it passes its lint, a test
/// says so), and the parameters of the latest re-estimation over it.
pub fn banques() -> &'static BanqueServie {
    static BANQUES: OnceLock<BanqueServie> = OnceLock::new();
    BANQUES.get_or_init(|| {
        let toml = include_str!("../../../data/diagnostic/questions.toml");
        let svg = |name: &str| {
            crate::assets::bytes(&format!("diagnostic/illustrations/{name}"))
                .and_then(|b| std::str::from_utf8(b).ok())
        };
        match banque::lire(toml, svg) {
            Ok(questions) => BanqueServie::new(Banque::new(questions)),
            Err(erreurs) => panic!("banque de questions invalide : {erreurs:?}"),
        }
    })
}

/// The bank compiled in.
pub fn banque() -> &'static Banque {
    banques().base()
}

/// The sentences of the pages that are read aloud, besides the bank's texts: each has its
/// recording (`scripts/voix`, from `data/diagnostic/phrases.txt`).
pub fn phrases() -> Vec<String> {
    let mut p = vec![NE_SAIT_PAS.to_string(), CONSIGNE.to_string()];
    for d in Domaine::ALL {
        for acquis in [true, false] {
            p.push(
                ResultatDomaine {
                    domaine: *d,
                    niveau: Niveau(0),
                    acquis,
                }
                .phrase(),
            );
        }
    }
    for n in 0..=Niveau::MAX {
        p.push(phrase_niveau(Niveau(n)));
    }
    p
}

const NE_SAIT_PAS: &str = "Je ne sais pas";
const CONSIGNE: &str = "Ce diagnostic compte de dix à vingt questions. Prenez votre temps. \
                        Si vous ne savez pas, choisissez « Je ne sais pas ».";

fn phrase_niveau(n: Niveau) -> String {
    format!("Votre niveau : {}.", n.label())
}

/// The recording of `texte`, named after its SHA-256 (see `scripts/voix`).
pub fn voix(assets: &str, texte: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(texte.as_bytes());
    format!(
        "{assets}/diagnostic/voix/{}.mp3",
        &data_encoding::HEXLOWER.encode(&h)[..16]
    )
}

#[derive(Template)]
#[template(path = "diagnostic.html")]
pub struct AccueilPage {
    pub ctx: PageContext,
    pub consigne: &'static str,
    pub refus: Option<String>,
}

impl AccueilPage {
    fn voix(&self, texte: &str) -> String {
        voix(&self.ctx.assets, texte)
    }
}

/// `GET /diagnostic`
pub async fn accueil(Page(_, ctx): Page) -> Response {
    render(AccueilPage {
        ctx,
        consigne: CONSIGNE,
        refus: None,
    })
}

#[derive(serde::Deserialize)]
pub struct Debut {}

/// `POST /diagnostic`: starts a diagnostic alone.
pub async fn commencer(
    Page(state, ctx): Page,
    ClientInfo(client): ClientInfo,
    CsrfForm(_): CsrfForm<Debut>,
) -> Response {
    match svc::commencer(&state.db, &client, now_ms()).await {
        Ok(cle) => Redirect::to(&format!("/diagnostic/{cle}")).into_response(),
        Err(e @ DiagnosticError::TropNombreux) => (
            StatusCode::TOO_MANY_REQUESTS,
            render(AccueilPage {
                ctx,
                consigne: CONSIGNE,
                refus: Some(capitalized(&e)),
            }),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Template)]
#[template(path = "diagnostic_question.html")]
pub struct QuestionPage {
    pub ctx: PageContext,
    pub cle: String,
    pub rang: usize,
    pub q: Question,
    pub ne_sait_pas: &'static str,
    pub erreur: Option<String>,
}

impl QuestionPage {
    fn voix(&self, texte: &str) -> String {
        voix(&self.ctx.assets, texte)
    }
}

/// A question of the test as the result recalls it.
pub struct Rappel {
    pub q: Question,
    /// The answer chosen, `None` for « je ne sais pas ».
    pub choisie: Option<String>,
    pub juste: bool,
}

#[derive(Template)]
#[template(path = "diagnostic_resultat.html")]
pub struct ResultatPage {
    pub ctx: PageContext,
    pub cle: String,
    pub date: String,
    pub niveau: String,
    pub pix: &'static str,
    pub acquis: Vec<String>,
    pub a_travailler: Vec<String>,
    /// The lieux search for the first service the result suggests.
    pub recherche_lieux: String,
    /// The commune typed to find lieux near it, and what was found: its name and the
    /// lieux, free ones first (`None`: no such commune).
    pub commune: String,
    pub orientation: Option<Option<(String, Vec<svc::LieuPropose>)>>,
    pub rappels: Vec<Rappel>,
    /// The sheet to print or send rather than the page.
    pub fiche: bool,
    /// What the agent who took it with the person may do from here.
    pub agent: Option<ActionsAgent>,
}

/// What the agent who took a diagnostic with the person may do from its result.
pub struct ActionsAgent {
    pub structure_id: StructureId,
    /// The activity form, filled for a diagnostic (mediators).
    pub activite: Option<String>,
    /// The person's file, when the result joined it (mediators who may see it).
    pub fiche: Option<String>,
    /// Their commune, as their file has it: the hand-out's, unless changed.
    pub commune: String,
    /// The programmes whose booklets the structure hands out, with some left
    /// (prescripteurs): a booklet is handed from the result.
    pub programmes: Vec<crate::activites::Choix>,
}

impl ResultatPage {
    fn voix(&self, texte: &str) -> String {
        voix(&self.ctx.assets, texte)
    }

    fn courriel(&self) -> String {
        format!(
            "mailto:?subject={}&body={}",
            crate::auth::urlencode("Mon diagnostic numérique"),
            crate::auth::urlencode(&format!(
                "Mon résultat au diagnostic numérique de Relais : /diagnostic/{}/fiche",
                self.cle
            ))
        )
    }
}

fn lignes<'a>(it: impl Iterator<Item = &'a ResultatDomaine>) -> Vec<String> {
    it.map(ResultatDomaine::phrase).collect()
}

/// Where the person lives, typed on the result to find lieux near it.
#[derive(serde::Deserialize, Default)]
pub struct Ou {
    #[serde(default)]
    commune: String,
}

fn resultat_page(
    state: &AppState,
    ctx: PageContext,
    v: &Vue,
    r: &Resultat,
    fiche: bool,
    agent: Option<ActionsAgent>,
    ou: &Ou,
) -> ResultatPage {
    let b = &v.banque;
    let rappels = v
        .reponses
        .iter()
        .filter_map(|rep| {
            let q = &b.questions[b.index(&rep.question)?];
            Some(Rappel {
                q: q.clone(),
                choisie: rep.choix.and_then(|i| q.reponses.get(i as usize)).cloned(),
                juste: rep.reponse.juste(),
            })
        })
        .collect();
    ResultatPage {
        ctx,
        cle: v.diagnostic.cle.clone(),
        date: date_fr(v.diagnostic.fini_le.unwrap_or(v.diagnostic.commence_le)),
        niveau: phrase_niveau(r.niveau),
        pix: r.niveau.pix(),
        acquis: lignes(r.acquis()),
        a_travailler: lignes(r.a_travailler()),
        recherche_lieux: format!(
            "/lieux?services={}",
            crate::auth::urlencode(r.services_a_suivre()[0].as_str())
        ),
        commune: ou.commune.trim().chars().take(60).collect(),
        orientation: (!ou.commune.trim().is_empty())
            .then(|| svc::orientation(&state.lieux, &state.territoires, r, ou.commune.trim(), 5)),
        rappels,
        fiche,
        agent,
    }
}

/// The actions of the viewer on the result of `d`, if they are an agent of the structure it
/// was taken with.
async fn actions_agent(
    state: &AppState,
    parts: &mut Parts,
    d: &Diagnostic,
) -> Option<ActionsAgent> {
    let structure = d.contexte.structure?;
    let caller = crate::auth::caller(parts, state).await.ok()??;
    let access = caller.actor.structure(structure, Orienteurs::ROLES).ok()?;
    let mediateur = caller.actor.mediateur(structure).ok();
    // The person's file, if the viewer may see it: its link, and their commune for the
    // booklet's hand-out.
    let fiche = match (&mediateur, d.contexte.beneficiaire) {
        (Some(m), Some(b)) => relais_services::activites::beneficiaires::fiche(&state.db, m, b)
            .await
            .ok(),
        _ => None,
    };
    let programmes = if access
        .roles()
        .contains(&relais_domain::comptes::Role::Prescripteur)
    {
        relais_services::pass::a_remettre(&state.db, structure)
            .await
            .ok()?
            .into_iter()
            .filter(|(_, _, reste)| *reste > 0)
            .map(|(id, nom, reste)| crate::activites::Choix {
                value: id.to_string(),
                label: format!("{nom} ({reste} carnet(s) à remettre)"),
                checked: false,
            })
            .collect()
    } else {
        Vec::new()
    };
    Some(ActionsAgent {
        structure_id: structure,
        activite: mediateur.is_some().then(|| {
            let mut url = format!(
                "/structures/{structure}/activites/nouvelle?type_activite=individuel&thematiques=diagnostic_numerique"
            );
            if let Some(f) = &fiche {
                url.push_str(&format!("&suivis={}", f.id));
            }
            url
        }),
        commune: fiche
            .as_ref()
            .and_then(|f| f.commune.clone())
            .unwrap_or_default(),
        fiche: fiche.map(|f| format!("/structures/{structure}/beneficiaires/{}", f.id)),
        programmes,
    })
}

fn inconnu(ctx: &PageContext) -> Response {
    error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Diagnostic introuvable",
        "Ce diagnostic n’existe pas : vérifiez l’adresse, ou commencez un nouveau diagnostic.",
    )
}

fn page(
    state: &AppState,
    ctx: PageContext,
    v: Vue,
    erreur: Option<String>,
    agent: Option<ActionsAgent>,
    ou: &Ou,
) -> Response {
    match &v.etape {
        Etape::Question { rang, question } => {
            let page = QuestionPage {
                ctx,
                cle: v.diagnostic.cle.clone(),
                rang: *rang,
                q: v.banque.questions[*question].clone(),
                ne_sait_pas: NE_SAIT_PAS,
                erreur: erreur.clone(),
            };
            match erreur {
                Some(_) => (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response(),
                None => render(page),
            }
        }
        Etape::Fini(r) => render(resultat_page(state, ctx, &v, r, false, agent, ou)),
    }
}

/// `GET /diagnostic/{cle}`: the question to answer, or the result.
pub async fn question(
    Page(state, ctx): Page,
    Path(cle): Path<String>,
    Query(ou): Query<Ou>,
    mut parts: Parts,
) -> Response {
    match svc::voir(&state.db, banques(), &cle, now_ms()).await {
        Ok(v) => {
            let agent = match v.etape {
                Etape::Fini(_) => actions_agent(&state, &mut parts, &v.diagnostic).await,
                Etape::Question { .. } => None,
            };
            page(&state, ctx, v, None, agent, &ou)
        }
        Err(DiagnosticError::Inconnu) => inconnu(&ctx),
        Err(e) => internal(e),
    }
}

#[derive(serde::Deserialize)]
pub struct Envoi {
    rang: usize,
    question: String,
    #[serde(default)]
    choix: String,
}

/// `POST /diagnostic/{cle}`: an answer; then the next question, or the result.
pub async fn repondre(
    Page(state, ctx): Page,
    Path(cle): Path<String>,
    CsrfForm(envoi): CsrfForm<Envoi>,
) -> Response {
    let choix = match envoi.choix.as_str() {
        "nsp" => Some(Choix::NeSaitPas),
        c => c.parse().ok().map(Choix::Reponse),
    };
    let Some(choix) = choix else {
        let m = "Choisissez une réponse, ou « Je ne sais pas ».";
        return question_en_erreur(&state, ctx, &cle, m).await;
    };
    let r = svc::repondre(
        &state.db,
        banques(),
        &cle,
        envoi.rang,
        &envoi.question,
        choix,
        now_ms(),
    )
    .await;
    match r {
        Ok(_) => Redirect::to(&format!("/diagnostic/{cle}")).into_response(),
        Err(DiagnosticError::Inconnu) => inconnu(&ctx),
        Err(DiagnosticError::ChoixInconnu) => {
            let m = "Cette réponse ne fait pas partie de la question : choisissez-en une.";
            question_en_erreur(&state, ctx, &cle, m).await
        }
        Err(e) => internal(e),
    }
}

/// The question to answer again, with what was wrong in the form sent.
async fn question_en_erreur(state: &AppState, ctx: PageContext, cle: &str, m: &str) -> Response {
    match svc::voir(&state.db, banques(), cle, now_ms()).await {
        Ok(v) => page(state, ctx, v, Some(m.into()), None, &Ou::default()),
        Err(DiagnosticError::Inconnu) => inconnu(&ctx),
        Err(e) => internal(e),
    }
}

/// `GET /diagnostic/{cle}/fiche`: the result sheet, to print or send.
pub async fn fiche(
    Page(state, ctx): Page,
    Path(cle): Path<String>,
    Query(ou): Query<Ou>,
) -> Response {
    match svc::voir(&state.db, banques(), &cle, now_ms()).await {
        Ok(v) => match &v.etape {
            Etape::Fini(r) => render(resultat_page(&state, ctx, &v, r, true, None, &ou)),
            Etape::Question { .. } => Redirect::to(&format!("/diagnostic/{cle}")).into_response(),
        },
        Err(DiagnosticError::Inconnu) => inconnu(&ctx),
        Err(e) => internal(e),
    }
}

// --- with an agent ------------------------------------------------------------------------

/// One of the agent's diagnostics, as their list shows it.
pub struct LigneDiagnostic {
    pub date: String,
    pub cle: String,
    /// The person's name, when it joined a file the agent may see.
    pub personne: Option<String>,
    /// « Votre niveau : … », or « En cours ».
    pub etat: String,
}

#[derive(Template)]
#[template(path = "diagnostics_structure.html")]
pub struct StructurePage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub nom: String,
    /// The files the agent may join a result to (mediators): id and name.
    pub fiches: Vec<crate::activites::Choix>,
    pub consentement: bool,
    pub erreur: Option<String>,
    pub diagnostics: Vec<LigneDiagnostic>,
    pub progres: Vec<ProgresTerritoire>,
}

#[derive(serde::Deserialize, Default)]
pub struct DebutAvec {
    #[serde(default)]
    beneficiaire: String,
    #[serde(default)]
    consentement: String,
}

async fn structure_page(
    state: &AppState,
    ctx: PageContext,
    access: &relais_domain::authz::StructureAccess,
    actor: &relais_domain::authz::Actor,
    envoi: &DebutAvec,
    erreur: Option<String>,
) -> Response {
    let nom = match crate::pages::structure_name(state, access).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    let fiches = match actor.mediateur(access.structure()) {
        Ok(m) => match relais_services::activites::beneficiaires::fichier(&state.db, &m).await {
            Ok((fiches, _)) => fiches,
            Err(e) => return internal(e),
        },
        Err(_) => Vec::new(),
    };
    let (diagnostics, progres) = match (
        svc::mes_diagnostics(&state.db, access).await,
        svc::progres(&state.db, access, &state.territoires).await,
    ) {
        (Ok(d), Ok(p)) => (d, p),
        (Err(e), _) | (_, Err(e)) => return internal(e),
    };
    let nom_de = |b: BeneficiaireId| {
        fiches
            .iter()
            .find(|f| f.id == b)
            .map(|f| format!("{} {}", f.prenom, f.nom))
    };
    let diagnostics = diagnostics
        .iter()
        .map(|d| LigneDiagnostic {
            date: date_fr(d.commence_le),
            cle: d.cle.clone(),
            personne: d.contexte.beneficiaire.and_then(nom_de),
            etat: d
                .resultat
                .as_ref()
                .map_or_else(|| "En cours".to_string(), |r| phrase_niveau(r.niveau)),
        })
        .collect();
    let fiches = fiches
        .iter()
        .map(|f| crate::activites::Choix {
            value: f.id.to_string(),
            label: format!("{} {}", f.prenom, f.nom),
            checked: envoi.beneficiaire == f.id.to_string(),
        })
        .collect();
    let page = StructurePage {
        ctx,
        structure_id: access.structure(),
        nom,
        fiches,
        consentement: envoi.consentement == "oui",
        erreur: erreur.clone(),
        diagnostics,
        progres,
    };
    match erreur {
        Some(_) => (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response(),
        None => render(page),
    }
}

/// `GET /structures/{id}/diagnostics`: start a diagnostic with a person; the agent's
/// latest; the progress of the people the structure follows.
pub async fn structure(
    Page(state, ctx): Page,
    guard: InStructure<Orienteurs>,
    auth: Authenticated,
) -> Response {
    structure_page(
        &state,
        ctx,
        &guard.access,
        &auth.actor,
        &DebutAvec::default(),
        None,
    )
    .await
}

/// `POST /structures/{id}/diagnostics`: starts one with the person, joined to their file if
/// one is chosen and they agree.
pub async fn commencer_avec(
    Page(state, ctx): Page,
    guard: InStructure<Orienteurs>,
    auth: Authenticated,
    CsrfForm(envoi): CsrfForm<DebutAvec>,
) -> Response {
    let access = &guard.access;
    let mediateur = auth.actor.mediateur(access.structure()).ok();
    let pour = match (envoi.beneficiaire.trim(), &mediateur) {
        ("", _) => None,
        (b, Some(m)) => match b.parse::<BeneficiaireId>() {
            Ok(beneficiaire) => Some(Pour {
                mediateur: m,
                beneficiaire,
                consentement: envoi.consentement == "oui",
            }),
            Err(_) => {
                let e = capitalized(&DiagnosticError::BeneficiaireInconnu);
                return structure_page(&state, ctx, access, &auth.actor, &envoi, Some(e)).await;
            }
        },
        (_, None) => {
            let e = capitalized(&DiagnosticError::BeneficiaireInconnu);
            return structure_page(&state, ctx, access, &auth.actor, &envoi, Some(e)).await;
        }
    };
    match svc::commencer_avec(&state.db, access, pour, now_ms()).await {
        Ok(cle) => Redirect::to(&format!("/diagnostic/{cle}")).into_response(),
        Err(DiagnosticError::Store(e)) => internal(e),
        Err(e) => {
            let e = capitalized(&e);
            structure_page(&state, ctx, access, &auth.actor, &envoi, Some(e)).await
        }
    }
}
