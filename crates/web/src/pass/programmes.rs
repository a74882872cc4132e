//! The référents' pages: the programmes their structure runs and its applications to
//! others' (`/structures/{id}/pass`), a new programme, and a programme's page where its
//! owner decides applications and issues booklets.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::calendrier::{date_fr, now_ms, parse_date_iso};
use relais_domain::ids::{ProgrammeId, QualificationId, StructureId};
use relais_domain::pass::entonnoir::Entonnoir;
use relais_domain::pass::programme::{
    FinanceurSaisi, NiveauTerritoire, ProgrammeSaisi, Public, ServicePass,
};
use relais_domain::pass::reglement::euros;
use relais_services::pass::{self as svc, DemandeQualification, PassError};
use relais_store::pass as repo;
use serde::Deserialize;

use crate::activites::{Choix, choices};
use crate::auth::{CsrfForm, InStructure, Referents};
use crate::error::{gone, internal};
use crate::pages::{Disposition, Page, PageContext, fichier, render};

/// One of the structure's applications, as its page lists it.
pub struct Candidature {
    pub programme: String,
    pub statut: &'static str,
    pub motif: String,
}

#[derive(Template)]
#[template(path = "pass.html")]
pub struct HubPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub programmes: Vec<(ProgrammeId, String)>,
    pub candidatures: Vec<Candidature>,
    /// The programmes it may apply to: (id, « name (runner) »).
    pub ouverts: Vec<Choix>,
    pub services: Vec<Choix>,
    pub message: Option<String>,
    pub erreur: Option<String>,
}

impl HubPage {
    /// Errors of the application are said above the form.
    fn aucune(&self) -> Option<&str> {
        None
    }
}

fn statut(s: &str) -> &'static str {
    match s {
        repo::ACCEPTEE => "qualifiée",
        repo::REFUSEE => "refusée",
        _ => "en attente de décision",
    }
}

async fn hub_page(
    state: &crate::AppState,
    ctx: PageContext,
    structure: StructureId,
    message: Option<String>,
    erreur: Option<String>,
) -> Response {
    let loaded = async {
        let programmes = repo::programmes_of(&state.db, structure).await?;
        let candidatures = repo::qualifications_of_structure(&state.db, structure).await?;
        let tous = repo::all_programmes(&state.db).await?;
        Ok::<_, relais_store::StoreError>((programmes, candidatures, tous))
    }
    .await;
    let (programmes, candidatures, tous) = match loaded {
        Ok(v) => v,
        Err(e) => return internal(e),
    };
    let ouverts = tous
        .into_iter()
        .filter(|(id, _, _)| !candidatures.iter().any(|(p, ..)| p == id))
        .map(|(id, nom, porteur)| Choix {
            value: id.to_string(),
            label: format!("{nom} ({porteur})"),
            checked: false,
        })
        .collect();
    super::reponse(
        erreur.is_some(),
        HubPage {
            ctx,
            structure_id: structure,
            programmes,
            candidatures: candidatures
                .into_iter()
                .map(|(_, programme, s, motif)| Candidature {
                    programme,
                    statut: statut(&s),
                    motif,
                })
                .collect(),
            ouverts,
            services: choices(
                ServicePass::ALL,
                ServicePass::as_str,
                ServicePass::label,
                |_| false,
            ),
            message,
            erreur,
        },
    )
}

/// `GET /structures/{id}/pass`
pub async fn hub(Page(state, ctx): Page, guard: InStructure<Referents>) -> Response {
    hub_page(&state, ctx, guard.access.structure(), None, None).await
}

#[derive(Deserialize, Default)]
pub struct Candidater {
    #[serde(default)]
    programme: String,
    #[serde(default)]
    titulaire: String,
    #[serde(default)]
    iban: String,
    #[serde(default)]
    bic: String,
    /// Repeated: one per service ticked (`services=a&services=b`).
    #[serde(default)]
    services: Vec<String>,
}

