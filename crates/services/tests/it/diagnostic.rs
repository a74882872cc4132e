//! The diagnostic on both backends: taken alone to its result, resumed where it stood, the
//! same form sent twice counted once, a result kept as given; with an agent, joined to a
//! followed person's file with their consent, a booklet handed from it, the progress
//! between two; starts from one address bounded.

use relais_domain::activites::vocabulaires::{Genre, StatutSocial, TrancheAge};
use relais_domain::comptes::Role;
use relais_domain::diagnostic::adaptatif::Reponse;
use relais_domain::diagnostic::resultat::Resultat;
use relais_domain::journal::JournalAction;
use relais_domain::pass::programme::ServicePass;
use relais_services::activites::beneficiaires::{self, NouvelleFiche};
use relais_services::comptes::Client;
use relais_services::diagnostic::{
    self as svc, BanqueServie, Choix, DiagnosticError, Etape, Pour, ProgresTerritoire,
};
use relais_services::pass::{self, DemandeUtilisation, PassError, RemiseSaisie};
use relais_store::Db;
use relais_testkit::{fixtures, store_tests};

store_tests!(
    a_diagnostic_taken_alone_ends_with_a_kept_result,
    a_form_sent_twice_or_late_changes_nothing,
    a_diagnostic_with_an_agent_joins_the_path_of_the_person,
    starts_from_one_address_are_bounded,
    the_result_points_to_the_nearest_lieux_free_ones_first,
    parameters_are_reestimated_from_answers_and_results_kept,
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
    let banques = BanqueServie::new(relais_testkit::diagnostic::banque());
    let banque = banques.base();
    for _ in 0..=20 {
        let v = svc::voir(db, &banques, cle, NOW).await.unwrap();
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
        svc::repondre(db, &banques, cle, rang, &q.id, choix, NOW)
            .await
            .unwrap();
    }
    panic!("plus de 20 questions");
}

async fn a_diagnostic_taken_alone_ends_with_a_kept_result(db: Db) {
    let banques = BanqueServie::new(relais_testkit::diagnostic::banque());
    let banque = banques.base();
    let faible = svc::commencer(&db, &client("192.0.2.1"), NOW)
        .await
        .unwrap();
    let fort = svc::commencer(&db, &client("192.0.2.1"), NOW)
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
    let v = svc::voir(&db, &banques, &fort, NOW + 1).await.unwrap();
    assert!(
        (10..=20).contains(&v.reponses.len()),
        "{}",
        v.reponses.len()
    );
    assert!(v.reponses.iter().all(|r| r.reponse == Reponse::Juste));
    assert_eq!(v.diagnostic.fini_le, Some(NOW));
    // A result given is kept as it was, whatever the bank's parameters become.
    let mut autre = banque.clone();
    for q in &mut autre.questions {
        q.parametres.b += 2.0;
    }
    let autre = BanqueServie::new(relais_domain::diagnostic::banque::Banque::new(
        autre.questions,
    ));
    let v = svc::voir(&db, &autre, &fort, NOW + 2).await.unwrap();
    assert_eq!(v.etape, Etape::Fini(r_fort));
    assert!(matches!(
        svc::voir(&db, &banques, "inconnue", NOW).await,
        Err(DiagnosticError::Inconnu)
    ));
}

async fn a_form_sent_twice_or_late_changes_nothing(db: Db) {
    let banques = BanqueServie::new(relais_testkit::diagnostic::banque());
    let banque = banques.base();
    let cle = svc::commencer(&db, &client("192.0.2.2"), NOW)
        .await
        .unwrap();
    let premiere = svc::voir(&db, &banques, &cle, NOW).await.unwrap();
    // A reload shows the same question.
    let encore = svc::voir(&db, &banques, &cle, NOW).await.unwrap();
    assert_eq!(premiere.etape, encore.etape);
    let Etape::Question { rang, question } = premiere.etape else {
        panic!()
    };
    let q = &banque.questions[question];
    assert!(matches!(
        svc::repondre(&db, &banques, &cle, rang, &q.id, Choix::Reponse(9), NOW).await,
        Err(DiagnosticError::ChoixInconnu)
    ));
    let apres = svc::repondre(
        &db,
        &banques,
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
        let v = svc::repondre(&db, &banques, &cle, rang, &q.id, choix, NOW)
            .await
            .unwrap();
        assert_eq!(v.reponses.len(), 1);
        assert_eq!(v.reponses[0].reponse, Reponse::Juste);
        assert_eq!(v.etape, apres.etape);
    }
}

