//! The review of the merge by administrators, on both backends: who may see and decide,
//! the CSRF check, « lieux distincts » taking the pair off the list for good (a re-import
//! keeps the two apart), « même lieu » merging them, and the journal naming who decided.

use crate::common;
use common::*;

use std::sync::OnceLock;

use axum::Router;
use axum::http::StatusCode;
use relais_domain::comptes::GlobalRole;
use relais_domain::comptes::sessions::Stage;
use relais_domain::ids::LieuId;
use relais_domain::journal::JournalAction;
use relais_search::TerritoryIndex;
use relais_services::comptes as svc;
use relais_services::lieux::fusion;
use relais_services::lieux::import::{import_bytes, lieu_id};
use relais_store::journal::{self, JournalFilter};
use relais_store::lieux;
use relais_testkit::TestDb;

relais_testkit::backend_tests!(
    only_administrators_see_and_decide,
    a_decision_without_its_csrf_token_is_refused,
    distinct_pair_leaves_the_list_and_stays_apart_after_a_reimport,
    same_place_merges_the_pair,
    a_wrong_decision_is_said_on_the_page,
);

fn index() -> &'static TerritoryIndex {
    static INDEX: OnceLock<TerritoryIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        TerritoryIndex::build(relais_services::territoires::parse_shipped().unwrap())
    })
}

const HEADER: &str = "id,pivot,nom,commune,code_postal,code_insee,adresse,latitude,longitude,telephone,courriels,date_maj,services";

/// A town's médiathèque, and a network's digital space at the same address: nothing else
/// in common, so the merge cannot decide.
fn ville() -> String {
    format!(
        "{HEADER}\n1,13002526500013,Médiathèque Tarentaize,Saint-Étienne,42000,42218,20 rue Jo Gouttebarge,45.4330,4.3925,04 77 12 34 56,,2023-01-15,Aide aux démarches administratives\n"
    )
}

fn reseau(nom: &str, telephone: &str, date: &str) -> String {
    format!(
        "{HEADER}\nE-1,,{nom},Saint-Étienne,42000,42218,20 rue Jo Gouttebarge,45.4330,4.3925,{telephone},espace@exemple.fr,{date},Maîtrise des outils numériques du quotidien\n"
    )
}

async fn import(t: &TestDb, source: &str, csv: &str) {
    import_bytes(&t.db, index(), source, csv.as_bytes(), &mut |_, _| {})
        .await
        .unwrap();
}

/// The site, with one pair to review.
async fn site(t: &TestDb) -> Router {
    let app = app(t).await;
    import(t, "ville", &ville()).await;
    import(t, "reseau", &reseau("Espace numérique", "", "2024-09-01")).await;
    assert_eq!(fusion::review(&t.db).await.unwrap().len(), 1);
    app
}

/// A logged-in person, administrator or not; the cookie of their session.
async fn cookie(t: &TestDb, email: &str, admin: bool) -> String {
    let id = account(&t.db, email).await;
    if admin {
        svc::grant_global_role(&t.db, id, GlobalRole::Administrateur, "", None)
            .await
            .unwrap();
    }
    cookie_of(&t.db, id, Stage::Active, true).await
}

fn ids() -> (LieuId, LieuId) {
    (lieu_id("ville", "1"), lieu_id("reseau", "E-1"))
}

fn decision(verdict: &str) -> String {
    let (a, b) = ids();
    form(&[("a", a.as_str()), ("b", b.as_str()), ("verdict", verdict)])
}