/// `POST /structures/{id}/pass/qualification`: the structure applies to a programme.
pub async fn apply(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let f: Candidater = super::formulaire(pairs, &["services"]);
    let access = guard.access;
    let Ok(programme) = f.programme.parse::<ProgrammeId>() else {
        let e = "Choisissez un programme dans la liste.".to_string();
        return hub_page(&state, ctx, access.structure(), None, Some(e)).await;
    };
    let demande = DemandeQualification {
        titulaire: f.titulaire,
        iban: f.iban,
        bic: f.bic,
        services: f
            .services
            .iter()
            .filter_map(|s| ServicePass::parse(s))
            .collect(),
    };
    match svc::demander_qualification(&state.db, &access, programme, &demande, now_ms()).await {
        Ok(_) => {
            let m = "Votre demande est envoyée à la structure qui porte le programme.".to_string();
            hub_page(&state, ctx, access.structure(), Some(m), None).await
        }
        Err(PassError::Store(e)) => internal(e),
        Err(e) => {
            let e = format!("La demande n’est pas envoyée : {e}.");
            hub_page(&state, ctx, access.structure(), None, Some(e)).await
        }
    }
}

// --- a new programme -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "pass_programme_nouveau.html")]
pub struct NewPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub f: Saisie,
    pub publics: Vec<Choix>,
    pub services: Vec<Choix>,
    pub tailles: Vec<Choix>,
    /// (field, message) of every error.
    pub erreurs: Vec<(String, String)>,
}

impl NewPage {
    fn erreur(&self, champ: &str) -> Option<&str> {
        self.erreurs
            .iter()
            .find(|(c, _)| c == champ)
            .map(|(_, e)| e.as_str())
    }
}

/// The form as typed: two funders' lines at most here.
#[derive(Deserialize, Default, Clone)]
pub struct Saisie {
    #[serde(default)]
    pub nom: String,
    #[serde(default)]
    pub financeur1_nom: String,
    #[serde(default)]
    pub financeur1_siret: String,
    #[serde(default)]
    pub financeur1_part: String,
    #[serde(default)]
    pub financeur1_iban: String,
    #[serde(default)]
    pub financeur1_bic: String,
    #[serde(default)]
    pub financeur2_nom: String,
    #[serde(default)]
    pub financeur2_siret: String,
    #[serde(default)]
    pub financeur2_part: String,
    #[serde(default)]
    pub financeur2_iban: String,
    #[serde(default)]
    pub financeur2_bic: String,
    #[serde(default)]
    pub valeur: String,
    #[serde(default)]
    pub taille_carnet: String,
    #[serde(default)]
    pub budget: String,
    /// Euros; empty: none.
    #[serde(default)]
    pub achat_minimum: String,
    #[serde(default)]
    pub dernier_jour: String,
    #[serde(default)]
    pub grace: String,
    #[serde(default)]
    pub territoires: String,
    #[serde(default)]
    pub publics: Vec<String>,
    #[serde(default)]
    pub services: Vec<String>,
}

fn new_page(
    ctx: PageContext,
    structure_id: StructureId,
    f: Saisie,
    erreurs: Vec<(String, String)>,
) -> NewPage {
    let publics = choices(Public::ALL, Public::as_str, Public::label, |v| {
        f.publics.iter().any(|p| p == v)
    });
    let services = choices(
        ServicePass::ALL,
        ServicePass::as_str,
        ServicePass::label,
        |v| f.services.iter().any(|s| s == v),
    );
    let tailles = ["5", "10"]
        .iter()
        .map(|t| Choix {
            value: (*t).into(),
            label: format!("{t} pass"),
            checked: f.taille_carnet == *t || (f.taille_carnet.is_empty() && *t == "10"),
        })
        .collect();
    NewPage {
        ctx,
        structure_id,
        f,
        publics,
        services,
        tailles,
        erreurs,
    }
}

