//! The statistics pages: a structure's, for its members, and the public one for the nation
//! or a territory, where small counts are secret. Each chart is an SVG drawn here, followed
//! by the table of its values.

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use relais_domain::activites::statistiques::{
    Figures, Filtres, Perimetre, SEUIL_SECRET, secret_statistique,
};
use relais_domain::activites::vocabulaires::{Thematique, TypeActivite};
use relais_domain::calendrier::{date_fr, date_heure_fr, now_ms, parse_date_iso};
use relais_domain::ids::{LieuId, PersonId, StructureId};
use relais_domain::territoires::Territoires;
use relais_services::activites::export::{self, Csv, Entete, ExportError, Lignes};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::{HubCoordinator, InStructure, Members};
use crate::error::ApiError;
use crate::error::{error_page, internal};
use crate::pages::{Disposition, Page, PageContext, fichier, render, structure_name};

/// One bar of a chart and one row of its table.
pub struct Barre {
    pub libelle: String,
    /// The count as shown (« moins de 11 » when secret).
    pub valeur: String,
    /// Its length, in hundredths of the longest.
    pub longueur: u64,
    /// Its position from the top, in the chart's units.
    pub y: usize,
}

pub struct Repartition {
    pub id: &'static str,
    pub titre: &'static str,
    pub barres: Vec<Barre>,
    /// The chart's height, in its units (one band of 10 per bar).
    pub hauteur: usize,
}

