//! The public pages of the lieux map on the 687 demo lieux: the search and its list, the
//! widget, and "signaler une erreur".

use crate::common;
use common::*;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use relais_domain::comptes::GlobalRole;
use relais_domain::comptes::sessions::Stage;
use relais_search::TerritoryIndex;
use relais_services::comptes::{self as svc, Policy};
use relais_services::lieux::import::import_bytes;
use relais_services::lieux::recherche::{Lieux, build};
use relais_testkit::TestDb;
use relais_web::{AppState, WebConfig, router};

async fn demo(t: &TestDb, tile_url: Option<&str>) -> Router {
    let index = TerritoryIndex::build(relais_services::territoires::parse_shipped().unwrap());
    let demo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/lieux/hinaura-2022-v0.json"
    ))
    .unwrap();
    import_bytes(&t.db, &index, "hinaura", &demo, &mut |_, _| {})
        .await
        .unwrap();
    let recherche = build(&t.db, &index).await.unwrap();
    router(AppState {
        db: t.db.clone(),
        policy: Policy::default(),
        territoires: Arc::new(index),
        config: WebConfig {
            public_url: format!("https://{HOST}"),
            tile_url: tile_url.map(str::to_string),
            ..WebConfig::default()
        },
        lieux: Arc::new(Lieux::new(recherche)),
        proconnect: None,
        franceconnect: None,
        activites: Default::default(),
    })
}

async fn get(app: &Router, path: &str) -> (StatusCode, String) {
    let res = send(app, "GET", path, "", "").await;
    (res.status(), body(res).await)
}

/// Ids of the lieux of a result page, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("<h3 class=\"fr-h6 fr-mb-1v\"><a href=\"/lieux/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

/// The `href` of the link whose text is `text`.
fn link(html: &str, text: &str) -> String {
    let end = html.find(&format!("\">{text}</a>")).expect(text);
    let start = html[..end].rfind("href=\"").unwrap() + 6;
    // As a browser reads it: entities decoded, the fragment left to the browser.
    let href = html[start..end].replace("&#38;", "&").replace("&amp;", "&");
    href.split('#').next().unwrap().to_string()
}

#[tokio::test]
async fn a_commune_is_found_by_name_or_postal_code_and_its_lieux_listed_page_by_page() {
    let t = TestDb::sqlite().await;
    let app = demo(&t, None).await;

    let (status, html) = get(&app, "/lieux").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Trouver un lieu de médiation numérique</h1>"));
    assert!(html.contains("id=\"autour-de-moi\" hidden"));
    assert!(listed(&html).is_empty());

    let (status, by_name) = get(&app, "/lieux?q=saint-etienne").await;
    assert_eq!(status, StatusCode::OK);
    assert!(by_name.contains("Lieux à Saint-Étienne (42)"), "{by_name}");
    let first = listed(&by_name);
    assert_eq!(first.len(), 20);
    assert!(by_name.contains(" km</span>") || by_name.contains(" m</span>"));
    assert!(by_name.contains("Ouvert maintenant") || by_name.contains("Fermé maintenant"));
    // The map shows the list's lieux; the widget's code is there to copy.
    assert!(by_name.contains("data-lat=\"45."));
    assert!(by_name.contains("/lieux/widget?commune=42218"));

    let (_, by_code) = get(&app, "/lieux?q=42000").await;
    assert!(by_code.contains("Lieux à Saint-Étienne (42)"));
    assert_eq!(listed(&by_code), first);

    // Next page: other lieux, and a way back.
    let next = link(&by_name, "Lieux suivants");
    assert!(next.contains("curseur="), "{next}");
    let (status, page2) = get(&app, &next).await;
    assert_eq!(status, StatusCode::OK);
    let second = listed(&page2);
    assert!(!second.is_empty());
    assert!(
        second.iter().all(|id| !first.contains(id)),
        "{next}\n{first:?}\n{second:?}"
    );
    assert!(page2.contains("Revenir aux premiers lieux"));
}