/// Dana, prescripteur and mediator of the CCAS, takes two diagnostics with Émile, whose
/// file she opened: the first joins it only once he agrees; a booklet is handed from its
/// result and a pass of it used; the second shows his progress, on his path and in the
/// structure's figures.
async fn a_diagnostic_with_an_agent_joins_the_path_of_the_person(db: Db) {
    relais_testkit::seed_commune(&db).await;
    let c = relais_testkit::pass::circuit(&db, NOW, 100_000).await;
    c.qualifier(&db, NOW).await;
    let ccas = c.prescripteur.structure();
    let dana = c.prescripteur.person();
    fixtures::grant(&db, dana, ccas, Role::Mediateur).await;
    let agent = relais_testkit::pass::access(dana, ccas, Role::Prescripteur);
    let mediatrice = fixtures::mediateur(dana, ccas);
    let emile = beneficiaires::creer(&db, &mediatrice, &fiche("Émile", "Zola"))
        .await
        .unwrap();
    // Another mediator's file, not shared, cannot be joined.
    let autre = fixtures::person(&db, "eve@exemple.fr", "Ève", "Autre").await;
    fixtures::grant(&db, autre, ccas, Role::Mediateur).await;
    let cachee = beneficiaires::creer(
        &db,
        &fixtures::mediateur(autre, ccas),
        &NouvelleFiche {
            partage: false,
            ..fiche("Fanny", "Cachée")
        },
    )
    .await
    .unwrap();
    let pour = |beneficiaire, consentement| Pour {
        mediateur: &mediatrice,
        beneficiaire,
        consentement,
    };
    assert!(matches!(
        svc::commencer_avec(&db, &agent, Some(pour(emile, false)), NOW).await,
        Err(DiagnosticError::ConsentementManquant)
    ));
    assert!(matches!(
        svc::commencer_avec(&db, &agent, Some(pour(cachee, true)), NOW).await,
        Err(DiagnosticError::BeneficiaireInconnu)
    ));
    // An agent is not bounded by the address: a CCAS takes many diagnostics a day.
    for _ in 0..31 {
        svc::commencer_avec(&db, &agent, None, NOW).await.unwrap();
    }
    let premier = svc::commencer_avec(&db, &agent, Some(pour(emile, true)), NOW)
        .await
        .unwrap();
    let banques = BanqueServie::new(relais_testkit::diagnostic::banque());
    let v = svc::voir(&db, &banques, &premier, NOW).await.unwrap();
    assert_eq!(v.diagnostic.contexte.structure, Some(ccas));
    assert_eq!(v.diagnostic.contexte.agent, Some(dana));
    assert_eq!(v.diagnostic.contexte.beneficiaire, Some(emile));
    let avant = passer(&db, &premier, 0).await;
    assert_eq!(svc::mes_diagnostics(&db, &agent).await.unwrap().len(), 32);

    // A booklet handed from the result screen, one of its passes used.
    let codes = c.emettre(&db, 1, NOW).await;
    let saisie = |diagnostic: &str| RemiseSaisie {
        commune: "42218".into(),
        diagnostic: Some(diagnostic.into()),
        ..RemiseSaisie::default()
    };
    assert!(matches!(
        pass::remettre(
            &db,
            &c.prescripteur,
            c.programme,
            1,
            &saisie("inconnue"),
            NOW
        )
        .await,
        Err(PassError::Introuvable("diagnostic"))
    ));
    let ailleurs = RemiseSaisie {
        commune: "99999".into(),
        ..saisie(&premier)
    };
    assert!(matches!(
        pass::remettre(&db, &c.prescripteur, c.programme, 1, &ailleurs, NOW).await,
        Err(PassError::Champ {
            champ: "commune",
            ..
        })
    ));
    pass::remettre(&db, &c.prescripteur, c.programme, 1, &saisie(&premier), NOW)
        .await
        .unwrap();
    pass::utiliser(
        &db,
        &c.mediateur,
        crate::index(),
        &DemandeUtilisation {
            code: codes[0].clone(),
            cle: "emile-1".into(),
            lieu: None,
            service: ServicePass::AtelierCollectif,
            utilise_le: NOW,
            hors_ligne: false,
        },
        NOW,
    )
    .await
    .unwrap();

    let p = svc::parcours(&db, &mediatrice, emile).await.unwrap();
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.progres, None, "one diagnostic: no progress to tell yet");
    assert_eq!(
        (p.remises.len(), p.remises[0].pass, p.remises[0].utilises),
        (1, 5, 1)
    );

    let second = svc::commencer_avec(&db, &agent, Some(pour(emile, true)), NOW + 1)
        .await
        .unwrap();
    let apres = passer(&db, &second, 3).await;
    let p = svc::parcours(&db, &mediatrice, emile).await.unwrap();
    assert_eq!(p.diagnostics.len(), 2);
    let progres = p.progres.unwrap();
    assert!(progres.progresse());
    assert_eq!(progres, apres.progres_depuis(&avant));
    assert!(matches!(
        svc::parcours(&db, &mediatrice, cachee).await,
        Err(DiagnosticError::BeneficiaireInconnu)
    ));
    assert_eq!(
        svc::progres(&db, &agent, crate::index()).await.unwrap(),
        vec![ProgresTerritoire {
            territoire: "42 — Loire".into(),
            personnes: 1,
            progresse: 1,
        }]
    );
    // The territorial statistics count them where they live, across structures.
    let loire = std::collections::BTreeSet::from(["42218".to_string()]);
    let ailleurs = std::collections::BTreeSet::from(["69123".to_string()]);
    assert_eq!(
        svc::progres_territoire(&db, crate::index(), &loire)
            .await
            .unwrap(),
        svc::progres(&db, &agent, crate::index()).await.unwrap()
    );
    assert!(
        svc::progres_territoire(&db, crate::index(), &ailleurs)
            .await
            .unwrap()
            .is_empty()
    );
    // Joining a result to a file is journaled in the structure's journal.
    let journal = relais_store::journal::list(
        &db,
        &relais_store::journal::JournalFilter {
            structure: Some(ccas),
            ..Default::default()
        },
        100,
    )
    .await
    .unwrap();
    let joints = journal
        .iter()
        .filter(|e| e.content.action == JournalAction::DiagnosticJoined)
        .count();
    assert_eq!(joints, 2);
}