#[derive(Template)]
#[template(path = "statistiques.html")]
pub struct StatsPage {
    pub ctx: PageContext,
    pub titre: String,
    /// The form's address (this page's, without its query).
    pub action: String,
    /// The territories offered (code, name, chosen), for the public page.
    pub perimetres: Vec<(String, String, bool)>,
    pub du: String,
    pub au: String,
    pub type_activite: String,
    /// (wire value, label, chosen).
    pub thematiques: Vec<(String, String, bool)>,
    /// A structure's mediators (id, name, chosen); empty elsewhere.
    pub mediateurs: Vec<(String, String, bool)>,
    /// A structure's lieux (id, name, chosen); empty elsewhere.
    pub lieux: Vec<(String, String, bool)>,
    pub public: bool,
    pub totaux: Vec<(&'static str, String)>,
    pub repartitions: Vec<Repartition>,
    pub erreur: Option<String>,
    /// The participations behind the figures, as files (label, address with the filters).
    pub exports: Vec<(&'static str, String)>,
    /// Followed people with two diagnostics or more, and those who progressed, per
    /// département: (territory, people, progressed), as shown.
    pub progres: Vec<(String, String, String)>,
}

impl StatsPage {
    /// The page of `figures` for the request `q`, without the filters and files only some
    /// pages have (their handlers add them).
    fn new(
        ctx: PageContext,
        q: &Demande,
        titre: String,
        action: String,
        (totaux, repartitions): (Vec<(&'static str, String)>, Vec<Repartition>),
        public: bool,
        erreur: Option<String>,
    ) -> StatsPage {
        StatsPage {
            ctx,
            titre,
            action,
            perimetres: Vec::new(),
            du: q.du.clone().unwrap_or_default(),
            au: q.au.clone().unwrap_or_default(),
            type_activite: q.type_activite.clone().unwrap_or_default(),
            thematiques: thematiques_offertes(q),
            mediateurs: Vec::new(),
            lieux: Vec::new(),
            public,
            totaux,
            repartitions,
            erreur,
            progres: Vec::new(),
            exports: Vec::new(),
        }
    }

    /// Rendered: a 400 when a filter could not be read.
    fn reponse(self) -> Response {
        let status = if self.erreur.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        (status, render(self)).into_response()
    }

    fn une_thematique(&self) -> bool {
        self.thematiques.iter().any(|(_, _, chosen)| *chosen)
    }
}

#[derive(Deserialize, Default)]
pub struct Demande {
    territoire: Option<String>,
    du: Option<String>,
    au: Option<String>,
    #[serde(rename = "type")]
    type_activite: Option<String>,
    thematique: Option<String>,
    /// A structure's page only: one of its mediators, one of its lieux.
    mediateur: Option<String>,
    lieu: Option<String>,
}

/// The period and type asked, into filters; a date that cannot be read is reported.
fn filtres(q: &Demande) -> (Filtres, Option<String>) {
    let mut f = Filtres::default();
    let mut erreur = None;
    for (value, slot, label) in [(&q.du, &mut f.du, "début"), (&q.au, &mut f.au, "fin")] {
        match value.as_deref().map(str::trim) {
            None | Some("") => {}
            Some(v) => match parse_date_iso(v) {
                Some(d) => *slot = Some(d),
                None => {
                    erreur = Some(format!(
                        "Date de {label} : « {v} » n’est pas une date au format jj/mm/aaaa."
                    ));
                }
            },
        }
    }
    if let Some(t) = q.type_activite.as_deref().and_then(TypeActivite::parse) {
        f.types.insert(t);
    }
    match q.thematique.as_deref().map(str::trim) {
        None | Some("") => {}
        Some(v) => match Thematique::parse(v) {
            Some(t) => {
                f.thematiques.insert(t);
            }
            None => erreur = Some(format!("Thématique : « {v} » n’est pas l’une de la liste.")),
        },
    }
    (f, erreur)
}

/// A structure's filters: those of every page, its own, and the mediator asked.
fn filtres_structure(q: &Demande, structure: StructureId) -> (Filtres, Option<String>) {
    let (mut f, mut erreur) = filtres(q);
    f.structures.insert(structure);
    match q.mediateur.as_deref().map(str::trim) {
        None | Some("") => {}
        Some(v) => match v.parse() {
            Ok(id) => {
                f.mediateurs.insert(PersonId(id));
            }
            Err(_) => erreur = Some("Médiateur : choisissez-en un dans la liste.".into()),
        },
    }
    if let Some(l) = q.lieu.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        f.lieux.insert(LieuId(l.to_string()));
    }
    (f, erreur)
}

/// The thématiques a page offers as a filter: (wire value, label, chosen).
fn thematiques_offertes(q: &Demande) -> Vec<(String, String, bool)> {
    Thematique::ALL
        .iter()
        .map(|t| {
            (
                t.as_str().to_string(),
                t.label().to_string(),
                q.thematique.as_deref() == Some(t.as_str()),
            )
        })
        .collect()
}

/// The progress of the people followed in `communes`, as a page shows it.
async fn progres(
    state: &AppState,
    communes: &std::collections::BTreeSet<String>,
    public: bool,
) -> Result<Vec<(String, String, String)>, relais_store::StoreError> {
    Ok(
        relais_services::diagnostic::progres_territoire(&state.db, &state.territoires, communes)
            .await?
            .into_iter()
            .map(|p| {
                (
                    p.territoire,
                    shown(p.personnes as u64, public),
                    shown(p.progresse as u64, public),
                )
            })
            .collect(),
    )
}

fn shown(n: u64, public: bool) -> String {
    match (public, total_publie(n)) {
        (true, None) => format!("moins de {SEUIL_SECRET}"),
        _ => n.to_string(),
    }
}

/// Each count as it may be shown: `None` where public figures keep it secret.
fn publie<K: Ord + Clone>(counts: &BTreeMap<K, u64>, public: bool) -> BTreeMap<K, Option<u64>> {
    if public {
        secret_statistique(counts)
    } else {
        counts.iter().map(|(k, n)| (k.clone(), Some(*n))).collect()
    }
}

/// A total as it may be published: `None` from 1 to [`SEUIL_SECRET`] − 1.
fn total_publie(n: u64) -> Option<u64> {
    (!(1..SEUIL_SECRET).contains(&n)).then_some(n)
}

fn repartition<K: Ord + Clone>(
    id: &'static str,
    titre: &'static str,
    counts: &BTreeMap<K, u64>,
    label: impl Fn(&K) -> String,
    public: bool,
) -> Repartition {
    let published = publie(counts, public);
    let max = published
        .values()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let barres: Vec<Barre> = published
        .iter()
        .enumerate()
        .map(|(i, (k, n))| Barre {
            libelle: label(k),
            valeur: n.map_or_else(
                || format!("secret (moins de {SEUIL_SECRET} ou déductible)"),
                |n| n.to_string(),
            ),
            longueur: n.map_or(0, |n| n * 100 / max),
            y: i * 10,
        })
        .collect();
    Repartition {
        id,
        titre,
        hauteur: barres.len() * 10,
        barres,
    }
}

/// The totals and distributions of `f`, secret where `public` asks.
fn figures_page(
    f: &Figures,
    public: bool,
    territoires: &Territoires,
) -> (Vec<(&'static str, String)>, Vec<Repartition>) {
    let t = &f.totaux;
    let totaux = vec![
        ("Activités", shown(t.activites, public)),
        (
            "dont accompagnements individuels",
            shown(t.activites_individuelles, public),
        ),
        (
            "dont ateliers collectifs",
            shown(t.activites_collectives, public),
        ),
        ("Participations", shown(t.participations, public)),
        (
            "Personnes accompagnées (chaque personne suivie comptée une fois)",
            shown(t.beneficiaires, public),
        ),
        ("Premiers accompagnements", shown(t.nouveaux, public)),
    ];
    const MOIS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let repartitions = vec![
        repartition(
            "mois",
            "Participations par mois",
            &f.par_mois,
            |(y, m)| format!("{} {y}", MOIS[(*m as usize).clamp(1, 12) - 1]),
            public,
        ),
        repartition(
            "type",
            "Par type d’activité",
            &f.par_type,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "duree",
            "Par durée",
            &f.par_duree,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "lieu",
            "Par type de lieu",
            &f.par_type_lieu,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "thematique",
            "Par thématique (une participation compte sous chacune des siennes)",
            &f.par_thematique,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "materiel",
            "Par matériel utilisé",
            &f.par_materiel,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "genre",
            "Par genre",
            &f.par_genre,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "age",
            "Par tranche d’âge",
            &f.par_tranche,
            |k| k.label().to_string(),
            public,
        ),
        repartition(
            "statut",
            "Par statut",
            &f.par_statut,
            |k| k.label().to_string(),
            public,
        ),
        communes(f, public, territoires),
    ];
    (totaux, repartitions)
}

/// How many of the followed beneficiaries' communes a page shows.
const COMMUNES_MONTREES: usize = 20;

/// The followed beneficiaries' communes: the most frequent ones, by name, secret counts
/// left out on public pages (a list of every commune would name too few people).
fn communes(f: &Figures, public: bool, t: &Territoires) -> Repartition {
    let mut published: Vec<(String, u64)> = publie(&f.par_commune_beneficiaire, public)
        .into_iter()
        .filter_map(|(code, n)| Some((code, n?)))
        .filter(|(_, n)| *n > 0)
        .collect();
    published.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    published.truncate(COMMUNES_MONTREES);
    let ordered: BTreeMap<(usize, String), u64> = published
        .iter()
        .enumerate()
        .map(|(i, (code, n))| ((i, code.clone()), *n))
        .collect();
    let nom = |code: &str| {
        t.communes
            .iter()
            .find(|c| c.code.as_str() == code)
            .map_or_else(|| code.to_string(), |c| format!("{} ({code})", c.nom))
    };
    repartition(
        "communes",
        "Par commune des personnes suivies (les plus nombreuses)",
        &ordered,
        |(_, code)| nom(code),
        false,
    )
}

/// The territory asked, `None` if there is no such territory.
fn perimetre(q: &Demande, t: &Territoires) -> Option<Perimetre> {
    match q.territoire.as_deref().map(Perimetre::parse) {
        None => Some(Perimetre::France),
        Some(Some(p)) if p.nom(t).is_some() => Some(p),
        Some(_) => None,
    }
}

const TERRITOIRE_INCONNU: &str = "Territoire inconnu : choisissez-en un dans la liste.";

/// `GET /statistiques`: the nation or a territory, small counts secret.
pub async fn public(Page(state, ctx): Page, Query(q): Query<Demande>) -> Response {
    let t = state.territoires.territoires();
    let (mut f, mut erreur) = filtres(&q);
    let perimetre = perimetre(&q, t).unwrap_or_else(|| {
        erreur = Some(TERRITOIRE_INCONNU.into());
        Perimetre::France
    });
    f.communes = perimetre.communes(t);
    let figures = match state.activites.figures(&state.db, &f).await {
        Ok(figures) => figures,
        Err(e) => return internal(e),
    };
    let nom = perimetre.nom(t).unwrap_or_default();
    let mut perimetres = vec![(
        "france".to_string(),
        "France entière".to_string(),
        perimetre == Perimetre::France,
    )];
    for r in &t.regions {
        let p = Perimetre::Region(r.code.clone());
        perimetres.push((p.code(), format!("Région {}", r.nom), p == perimetre));
    }
    for d in &t.departements {
        let p = Perimetre::Departement(d.code.clone());
        perimetres.push((p.code(), format!("{} ({})", d.nom, d.code), p == perimetre));
    }
    let mut page = StatsPage::new(
        ctx,
        &q,
        format!("Statistiques des activités — {nom}"),
        "/statistiques".into(),
        figures_page(&figures, true, t),
        true,
        erreur,
    );
    page.perimetres = perimetres;
    page.progres = match progres(&state, &f.communes, true).await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    page.reponse()
}

/// `GET /structures/{id}/statistiques`: the structure's activities, for its members.
pub async fn structure(
    Page(state, ctx): Page,
    guard: InStructure<Members>,
    Query(q): Query<Demande>,
) -> Response {
    let access = guard.access;
    let nom = match structure_name(&state, &access).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    let (f, erreur) = filtres_structure(&q, access.structure());
    let figures = match state.activites.figures(&state.db, &f).await {
        Ok(figures) => figures,
        Err(e) => return internal(e),
    };
    let equipe = match relais_services::comptes::equipe::team(&state.db, &access).await {
        Ok(e) => e,
        Err(e) => return internal(e),
    };
    let mediateurs = equipe
        .iter()
        .map(|m| {
            let id = m.person_id.to_string();
            let chosen = q.mediateur.as_deref() == Some(id.as_str());
            (id, format!("{} {}", m.given_name, m.family_name), chosen)
        })
        .collect();
    let lieux =
        match relais_services::activites::noms_des_lieux(&state.db, access.structure()).await {
            Ok(l) => l
                .into_iter()
                .map(|(id, nom)| {
                    let chosen = q.lieu.as_deref() == Some(id.as_str());
                    (id.to_string(), nom, chosen)
                })
                .collect(),
            Err(e) => return internal(e),
        };
    let id: StructureId = access.structure();
    let asked: Vec<(&str, &str)> = [
        ("du", &q.du),
        ("au", &q.au),
        ("type", &q.type_activite),
        ("thematique", &q.thematique),
        ("mediateur", &q.mediateur),
        ("lieu", &q.lieu),
    ]
    .into_iter()
    .filter_map(|(name, v)| Some((name, v.as_deref().filter(|v| !v.is_empty())?)))
    .collect();
    let requete = serde_urlencoded::to_string(asked).unwrap_or_default();
    let exports = vec![
        (
            "Tableur Excel (XLSX)",
            format!("/structures/{id}/statistiques/participations.xlsx?{requete}"),
        ),
        (
            "CSV pour Excel (séparateur point-virgule)",
            format!("/structures/{id}/statistiques/participations.csv?{requete}"),
        ),
    ];
    let mut page = StatsPage::new(
        ctx,
        &q,
        format!("Statistiques des activités — {nom}"),
        format!("/structures/{id}/statistiques"),
        figures_page(&figures, false, state.territoires.territoires()),
        false,
        erreur,
    );
    page.mediateurs = mediateurs;
    page.lieux = lieux;
    page.exports = exports;
    page.reponse()
}

/// `GET /hub/statistiques`: the activities of the hub's territory, for its coordinator
/// (who steers the mediators there: no count is secret to them).
pub async fn hub(
    Page(state, ctx): Page,
    hub: HubCoordinator,
    Query(q): Query<Demande>,
) -> Response {
    let t = state.territoires.territoires();
    let Some(perimetre) = Perimetre::du_hub(hub.access.scope(), t) else {
        let message = format!(
            "Le périmètre de votre hub, « {} », ne nomme ni un département ni une région : \
             demandez à un administrateur de le corriger.",
            hub.access.scope()
        );
        return error_page(
            &ctx,
            StatusCode::NOT_FOUND,
            "Territoire du hub inconnu",
            &message,
        );
    };
    let (mut f, erreur) = filtres(&q);
    f.communes = perimetre.communes(t);
    let figures = match state.activites.figures(&state.db, &f).await {
        Ok(figures) => figures,
        Err(e) => return internal(e),
    };
    let progres = match progres(&state, &f.communes, false).await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let mut page = StatsPage::new(
        ctx,
        &q,
        format!(
            "Statistiques des activités du hub — {}",
            perimetre.nom(t).unwrap_or_default()
        ),
        "/hub/statistiques".into(),
        figures_page(&figures, false, t),
        false,
        erreur,
    );
    page.progres = progres;
    page.reponse()
}

/// The filters of a structure's export, as its header sheet states them.
fn entete(nom: &str, q: &Demande) -> Entete {
    let jour = |v: &Option<String>, defaut: &str| {
        v.as_deref()
            .and_then(parse_date_iso)
            .map_or_else(|| defaut.to_string(), date_fr)
    };
    let type_activite = q
        .type_activite
        .as_deref()
        .and_then(TypeActivite::parse)
        .map_or("Tous", |t| t.label());
    Entete {
        filtres: vec![
            ("Structure".into(), nom.to_string()),
            ("Du".into(), jour(&q.du, "le début")),
            ("Au".into(), jour(&q.au, "aujourd’hui")),
            ("Type d’activité".into(), type_activite.into()),
            (
                "Thématique".into(),
                q.thematique
                    .as_deref()
                    .and_then(Thematique::parse)
                    .map_or("Toutes", |t| t.label())
                    .into(),
            ),
            (
                "Médiateur (n°)".into(),
                q.mediateur
                    .clone()
                    .filter(|m| !m.trim().is_empty())
                    .unwrap_or_else(|| "Tous".into()),
            ),
        ],
        exporte_le: date_heure_fr(now_ms()),
    }
}

/// The page of an export whose filters could not be read.
fn export_impossible(ctx: &PageContext, erreur: &str) -> Response {
    error_page(ctx, StatusCode::BAD_REQUEST, "Export impossible", erreur)
}

fn piece_jointe(
    structure: StructureId,
    extension: &str,
    content_type: &str,
    body: Body,
) -> Response {
    let name = format!(
        "participations-structure-{structure}-{}.{extension}",
        relais_services::lieux::export::today()
    );
    fichier(content_type, Disposition::Telecharger, &name, body)
}

/// `GET /structures/{id}/statistiques/participations.csv`: one row per participation,
/// `;`-separated with a BOM for Excel, streamed a page at a time.
pub async fn export_csv(
    Page(state, ctx): Page,
    guard: InStructure<Members>,
    Query(q): Query<Demande>,
) -> Response {
    let f = match filtres_structure(&q, guard.access.structure()) {
        (f, None) => f,
        (_, Some(erreur)) => return export_impossible(&ctx, &erreur),
    };
    let lignes = match Lignes::new(state.db.clone(), f).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let mut csv = Csv::new(lignes);
    // The first page is read before answering: a failing database gives an error page
    // rather than a truncated file.
    let first = match csv.next_chunk().await {
        Ok(chunk) => chunk,
        Err(e) => return internal(e),
    };
    let rest = futures::stream::try_unfold(csv, |mut csv| async move {
        match csv.next_chunk().await {
            Ok(Some(chunk)) => Ok(Some((chunk, csv))),
            Ok(None) => Ok(None),
            Err(e) => {
                tracing::error!(error = %e, "export des participations interrompu");
                Err(e)
            }
        }
    });
    let body =
        futures::StreamExt::chain(futures::stream::iter(first.map(Ok::<_, ExportError>)), rest);
    piece_jointe(
        guard.access.structure(),
        "csv",
        "text/csv; charset=utf-8",
        Body::from_stream(body),
    )
}

/// `GET /structures/{id}/statistiques/participations.xlsx`: a « Filtres » sheet, then one
/// row per participation; written to a temporary file in constant memory, then sent.
pub async fn export_xlsx(
    Page(state, ctx): Page,
    guard: InStructure<Members>,
    Query(q): Query<Demande>,
) -> Response {
    let f = match filtres_structure(&q, guard.access.structure()) {
        (f, None) => f,
        (_, Some(erreur)) => return export_impossible(&ctx, &erreur),
    };
    let nom = match structure_name(&state, &guard.access).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    let file = match Lignes::new(state.db.clone(), f).await {
        Ok(lignes) => export::xlsx(lignes, entete(&nom, &q)).await,
        Err(e) => Err(e.into()),
    };
    let file = match file {
        Ok(file) => tokio::fs::File::from_std(file),
        Err(e) => return internal(e),
    };
    let body = futures::stream::try_unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        let n = file.read(&mut buf).await?;
        buf.truncate(n);
        Ok::<_, std::io::Error>((n > 0).then_some((buf, file)))
    });
    piece_jointe(
        guard.access.structure(),
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Body::from_stream(body),
    )
}

/// One value of a distribution in the API.
#[derive(Serialize)]
struct Valeur {
    valeur: String,
    libelle: String,
    /// `null`: secret.
    participations: Option<u64>,
}

fn valeurs<K: Ord + Clone>(
    counts: &BTreeMap<K, u64>,
    valeur: impl Fn(&K) -> String,
    libelle: impl Fn(&K) -> String,
) -> Vec<Valeur> {
    publie(counts, true)
        .iter()
        .map(|(k, n)| Valeur {
            valeur: valeur(k),
            libelle: libelle(k),
            participations: *n,
        })
        .collect()
}

/// `GET /api/v1/activites/statistiques`: the public figures as JSON (secret ones `null`).
pub async fn api(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<Demande>,
) -> Result<Response, ApiError> {
    let t = state.territoires.territoires();
    let (mut f, erreur) = filtres(&q);
    // A form sends empty fields; a program that sends one means nothing by it.
    for (name, value) in [("du", &q.du), ("au", &q.au)] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(ApiError::bad_request(
                "date_invalide",
                format!("{name} : une date AAAA-MM-JJ, ou rien."),
            ));
        }
    }
    if q.thematique
        .as_deref()
        .is_some_and(|v| Thematique::parse(v).is_none())
    {
        return Err(ApiError::bad_request(
            "thematique_inconnue",
            "thematique : l’une des valeurs de la liste des thématiques.",
        ));
    }
    if let Some(e) = erreur {
        return Err(ApiError::bad_request("date_invalide", e));
    }
    if q.type_activite
        .as_deref()
        .is_some_and(|v| TypeActivite::parse(v).is_none())
    {
        return Err(ApiError::bad_request(
            "type_inconnu",
            "type : « individuel » ou « collectif ».",
        ));
    }
    let perimetre = match q.territoire.as_deref().map(Perimetre::parse) {
        None => Perimetre::France,
        Some(Some(p)) if p.nom(t).is_some() => p,
        Some(Some(_)) => return Err(ApiError::NotFound),
        Some(None) => {
            return Err(ApiError::bad_request(
                "territoire_invalide",
                "territoire : france, region:CODE, departement:CODE, epci:SIREN ou commune:CODE_INSEE.",
            ));
        }
    };
    f.communes = perimetre.communes(t);
    let fig = state
        .activites
        .figures(&state.db, &f)
        .await
        .map_err(|_| ApiError::Internal)?;
    let tot = &fig.totaux;
    let body = serde_json::json!({
        "territoire": { "code": perimetre.code(), "nom": perimetre.nom(t) },
        "du": q.du.as_deref().filter(|v| !v.trim().is_empty()),
        "au": q.au.as_deref().filter(|v| !v.trim().is_empty()),
        "type": f.types.first().map(|t| t.as_str()),
        "thematique": f.thematiques.first().map(|t| t.as_str()),
        "seuil_secret": SEUIL_SECRET,
        "totaux": {
            "activites": total_publie(tot.activites),
            "activites_individuelles": total_publie(tot.activites_individuelles),
            "activites_collectives": total_publie(tot.activites_collectives),
            "participations": total_publie(tot.participations),
            "beneficiaires": total_publie(tot.beneficiaires),
            "nouveaux": total_publie(tot.nouveaux),
        },
        "repartitions": {
            "mois": valeurs(&fig.par_mois, |(y, m)| format!("{y:04}-{m:02}"), |(y, m)| format!("{m:02}/{y:04}")),
            "type": valeurs(&fig.par_type, |k| k.as_str().into(), |k| k.label().into()),
            "duree": valeurs(&fig.par_duree, |k| k.as_str().into(), |k| k.label().into()),
            "lieu": valeurs(&fig.par_type_lieu, |k| k.as_str().into(), |k| k.label().into()),
            "thematique": valeurs(&fig.par_thematique, |k| k.as_str().into(), |k| k.label().into()),
            "materiel": valeurs(&fig.par_materiel, |k| k.as_str().into(), |k| k.label().into()),
            "genre": valeurs(&fig.par_genre, |k| k.as_str().into(), |k| k.label().into()),
            "age": valeurs(&fig.par_tranche, |k| k.as_str().into(), |k| k.label().into()),
            "statut": valeurs(&fig.par_statut, |k| k.as_str().into(), |k| k.label().into()),
        },
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}