/// `GET /structures/{id}/pass/programmes/nouveau`
pub async fn new_form(Page(_, ctx): Page, guard: InStructure<Referents>) -> Response {
    let f = Saisie {
        valeur: "10".into(),
        grace: "31".into(),
        financeur1_part: "100".into(),
        ..Saisie::default()
    };
    render(new_page(ctx, guard.access.structure(), f, Vec::new()))
}

/// Euros typed (`10`, `12,50`) in cents.
fn centimes(typed: &str) -> Option<i64> {
    let t = typed
        .trim()
        .trim_end_matches('€')
        .trim()
        .replace(',', ".")
        .replace(' ', "");
    let (units, decimals) = t.split_once('.').unwrap_or((&t, ""));
    if units.is_empty() || decimals.len() > 2 {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let decimals: i64 = if decimals.is_empty() {
        0
    } else {
        format!("{decimals:0<2}").parse().ok()?
    };
    units.checked_mul(100)?.checked_add(decimals)
}

/// A territory typed as codes: a département (2 or 3 characters), a commune (5), an EPCI
/// (its 9-digit SIREN).
fn territoire(code: &str) -> Option<(NiveauTerritoire, String)> {
    let c = code.trim().to_uppercase();
    let niveau = match c.len() {
        2 | 3 => NiveauTerritoire::Departement,
        5 => NiveauTerritoire::Commune,
        9 if c.bytes().all(|b| b.is_ascii_digit()) => NiveauTerritoire::Epci,
        _ => return None,
    };
    Some((niveau, c))
}

/// `POST /structures/{id}/pass/programmes/nouveau`
pub async fn create(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let f: Saisie = super::formulaire(pairs, &["publics", "services"]);
    let access = guard.access;
    let mut erreurs: Vec<(String, String)> = Vec::new();
    let mut nombre = |champ: &str, typed: &str, message: &str| {
        centimes(typed).unwrap_or_else(|| {
            erreurs.push((champ.into(), message.into()));
            0
        })
    };
    let valeur = nombre("valeur", &f.valeur, "indiquez la valeur d’un pass en euros");
    let budget = nombre("budget", &f.budget, "indiquez le budget en euros");
    let achat_minimum = match f.achat_minimum.trim() {
        "" => 0,
        typed => nombre(
            "achat_minimum",
            typed,
            "indiquez l’achat minimum en euros, ou laissez vide",
        ),
    };
    let dernier_jour = parse_date_iso(&f.dernier_jour).map(|ms| ms.div_euclid(86_400_000));
    if dernier_jour.is_none() {
        erreurs.push((
            "dernier_jour".into(),
            "indiquez une date au format jj/mm/aaaa".into(),
        ));
    }
    let grace = f.grace.trim().parse::<i64>().unwrap_or(-1);
    let mut territoires = Vec::new();
    for code in f
        .territoires
        .split([',', ' ', ';'])
        .filter(|c| !c.trim().is_empty())
    {
        match territoire(code) {
            Some(t) => territoires.push(t),
            None => erreurs.push((
                "territoires".into(),
                format!("« {code} » n’est ni un département, ni une commune, ni un EPCI"),
            )),
        }
    }
    let financeurs: Vec<FinanceurSaisi> = [
        (
            &f.financeur1_nom,
            &f.financeur1_siret,
            &f.financeur1_part,
            &f.financeur1_iban,
            &f.financeur1_bic,
        ),
        (
            &f.financeur2_nom,
            &f.financeur2_siret,
            &f.financeur2_part,
            &f.financeur2_iban,
            &f.financeur2_bic,
        ),
    ]
    .into_iter()
    .filter(|(n, s, _, i, _)| !(n.trim().is_empty() && s.trim().is_empty() && i.trim().is_empty()))
    .map(|(nom, siret, part, iban, bic)| FinanceurSaisi {
        nom: nom.clone(),
        siret: siret.clone(),
        part: part.clone(),
        iban: iban.clone(),
        bic: bic.clone(),
    })
    .collect();
    let saisi = ProgrammeSaisi {
        nom: f.nom.clone(),
        financeurs,
        valeur_centimes: valeur,
        taille_carnet: f.taille_carnet.parse().unwrap_or(0),
        budget_centimes: budget,
        achat_minimum_centimes: achat_minimum,
        dernier_jour: dernier_jour.unwrap_or(i64::MAX / 2),
        grace_jours: grace,
        territoires,
        publics: f
            .publics
            .iter()
            .filter_map(|p| Public::parse(p))
            .collect::<BTreeSet<_>>(),
        services: f
            .services
            .iter()
            .filter_map(|s| ServicePass::parse(s))
            .collect::<BTreeSet<_>>(),
    };
    if erreurs.is_empty() {
        match svc::creer_programme(&state.db, &access, &saisi, now_ms()).await {
            Ok(id) => {
                return Redirect::to(&format!(
                    "/structures/{}/pass/programmes/{id}",
                    access.structure()
                ))
                .into_response();
            }
            Err(PassError::Programme(e)) => {
                erreurs.extend(e.iter().map(|e| (e.champ(), e.to_string())));
            }
            Err(PassError::Store(e)) => return internal(e),
            Err(e) => erreurs.push(("formulaire".into(), e.to_string())),
        }
    }
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        render(new_page(ctx, access.structure(), f, erreurs)),
    )
        .into_response()
}

