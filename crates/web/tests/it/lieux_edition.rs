//! A structure's lieux over HTTP: the upload page and its report, the list, the edit form
//! with its field errors, and who may open them.

use crate::common;
use common::*;
use relais_domain::ids::{PersonId, StructureId};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{GlobalRole, Role, StructureKind};
use relais_services::comptes as svc;
use relais_store::Db;
use relais_testkit::TestDb;
use relais_testkit::fixtures::{grant, structure};
use tower::ServiceExt;

const HEADER: &str =
    "id,nom,commune,code_postal,adresse,latitude,longitude,telephone,horaires,date_maj";

fn csv() -> String {
    [
        HEADER,
        "1,Médiathèque Tarentaize,Saint-Étienne,42000,20 rue Jo Gouttebarge,45.44,4.387,04 77 00 00 01,Tu-Sa 10:00-18:00,2024-06-01",
        "2,Espace numérique,Saint-Étienne,4200,1 place Jean Jaurès,45.43,4.39,,,2024-06-01",
        "3,Tiers-lieu du Crêt,Saint-Étienne,42000,3 rue du Crêt,45.45,4.38,,,2024-06-01",
    ]
    .join("\n")
}

/// A multipart body with the CSRF field (when given) and the file.
fn multipart(csrf: Option<&str>, file: &str) -> String {
    let fields: Vec<(&str, &str)> = csrf.map(|t| ("csrf", t)).into_iter().collect();
    multipart_form(&fields, "lieux.csv", file)
}

struct World {
    a: StructureId,
    b: StructureId,
    /// Cookies of A's référent, B's référent, a médiateur of A, a hub coordinator.
    referent_a: String,
    referent_b: String,
    mediateur_a: String,
    hub: String,
}

async fn login(db: &Db, email: &str) -> (PersonId, String) {
    let id = account(db, email).await;
    (id, cookie_of(db, id, Stage::Active, true).await)
}

async fn world(db: &Db) -> World {
    let mut ids = Vec::new();
    for (siret, nom) in [
        ("13002526500013", "Médiathèque A"),
        ("21420218600018", "Mairie B"),
    ] {
        ids.push(structure(db, siret, nom, StructureKind::Collectivite).await);
    }
    let (a, b) = (ids[0], ids[1]);
    let mut cookies = Vec::new();
    for (email, structure, role) in [
        ("a@exemple.fr", a, Role::Referent),
        ("b@exemple.fr", b, Role::Referent),
        ("m@exemple.fr", a, Role::Mediateur),
    ] {
        let (id, cookie) = login(db, email).await;
        grant(db, id, structure, role).await;
        cookies.push(cookie);
    }
    let (hub_id, hub) = login(db, "hub@exemple.fr").await;
    svc::grant_global_role(db, hub_id, GlobalRole::CoordinateurHub, "84", None)
        .await
        .unwrap();
    World {
        a,
        b,
        referent_a: cookies[0].clone(),
        referent_b: cookies[1].clone(),
        mediateur_a: cookies[2].clone(),
        hub,
    }
}