#[tokio::test]
async fn before_a_search_the_lieux_of_france_are_grouped_on_a_map_and_listed_per_departement() {
    let t = TestDb::sqlite().await;
    let app = demo(&t, None).await;

    // The list equivalent of the map: every département, its count, a link to its lieux.
    let (status, html) = get(&app, "/lieux").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"carte-france\""));
    assert_eq!(
        html.matches("<li><a href=\"/lieux?departement=").count()
            + html.matches(" : aucun lieu</li>").count(),
        relais_services::territoires::parse_shipped()
            .unwrap()
            .departements
            .len()
    );
    let haute_savoie = link(&html, "Haute-Savoie (74)");
    assert_eq!(haute_savoie, "/lieux?departement=74");
    let (status, dep) = get(&app, &haute_savoie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        dep.contains("Lieux dans le département Haute-Savoie (74)"),
        "{dep}"
    );
    let listed_count = html
        .split("Haute-Savoie (74)</a> : ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap()
        .to_string();
    assert!(
        dep.contains(&format!("{listed_count} lieux correspondent")),
        "{listed_count}"
    );
    assert_eq!(listed(&dep).len(), 20);
    let (_, page2) = get(&app, &link(&dep, "Lieux suivants")).await;
    assert!(listed(&page2).iter().all(|id| !listed(&dep).contains(id)));
    let (status, unknown) = get(&app, "/lieux?departement=1000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(unknown.contains("Aucun département n’a le code « 1000 »"));

    // The marks of the map: every positioned lieu of the view counted once; closer, more marks.
    let marques = |path: &str| {
        let app = app.clone();
        let path = path.to_string();
        async move {
            let res = send(&app, "GET", &path, "", "").await;
            let status = res.status();
            (
                status,
                serde_json::from_str::<serde_json::Value>(&body(res).await).unwrap(),
            )
        }
    };
    let (status, france) =
        marques("/lieux/carte/marques.json?bbox=-5.2,41.3,9.6,51.1&zoom=5").await;
    assert_eq!(status, StatusCode::OK);
    let france = france["marques"].as_array().unwrap().clone();
    let total: u64 = france.iter().map(|m| m["nombre"].as_u64().unwrap()).sum();
    assert!(total > 600, "{total}");
    assert!(france.len() < 40, "{}", france.len());
    let (_, detail) = marques("/lieux/carte/marques.json?bbox=-5.2,41.3,9.6,51.1&zoom=15").await;
    let detail = detail["marques"].as_array().unwrap().clone();
    assert_eq!(
        detail
            .iter()
            .map(|m| m["nombre"].as_u64().unwrap())
            .sum::<u64>(),
        total
    );
    assert!(detail.len() > 10 * france.len());
    let (_, annecy) = marques("/lieux/carte/marques.json?bbox=6.0,45.8,6.3,46.0&zoom=15").await;
    let annecy = annecy["marques"].as_array().unwrap().clone();
    assert!(annecy.len() > france.len() / 2);
    let one = annecy
        .iter()
        .find(|m| m["nombre"] == 1)
        .expect("un lieu seul");
    assert!(one["id"].is_string() && one["nom"].is_string());

    let (status, bad) = marques("/lieux/carte/marques.json?bbox=1,2,3&zoom=5").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["code"], "bbox_invalide");
    let (status, bad) = marques("/lieux/carte/marques.json?bbox=1,2,3,4&zoom=99").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["code"], "zoom_invalide");
}