// --- a programme's page ----------------------------------------------------------------

/// An application as the owner sees it.
pub struct Demande {
    pub id: QualificationId,
    pub structure: String,
    pub siret: String,
    pub services: String,
    pub statut: &'static str,
    pub en_attente: bool,
}

/// A month's transfers of a funder, as the programme's page lists them.
pub struct VirementLu {
    /// `AAAA-MM`, and as read: `MM/AAAA`.
    pub mois: String,
    pub mois_lu: String,
    pub financeur: i64,
    pub financeur_nom: String,
    pub virements: i64,
    pub total: String,
    pub prepare: String,
    /// `None`: to confirm.
    pub paye: Option<String>,
}

#[derive(Template)]
#[template(path = "pass_programme.html")]
pub struct ProgrammePage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub id: ProgrammeId,
    pub nom: String,
    pub details: Vec<(&'static str, String)>,
    pub financeurs: Vec<(String, String)>,
    /// The funnel: (stage, passes, share of those issued).
    pub entonnoir: Vec<(&'static str, u64, String)>,
    /// The funnel by département of the people: (territory, passes at each stage).
    pub par_territoire: Vec<(String, Vec<u64>)>,
    /// (funder, paid so far, given back at the end).
    pub financements: Vec<(String, String, String)>,
    /// What the programme mobilises for each euro of the State.
    pub levier: Option<String>,
    pub delai: Option<String>,
    /// The month the transfers form offers: the last one (AAAA-MM).
    pub mois_precedent: String,
    pub virements: Vec<VirementLu>,
    /// The programme's end, once past: what went back to each funder.
    pub fin: Option<String>,
    pub demandes: Vec<Demande>,
    /// (number, handed out by, handed on).
    pub carnets: Vec<(i64, String, String)>,
    pub message: Option<String>,
    pub erreur: Option<String>,
}

/// The funnel's stages: (stage, passes, share of those issued).
fn etapes(e: &Entonnoir) -> Vec<(&'static str, u64, String)> {
    [
        ("Émis", e.emis),
        ("Remis à une personne", e.distribues),
        ("Dans un carnet entamé", e.entames),
        ("Utilisés", e.utilises),
        ("Remboursés aux structures", e.rembourses),
        ("Expirés sans usage", e.expires),
    ]
    .into_iter()
    .map(|(etape, n)| {
        let part = svc::chiffres::pourcent(n, e.emis)
            .map_or_else(|| "—".to_string(), |p| format!("{p} %"));
        (etape, n, part)
    })
    .collect()
}

async fn programme_page(
    state: &crate::AppState,
    ctx: PageContext,
    access: &relais_domain::authz::StructureAccess,
    id: ProgrammeId,
    message: Option<String>,
    erreur: Option<String>,
) -> Response {
    let p = match svc::programme_gere(&state.db, access, id).await {
        Ok(p) => p,
        Err(PassError::Store(e)) => return internal(e),
        Err(_) => return gone(&ctx),
    };
    let loaded = async {
        Ok::<_, PassError>((
            repo::qualifications_of(&state.db, id).await?,
            repo::carnets_of(&state.db, id).await?,
            svc::chiffres::chiffres(&state.db, access, &state.territoires, id, now_ms()).await?,
            svc::virements::suivi_des_reglements(&state.db, access, id).await?,
        ))
    }
    .await;
    let (qualifications, carnets, chiffres, (virements, fin)) = match loaded {
        Ok(v) => v,
        Err(e) => return internal(e),
    };
    let r = &p.reglages;
    let jour = |d: i64| date_fr(d * 86_400_000);
    let details = vec![
        ("Valeur d’un pass", euros(r.valeur_centimes)),
        ("Carnets de", format!("{} pass", r.taille_carnet)),
        ("Budget", euros(r.budget_centimes)),
        (
            "Achat minimum",
            match r.achat_minimum_centimes {
                0 => "aucun".to_string(),
                c => euros(c),
            },
        ),
        ("Valable jusqu’au", jour(r.dernier_jour)),
        (
            "Tolérance après cette date",
            format!("{} jours", r.grace_jours),
        ),
        (
            "Territoire",
            r.territoires
                .iter()
                .map(|(n, c)| format!("{} {c}", n.label()))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "Services payés",
            r.services
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    let financeurs = r
        .financeurs
        .iter()
        .map(|f| {
            (
                f.nom.clone(),
                format!("{},{:02} %", f.part / 100, f.part % 100),
            )
        })
        .collect();
    let demandes = qualifications
        .into_iter()
        .map(|q| Demande {
            id: q.id,
            structure: q.structure_nom,
            siret: q.structure_siret,
            services: q
                .services
                .split_whitespace()
                .filter_map(ServicePass::parse)
                .map(ServicePass::label)
                .collect::<Vec<_>>()
                .join(", "),
            statut: statut(&q.statut),
            en_attente: q.statut == repo::DEMANDEE,
        })
        .collect();
    let carnets = carnets
        .into_iter()
        .map(|(n, s, remis)| {
            (
                n,
                s.unwrap_or_else(|| "—".into()),
                remis.map_or_else(|| "pas encore".into(), date_fr),
            )
        })
        .collect();
    super::reponse(
        erreur.is_some(),
        ProgrammePage {
            ctx,
            structure_id: access.structure(),
            id,
            nom: r.nom.clone(),
            details,
            financeurs,
            entonnoir: etapes(&chiffres.entonnoir),
            par_territoire: chiffres
                .par_territoire
                .iter()
                .map(|(t, e)| (t.clone(), etapes(e).into_iter().map(|(_, n, _)| n).collect()))
                .collect(),
            financements: chiffres
                .financeurs
                .iter()
                .map(|f| {
                    (
                        f.nom.clone(),
                        euros(f.verse_centimes),
                        euros(f.rendu_centimes),
                    )
                })
                .collect(),
            levier: chiffres.levier_centimes.map(euros),
            delai: chiffres.entonnoir.delai_median_jours.map(|d| format!("{d} jour(s)")),
            mois_precedent: {
                let (y, m, _, _) = relais_domain::calendrier::paris_civil(now_ms());
                let (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
                format!("{y}-{m:02}")
            },
            virements: virements
                .into_iter()
                .map(|v| VirementLu {
                    mois_lu: v
                        .mois
                        .split_once('-')
                        .map_or_else(|| v.mois.clone(), |(y, m)| format!("{m}/{y}")),
                    financeur_nom: usize::try_from(v.financeur)
                        .ok()
                        .and_then(|f| r.financeurs.get(f))
                        .map_or_else(String::new, |f| f.nom.clone()),
                    financeur: v.financeur,
                    virements: v.virements,
                    total: euros(v.total_centimes),
                    prepare: format!(
                        "le {}{}",
                        date_fr(v.prepare_le),
                        if v.prepare_par.is_none() { " par Relais" } else { "" }
                    ),
                    paye: v.paye_le.map(date_fr),
                    mois: v.mois,
                })
                .collect(),
            fin: fin.map(|f| {
                let rendu = r
                    .financeurs
                    .iter()
                    .zip(&f.parts)
                    .map(|(fi, c)| format!("{} : {}", fi.nom, euros(*c)))
                    .collect::<Vec<_>>()
                    .join(" ; ");
                format!(
                    "Programme terminé (constaté le {}) : {} pass jamais utilisés, {} rendus aux financeurs ({rendu}).",
                    date_fr(f.constatee_le),
                    f.pass_non_utilises,
                    euros(f.montant_centimes)
                )
            }),
            demandes,
            carnets,
            message,
            erreur,
        },
    )
}

/// `GET /structures/{id}/pass/programmes/{programme}`
pub async fn page(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, programme)): Path<(StructureId, ProgrammeId)>,
) -> Response {
    programme_page(&state, ctx, &guard.access, programme, None, None).await
}

#[derive(Deserialize, Default)]
pub struct Decision {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    motif: String,
}

/// `POST /structures/{id}/pass/programmes/{programme}/qualifications/{qualification}`
pub async fn decide(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, programme, qualification)): Path<(StructureId, ProgrammeId, QualificationId)>,
    CsrfForm(d): CsrfForm<Decision>,
) -> Response {
    let access = guard.access;
    let accepter = d.decision == "accepter";
    match svc::decider_qualification(
        &state.db,
        &access,
        qualification,
        accepter,
        &d.motif,
        now_ms(),
    )
    .await
    {
        Ok(()) => {
            let m = if accepter {
                "La structure est qualifiée : ses médiateurs peuvent accepter les pass du programme."
            } else {
                "La demande est refusée ; la structure voit le motif."
            };
            programme_page(&state, ctx, &access, programme, Some(m.into()), None).await
        }
        Err(PassError::Store(e)) => internal(e),
        Err(PassError::Introuvable(_) | PassError::PasLePorteur) => gone(&ctx),
        Err(e) => {
            programme_page(&state, ctx, &access, programme, None, Some(format!("{e}."))).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Emission {
    #[serde(default)]
    nombre: String,
    #[serde(default)]
    siret: String,
}

/// `POST /structures/{id}/pass/programmes/{programme}/carnets`: booklets issued, given to
/// the structure of a SIRET to hand out.
pub async fn issue(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, programme)): Path<(StructureId, ProgrammeId)>,
    CsrfForm(e): CsrfForm<Emission>,
) -> Response {
    let access = guard.access;
    let refuse = |m: &str| Some(format!("Aucun carnet émis : {m}."));
    let Some(nombre) = e
        .nombre
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
    else {
        let m = refuse("indiquez un nombre de carnets de 1 à 1 000");
        return programme_page(&state, ctx, &access, programme, None, m).await;
    };
    let siret: String = e.siret.split_whitespace().collect();
    let prescripteurs = match relais_store::comptes::structures_by_siret(&state.db, &siret).await {
        Ok(found) => found.first().map(|s| s.id),
        Err(err) => return internal(err),
    };
    let Some(prescripteurs) = prescripteurs else {
        let m = refuse("aucune structure de Relais n’a ce SIRET");
        return programme_page(&state, ctx, &access, programme, None, m).await;
    };
    match svc::emettre(
        &state.db,
        &access,
        programme,
        nombre,
        Some(prescripteurs),
        now_ms(),
    )
    .await
    {
        Ok(numeros) => {
            let m = format!(
                "{nombre} carnet(s) émis, nos {} à {}.",
                numeros.first().unwrap_or(&0),
                numeros.last().unwrap_or(&0)
            );
            programme_page(&state, ctx, &access, programme, Some(m), None).await
        }
        Err(PassError::Store(err)) => internal(err),
        Err(PassError::Introuvable(_) | PassError::PasLePorteur) => gone(&ctx),
        Err(err) => {
            let m = refuse(&err.to_string());
            programme_page(&state, ctx, &access, programme, None, m).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct DemandeVirements {
    #[serde(default)]
    mois: String,
    #[serde(default)]
    financeur: String,
}

impl DemandeVirements {
    /// The month ((year, 1–12)) and the funder's rank, if the month reads.
    fn lue(&self) -> Option<((i64, u32), usize)> {
        let mois = self
            .mois
            .trim()
            .split_once('-')
            .and_then(|(y, m)| Some((y.parse::<i64>().ok()?, m.parse::<u32>().ok()?)))
            .filter(|(y, m)| (2000..=2100).contains(y) && (1..=12).contains(m))?;
        Some((mois, self.financeur.parse::<usize>().unwrap_or(usize::MAX)))
    }
}

/// `POST /structures/{id}/pass/programmes/{programme}/virements/paiement`: the owner
/// confirms that a funder paid a month's transfers; journaled.
pub async fn transfers_paid(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, programme)): Path<(StructureId, ProgrammeId)>,
    CsrfForm(d): CsrfForm<DemandeVirements>,
) -> Response {
    let access = guard.access;
    let result = match d.lue() {
        Some((mois, financeur)) => {
            svc::virements::payer(&state.db, &access, programme, financeur, mois, now_ms())
                .await
                .map(|()| {
                    format!(
                        "Paiement des virements de {:02}/{} confirmé.",
                        mois.1, mois.0
                    )
                })
        }
        None => Err(PassError::Introuvable("ordre de virement préparé")),
    };
    match result {
        Ok(m) => programme_page(&state, ctx, &access, programme, Some(m), None).await,
        Err(PassError::Store(err)) => internal(err),
        Err(PassError::PasLePorteur) => gone(&ctx),
        Err(err) => {
            let m = Some(format!("Paiement non confirmé : {err}."));
            programme_page(&state, ctx, &access, programme, None, m).await
        }
    }
}

/// `POST /structures/{id}/pass/programmes/{programme}/virements`: a funder's transfer file
/// (pain.001) for a month, to send to its bank; journaled.
pub async fn transfers(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, programme)): Path<(StructureId, ProgrammeId)>,
    CsrfForm(d): CsrfForm<DemandeVirements>,
) -> Response {
    let access = guard.access;
    let Some((mois, financeur)) = d.lue() else {
        let m = Some("Aucun virement préparé : indiquez un mois (AAAA-MM).".to_string());
        return programme_page(&state, ctx, &access, programme, None, m).await;
    };
    match svc::virements::virements(&state.db, &access, programme, financeur, mois, now_ms()).await
    {
        Ok(v) => fichier(
            "application/xml; charset=utf-8",
            Disposition::Telecharger,
            &v.nom_fichier,
            v.xml,
        ),
        Err(PassError::Store(err)) => internal(err),
        Err(PassError::PasLePorteur) => gone(&ctx),
        Err(err) => {
            let m = Some(format!("Aucun virement préparé : {err}."));
            programme_page(&state, ctx, &access, programme, None, m).await
        }
    }
}