fn fiche(prenom: &str, nom: &str) -> NouvelleFiche {
    NouvelleFiche {
        prenom: prenom.into(),
        nom: nom.into(),
        commune: Some("42218".into()),
        genre: Genre::Masculin,
        tranche: TrancheAge::SoixanteDixPlus,
        statut: StatutSocial::Retraite,
        consentement: true,
        partage: true,
    }
}

async fn starts_from_one_address_are_bounded(db: Db) {
    for _ in 0..30 {
        svc::commencer(&db, &client("192.0.2.4"), NOW)
            .await
            .unwrap();
    }
    assert!(matches!(
        svc::commencer(&db, &client("192.0.2.4"), NOW).await,
        Err(DiagnosticError::TropNombreux)
    ));
    // Another address is not.
    svc::commencer(&db, &client("192.0.2.5"), NOW)
        .await
        .unwrap();
}

/// Near Saint-Étienne: a paying lieu nearest, a free one farther, both teaching everyday
/// tools, and a free one nearest that only helps with démarches.
const LIEUX: &str = "id,nom,commune,code_postal,adresse,date_maj,latitude,longitude,services,frais_a_charge\n\
    payant,Atelier payant,Saint-Étienne,42000,1 rue A,2026-06-01,45.4400,4.3900,Maîtrise des outils numériques du quotidien,Payant\n\
    gratuit,Médiathèque gratuite,Saint-Étienne,42000,2 rue B,2026-06-01,45.4700,4.4200,Maîtrise des outils numériques du quotidien,Gratuit\n\
    demarches,France services,Saint-Étienne,42000,3 rue C,2026-06-01,45.4401,4.3901,Aide aux démarches administratives,Gratuit\n";

