//! The diagnostic's pages: the bank compiled in passes its lint, every text read aloud has
//! its recording, and a diagnostic goes from its start to its result sheet through forms
//! alone, each question and answer with its reading.

use std::collections::BTreeSet;
use std::path::PathBuf;

use axum::http::StatusCode;
use relais_testkit::TestDb;
use relais_web::diagnostic::{banque, phrases, voix};

use crate::common::{CSRF, app, body, form, location, send};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/diagnostic")
}

#[test]
fn the_pages_sentences_are_those_recorded() {
    let listed: Vec<String> = std::fs::read_to_string(data().join("phrases.txt"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        listed,
        phrases(),
        "data/diagnostic/phrases.txt must list relais_web::diagnostic::phrases(); then run scripts/voix"
    );
}

#[test]
fn every_text_has_its_voice() {
    let b = banque();
    assert!(b.questions.len() >= 80);
    let mut textes: BTreeSet<String> = phrases().into_iter().collect();
    for q in &b.questions {
        textes.insert(q.enonce.clone());
        textes.insert(q.explication.clone());
        textes.extend(q.reponses.iter().cloned());
    }
    let manquants: Vec<&String> = textes
        .iter()
        .filter(|t| {
            let name = voix("", t).trim_start_matches('/').to_string();
            !data().join(name.trim_start_matches("diagnostic/")).exists()
        })
        .collect();
    assert!(
        manquants.is_empty(),
        "run scripts/voix; without a recording: {manquants:?}"
    );
}

/// The reading of `texte` as the page links it.
fn lecture(html: &str, texte: &str) -> bool {
    let src = voix("", texte);
    html.contains(&format!(
        "/diagnostic/voix/{}",
        src.rsplit('/').next().unwrap()
    ))
}

#[tokio::test]
async fn a_diagnostic_goes_from_its_start_to_its_sheet_through_forms() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let cookie = format!("relais_csrf={CSRF}");
    let accueil = body(send(&app, "GET", "/diagnostic", &cookie, "").await).await;
    assert!(accueil.contains("Commencer le diagnostic"));
    let res = send(&app, "POST", "/diagnostic", &cookie, &form(&[])).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let adresse = location(&res);
    assert!(adresse.starts_with("/diagnostic/"), "{adresse}");
    let b = banque();
    let mut vues = 0;
    loop {
        let html = body(send(&app, "GET", &adresse, &cookie, "").await).await;
        if html.contains("Votre résultat") {
            break;
        }
        vues += 1;
        assert!(vues <= 20, "plus de 20 questions");
        let q = b
            .questions
            .iter()
            .find(|q| html.contains(&format!("name=\"question\" value=\"{}\"", q.id)))
            .expect("une question de la banque");
        // Read aloud: the question, each answer and « je ne sais pas ».
        assert!(lecture(&html, &q.enonce), "{}", q.id);
        for r in &q.reponses {
            assert!(lecture(&html, r), "{} : {r}", q.id);
        }
        assert!(lecture(&html, "Je ne sais pas"));
        assert!(html.contains(&format!("alt=\"{}\"", q.alternative)) || html.contains("alt=\""));
        let rang = (vues - 1).to_string();
        // No answer chosen: told on the field, nothing kept.
        let res = send(
            &app,
            "POST",
            &adresse,
            &cookie,
            &form(&[("rang", &rang), ("question", &q.id)]),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body(res).await.contains("Choisissez une réponse"));
        let choix = if vues % 2 == 0 {
            "nsp".to_string()
        } else {
            q.bonne.to_string()
        };
        let envoi = form(&[("rang", &rang), ("question", &q.id), ("choix", &choix)]);
        let res = send(&app, "POST", &adresse, &cookie, &envoi).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), adresse);
    }
    assert!(vues >= 10);
    let fiche = body(send(&app, "GET", &format!("{adresse}/fiche"), &cookie, "").await).await;
    assert!(fiche.contains("Fiche de résultat"));
    assert!(fiche.contains("Voir les lieux proches"));
    assert!(fiche.contains("href=\"/lieux"));
    let res = send(&app, "GET", "/diagnostic/inconnue", &cookie, "").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    t.cleanup().await;
}