#[tokio::test]
async fn an_ambiguous_name_lists_the_communes_and_an_unknown_one_says_so() {
    let t = TestDb::sqlite().await;
    let app = demo(&t, None).await;

    let (status, html) = get(&app, "/lieux?q=Sainte-Colombe").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Plusieurs communes correspondent"), "{html}");
    let choice = link(&html, "Sainte-Colombe");
    assert!(choice.starts_with("/lieux?commune="), "{choice}");
    let (status, chosen) = get(&app, &choice).await;
    assert_eq!(status, StatusCode::OK);
    assert!(chosen.contains("Lieux à Sainte-Colombe"));

    let (status, html) = get(&app, "/lieux?q=Xyzzyville").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("<title>Erreur : "));
    assert!(html.contains("Aucune commune ne s’appelle « Xyzzyville »"));
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"q-erreur\""));

    let (status, html) = get(&app, "/lieux?q=99999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Aucune commune n’a le code postal « 99999 »"));

    // A typo: the communes a letter away, the largest first.
    let (status, html) = get(&app, "/lieux?q=Saint-Etiene").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Plusieurs communes correspondent"), "{html}");
    let choice = link(&html, "Saint-Étienne");
    assert!(choice.starts_with("/lieux?commune=42218&"), "{choice}");
}

#[tokio::test]
async fn filters_narrow_the_list_and_a_position_lists_the_nearest() {
    let t = TestDb::sqlite().await;
    let app = demo(&t, None).await;
    let count = |html: &str| -> usize {
        if html.contains("Aucun lieu ne correspond") {
            return 0;
        }
        let end = html
            .find(" lieux correspondent")
            .or_else(|| html.find(" lieu correspond"));
        let end = end.expect("un compte");
        let start = html[..end].rfind('>').unwrap() + 1;
        html[start..end].parse().unwrap()
    };
    let (_, all) = get(&app, "/lieux?commune=74010").await;
    let (_, payant) = get(&app, "/lieux?commune=74010&frais=Payant").await;
    let (_, week_end) = get(&app, "/lieux?commune=74010&ouvert_week_end=1").await;
    let (_, two) = get(
        &app,
        "/lieux?commune=74010&frais=Payant&frais=Gratuit&services=Aide+aux+d%C3%A9marches+administratives",
    )
    .await;
    let all = count(&all);
    assert!(all > 10, "{all}");
    assert!(count(&payant) < all);
    assert!(count(&week_end) < all);
    assert!(count(&two) <= all);
    // The checked boxes stay checked, and the filters follow the pages.
    assert!(two.contains("value=\"Payant\" checked"));
    if two.contains("Lieux suivants") {
        assert!(link(&two, "Lieux suivants").contains("frais=Payant&frais=Gratuit"));
    }

    let (status, near) = get(&app, "/lieux?lat=45.4397&lon=4.3872").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        near.contains("autour de votre position (près de Saint-Étienne)"),
        "{near}"
    );
    assert_eq!(listed(&near).len(), 20);
    let (_, page2) = get(&app, &link(&near, "Lieux suivants")).await;
    assert!(listed(&page2).iter().all(|id| !listed(&near).contains(id)));
}