#[derive(Template)]
#[template(path = "pass_carnet.html")]
pub struct CarnetPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub programme_id: ProgrammeId,
    pub programme: String,
    pub numero: i64,
    pub valeur: String,
    pub valable_jusqu_au: String,
    pub codes: Vec<String>,
}

/// `GET /structures/{id}/pass/programmes/{programme}/carnets/{numero}`: a booklet's
/// passes, to print.
pub async fn carnet(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, programme, numero)): Path<(StructureId, ProgrammeId, i64)>,
) -> Response {
    let p = match svc::programme_gere(&state.db, &guard.access, programme).await {
        Ok(p) => p,
        Err(PassError::Store(e)) => return internal(e),
        Err(_) => return gone(&ctx),
    };
    let carnet = match repo::carnet(&state.db, programme, numero).await {
        Ok(Some(c)) => c,
        Ok(None) => return gone(&ctx),
        Err(e) => return internal(e),
    };
    let r = &p.reglages;
    render(CarnetPage {
        ctx,
        structure_id: guard.access.structure(),
        programme_id: programme,
        programme: r.nom.clone(),
        numero,
        valeur: euros(r.valeur_centimes),
        valable_jusqu_au: date_fr(r.dernier_jour * 86_400_000),
        codes: carnet
            .codes
            .iter()
            .map(|c| {
                relais_domain::pass::code::CodePass::parse(c)
                    .map_or_else(|_| c.clone(), |c| c.to_string())
            })
            .collect(),
    })
}

