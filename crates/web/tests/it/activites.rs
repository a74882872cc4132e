//! A mediator's activities through the pages: the form with its defaults, an entry sent
//! twice and written once, errors tied to their field, deletion; on both backends.

use axum::http::StatusCode;
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::ids::PersonId;
use relais_testkit::TestDb;
use relais_testkit::fixtures::{grant, structure};

use crate::common::{account, app, app_with_territories, body, cookie_of, form, location, send};

async fn a_mediator_enters_an_activity_once(t: &TestDb) {
    let app = app(t).await;
    let s = structure(
        &t.db,
        "13002526500013",
        "Médiathèque",
        StructureKind::Collectivite,
    )
    .await;
    let camille = account(&t.db, "camille@exemple.fr").await;
    grant(&t.db, camille, s, Role::Mediateur).await;
    let cookie = cookie_of(&t.db, camille, Stage::Active, false).await;
    let page = format!("/structures/{s}/activites/nouvelle");

    let res = send(&app, "GET", &page, &cookie, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body(res).await;
    // Defaults: an individual accompaniment of 30 minutes today, at home (no lieu yet).
    for checked in [
        r#"id="type_activite-individuel" name="type_activite" value="individuel" checked"#,
        r#"id="duree-30" name="duree" value="30" checked"#,
        r#"id="type_lieu-domicile" name="type_lieu" value="domicile" checked"#,
    ] {
        assert!(html.contains(checked), "{checked} absent");
    }
    let cle = html
        .split(r#"name="cle" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let date = html
        .split(r#"name="date" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();

    // Errors are tied to their field, and what was entered stays.
    let wrong = form(&[
        ("cle", &cle),
        ("type_activite", "individuel"),
        ("date", &date),
        ("duree", "30"),
        ("type_lieu", "domicile"),
        ("commune", "42218"),
        ("materiel", "telephone"),
        ("anonymes", "1"),
    ]);
    let res = send(&app, "POST", &page, &cookie, &wrong).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    assert!(html.contains("<title>Erreur : Nouvelle activité"), "{html}");
    assert!(
        html.contains(r#"<p id="thematiques-erreur" class="fr-message fr-message--error">Thématiques : choisissez au moins une thématique.</p>"#),
        "{html}"
    );
    assert!(html.contains(r#"id="materiel-telephone" name="materiel" value="telephone" checked"#));

    let right = format!("{wrong}&thematiques=email&thematiques=sante");
    for _ in 0..2 {
        let res = send(&app, "POST", &page, &cookie, &right).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            format!("/structures/{s}/activites?fait=enregistree")
        );
    }
    let res = send(
        &app,
        "GET",
        &format!("/structures/{s}/activites?fait=enregistree"),
        &cookie,
        "",
    )
    .await;
    let html = body(res).await;
    assert!(html.contains("L’activité est enregistrée."), "{html}");
    assert!(
        html.contains("<li>1 activité(s) enregistrée(s) ;</li>"),
        "sent twice, written once: {html}"
    );
    assert!(html.contains("Courriel, Santé"), "{html}");
    let id = html
        .split("/activites/")
        .filter_map(|rest| rest.split('/').next())
        .find(|id| id.chars().all(|c| c.is_ascii_digit()) && !id.is_empty())
        .unwrap()
        .to_string();

    // Changed: the form shows what was written, the change is saved under the same key.
    let edit = format!("/structures/{s}/activites/{id}/modifier");
    let html = body(send(&app, "GET", &edit, &cookie, "").await).await;
    assert!(html.contains("<title>Modifier une activité"), "{html}");
    for checked in [
        r#"id="thematiques-email" name="thematiques" value="email" checked"#,
        r#"id="thematiques-sante" name="thematiques" value="sante" checked"#,
        r#"id="materiel-telephone" name="materiel" value="telephone" checked"#,
        r#"id="duree-30" name="duree" value="30" checked"#,
    ] {
        assert!(html.contains(checked), "{checked} absent");
    }
    assert!(html.contains(&format!(r#"name="cle" value="{cle}""#)));
    let changed = right.replace("duree=30", "duree=45");
    let res = send(&app, "POST", &edit, &cookie, &changed).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = body(
        send(
            &app,
            "GET",
            &format!("/structures/{s}/activites"),
            &cookie,
            "",
        )
        .await,
    )
    .await;
    assert!(
        html.contains("<td>45 min</td>")
            && html.contains("<li>1 activité(s) enregistrée(s) ;</li>"),
        "{html}"
    );
    let other = body(
        send(
            &app,
            "GET",
            "/structures/999/activites/1/modifier",
            &cookie,
            "",
        )
        .await,
    )
    .await;
    assert!(!other.contains("Modifier une activité"));

    let res = send(
        &app,
        "POST",
        &format!("/structures/{s}/activites/{id}/suppression"),
        &cookie,
        &form(&[]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = body(
        send(
            &app,
            "GET",
            &format!("/structures/{s}/activites"),
            &cookie,
            "",
        )
        .await,
    )
    .await;
    assert!(
        html.contains("<li>0 activité(s) enregistrée(s) ;</li>"),
        "{html}"
    );
    assert!(html.contains("Aucune activité enregistrée pour le moment."));

    // A workshop of six people without a file, counted by category.
    let atelier = |cle: &str, femmes: &str| {
        form(&[
            ("cle", cle),
            ("type_activite", "collectif"),
            ("date", &date),
            ("duree", "90"),
            ("type_lieu", "autre"),
            ("commune", "42218"),
            ("thematiques", "securite_numerique"),
            ("anonymes", "6"),
            ("deja_nombre", "2"),
            ("genre_feminin", femmes),
            ("genre_masculin", "1"),
            ("tranche_soixante_dix_plus", "5"),
            ("titre_atelier", "Reconnaître un faux message"),
        ])
    };
    let res = send(&app, "POST", &page, &cookie, &atelier("atelier-0001", "7")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    assert!(
        html.contains("Participants anonymes : plus de personnes comptées par genre que de participants anonymes."),
        "{html}"
    );
    assert!(
        html.contains(r#"name="genre_feminin" value="7""#),
        "what was typed stays"
    );
    let res = send(&app, "POST", &page, &cookie, &atelier("atelier-0001", "4")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The next form starts where the mediator last worked, their latest thématiques first.
    let html = body(send(&app, "GET", &page, &cookie, "").await).await;
    assert!(html.contains(r#"id="type_lieu-autre" name="type_lieu" value="autre" checked"#));
    let at = |t: &str| html.find(&format!(r#"id="thematiques-{t}""#)).unwrap();
    assert!(
        at("securite_numerique") < at("diagnostic_numerique"),
        "the latest activity's first"
    );
    assert!(
        at("email") > at("diagnostic_numerique"),
        "a deleted activity's do not count"
    );

    let html = body(
        send(
            &app,
            "GET",
            &format!("/structures/{s}/statistiques"),
            &cookie,
            "",
        )
        .await,
    )
    .await;
    for row in [
        "<tr><td>Féminin</td><td>4</td></tr>",
        "<tr><td>Masculin</td><td>1</td></tr>",
        "<tr><td>Non communiqué</td><td>1</td></tr>",
        "<tr><td>70 ans et plus</td><td>5</td></tr>",
        "<tr><td>Atelier collectif</td><td>6</td></tr>",
    ] {
        assert!(html.contains(row), "{row} absent: {html}");
    }
    assert!(
        html.contains("<li>Premiers accompagnements : 4</li>"),
        "{html}"
    );

    // A démarche: its sub-thématique needs « Aide aux démarches administratives »; the
    // optional lists are kept and shown again when the activity is changed.
    let demarche = |cle: &str, thematique: &str| {
        form(&[
            ("cle", cle),
            ("type_activite", "individuel"),
            ("date", &date),
            ("duree", "45"),
            ("type_lieu", "domicile"),
            ("commune", "42218"),
            ("thematiques", thematique),
            ("demarches", "logement"),
            ("precisions_demarche", "Demande d’aide au logement"),
            ("autonomie", "partiellement_autonome"),
            ("niveau", "avance"),
            ("orientation", "aide_sociale"),
            ("anonymes", "1"),
        ])
    };
    let res = send(
        &app,
        "POST",
        &page,
        &cookie,
        &demarche("demarche-0001", "email"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    assert!(
        html.contains(r#"<p id="thematiques-erreur" class="fr-message fr-message--error">"#),
        "{html}"
    );
    assert!(html.contains(r#"id="demarches-logement" name="demarches" value="logement" checked"#));
    let res = send(
        &app,
        "POST",
        &page,
        &cookie,
        &demarche("demarche-0001", "aide_aux_demarches_administratives"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let list = body(
        send(
            &app,
            "GET",
            &format!("/structures/{s}/activites"),
            &cookie,
            "",
        )
        .await,
    )
    .await;
    let id = list
        .split("/activites/")
        .filter_map(|rest| rest.split('/').next())
        .find(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
        .unwrap()
        .to_string();
    let html = body(
        send(
            &app,
            "GET",
            &format!("/structures/{s}/activites/{id}/modifier"),
            &cookie,
            "",
        )
        .await,
    )
    .await;
    for shown in [
        r#"id="demarches-logement" name="demarches" value="logement" checked"#,
        r#"value="Demande d’aide au logement""#,
        r#"<option value="partiellement_autonome" selected>"#,
        r#"<option value="aide_sociale" selected>"#,
        // A workshop's level is not kept for an individual accompaniment.
        r#"<option value="" selected>Non précisé</option><option value="debutant">"#,
    ] {
        assert!(html.contains(shown), "{shown} absent: {html}");
    }
}

/// The public page hides counts from 1 to 10, and the one that would give a hidden count
/// back; a territory narrows it; an unknown one is refused in French.
async fn public_statistics_keep_small_counts_secret(t: &TestDb) {
    use relais_domain::activites::rapport::{Anonymes, Rapport, jour};
    use relais_domain::activites::vocabulaires::Genre;

    use std::collections::{BTreeMap, BTreeSet};

    let app = app_with_territories(t).await;
    let s = structure(
        &t.db,
        "13002526500013",
        "Médiathèque",
        StructureKind::Collectivite,
    )
    .await;
    let camille = account(&t.db, "camille@exemple.fr").await;
    let access = relais_testkit::fixtures::mediateur(camille, s);
    // 14 individual accompaniments: 11 women, 3 men.
    for i in 0..14u32 {
        let genre = if i < 11 {
            Genre::Feminin
        } else {
            Genre::Masculin
        };
        let rapport = Rapport {
            date: jour(2026, 3, 1 + i),
            anonymes: Anonymes {
                total: 1,
                genres: BTreeMap::from([(genre, 1)]),
                ..Anonymes::default()
            },
            ..relais_testkit::fixtures::rapport(BTreeSet::new())
        };
        relais_services::activites::enregistrer(&t.db, &access, &format!("saisie-{i:04}"), rapport)
            .await
            .unwrap();
    }
    let page = |q: &'static str| {
        let app = app.clone();
        async move {
            let res = send(&app, "GET", &format!("/statistiques{q}"), "", "").await;
            (res.status(), body(res).await)
        }
    };
    let (status, html) = page("").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<li>Activités : 14</li>"), "{html}");
    // 3 men are secret, and the 11 women too: with the total of 14, they would give the
    // men back (secondary secrecy).
    for genre in ["Masculin", "Féminin"] {
        assert!(
            html.contains(&format!(
                "<tr><td>{genre}</td><td>secret (moins de 11 ou déductible)</td></tr>"
            )),
            "{html}"
        );
    }
    assert!(
        html.contains("<tr><td>Courriel</td><td>14</td></tr>"),
        "{html}"
    );
    assert!(html.contains("<li>dont ateliers collectifs : 0</li>"));

    let (status, html) = page("?territoire=departement%3A42&du=2026-03-01&au=2026-03-05").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("Statistiques des activités — Loire (42)"),
        "{html}"
    );
    assert!(html.contains("<li>Activités : moins de 11</li>"), "{html}");
    let (_, html) = page("?territoire=departement%3A69").await;
    assert!(html.contains("<li>Activités : 0</li>"), "{html}");

    // The same figures as JSON, secret ones null.
    let res = send(
        &app,
        "GET",
        "/api/v1/activites/statistiques?territoire=departement%3A42",
        "",
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    assert_eq!(json["territoire"]["nom"], "Loire (42)");
    assert_eq!(json["totaux"]["activites"], 14);
    assert_eq!(json["totaux"]["activites_collectives"], 0);
    let genres = json["repartitions"]["genre"].as_array().unwrap();
    assert!(
        genres.iter().all(|g| g["participations"].is_null()),
        "{genres:?}"
    );
    assert_eq!(json["repartitions"]["mois"][0]["valeur"], "2026-03");
    let res = send(
        &app,
        "GET",
        "/api/v1/activites/statistiques?type=tous",
        "",
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(body(res).await.contains("\"code\":\"type_inconnu\""));

    // A thématique narrows the figures; one not in the list is said.
    let (_, html) = page("?thematique=email").await;
    assert!(html.contains("<li>Activités : 14</li>"), "{html}");
    let (_, html) = page("?thematique=sante").await;
    assert!(html.contains("<li>Activités : 0</li>"), "{html}");
    let (status, html) = page("?thematique=cuisine").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Thématique : « cuisine » n’est pas l’une de la liste."));
    let res = send(
        &app,
        "GET",
        "/api/v1/activites/statistiques?thematique=cuisine",
        "",
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(body(res).await.contains("\"code\":\"thematique_inconnue\""));

    // The Loire hub's coordinator sees their territory's figures, none secret to them.
    let hub = account(&t.db, "hub@exemple.fr").await;
    relais_services::comptes::grant_global_role(
        &t.db,
        hub,
        relais_domain::comptes::GlobalRole::CoordinateurHub,
        "Loire",
        None,
    )
    .await
    .unwrap();
    let cookie = cookie_of(&t.db, hub, Stage::Active, false).await;
    let res = send(&app, "GET", "/hub/statistiques", &cookie, "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body(res).await;
    assert!(
        html.contains("Statistiques des activités du hub — Loire (42)"),
        "{html}"
    );
    assert!(
        html.contains("<tr><td>Masculin</td><td>3</td></tr>"),
        "{html}"
    );

    let (status, html) = page("?territoire=canton%3A1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("Territoire inconnu : choisissez-en un dans la liste."),
        "{html}"
    );
    let (status, html) = page("?du=mars").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("Date de début : « mars » n’est pas une date au format jj/mm/aaaa."),
        "{html}"
    );
}

/// A structure's participations as XLSX, read back by openpyxl (a reader Relais did not
/// write), and as CSV for Excel: BOM, `;`, accents intact, a formula kept as text, the
/// filters applied.
async fn exports_are_read_back_by_an_independent_reader(t: &TestDb) {
    use relais_domain::activites::rapport::{Anonymes, Rapport, jour};
    use relais_domain::activites::vocabulaires::{Genre, Thematique, TypeActivite};

    use std::collections::{BTreeMap, BTreeSet};

    let app = app_with_territories(t).await;
    let s = structure(
        &t.db,
        "13002526500013",
        "Médiathèque",
        StructureKind::Collectivite,
    )
    .await;
    let elodie =
        relais_testkit::fixtures::person(&t.db, "elodie@exemple.fr", "Élodie", "Façon").await;
    grant(&t.db, elodie, s, Role::Mediateur).await;
    let access = relais_testkit::fixtures::mediateur(elodie, s);
    let rapport = |type_activite,
                   jour_du_mois,
                   duree,
                   thematiques: &[Thematique],
                   titre: &str,
                   genres: &[(Genre, u32)],
                   total| Rapport {
        type_activite,
        date: jour(2026, 3, jour_du_mois),
        duree,
        thematiques: thematiques.iter().copied().collect(),
        titre_atelier: titre.into(),
        anonymes: Anonymes {
            total,
            genres: genres.iter().copied().collect::<BTreeMap<_, _>>(),
            ..Anonymes::default()
        },
        ..relais_testkit::fixtures::rapport(BTreeSet::new())
    };
    for (cle, r) in [
        (
            "saisie-0001",
            rapport(
                TypeActivite::Individuel,
                2,
                45,
                &[Thematique::Email, Thematique::Sante],
                "",
                &[(Genre::Feminin, 1)],
                1,
            ),
        ),
        (
            "saisie-0002",
            rapport(
                TypeActivite::Collectif,
                5,
                120,
                &[Thematique::SecuriteNumerique],
                "=2+3 arnaques",
                &[(Genre::Feminin, 2)],
                3,
            ),
        ),
    ] {
        relais_services::activites::enregistrer(&t.db, &access, cle, r)
            .await
            .unwrap();
    }
    let cookie = cookie_of(&t.db, elodie, Stage::Active, false).await;

    // The statistics page offers both files, with its filters.
    let html = body(
        send(
            &app,
            "GET",
            &format!("/structures/{s}/statistiques?type=collectif"),
            &cookie,
            "",
        )
        .await,
    )
    .await;
    assert!(
        html.contains(&format!(
            "href=\"/structures/{s}/statistiques/participations.xlsx?type=collectif\""
        )),
        "{html}"
    );

    let res = send(
        &app,
        "GET",
        &format!("/structures/{s}/statistiques/participations.xlsx"),
        &cookie,
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with(&format!(
                "attachment; filename=\"participations-structure-{s}-"
            ))
    );
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let read = crate::common::read_xlsx(&bytes);
    assert_eq!(
        read["feuilles"],
        serde_json::json!(["Filtres", "Participations"])
    );
    let filtres = read["cellules"]["Filtres"].as_array().unwrap();
    for pair in [
        serde_json::json!(["Structure", "Médiathèque"]),
        serde_json::json!(["Type d’activité", "Tous"]),
        serde_json::json!(["Participations exportées", "4"]),
    ] {
        assert!(filtres.contains(&pair), "{pair} absent: {filtres:?}");
    }
    let rows = read["cellules"]["Participations"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        5,
        "a header and one row per participation: {rows:?}"
    );
    assert_eq!(rows[0][2], "Date");
    assert_eq!(rows[0][16], "Médiateur");
    let column = |i: usize| rows[1..].iter().map(|r| r[i].clone()).collect::<Vec<_>>();
    assert_eq!(
        column(2),
        ["2026-03-02", "2026-03-05", "2026-03-05", "2026-03-05"]
    );
    assert_eq!(
        column(3),
        [
            "Accompagnement individuel",
            "Atelier collectif",
            "Atelier collectif",
            "Atelier collectif"
        ]
    );
    assert_eq!(column(4), [45, 120, 120, 120]);
    assert_eq!(column(8)[0], "Saint-Étienne");
    assert_eq!(column(9)[0], "Courriel, Santé");
    assert_eq!(
        column(15)[1],
        "=2+3 arnaques",
        "a title is text, never a formula"
    );
    assert_eq!(column(16)[0], "Élodie Façon");
    assert_eq!(
        column(19),
        ["Féminin", "Féminin", "Féminin", "Non communiqué"]
    );

    // CSV: the BOM, `;`, accents, the formula after an apostrophe, the filter applied.
    let res = send(
        &app,
        "GET",
        &format!("/structures/{s}/statistiques/participations.csv?type=collectif"),
        &cookie,
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(bytes.starts_with("\u{feff}Participation;Activité;Date;".as_bytes()));
    let text = std::str::from_utf8(&bytes).unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].contains(";05/03/2026;Atelier collectif;120;À domicile;;42218;Saint-Étienne;Sécurité numérique, prévention;"), "{text}");
    assert!(lines[1].contains(";'=2+3 arnaques;Élodie Façon;"), "{text}");

    // A date that cannot be read is said, not a file of everything.
    let res = send(
        &app,
        "GET",
        &format!("/structures/{s}/statistiques/participations.csv?du=hier"),
        &cookie,
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        body(res)
            .await
            .contains("Date de début : « hier » n’est pas une date")
    );
}

/// The file of followed beneficiaries through the pages: a mediator sees the files they
/// opened and those shared with the team, never another's private one (404, as for a file
/// that does not exist); consent is required; duplicates are merged; data and erasure on
/// request.
async fn a_mediator_sees_own_and_shared_files(t: &TestDb) {
    let app = app_with_territories(t).await;
    let s = structure(
        &t.db,
        "13002526500013",
        "Médiathèque",
        StructureKind::Collectivite,
    )
    .await;
    let camille = account(&t.db, "camille@exemple.fr").await;
    let dominique = account(&t.db, "dominique@exemple.fr").await;
    for p in [camille, dominique] {
        grant(&t.db, p, s, Role::Mediateur).await;
    }
    let moi = cookie_of(&t.db, camille, Stage::Active, false).await;
    let collegue = cookie_of(&t.db, dominique, Stage::Active, false).await;
    let base = format!("/structures/{s}/beneficiaires");
    let nouvelle = format!("{base}/nouvelle");
    let ouvrir = |cookie: &str, prenom: &str, nom: &str, partage: bool| {
        let (app, cookie, nouvelle) = (app.clone(), cookie.to_string(), nouvelle.clone());
        let mut fields = vec![
            ("prenom", prenom.to_string()),
            ("nom", nom.to_string()),
            ("commune", "42218".to_string()),
            ("tranche", "soixante_dix_plus".to_string()),
            ("consentement", "oui".to_string()),
        ];
        if partage {
            fields.push(("partage", "oui".into()));
        }
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = send(&app, "POST", &nouvelle, &cookie, &form(&pairs)).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let to = location(&res);
            to.trim_end_matches("?fait=creee")
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        }
    };

    let html = body(send(&app, "GET", &nouvelle, &moi, "").await).await;
    assert!(
        html.contains("<title>Nouvelle fiche de personne suivie"),
        "{html}"
    );
    let res = send(
        &app,
        "POST",
        &nouvelle,
        &moi,
        &form(&[("prenom", "Jeanne"), ("nom", "Roux")]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    assert!(
        html.contains(r#"<p id="consentement-erreur" class="fr-message fr-message--error">Consentement : la personne doit accepter d’être suivie pour avoir une fiche.</p>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="prenom" value="Jeanne""#),
        "what was typed stays"
    );

    let roux = ouvrir(&moi, "Jeanne", "Roux", false).await;
    let dupont = ouvrir(&moi, "Jean-Marie", "Dupont", true).await;
    let dupond = ouvrir(&collegue, "jean marie", "DUPOND", true).await;

    let html = body(send(&app, "GET", &base, &collegue, "").await).await;
    assert!(
        html.contains("Jean-Marie Dupont") && html.contains("jean marie DUPOND"),
        "{html}"
    );
    assert!(
        !html.contains("Roux"),
        "a private file is not listed to the team: {html}"
    );
    for (method, path) in [
        ("GET", format!("{base}/{roux}")),
        ("GET", format!("{base}/{roux}/donnees.json")),
        ("POST", format!("{base}/{roux}/effacement")),
        ("POST", format!("{base}/{dupont}/fusion")),
    ] {
        let body_sent = if path.ends_with("fusion") {
            form(&[("autre", &roux)])
        } else {
            form(&[("confirmation", "oui")])
        };
        let res = send(&app, method, &path, &collegue, &body_sent).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }

    // An accompaniment of Jeanne: her commune in the structure's figures, under her
    // mediator only.
    let date = relais_domain::calendrier::paris_civil(relais_domain::calendrier::now_ms());
    let date = format!("{:04}-{:02}-{:02}", date.0, date.1, date.2);
    let res = send(
        &app,
        "POST",
        &format!("/structures/{s}/activites/nouvelle"),
        &moi,
        &form(&[
            ("cle", "saisie-jeanne-01"),
            ("type_activite", "individuel"),
            ("date", &date),
            ("duree", "30"),
            ("type_lieu", "domicile"),
            ("commune", "42218"),
            ("thematiques", "email"),
            ("suivis", &roux),
            ("anonymes", "0"),
        ]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let stats = |mediateur: PersonId| {
        let (app, moi) = (app.clone(), moi.clone());
        async move {
            let path = format!("/structures/{s}/statistiques?mediateur={mediateur}");
            body(send(&app, "GET", &path, &moi, "").await).await
        }
    };
    let html = stats(camille).await;
    assert!(
        html.contains("<tr><td>Saint-Étienne (42218)</td><td>1</td></tr>"),
        "{html}"
    );
    assert!(
        html.contains(&format!(r#"<option value="{camille}" selected>"#)),
        "{html}"
    );
    let html = stats(dominique).await;
    assert!(html.contains("<li>Activités : 0</li>"), "{html}");
    let path = format!("/structures/{s}/statistiques?lieu=0123456789abcdef");
    let html = body(send(&app, "GET", &path, &moi, "").await).await;
    assert!(
        html.contains("<li>Activités : 0</li>"),
        "at home, not in that lieu: {html}"
    );

    // The list offers the merge; merged, the file holds both.
    let html = body(send(&app, "GET", &base, &moi, "").await).await;
    assert!(html.contains("Fiches en double possibles"), "{html}");
    assert!(
        html.contains(&format!(
            "Verser la fiche n° {dupond} dans la fiche n° {dupont}"
        )),
        "{html}"
    );
    let res = send(
        &app,
        "POST",
        &format!("{base}/{dupont}/fusion"),
        &moi,
        &form(&[("autre", &dupond)]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("{base}/{dupont}?fait=fusionnees"));
    let html = body(send(&app, "GET", &base, &moi, "").await).await;
    assert!(
        !html.contains("Fiches en double possibles") && !html.contains("DUPOND"),
        "{html}"
    );

    // Data on request, then erasure (confirmed).
    let res = send(
        &app,
        "GET",
        &format!("{base}/{dupont}/donnees.json"),
        &moi,
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    assert_eq!(json["fiche"]["prenom"], "Jean-Marie");
    let res = send(
        &app,
        "POST",
        &format!("{base}/{dupont}/effacement"),
        &moi,
        &form(&[]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body(res)
            .await
            .contains("Confirmation : cochez la case pour confirmer l’effacement.")
    );
    let res = send(
        &app,
        "POST",
        &format!("{base}/{dupont}/effacement"),
        &moi,
        &form(&[("confirmation", "oui")]),
    )
    .await;
    assert_eq!(location(&res), format!("{base}?fait=effacee"));
    let html = body(send(&app, "GET", &format!("{base}?fait=effacee"), &moi, "").await).await;
    assert!(
        html.contains("La fiche est effacée") && !html.contains("Dupont"),
        "{html}"
    );
    assert!(html.contains("Jeanne Roux"), "{html}");
}

relais_testkit::backend_tests!(
    a_mediator_enters_an_activity_once,
    public_statistics_keep_small_counts_secret,
    exports_are_read_back_by_an_independent_reader,
    a_mediator_sees_own_and_shared_files
);
