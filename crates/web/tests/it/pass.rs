//! Pass numérique through the pages, on both backends: a référent creates a programme
//! (errors on their fields), qualifies their structure and issues booklets; a mediator
//! checks a pass, accepts it once however often the button is pressed, and is told when
//! it was used.

use axum::http::StatusCode;
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::ids::ProgrammeId;
use relais_domain::pass::code::CodePass;
use relais_testkit::TestDb;
use relais_testkit::fixtures::{grant, structure};

use crate::common::{
    account, app_with_territories, body, cookie_of, form, location, send, send_json,
};

/// The value of the hidden field `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} : {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

async fn a_programme_is_created_and_its_passes_accepted_once(t: &TestDb) {
    let app = app_with_territories(t).await;
    let s = structure(
        &t.db,
        "21420218600018",
        "Département de la Loire",
        StructureKind::Collectivite,
    )
    .await;
    let alice = account(&t.db, "alice@exemple.fr").await;
    grant(&t.db, alice, s, Role::Referent).await;
    let camille = account(&t.db, "camille@exemple.fr").await;
    grant(&t.db, camille, s, Role::Mediateur).await;
    let referent = cookie_of(&t.db, alice, Stage::Active, false).await;
    let mediateur = cookie_of(&t.db, camille, Stage::Active, false).await;

    let res = send(&app, "GET", &format!("/structures/{s}/pass"), &referent, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let new = format!("/structures/{s}/pass/programmes/nouveau");
    let mut fields = vec![
        ("nom", "Pass numérique Loire"),
        ("financeur1_nom", "Département de la Loire"),
        ("financeur1_siret", "21420218600018"),
        ("financeur1_part", "60"),
        ("financeur1_iban", "FR76 3000 6000 0112 3456 7890 188"),
        ("financeur1_bic", "AGRIFRPP"),
        ("financeur2_nom", "État"),
        ("financeur2_siret", "13002526500013"),
        ("financeur2_part", "40"),
        ("financeur2_iban", "FR7630001007941234567890185"),
        ("financeur2_bic", "BDFEFRPPCCT"),
        ("valeur", "10"),
        ("taille_carnet", "5"),
        ("budget", "1 000"),
        ("dernier_jour", "2099-12-31"),
        ("grace", "31"),
        ("territoires", "42"),
        ("publics", "tout_public"),
        ("services", "atelier_collectif"),
        ("services", "aide_demarches"),
    ];
    // A wrong IBAN key: refused on its field, the rest kept.
    let res = send(&app, "POST", &new, &referent, &form(&fields)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    assert!(html.contains("id=\"financeur1_iban-erreur\""), "{html}");
    assert!(html.contains("value=\"Pass numérique Loire\""), "{html}");
    assert!(html.contains("value=\"aide_demarches\" checked"), "{html}");
    fields[4].1 = "FR76 3000 6000 0112 3456 7890 189";
    let res = send(&app, "POST", &new, &referent, &form(&fields)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", body(res).await);
    let page = location(&res);
    let programme: ProgrammeId = page.rsplit('/').next().unwrap().parse().unwrap();

    // The structure applies to its own programme, is qualified, issues two booklets.
    let apply = form(&[
        ("programme", &programme.to_string()),
        ("titulaire", "Département de la Loire"),
        ("iban", "FR7630006000011234567890189"),
        ("bic", "AGRIFRPP"),
        ("services", "atelier_collectif"),
    ]);
    let res = send(
        &app,
        "POST",
        &format!("/structures/{s}/pass/qualification"),
        &referent,
        &apply,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "{}", body(res).await);
    let q = relais_store::pass::qualifications_of(&t.db, programme)
        .await
        .unwrap()[0]
        .id;
    let decide = format!("{page}/qualifications/{q}");
    let res = send(
        &app,
        "POST",
        &decide,
        &referent,
        &form(&[("decision", "accepter")]),
    )
    .await;
    assert!(body(res).await.contains("La structure est qualifiée"));
    let res = send(
        &app,
        "POST",
        &format!("{page}/carnets"),
        &referent,
        &form(&[("nombre", "2"), ("siret", "214 202 186 00018")]),
    )
    .await;
    let html = body(res).await;
    assert!(html.contains("2 carnet(s) émis, nos 1 à 2."), "{html}");
    // A prescripteur of the structure hands booklet 2 to a person, once.
    let dana = account(&t.db, "dana@exemple.fr").await;
    grant(&t.db, dana, s, Role::Prescripteur).await;
    let prescripteur = cookie_of(&t.db, dana, Stage::Active, false).await;
    let remise = format!("/structures/{s}/pass/remise");
    let html = body(send(&app, "GET", &remise, &prescripteur, "").await).await;
    assert!(
        html.contains("Pass numérique Loire (2 carnet(s) à remettre)"),
        "{html}"
    );
    let hand = form(&[
        ("programme", &programme.to_string()),
        ("numero", "2"),
        ("tranche", "soixante_dix_plus"),
        ("situation", "retraite"),
        ("commune", "42218"),
    ]);
    let html = body(send(&app, "POST", &remise, &prescripteur, &hand).await).await;
    assert!(html.contains("Carnet n° 2 remis : 5 pass"), "{html}");
    let res = send(&app, "POST", &remise, &prescripteur, &hand).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(res).await.contains("ce carnet a déjà été remis"));

    let codes = relais_store::pass::carnet(&t.db, programme, 1)
        .await
        .unwrap()
        .unwrap()
        .codes;

    // The counter: check, then accept twice with the same key, then once more.
    let counter = format!("/structures/{s}/pass/utilisation");
    assert_eq!(
        send(&app, "GET", &counter, &mediateur, "").await.status(),
        StatusCode::OK
    );
    let check = form(&[("etape", "verifier"), ("code", &codes[0].to_lowercase())]);
    let html = body(send(&app, "POST", &counter, &mediateur, &check).await).await;
    assert!(html.contains("Ce pass est valable ici"), "{html}");
    assert!(html.contains("10,00 €"), "{html}");
    let accept = form(&[
        ("etape", "accepter"),
        ("code", &hidden(&html, "code")),
        ("cle", &hidden(&html, "cle")),
        ("service", "atelier_collectif"),
    ]);
    for _ in 0..2 {
        let html = body(send(&app, "POST", &counter, &mediateur, &accept).await).await;
        assert!(html.contains("Pass accepté"), "{html}");
    }
    // The use starts the activity report: a workshop, the rest to fill.
    let activite = format!("/structures/{s}/activites/nouvelle?type_activite=collectif");
    let html = body(send(&app, "POST", &counter, &mediateur, &accept).await).await;
    assert!(html.contains(&format!("href=\"{activite}\"")), "{html}");
    let html = body(send(&app, "GET", &activite, &mediateur, "").await).await;
    assert!(html.contains(r#"value="collectif" checked"#), "{html}");
    let res = send(&app, "POST", &counter, &mediateur, &check).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    assert!(html.contains("ce pass a déjà été utilisé le"), "{html}");
    assert!(html.contains("aria-describedby=\"code-erreur\""), "{html}");
    // A typo is told apart, with the pass meant offered.
    let mut typo: Vec<char> = codes[1].chars().collect();
    typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    let res = send(
        &app,
        "POST",
        &counter,
        &mediateur,
        &form(&[("etape", "verifier"), ("code", &typo)]),
    )
    .await;
    let html = body(res).await;
    assert!(html.contains("faute de frappe"), "{html}");
    assert!(html.contains("Vérifier plutôt le pass"), "{html}");

    // The devices' API: the same rules, as problems with a stable code.
    let api = format!("/api/v1/structures/{s}/pass");
    let utiliser = format!("{api}/utilisations");
    let json = |code: &str, cle: &str| {
        serde_json::json!({ "code": code, "cle": cle, "service": "atelier_collectif" }).to_string()
    };
    let problem = |res: axum::response::Response| async move {
        let status = res.status();
        let v: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
        (status, v)
    };
    let use_2 = json(&codes[2], "cle-de-l-appareil-0001");
    // No CSRF header, no session: refused before anything is read.
    let (status, v) = problem(send(&app, "POST", &utiliser, &mediateur, &use_2).await).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf"))
    );
    let anonymous = format!("relais_csrf={}", crate::common::CSRF);
    let (status, v) = problem(send_json(&app, &utiliser, &anonymous, &use_2).await).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("non_connecte"))
    );
    let res = send_json(
        &app,
        &format!("{api}/verifications"),
        &mediateur,
        &serde_json::json!({ "code": codes[2] }).to_string(),
    )
    .await;
    let (status, v) = problem(res).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["valeur_centimes"], 1000);
    // Used once; the same use sent again (a queue replayed) gets the same answer.
    for _ in 0..2 {
        let (status, v) = problem(send_json(&app, &utiliser, &mediateur, &use_2).await).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let other = json(&codes[2], "cle-de-l-appareil-0002");
    let (status, v) = problem(send_json(&app, &utiliser, &mediateur, &other).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "deja_utilise");
    assert!(v["utilise_le"].is_i64() && v["ou"].is_string(), "{v}");
    // Taken offline meanwhile: the same refusal, and a conflict the statements show.
    let offline = serde_json::json!({
        "code": codes[2], "cle": "cle-hors-ligne-0001", "service": "atelier_collectif",
        "hors_ligne": true,
    })
    .to_string();
    let (status, v) = problem(send_json(&app, &utiliser, &mediateur, &offline).await).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("deja_utilise"))
    );
    let html = body(
        send(
            &app,
            "GET",
            &format!("/structures/{s}/pass/releves"),
            &mediateur,
            "",
        )
        .await,
    )
    .await;
    assert!(
        html.contains("Conflits signalés")
            && html.contains(&CodePass::parse(&codes[2]).unwrap().to_string()),
        "{html}"
    );
    // The counter keeps what its script needs offline: the programmes and their services.
    let html = body(send(&app, "GET", &counter, &mediateur, "").await).await;
    assert!(
        html.contains("data-programmes=") && html.contains("atelier_collectif"),
        "{html}"
    );
    let (status, v) =
        problem(send_json(&app, &utiliser, &mediateur, &json(&codes[3], "courte")).await).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("cle"))
    );
    let (status, v) = problem(
        send_json(
            &app,
            &utiliser,
            &mediateur,
            &json(&typo, "cle-de-l-appareil-0003"),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        (v["code"].as_str(), v["suggestion"].as_str()),
        (
            Some("faute_de_frappe"),
            Some(CodePass::parse(&codes[1]).unwrap().to_string().as_str())
        )
    );
    let (status, v) = problem(send_json(&app, &utiliser, &mediateur, "{\"code\": 3}").await).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("json_invalide")),
        "{v}"
    );

    // The month's transfer file of the first funder: its 60 % of the two passes used.
    let (y, m, _, _) = relais_domain::calendrier::paris_civil(relais_domain::calendrier::now_ms());
    let virements = format!("{page}/virements");
    let mois = format!("{y}-{m:02}");
    let res = send(
        &app,
        "POST",
        &virements,
        &referent,
        &form(&[("mois", &mois), ("financeur", "0")]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".xml")
    );
    let xml = body(res).await;
    assert!(xml.contains("<CtrlSum>12.00</CtrlSum>"), "{xml}");
    // Kept as prepared, listed to confirm its payment: not before the month is over.
    let html = body(send(&app, "GET", &page, &referent, "").await).await;
    assert!(
        html.contains("Ordres de virement préparés") && html.contains("12,00"),
        "{html}"
    );
    let res = send(
        &app,
        "POST",
        &format!("{virements}/paiement"),
        &referent,
        &form(&[("mois", &mois), ("financeur", "0")]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(res).await.contains("ce mois n’est pas terminé"));
    let res = send(
        &app,
        "POST",
        &virements,
        &referent,
        &form(&[("mois", "mars"), ("financeur", "0")]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(res).await.contains("indiquez un mois"));
    let res = send(
        &app,
        "POST",
        &virements,
        &referent,
        &form(&[("mois", "2020-01"), ("financeur", "0")]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body(res).await.contains("aucun virement à préparer"));

    // The programme's figures: the funnel by territory as CSV, with the funders as XLSX
    // (read back by openpyxl).
    let csv = body(send(&app, "GET", &format!("{page}/chiffres.csv"), &referent, "").await).await;
    assert!(csv.starts_with("territoire,emis,remis,"), "{csv}");
    let res = send(&app, "GET", &format!("{page}/chiffres.xlsx"), &referent, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let read = crate::common::read_xlsx(&bytes);
    assert_eq!(
        read["feuilles"],
        serde_json::json!(["Entonnoir", "Financeurs"])
    );
    let financeurs = read["cellules"]["Financeurs"].as_array().unwrap();
    assert_eq!(financeurs[2][0], "État");
    assert_eq!(financeurs[2][3], "oui");
    assert_eq!(
        financeurs[2][4], 8,
        "40 % of two passes of 10 €: {financeurs:?}"
    );
    assert_eq!(
        send(
            &app,
            "GET",
            &format!("{page}/chiffres.xlsx"),
            &mediateur,
            ""
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );

    // The structure's statements: the page, the CSV, the month's PDF.
    let releves = format!("/structures/{s}/pass/releves");
    let html = body(send(&app, "GET", &releves, &mediateur, "").await).await;
    assert!(
        html.contains("Relevés mensuels") && html.contains("20,00"),
        "{html}"
    );
    let csv = body(send(&app, "GET", &format!("{releves}.csv"), &mediateur, "").await).await;
    assert!(
        csv.contains(&format!(
            "{mois},\"Pass numérique Loire\",2,20.00,\"État\",8.00"
        )),
        "{csv}"
    );
    let res = send(
        &app,
        "GET",
        &format!("{releves}/{programme}/{mois}"),
        &mediateur,
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let res = send(
        &app,
        "GET",
        &format!("{releves}/{programme}/1999-01"),
        &mediateur,
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

relais_testkit::backend_tests!(a_programme_is_created_and_its_passes_accepted_once);