/// Imports the CSV as A and gives the id of its first lieu.
async fn imported(app: &Router, w: &World) -> String {
    let res = upload(
        app,
        &format!("/structures/{}/lieux/import", w.a),
        &w.referent_a,
        multipart(Some(CSRF), &csv()),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let list = body(
        send(
            app,
            "GET",
            &format!("/structures/{}/lieux", w.a),
            &w.referent_a,
            "",
        )
        .await,
    )
    .await;
    let start = list.find("/modifier\"").expect("an edit link");
    let before = &list[..start];
    before[before.rfind("/lieux/").unwrap() + "/lieux/".len()..].to_string()
}

#[tokio::test]
async fn an_upload_reports_good_and_bad_rows() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let w = world(&t.db).await;
    let path = format!("/structures/{}/lieux/import", w.a);

    let form = body(send(&app, "GET", &path, &w.referent_a, "").await).await;
    assert!(form.contains("enctype=\"multipart/form-data\""));
    assert!(form.contains(&format!("name=\"csrf\" value=\"{CSRF}\"")));

    let res = upload(&app, &path, &w.referent_a, multipart(Some(CSRF), &csv())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = body(res).await;
    assert!(
        page.contains("3 lignes lues, 2 gardées, 1 rejetée."),
        "{page}"
    );
    assert!(page.contains("<caption id=\"rejets-titre\">"));
    assert!(
        page.contains(
            "<tr><td>3</td><td>code_postal</td><td>4200</td><td>5 chiffres attendus</td></tr>"
        ),
        "{page}"
    );

    // The list shows the two good rows; the same file again changes nothing.
    let list = body(
        send(
            &app,
            "GET",
            &format!("/structures/{}/lieux", w.a),
            &w.referent_a,
            "",
        )
        .await,
    )
    .await;
    assert!(list.contains("Médiathèque Tarentaize") && list.contains("Tiers-lieu du Crêt"));
    assert!(!list.contains("Espace numérique"));
    let again = body(upload(&app, &path, &w.referent_a, multipart(Some(CSRF), &csv())).await).await;
    assert!(
        again.contains("<tr><th scope=\"row\">dont inchangées</th><td>2</td></tr>"),
        "{again}"
    );

    // A file that is not one: said on the form, nothing imported.
    let res = upload(&app, &path, &w.referent_a, multipart(Some(CSRF), "")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = body(res).await;
    assert!(page.contains("aria-describedby=\"fichier-erreur\""));
    assert!(page.contains("Choisissez un fichier CSV ou JSON"));
}

#[tokio::test]
async fn uploads_without_csrf_or_too_big_are_refused() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let w = world(&t.db).await;
    let path = format!("/structures/{}/lieux/import", w.a);
    let res = upload(&app, &path, &w.referent_a, multipart(None, &csv())).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(body(res).await.contains("Formulaire expiré"));
    let res = upload(
        &app,
        &path,
        &w.referent_a,
        multipart(Some("autre-jeton-de-même-taille-000000"), &csv()),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let list = body(
        send(
            &app,
            "GET",
            &format!("/structures/{}/lieux", w.a),
            &w.referent_a,
            "",
        )
        .await,
    )
    .await;
    assert!(list.contains("aucun lieu"), "nothing imported");

    // A body declared bigger than the limit is refused before it is read.
    let req = Request::builder()
        .method("POST")
        .uri(&path)
        .header(header::COOKIE, &w.referent_a)
        .header(header::HOST, HOST)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::CONTENT_LENGTH, 60 * 1024 * 1024)
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body(res).await.contains("50 Mo"));

    // A body bigger than the limit without a declared length is cut where it passes it.
    let big = format!("{HEADER}\n{}", "x".repeat(51 * 1024 * 1024));
    let body_text = multipart(Some(CSRF), &big);
    let req = Request::builder()
        .method("POST")
        .uri(&path)
        .header(header::COOKIE, &w.referent_a)
        .header(header::HOST, HOST)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body_text))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn only_the_structures_referents_reach_its_lieux() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let w = world(&t.db).await;
    let lieu = imported(&app, &w).await;
    let list = format!("/structures/{}/lieux", w.a);
    let edit = format!("/structures/{}/lieux/{lieu}/modifier", w.a);

    let res = send(&app, "GET", &list, &format!("relais_csrf={CSRF}"), "").await;
    assert!(location(&res).starts_with("/connexion?suite="));
    for cookie in [&w.referent_b, &w.mediateur_a, &w.hub] {
        assert_eq!(
            send(&app, "GET", &list, cookie, "").await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(&app, "GET", &edit, cookie, "").await.status(),
            StatusCode::FORBIDDEN
        );
    }
    // B's référent on B's pages, with A's lieu: not theirs.
    let theirs = format!("/structures/{}/lieux/{lieu}/modifier", w.b);
    let res = send(&app, "GET", &theirs, &w.referent_b, "").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(body(res).await.contains("pas décrit par votre structure"));
    let res = send(
        &app,
        "POST",
        &theirs,
        &w.referent_b,
        &form(&[("nom", "Pris par B")]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The hub's page is its coordinators'.
    assert_eq!(
        send(&app, "GET", "/hub/lieux/import", &w.referent_a, "")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let res = upload(
        &app,
        "/hub/lieux/import",
        &w.hub,
        multipart(Some(CSRF), &csv()),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res).await.contains("Lieux du hub 84"));
}

#[tokio::test]
async fn an_edit_shows_field_errors_then_saves() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let w = world(&t.db).await;
    let lieu = imported(&app, &w).await;
    let path = format!("/structures/{}/lieux/{lieu}/modifier", w.a);

    let page = body(send(&app, "GET", &path, &w.referent_a, "").await).await;
    assert!(page.contains("value=\"Médiathèque Tarentaize\""));
    assert!(page.contains("value=\"Tu-Sa 10:00-18:00\""));

    let fields = |horaires: &'static str| {
        vec![
            ("nom", "Médiathèque Tarentaize"),
            ("adresse", "20 rue Jo Gouttebarge"),
            ("code_postal", "42000"),
            ("commune", "Saint-Étienne"),
            ("telephone", "04 77 12 34 56"),
            ("horaires", horaires),
            ("services", "Aide aux démarches administratives"),
            ("services", "Maîtrise des outils numériques du quotidien"),
        ]
    };
    // Without the CSRF token: refused before anything.
    let no_csrf = serde_urlencoded::to_string(fields("Mo-Fr 09:00-12:00")).unwrap();
    let res = send(&app, "POST", &path, &w.referent_a, &no_csrf).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = send(
        &app,
        "POST",
        &path,
        &w.referent_a,
        &form(&fields("du lundi au vendredi")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = body(res).await;
    assert!(page.contains("<title>Erreur : "));
    assert!(
        page.contains("aria-invalid=\"true\" aria-describedby=\"horaires-erreur\""),
        "{page}"
    );
    assert!(page.contains("<p class=\"fr-error-text\" id=\"horaires-erreur\">Horaires illisibles"));
    assert!(
        page.contains("value=\"04 77 12 34 56\""),
        "what was typed is kept"
    );
    let public = body(send(&app, "GET", &format!("/lieux/{lieu}"), "", "").await).await;
    assert!(!public.contains("+33477123456"));

    let res = send(
        &app,
        "POST",
        &path,
        &w.referent_a,
        &form(&fields("Mo-Fr 09:00-12:00")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        format!("/structures/{}/lieux?fait=modifie&lieu={lieu}", w.a)
    );
    let public = body(send(&app, "GET", &format!("/lieux/{lieu}"), "", "").await).await;
    assert!(public.contains("tel:+33477123456"), "{public}");
    assert!(public.contains("Maîtrise des outils numériques du quotidien"));
    let journal = body(
        send(
            &app,
            "GET",
            &format!("/structures/{}/journal", w.a),
            &w.referent_a,
            "",
        )
        .await,
    )
    .await;
    assert!(journal.contains("Lieu modifié"), "{journal}");
}

/// A producer's own columns: the upload goes to the mapping assistant, which proposes a
/// select per field and per value, previews the rows, imports with the corrections made,
/// and keeps the mapping so that the producer's next file goes straight in.
#[tokio::test]
async fn a_file_of_other_columns_goes_through_the_mapping_assistant_once() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let w = world(&t.db).await;
    let path = format!("/structures/{}/lieux/import", w.a);
    let producteur = [
        "Structure;Coordonnées;Tél.;Offre;Mise à jour;Divers",
        "Médiathèque Tarentaize;20 rue Jo Gouttebarge 42000 Saint-Étienne;04 77 00 00 01;Démarches en ligne;12/03/2024;a",
        "Espace du Soleil;1 place Jean Jaurès 42000 Saint-Étienne;04 77 00 00 02;Accès internet;13/03/2024;b",
        "Tiers-lieu du Crêt;3 rue du Crêt de Roc 42000 Saint-Étienne;04 77 00 00 03;Démarches en ligne;14/03/2024;c",
    ]
    .join("\r\n");
    let res = upload(
        &app,
        &path,
        &w.referent_a,
        multipart(Some(CSRF), &producteur),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let assistant = location(&res);
    assert!(assistant.starts_with(&format!("{path}/")), "{assistant}");

    // The proposal as a form: a select per field, the file's columns as options, the
    // preview of the rows; only the structure's référents see it.
    let html = body(send(&app, "GET", &assistant, &w.referent_a, "").await).await;
    assert!(html.contains("<select class=\"fr-select\" id=\"colonne-nom\" name=\"colonne-nom\">"));
    assert!(
        html.contains("<option value=\"Structure\" selected>Colonne « Structure »</option>"),
        "{html}"
    );
    assert!(html.contains("<option value=\"Coordonnées\" selected>"));
    assert!(html.contains("Médiathèque Tarentaize</td>"));
    let other = send(&app, "GET", &assistant, &w.referent_b, "").await;
    assert_eq!(other.status(), StatusCode::FORBIDDEN);

    // Corrections: services read from « Offre », « Démarches en ligne » meaning the
    // administrative procedures; the preview follows.
    let fields = [
        ("colonne-nom", "Structure"),
        ("colonne-telephone", "Tél."),
        ("colonne-services", "Offre"),
        ("action", "apercu"),
    ];
    let html = body(send(&app, "POST", &assistant, &w.referent_a, &form(&fields)).await).await;
    assert!(html.contains("correction"), "{html}");
    assert!(html.contains("id=\"valeurs-services\""), "{html}");
    let value = |html: &str, producer: &str| -> String {
        let at = html.find(&format!("value=\"{producer}\"")).expect(producer);
        let before = &html[..at];
        let name = &before[before.rfind("name=\"").unwrap() + 6..];
        name[..name.find("-de\"").unwrap()].to_string()
    };
    let demarches = value(&html, "Démarches en ligne");
    let acces = value(&html, "Accès internet");
    let de_demarches = format!("{demarches}-de");
    let de_acces = format!("{acces}-de");
    let fields = [
        ("colonne-nom", "Structure"),
        ("colonne-telephone", "Tél."),
        ("colonne-services", "Offre"),
        (demarches.as_str(), "Aide aux démarches administratives"),
        (de_demarches.as_str(), "Démarches en ligne"),
        (acces.as_str(), ""),
        (de_acces.as_str(), "Accès internet"),
        ("action", "importer"),
    ];
    let res = send(&app, "POST", &assistant, &w.referent_a, &form(&fields)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let report = body(res).await;
    assert!(
        report.contains("3 lignes lues, 3 gardées, 0 rejetée"),
        "{report}"
    );
    assert!(report.contains("La correspondance est gardée"));
    let list = body(
        send(
            &app,
            "GET",
            &format!("/structures/{}/lieux", w.a),
            &w.referent_a,
            "",
        )
        .await,
    )
    .await;
    assert!(list.contains("Médiathèque Tarentaize") && list.contains("Tiers-lieu du Crêt"));
    let lieu = relais_store::lieux::structure_lieux(&t.db, w.a)
        .await
        .unwrap();
    let mediatheque = lieu.iter().find(|l| l.data.contains("Tarentaize")).unwrap();
    assert!(
        mediatheque
            .data
            .contains("Aide aux démarches administratives"),
        "{}",
        mediatheque.data
    );
    // Done: the file no longer waits.
    let gone = send(&app, "GET", &assistant, &w.referent_a, "").await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // The producer's next file, same columns: imported at once with the kept mapping.
    let next = format!(
        "{producteur}\r\nCyber-base du Soleil;5 rue Haute 42000 Saint-Étienne;04 77 00 00 04;Démarches en ligne;15/03/2024;d"
    );
    let res = upload(&app, &path, &w.referent_a, multipart(Some(CSRF), &next)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let report = body(res).await;
    assert!(
        report.contains("correspondance gardée pour ce producteur appliquée"),
        "{report}"
    );
    assert!(report.contains("4 lignes lues, 4 gardées"), "{report}");
}