/// `GET /structures/{id}/pass/programmes/{programme}/carnets/{numero}/pdf`: the booklet to
/// print, a pass a page with its signed QR code.
pub async fn carnet_pdf(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, programme, numero)): Path<(StructureId, ProgrammeId, i64)>,
) -> Response {
    match svc::carnets::carnet_pdf(&state.db, &guard.access, programme, numero, now_ms()).await {
        Ok(bytes) => fichier(
            "application/pdf",
            Disposition::Afficher,
            &format!("carnet-{programme}-{numero}.pdf"),
            bytes,
        ),
        Err(PassError::Store(e)) => internal(e),
        Err(PassError::Pdf(e)) => internal(e),
        Err(_) => gone(&ctx),
    }
}

/// The figures of a programme as a file to download.
async fn figures(
    state: &crate::AppState,
    ctx: &PageContext,
    access: &relais_domain::authz::StructureAccess,
    programme: ProgrammeId,
    xlsx: bool,
) -> Response {
    let c =
        match svc::chiffres::chiffres(&state.db, access, &state.territoires, programme, now_ms())
            .await
        {
            Ok(c) => c,
            Err(PassError::Store(e)) => return internal(e),
            Err(_) => return gone(ctx),
        };
    let (body, kind, ext) = if xlsx {
        match svc::chiffres::xlsx(&c) {
            Ok(b) => (
                b,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
            ),
            Err(e) => return internal(e),
        }
    } else {
        (
            svc::chiffres::csv(&c).into_bytes(),
            "text/csv; charset=utf-8",
            "csv",
        )
    };
    fichier(
        kind,
        Disposition::Telecharger,
        &format!("pass-P{}-chiffres.{ext}", programme.0),
        body,
    )
}

/// `GET /structures/{id}/pass/programmes/{programme}/chiffres.csv`: the funnel overall and
/// by territory.
pub async fn figures_csv(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, programme)): Path<(StructureId, ProgrammeId)>,
) -> Response {
    figures(&state, &ctx, &guard.access, programme, false).await
}

/// `GET /structures/{id}/pass/programmes/{programme}/chiffres.xlsx`: the funnel and the
/// funders' money.
pub async fn figures_xlsx(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, programme)): Path<(StructureId, ProgrammeId)>,
) -> Response {
    figures(&state, &ctx, &guard.access, programme, true).await
}