async fn the_result_points_to_the_nearest_lieux_free_ones_first(db: Db) {
    use relais_domain::diagnostic::referentiel::{Domaine, Niveau};
    use relais_domain::diagnostic::resultat::ResultatDomaine;
    use relais_services::lieux::import::import_bytes;
    use relais_services::lieux::recherche::Lieux;

    let report = import_bytes(
        &db,
        crate::index(),
        "essai",
        LIEUX.as_bytes(),
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.kept(), 3, "{report:?}");
    let lieux = Lieux::load(&db, crate::index()).await.unwrap();
    let resultat = |acquis: fn(Domaine) -> bool| Resultat {
        theta_milli: 0,
        erreur_milli: 500,
        niveau: Niveau(2),
        domaines: Domaine::ALL
            .iter()
            .map(|&domaine| ResultatDomaine {
                domaine,
                niveau: Niveau(2),
                acquis: acquis(domaine),
            })
            .collect(),
    };
    // To work on: using a device first, so everyday tools.
    let r = resultat(|_| false);
    let (commune, proposes) = svc::orientation(&lieux, crate::index(), &r, "42000", 5).unwrap();
    assert_eq!(commune, "Saint-Étienne");
    let noms: Vec<(&str, bool)> = proposes
        .iter()
        .map(|l| (l.nom.as_str(), l.gratuit))
        .collect();
    assert_eq!(
        noms,
        [("Médiathèque gratuite", true), ("Atelier payant", false)]
    );
    assert!(proposes[0].distance_km > proposes[1].distance_km);
    // Only démarches to work on: the France services.
    let r = resultat(|d| d != Domaine::Demarches);
    let (_, proposes) = svc::orientation(&lieux, crate::index(), &r, "Saint-Étienne", 5).unwrap();
    assert_eq!(
        proposes.iter().map(|l| l.nom.as_str()).collect::<Vec<_>>(),
        ["France services"]
    );
    assert!(svc::orientation(&lieux, crate::index(), &r, "zzzz", 5).is_none());
}

/// 520 finished diagnostics (simulated people answering as the model says, kept through the
/// store; items asked 60 times are enough here): the daily job re-estimates the items asked enough, the served bank takes them,
/// a result already given is unchanged, and the job waits for new diagnostics to run again.
async fn parameters_are_reestimated_from_answers_and_results_kept(db: Db) {
    use relais_domain::diagnostic::adaptatif::{Alea, Passation, REGLES, abilites};
    use relais_domain::diagnostic::resultat::tirage;
    use relais_store::diagnostic::{self as repo, Contexte, ReponseGardee};

    let banques = BanqueServie::new(relais_testkit::diagnostic::banque());
    let premier = svc::commencer(&db, &client("192.0.2.9"), NOW)
        .await
        .unwrap();
    let donne = passer(&db, &premier, 2).await;
    // Relais' thresholds but for the answers an item needs: 520 people are too few for 200.
    let seuils = svc::Seuils {
        reponses: 60,
        ..svc::SEUILS
    };
    assert_eq!(
        svc::reestimer(&db, &banques, seuils, NOW).await.unwrap(),
        None,
        "too few yet"
    );
    let b = banques.base();
    let mut alea = Alea(5);
    let mut tx = db.begin().await.unwrap();
    for (k, theta) in abilites(520, &mut alea).into_iter().enumerate() {
        let id = repo::create(
            &mut tx,
            &format!("sim-{k}"),
            k as i64,
            Contexte::default(),
            NOW,
        )
        .await
        .unwrap();
        let mut p = Passation::new(REGLES);
        while let Some(i) = p.prochaine(&b.items, tirage(k as i64, p.reponses.len())) {
            let juste = alea.uniforme() < b.items[i].parametres.p(theta);
            let rang = p.reponses.len() as i64;
            p.repondre(
                &b.items,
                i,
                if juste {
                    Reponse::Juste
                } else {
                    Reponse::Fausse
                },
            );
            let r = ReponseGardee {
                rang,
                question: b.questions[i].id.clone(),
                choix: None,
                reponse: if juste {
                    Reponse::Juste
                } else {
                    Reponse::Fausse
                },
            };
            repo::answer_in(&mut tx, id, &r, NOW).await.unwrap();
        }
        let resultat = Resultat::de(&p, &b.items);
        repo::finish_in(&mut tx, id, &resultat, NOW).await.unwrap();
    }
    relais_store::commit(tx).await.unwrap();
    let n = svc::reestimer(&db, &banques, seuils, NOW)
        .await
        .unwrap()
        .unwrap();
    assert!(n >= 10, "{n} items re-estimated");
    let servie = banques.actuelle(&db).await.unwrap();
    let changes = servie
        .items
        .iter()
        .zip(&b.items)
        .filter(|(s, o)| s.parametres != o.parametres)
        .count();
    assert_eq!(changes, n, "the served bank takes the new parameters");
    // Within bounds the bank's lint accepts.
    assert!(
        servie
            .items
            .iter()
            .all(|i| (0.3..=3.0).contains(&i.parametres.a))
    );
    let v = svc::voir(&db, &banques, &premier, NOW).await.unwrap();
    assert_eq!(
        v.etape,
        Etape::Fini(donne),
        "a result given is kept as given"
    );
    assert_eq!(
        svc::reestimer(&db, &banques, seuils, NOW).await.unwrap(),
        None,
        "nothing new"
    );
}
