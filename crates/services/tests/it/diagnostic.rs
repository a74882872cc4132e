//! The diagnostic on both backends: taken alone to its result, resumed where it stood, the
//! same form sent twice counted once, a result kept as given; with an agent, joined to
//! their structure; starts from one address bounded.

use relais_domain::comptes::{Role, StructureKind};
use relais_domain::diagnostic::resultat::Resultat;
use relais_services::comptes::Client;
use relais_services::diagnostic::{self as svc, Choix, DiagnosticError, Etape};
use relais_store::Db;
use relais_testkit::{fixtures, store_tests};

store_tests!(
    a_diagnostic_taken_alone_ends_with_a_kept_result,
    a_form_sent_twice_or_late_changes_nothing,
    a_diagnostic_with_an_agent_belongs_to_their_structure,
    starts_from_one_address_are_bounded,
);

const NOW: i64 = 1_796_000_000_000;

fn client(ip: &str) -> Client {
    Client {
        ip: ip.into(),
        user_agent: "test".into(),
    }
}

/// Answers rightly each question whose level is at most `niveau`, « je ne sais pas » to
/// the others, until the end: the result.
async fn passer(db: &Db, cle: &str, niveau: u8) -> Resultat {
    let banque = relais_testkit::diagnostic::banque();
    for _ in 0..=20 {
        let v = svc::voir(db, &banque, cle, NOW).await.unwrap();
        let (rang, question) = match v.etape {
            Etape::Question { rang, question } => (rang, question),
            Etape::Fini(r) => return r,
        };
        let q = &banque.questions[question];
        let choix = if q.niveau <= niveau {
            Choix::Reponse(q.bonne)
        } else {
            Choix::NeSaitPas
        };
        svc::repondre(db, &banque, cle, rang, &q.id, choix, NOW)
            .await
            .unwrap();
    }
    panic!("plus de 20 questions");
}

async fn a_diagnostic_taken_alone_ends_with_a_kept_result(db: Db) {
    let banque = relais_testkit::diagnostic::banque();
    let faible = svc::commencer(&db, &client("192.0.2.1"), None, NOW)
        .await
        .unwrap();
    let fort = svc::commencer(&db, &client("192.0.2.1"), None, NOW)
        .await
        .unwrap();
    assert_ne!(faible, fort);
    assert!(faible.len() >= 26, "128 bits in base32: {faible}");
    let r_faible = passer(&db, &faible, 0).await;
    let r_fort = passer(&db, &fort, 3).await;
    assert!(r_fort.niveau > r_faible.niveau, "{r_fort:?} {r_faible:?}");
    assert!(r_faible.a_travailler().count() == 5);
    assert!(r_fort.acquis().count() >= 4, "{r_fort:?}");
    // The answers are kept, 10 to 20 of them, each scored.
    let v = svc::voir(&db, &banque, &fort, NOW + 1).await.unwrap();
    assert!(
        (10..=20).contains(&v.reponses.len()),
        "{}",
        v.reponses.len()
    );
    assert!(v.reponses.iter().all(|r| r.reponse == "juste"));
    assert_eq!(v.diagnostic.fini_le, Some(NOW));
    // A result given is kept as it was, whatever the bank's parameters become.
    let mut autre = banque.clone();
    for q in &mut autre.questions {
        q.parametres.b += 2.0;
    }
    let autre = relais_domain::diagnostic::banque::Banque::new(autre.questions);
    let v = svc::voir(&db, &autre, &fort, NOW + 2).await.unwrap();
    assert_eq!(v.etape, Etape::Fini(r_fort));
    assert!(matches!(
        svc::voir(&db, &banque, "inconnue", NOW).await,
        Err(DiagnosticError::Inconnu)
    ));
}

async fn a_form_sent_twice_or_late_changes_nothing(db: Db) {
    let banque = relais_testkit::diagnostic::banque();
    let cle = svc::commencer(&db, &client("192.0.2.2"), None, NOW)
        .await
        .unwrap();
    let premiere = svc::voir(&db, &banque, &cle, NOW).await.unwrap();
    // A reload shows the same question.
    let encore = svc::voir(&db, &banque, &cle, NOW).await.unwrap();
    assert_eq!(premiere.etape, encore.etape);
    let Etape::Question { rang, question } = premiere.etape else {
        panic!()
    };
    let q = &banque.questions[question];
    assert!(matches!(
        svc::repondre(&db, &banque, &cle, rang, &q.id, Choix::Reponse(9), NOW).await,
        Err(DiagnosticError::ChoixInconnu)
    ));
    let apres = svc::repondre(
        &db,
        &banque,
        &cle,
        rang,
        &q.id,
        Choix::Reponse(q.bonne),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(apres.reponses.len(), 1);
    // The same form again (a double click, the back button): nothing more is kept.
    for choix in [Choix::Reponse(q.bonne), Choix::NeSaitPas] {
        let v = svc::repondre(&db, &banque, &cle, rang, &q.id, choix, NOW)
            .await
            .unwrap();
        assert_eq!(v.reponses.len(), 1);
        assert_eq!(v.reponses[0].reponse, "juste");
        assert_eq!(v.etape, apres.etape);
    }
}

async fn a_diagnostic_with_an_agent_belongs_to_their_structure(db: Db) {
    relais_testkit::seed_commune(&db).await;
    let ccas =
        fixtures::structure(&db, "35600000049837", "CCAS", StructureKind::Administration).await;
    let dana = fixtures::person(&db, "dana@exemple.fr", "Dana", "Prescriptrice").await;
    fixtures::grant(&db, dana, ccas, Role::Prescripteur).await;
    let agent = relais_testkit::pass::access(dana, ccas, Role::Prescripteur);
    // An agent is not bounded by the address: a CCAS takes many diagnostics a day.
    for _ in 0..40 {
        svc::commencer(&db, &client("192.0.2.3"), Some(&agent), NOW)
            .await
            .unwrap();
    }
    let cle = svc::commencer(&db, &client("192.0.2.3"), Some(&agent), NOW)
        .await
        .unwrap();
    let v = svc::voir(&db, &relais_testkit::diagnostic::banque(), &cle, NOW)
        .await
        .unwrap();
    assert_eq!(v.diagnostic.contexte.structure, Some(ccas));
    assert_eq!(v.diagnostic.contexte.agent, Some(dana));
}

async fn starts_from_one_address_are_bounded(db: Db) {
    for _ in 0..30 {
        svc::commencer(&db, &client("192.0.2.4"), None, NOW)
            .await
            .unwrap();
    }
    assert!(matches!(
        svc::commencer(&db, &client("192.0.2.4"), None, NOW).await,
        Err(DiagnosticError::TropNombreux)
    ));
    // Another address is not.
    svc::commencer(&db, &client("192.0.2.5"), None, NOW)
        .await
        .unwrap();
}