async fn only_administrators_see_and_decide(t: &TestDb) {
    let app = site(t).await;
    let res = send(&app, "GET", "/admin/lieux/fusions", "", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/connexion?suite="));

    let someone = cookie(t, "mediateur@exemple.fr", false).await;
    let res = send(&app, "GET", "/admin/lieux/fusions", &someone, "").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = send(
        &app,
        "POST",
        "/admin/lieux/fusions/decision",
        &someone,
        &decision("distincts"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        fusion::review(&t.db).await.unwrap().len(),
        1,
        "nothing decided"
    );

    let admin = cookie(t, "admin@exemple.fr", true).await;
    let res = send(&app, "GET", "/admin/lieux/fusions", &admin, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body(res).await;
    assert!(html.contains("1 paire à revoir"), "{html}");
    // Both records side by side, with what the comparison found.
    for text in [
        "Médiathèque Tarentaize",
        "Espace numérique",
        "(ville)</th>",
        "(reseau)</th>",
        "13002526500013",
        "04 77 12 34 56",
        "espace@exemple.fr",
        "15/01/2023",
        "01/09/2024",
        "20 rue Jo Gouttebarge",
        "42000 Saint-Étienne",
        "Distance entre les deux : 0 m",
        "même adresse",
        "<th scope=\"row\">SIRET</th>",
        "Même lieu : fusionner",
        "Lieux distincts",
        "Aucune décision pour l’instant.",
    ] {
        assert!(html.contains(text), "{text} missing:\n{html}");
    }
    // Each record by its own id, in the order the review holds them.
    let (a, b) = ids();
    let pair = |x: &str, y: &str| {
        html.contains(&format!("name=\"a\" value=\"{x}\""))
            && html.contains(&format!("name=\"b\" value=\"{y}\""))
    };
    assert!(
        pair(a.as_str(), b.as_str()) || pair(b.as_str(), a.as_str()),
        "{html}"
    );
    assert!(html.contains(&format!("name=\"csrf\" value=\"{CSRF}\"")));
}

async fn a_decision_without_its_csrf_token_is_refused(t: &TestDb) {
    let app = site(t).await;
    let admin = cookie(t, "admin@exemple.fr", true).await;
    let (a, b) = ids();
    let without = serde_urlencoded::to_string([
        ("a", a.as_str()),
        ("b", b.as_str()),
        ("verdict", "distincts"),
    ])
    .unwrap();
    let res = send(
        &app,
        "POST",
        "/admin/lieux/fusions/decision",
        &admin,
        &without,
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let wrong = without.clone() + "&csrf=ffffffffffffffffffffffffffffffff";
    let res = send(
        &app,
        "POST",
        "/admin/lieux/fusions/decision",
        &admin,
        &wrong,
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        fusion::review(&t.db).await.unwrap().len(),
        1,
        "nothing decided"
    );
}

async fn distinct_pair_leaves_the_list_and_stays_apart_after_a_reimport(t: &TestDb) {
    let app = site(t).await;
    let admin = cookie(t, "admin@exemple.fr", true).await;
    let res = send(
        &app,
        "POST",
        "/admin/lieux/fusions/decision",
        &admin,
        &decision("distincts"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/lieux/fusions?fait=distincts");
    let res = send(&app, "GET", &location(&res), &admin, "").await;
    let html = body(res).await;
    assert!(html.contains("fr-alert--success"), "{html}");
    assert!(html.contains("restent distincts"), "{html}");
    assert!(html.contains("Aucune paire à revoir."), "{html}");
    // The decision is listed with who took it.
    assert!(html.contains("<td>Camille Martin</td>"), "{html}");
    assert!(html.contains("<td>Lieux distincts</td>"), "{html}");
    assert!(fusion::review(&t.db).await.unwrap().is_empty());
    assert_eq!(lieux::count(&t.db).await.unwrap(), 2);

    // The journal says who decided what, in the same transaction as the decision.
    let entries = journal::list(
        &t.db,
        &JournalFilter {
            action: Some(JournalAction::FusionDecided),
            ..JournalFilter::default()
        },
        10,
    )
    .await
    .unwrap();
    assert_eq!(entries.len(), 1);
    assert!(entries[0].content.actor.is_some());
    let details: serde_json::Value = serde_json::from_str(&entries[0].content.details).unwrap();
    let (a, b) = ids();
    assert_eq!(details["a"], a.as_str());
    assert_eq!(details["b"], b.as_str());
    assert_eq!(details["verdict"], "distinct");

    // The network sends its row again, now with the town's name and phone: the rules alone
    // would merge them, the decision keeps them apart.
    import(
        t,
        "reseau",
        &reseau("Médiathèque Tarentaize", "04 77 12 34 56", "2024-10-01"),
    )
    .await;
    assert_eq!(lieux::count(&t.db).await.unwrap(), 2);
    assert!(fusion::review(&t.db).await.unwrap().is_empty());
    assert_eq!(lieux::resolve_id(&t.db, &b).await.unwrap(), Some(b.clone()));
}

async fn same_place_merges_the_pair(t: &TestDb) {
    let app = site(t).await;
    let admin = cookie(t, "admin@exemple.fr", true).await;
    let res = send(
        &app,
        "POST",
        "/admin/lieux/fusions/decision",
        &admin,
        &decision("identiques"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/lieux/fusions?fait=identiques");
    assert_eq!(lieux::count(&t.db).await.unwrap(), 1);
    let (a, b) = ids();
    assert_eq!(lieux::resolve_id(&t.db, &b).await.unwrap(), Some(a.clone()));
    let html = body(send(&app, "GET", &location(&res), &admin, "").await).await;
    assert!(html.contains("réunies en un seul lieu"), "{html}");
    assert!(html.contains("Même lieu : fusionnés"), "{html}");
    assert!(html.contains("Aucune paire à revoir."), "{html}");
}

async fn a_wrong_decision_is_said_on_the_page(t: &TestDb) {
    let app = site(t).await;
    let admin = cookie(t, "admin@exemple.fr", true).await;
    let (a, _) = ids();
    let res = send(
        &app,
        "POST",
        "/admin/lieux/fusions/decision",
        &admin,
        &form(&[
            ("a", a.as_str()),
            ("b", "inconnu"),
            ("verdict", "distincts"),
        ]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    assert!(html.contains("fr-alert--error"), "{html}");
    assert!(
        html.contains("Aucun lieu n’a l’identifiant « inconnu »."),
        "{html}"
    );
    assert!(html.contains("1 paire à revoir"), "the list is still there");

    let res = send(
        &app,
        "POST",
        "/admin/lieux/fusions/decision",
        &admin,
        &form(&[("a", a.as_str()), ("b", "x"), ("verdict", "peut-etre")]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body(res)
            .await
            .contains("Choisissez « Même lieu : fusionner »")
    );
    assert_eq!(fusion::review(&t.db).await.unwrap().len(), 1);
}