#[tokio::test]
async fn the_widget_may_be_framed_by_other_sites_and_nothing_else_may() {
    let t = TestDb::sqlite().await;
    let app = demo(&t, Some("https://{s}.tuiles.exemple.fr/{z}/{x}/{y}.png")).await;

    let res = send(&app, "GET", "/lieux/widget?commune=42218", "", "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(res.headers().get(header::X_FRAME_OPTIONS).is_none());
    let html = body(res).await;
    assert!(!html.contains("fr-header") && !html.contains("fr-footer"));
    assert!(html.contains("target=\"_blank\" rel=\"noopener\""));
    assert!(html.contains("Les liens s’ouvrent dans un nouvel onglet"));

    let (status, dep) = get(&app, "/lieux/widget?departement=74").await;
    assert_eq!(status, StatusCode::OK);
    assert!(dep.contains("dans le département Haute-Savoie (74)"));
    assert!(dep.contains("Lieux suivants"));
    let (status, _) = get(&app, "/lieux/widget?commune=00000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Every other page keeps its frame protection; the tile server is allowed for images.
    let res = send(&app, "GET", "/lieux?q=42000", "", "").await;
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(
        csp.contains("img-src 'self' data: https://*.tuiles.exemple.fr;"),
        "{csp}"
    );
    assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY");
    assert!(
        body(res)
            .await
            .contains("data-tuiles=\"https://{s}.tuiles.exemple.fr/{z}/{x}/{y}.png\"")
    );

    let res = send(&app, "GET", "/lieux/carte/departements.geojson", "", "").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/geo+json");
    let geojson: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    assert_eq!(geojson["features"].as_array().unwrap().len(), 101);
}

async fn admin_cookie(t: &TestDb) -> String {
    let id = account(&t.db, "admin@exemple.fr").await;
    svc::grant_global_role(&t.db, id, GlobalRole::Administrateur, "", None)
        .await
        .unwrap();
    cookie_of(&t.db, id, Stage::Active, true).await
}

#[tokio::test]
async fn an_error_is_reported_with_the_form_and_read_by_administrators() {
    let t = TestDb::sqlite().await;
    let app = demo(&t, None).await;
    let (_, list) = get(&app, "/lieux?q=42000").await;
    let id = listed(&list)[0].clone();
    let cookie = format!("relais_csrf={CSRF}");

    let (_, lieu) = get(&app, &format!("/lieux/{id}")).await;
    assert!(lieu.contains(&format!("href=\"/lieux/{id}/signalement\"")));
    let (status, html) = get(&app, &format!("/lieux/{id}/signalement")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Signaler une erreur</h1>"));
    assert!(html.contains("name=\"csrf\""));
    let path = format!("/lieux/{id}/signalement");

    // Without the CSRF token: refused.
    let no_csrf = "motif=horaires&message=Ferm%C3%A9+le+lundi";
    let res = send(&app, "POST", &path, &cookie, no_csrf).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Errors tied to their fields, what was typed kept.
    let bad = form(&[
        ("motif", "n-importe"),
        ("message", " "),
        ("email", "pas-une-adresse"),
    ]);
    let res = send(&app, "POST", &path, &cookie, &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    for field in ["motif", "message", "email"] {
        assert!(
            html.contains(&format!(
                "aria-invalid=\"true\" aria-describedby=\"{field}-erreur\""
            )),
            "{field}"
        );
    }
    assert!(html.contains("value=\"pas-une-adresse\""));

    let good = form(&[
        ("motif", "horaires"),
        ("message", "Fermé le lundi matin depuis septembre."),
        ("email", "Camille@Exemple.fr"),
    ]);
    let res = send(&app, "POST", &path, &cookie, &good).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        body(res)
            .await
            .contains("Merci, votre signalement est envoyé")
    );

    let res = send(&app, "POST", "/lieux/inconnu/signalement", &cookie, &good).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Anonymous visitors are sent to the login; administrators read the report.
    let res = send(&app, "GET", "/admin/lieux/signalements", "", "").await;
    assert!(location(&res).starts_with("/connexion?suite="));
    let admin = admin_cookie(&t).await;
    let res = send(&app, "GET", "/admin/lieux/signalements", &admin, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body(res).await;
    assert!(html.contains("Les horaires sont faux"));
    assert!(html.contains("Fermé le lundi matin depuis septembre."));
    assert!(html.contains("mailto:camille@exemple.fr"));
    assert!(html.contains(&format!("href=\"/lieux/{id}\"")));

    // A flood from one address stops at the limit.
    let mut last = StatusCode::OK;
    for _ in 0..10 {
        last = send(&app, "POST", &path, &cookie, &good).await.status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_structure_page_lists_its_lieux_and_a_lieu_names_its_structure() {
    let t = TestDb::sqlite().await;
    let app = demo(&t, None).await;
    relais_services::territoires::ensure_loaded(&t.db)
        .await
        .unwrap();
    let index = TerritoryIndex::build(relais_services::territoires::parse_shipped().unwrap());
    let report = relais_services::comptes::registre::ensure_demo(&t.db, &index)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.kept(), 5198);
    let structures = relais_store::comptes::registre::of_source(
        &t.db,
        relais_services::comptes::registre::DEMO_SOURCE,
    )
    .await
    .unwrap();
    let lapte = structures
        .iter()
        .find(|s| s.nom == "Mairie de Lapte")
        .unwrap();

    let (status, html) = get(&app, &format!("/structures/{}", lapte.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Mairie de Lapte</h1>"), "{html}");
    assert!(html.contains("Aidants Connect"));
    assert!(html.contains("Collectivité territoriale"));
    let lieu = link(&html, "Mairie de Lapte");
    assert!(lieu.starts_with("/lieux/"), "{lieu}");
    let (status, page) = get(&app, &lieu).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("href=\"/structures/{}\"", lapte.id)),
        "{page}"
    );

    for path in ["/structures/abc", "/structures/99999999"] {
        let (status, html) = get(&app, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("Structure introuvable"), "{path}");
    }
}

#[tokio::test]
async fn an_administrator_imports_a_register_from_the_browser_and_reads_its_report() {
    let t = TestDb::sqlite().await;
    let app = demo(&t, None).await;
    relais_services::territoires::ensure_loaded(&t.db)
        .await
        .unwrap();
    let admin = admin_cookie(&t).await;
    let path = "/admin/structures/import";
    let (status, form) = {
        let res = send(&app, "GET", path, &admin, "").await;
        (res.status(), body(res).await)
    };
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("enctype=\"multipart/form-data\""));
    assert!(form.contains("name=\"label-france_services\""));

    let csv = [
        "Siret,Name,Address,Zip Code,City,City Insee Code",
        "13002603200016.0,Mairie de Lapte,Le Bourg,43200,Lapte,43115",
        "123,Structure sans SIRET valable,1 rue Haute,42000,Saint-Étienne,42218",
        "21420218600000,Ville de Saint-Étienne,1 place de l’Hôtel de Ville,42000,Saint-Étienne,42218",
    ]
    .join("\n");
    let res = upload(
        &app,
        path,
        &admin,
        multipart_form(
            &[
                ("csrf", CSRF),
                ("registre", "essai"),
                ("label-france_services", "1"),
            ],
            "registre.csv",
            &csv,
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let report = body(res).await;
    assert!(
        report.contains("Registre « essai » : fichier « registre.csv »"),
        "{report}"
    );
    assert!(
        report.contains("3 lignes lues, 2 gardées, 1 rejetée"),
        "{report}"
    );
    assert!(
        report.contains("<th scope=\"row\">SIRET écrits comme des nombres, réparés</th><td>1</td>")
    );
    assert!(
        report.contains("<td>3</td><td>siret</td><td>123</td>"),
        "{report}"
    );
    assert!(report.contains("colonne « Siret »"));
    // Imported, with the label asked for; the same file again changes nothing.
    let kept = relais_store::comptes::registre::of_source(&t.db, "essai")
        .await
        .unwrap();
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().all(|s| {
        s.labels
            .contains(&relais_domain::comptes::registre::StructureLabel::FranceServices)
    }));
    let again = body(
        upload(
            &app,
            path,
            &admin,
            multipart_form(
                &[("csrf", CSRF), ("registre", "essai")],
                "registre.csv",
                &csv,
            ),
        )
        .await,
    )
    .await;
    assert!(
        again.contains("<th scope=\"row\">dont nouvelles structures</th><td>0</td>"),
        "{again}"
    );

    // A file without the register's columns is refused, saying which; no CSRF, no import;
    // someone not administrator gets the 403 page.
    let res = upload(
        &app,
        path,
        &admin,
        multipart_form(&[("csrf", CSRF)], "autre.csv", "a,b\n1,2"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    assert!(
        html.contains("colonne(s) introuvable(s) : siret, nom"),
        "{html}"
    );
    assert!(html.contains("aria-invalid=\"true\""));
    // Columns Relais does not know: the page proposes a correspondence from the file, in
    // the field that sends it back; with the one missing line added, the file imports.
    let unknown = "Numéro;Dénomination;CP;Ville\n13002603200016;Mairie de Lapte;43200;Lapte\n";
    let res = upload(
        &app,
        path,
        &admin,
        multipart_form(
            &[("csrf", CSRF), ("registre", "inconnu")],
            "inconnu.csv",
            unknown,
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    assert!(html.contains("id=\"correspondance-proposee\""), "{html}");
    assert!(
        html.contains("siret = &quot;Numéro&quot;  # confiance 0.7")
            || html.contains("siret = &#34;Numéro&#34;  # confiance 0.7"),
        "{html}"
    );
    let correspondance =
        "[colonnes]\nsiret = \"Numéro\"\nnom = \"Dénomination\"\ncommune = \"Ville\"";
    let res = upload(
        &app,
        path,
        &admin,
        multipart_form(
            &[
                ("csrf", CSRF),
                ("registre", "inconnu"),
                ("correspondance", correspondance),
            ],
            "inconnu.csv",
            unknown,
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let report = body(res).await;
    assert!(
        report.contains("1 ligne lue, 1 gardée, 0 rejetée"),
        "{report}"
    );
    assert!(report.contains("colonne « Dénomination »"), "{report}");
    let res = upload(
        &app,
        path,
        &admin,
        multipart_form(&[], "registre.csv", &csv),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let someone = account(&t.db, "quelquun@exemple.fr").await;
    let someone = cookie_of(&t.db, someone, Stage::Active, true).await;
    let res = upload(
        &app,
        path,
        &someone,
        multipart_form(&[("csrf", CSRF)], "registre.csv", &csv),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        relais_store::comptes::registre::of_source(&t.db, "essai")
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_referent_joins_the_imported_structure_of_the_siret_proconnect_vouched_for() {
    let t = TestDb::sqlite().await;
    let app = demo(&t, None).await;
    relais_services::territoires::ensure_loaded(&t.db)
        .await
        .unwrap();
    let admin = admin_cookie(&t).await;
    let csv = "Siret,Name,Address,Zip Code,City,City Insee Code\n\
               21420218600000,Ville de Saint-Étienne,1 place de l’Hôtel de Ville,42000,Saint-Étienne,42218";
    let res = upload(
        &app,
        "/admin/structures/import",
        &admin,
        multipart_form(
            &[("csrf", CSRF), ("registre", "essai")],
            "registre.csv",
            csv,
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let id = relais_store::comptes::structures_by_siret(&t.db, "21420218600000")
        .await
        .unwrap()[0]
        .id;
    let path = format!("/structures/{id}");

    // A visitor reads the team and is offered to log in; a logged-in person, the button.
    let (_, html) = get(&app, &path).await;
    assert!(html.contains("Référent de structure : personne"), "{html}");
    assert!(html.contains(&format!("href=\"/connexion?suite=/structures/{id}\"")));
    let person = account(&t.db, "camille@exemple.fr").await;
    let cookie = cookie_of(&t.db, person, Stage::Active, true).await;
    let html = body(send(&app, "GET", &path, &cookie, "").await).await;
    assert!(html.contains("Rejoindre cette structure comme référent"));

    // Without ProConnect's word for this SIRET: refused, saying how.
    let claim = format!("{path}/revendication");
    let res = send(&app, "POST", &claim, &cookie, &form(&[])).await;
    let status = res.status();
    let html = body(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(
        "ProConnect n’atteste pas que vous travaillez pour cette structure (SIRET 21420218600000)"
    ));
    relais_store::comptes::proconnect::set_proconnect_siret(&t.db, person, Some("21420218600000"))
        .await
        .unwrap();
    let res = send(&app, "POST", &claim, &cookie, &form(&[])).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/structures/{id}/equipe"));
    let team = send(
        &app,
        "GET",
        &format!("/structures/{id}/equipe"),
        &cookie,
        "",
    )
    .await;
    assert_eq!(team.status(), StatusCode::OK);
    let (_, html) = get(&app, &path).await;
    assert!(
        html.contains("Référent de structure : 1 personne"),
        "{html}"
    );
    assert!(!html.contains("Rejoindre cette structure"));
}
