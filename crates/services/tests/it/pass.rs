//! Pass numérique on both backends: a programme from its settings to a pass used once,
//! every refusal a counter may meet, and concurrent attempts on the same passes.

use std::collections::BTreeMap;
use std::sync::Arc;

use relais_domain::authz::MediateurAccess;
use relais_domain::comptes::Role;
use relais_domain::ids::{LieuId, StructureId};
use relais_domain::journal::JournalAction;
use relais_domain::pass::code::CodePass;
use relais_domain::pass::programme::ServicePass;
use relais_domain::pass::utilisation::Refus;
use relais_services::pass::{
    self as svc, DemandeUtilisation, PassError, RemiseSaisie, UtilisationError,
};
use relais_store::Db;
use relais_testkit::fixtures;
use relais_testkit::pass::{self, Circuit};

const NOW: i64 = 1_796_000_000_000; // 30 novembre 2026

/// The circuit of [`relais_testkit::pass`], the médiathèque qualified, after checking who
/// may decide and that a refusal says why.
async fn setup(db: &Db) -> Circuit {
    relais_testkit::seed_commune(db).await;
    let c = pass::circuit(db, NOW, 20_000).await; // 20 passes, four booklets
    assert!(matches!(
        svc::demander_qualification(db, &c.referent, c.programme, &pass::demande(), NOW).await,
        Err(PassError::DejaDemandee)
    ));
    // Only the owner decides; a refusal needs its reason.
    assert!(matches!(
        svc::decider_qualification(db, &c.referent, c.qualification, true, "", NOW).await,
        Err(PassError::PasLePorteur)
    ));
    assert!(matches!(
        svc::decider_qualification(db, &c.porteur, c.qualification, false, " ", NOW).await,
        Err(PassError::MotifManquant)
    ));
    c.qualifier(db, NOW).await;
    assert!(matches!(
        svc::decider_qualification(db, &c.porteur, c.qualification, false, "trop tard", NOW).await,
        Err(PassError::DejaDecidee)
    ));
    c
}

fn demande(code: &str, cle: &str) -> DemandeUtilisation {
    DemandeUtilisation {
        code: code.into(),
        cle: cle.into(),
        lieu: None,
        service: ServicePass::AtelierCollectif,
        utilise_le: NOW,
        hors_ligne: false,
    }
}

fn refus<T: std::fmt::Debug>(r: Result<T, UtilisationError>) -> Refus {
    match r {
        Err(UtilisationError::Refus(refus)) => refus,
        other => panic!("refus attendu : {other:?}"),
    }
}

async fn a_programme_runs_from_its_settings_to_a_pass_used_once(db: Db) {
    let c = setup(&db).await;
    let (programme, porteur, mediateur, prescripteur) = (
        c.programme,
        c.porteur.clone(),
        c.mediateur.clone(),
        c.prescripteur.clone(),
    );
    let territoires = crate::index();

    // Within the budget only: 20 passes, booklets of 5.
    assert!(matches!(
        svc::emettre(
            &db,
            &porteur,
            programme,
            5,
            Some(prescripteur.structure()),
            NOW
        )
        .await,
        Err(PassError::Budget { reste: 20 })
    ));
    let numeros = svc::emettre(
        &db,
        &porteur,
        programme,
        2,
        Some(prescripteur.structure()),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(numeros, vec![1, 2]);
    let remise = RemiseSaisie {
        tranche_age: "60-69".into(),
        commune: "42218".into(),
        situation: "retraite".into(),
        ..RemiseSaisie::default()
    };
    let carnet = svc::remettre(&db, &prescripteur, programme, 1, &remise, NOW)
        .await
        .unwrap();
    assert_eq!(carnet.codes.len(), 5);
    assert!(matches!(
        svc::remettre(&db, &prescripteur, programme, 1, &remise, NOW).await,
        Err(PassError::DejaRemis)
    ));
    // A prescripteur elsewhere may not hand this structure's booklets.
    let autre = pass::access(
        prescripteur.person(),
        StructureId(999_999),
        Role::Prescripteur,
    );
    assert!(matches!(
        svc::remettre(&db, &autre, programme, 2, &remise, NOW).await,
        Err(PassError::CarnetAilleurs)
    ));

    let code = CodePass::parse(&carnet.codes[0]).unwrap();
    let shown = code.to_string().to_lowercase();
    let valable = svc::verifier(&db, &mediateur, territoires, &shown, None, NOW)
        .await
        .unwrap();
    assert_eq!(valable.valeur_centimes, 1000);
    assert_eq!(valable.programme, "Pass numérique Loire");
    svc::utiliser(&db, &mediateur, territoires, &demande(&shown, "cle-1"), NOW)
        .await
        .unwrap();
    // The same attempt again (a lost answer): the same answer, nothing written twice.
    svc::utiliser(
        &db,
        &mediateur,
        territoires,
        &demande(&shown, "cle-1"),
        NOW + 5_000,
    )
    .await
    .unwrap();
    let again =
        refus(svc::utiliser(&db, &mediateur, territoires, &demande(&shown, "cle-2"), NOW).await);
    assert_eq!(again.code(), "deja_utilise");
    assert!(again.to_string().contains("Médiathèque"), "{again}");

    // A typo: refused, with the code meant.
    let mut typo: Vec<char> = code.compact().chars().collect();
    typo.swap(3, 4);
    if typo[3] == typo[4] {
        typo[3] = if typo[3] == 'A' { 'B' } else { 'A' };
    }
    let typo: String = typo.into_iter().collect();
    match refus(svc::verifier(&db, &mediateur, territoires, &typo, None, NOW).await) {
        Refus::FauteDeFrappe { suggestion } => assert_eq!(suggestion, Some(code)),
        other => panic!("{other:?}"),
    }
    // A valid code no programme issued.
    let inconnu = CodePass::from_entropy([9; 9]).to_string();
    assert_eq!(
        refus(svc::verifier(&db, &mediateur, territoires, &inconnu, None, NOW).await),
        Refus::Inconnu
    );
    // Past the last day and its tolerance.
    let second = &carnet.codes[1];
    let tard = NOW + 41 * 86_400_000;
    assert_eq!(
        refus(svc::verifier(&db, &mediateur, territoires, second, None, tard).await).code(),
        "expire"
    );
    // A structure that did not apply.
    let ailleurs = fixtures::mediateur(mediateur.person(), prescripteur.structure());
    assert_eq!(
        refus(svc::verifier(&db, &ailleurs, territoires, second, None, NOW).await),
        Refus::NonQualifie
    );
    // A lieu that is not one of the structure's.
    let lieu = LieuId("lieu-d-une-autre-structure".into());
    assert!(matches!(
        svc::verifier(&db, &mediateur, territoires, second, Some(&lieu), NOW).await,
        Err(UtilisationError::LieuAilleurs)
    ));

    // The ledger refuses to change or forget a use, on both backends.
    for sql in [
        "UPDATE utilisations_pass SET service = 'parcours'",
        "DELETE FROM utilisations_pass",
    ] {
        assert!(db.execute_admin(sql).await.is_err(), "{sql}");
    }
    let actions: Vec<JournalAction> = relais_store::journal::list(&db, &Default::default(), 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.content.action)
        .collect();
    for action in [
        JournalAction::ProgrammePassCreated,
        JournalAction::QualificationRequested,
        JournalAction::QualificationDecided,
        JournalAction::CarnetsIssued,
        JournalAction::CarnetHandedOut,
    ] {
        assert!(actions.contains(&action), "{action:?} dans {actions:?}");
    }
}

/// 16 tasks try every pass of a booklet, each with its own keys: each pass is used once,
/// and every other attempt is told it was used already.
async fn concurrent_attempts_use_each_pass_once(db: Db) {
    let c = setup(&db).await;
    let (programme, mediateur) = (c.programme, c.mediateur.clone());
    let codes = Arc::new(c.emettre(&db, 4, NOW).await);
    let mediateur = Arc::new(mediateur);
    let mut tasks = Vec::new();
    for t in 0..16 {
        let (db, codes, mediateur) = (db.clone(), codes.clone(), mediateur.clone());
        tasks.push(tokio::spawn(async move {
            let territoires = crate::index();
            let mut results = Vec::new();
            for (i, code) in codes.iter().enumerate() {
                let r = svc::utiliser(
                    &db,
                    &mediateur,
                    territoires,
                    &demande(code, &format!("t{t}-{i}")),
                    NOW,
                )
                .await;
                results.push((code.clone(), r.map(|_| ()).map_err(|e| e.to_string())));
            }
            results
        }));
    }
    let mut won: BTreeMap<String, usize> = BTreeMap::new();
    let mut refused = 0;
    for task in tasks {
        for (code, r) in task.await.unwrap() {
            match r {
                Ok(()) => *won.entry(code).or_default() += 1,
                Err(e) => {
                    assert!(e.starts_with("ce pass a déjà été utilisé le"), "{e}");
                    refused += 1;
                }
            }
        }
    }
    assert_eq!(won.len(), codes.len());
    assert!(won.values().all(|&n| n == 1), "{won:?}");
    assert_eq!(refused, 15 * codes.len());

    // The month's statement, from the ledger: 20 passes of 10 €, 60 % and 40 %.
    let (y, m, _, _) = relais_domain::calendrier::paris_civil(NOW);
    let releves = svc::releves_du_mois(&db, (y, m)).await.unwrap();
    assert_eq!(releves.len(), 1, "{releves:?}");
    let r = &releves[0];
    assert_eq!(
        (r.structure, r.programme),
        (mediateur.structure(), programme)
    );
    assert_eq!((r.pass, r.total_centimes), (20, 20_000));
    assert_eq!(r.par_financeur, vec![12_000, 8_000]);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    assert!(
        svc::releves_du_mois(&db, (ny, nm))
            .await
            .unwrap()
            .is_empty()
    );

    // Each funder's transfer file, judged by sepaxml's ISO 20022 schema and schwifty.
    for (financeur, montant) in [(0, "120.00"), (1, "80.00")] {
        let v = svc::virements::virements(&db, &c.porteur, programme, financeur, (y, m), NOW)
            .await
            .unwrap();
        assert_eq!(
            (v.virements, v.total_centimes),
            (1, r.par_financeur[financeur])
        );
        let read = pain001(&v.xml);
        assert_eq!(read["schema"], "pain.001.001.09");
        assert_eq!(read["total"], montant);
        let virement = &read["virements"][0];
        assert_eq!(virement["iban"], "FR7630006000011234567890189");
        assert_eq!(virement["nom"], "Mediatheque de Saint-Etienne");
    }
    assert!(matches!(
        svc::virements::virements(&db, &c.porteur, programme, 2, (y, m), NOW).await,
        Err(PassError::Introuvable("financeur"))
    ));
    assert!(matches!(
        svc::virements::virements(&db, &c.referent, programme, 0, (y, m), NOW).await,
        Err(PassError::PasLePorteur)
    ));
}

/// A pain.001 file as `testsupport/sepa/verifier_pain001.py` reads it, once valid.
fn pain001(xml: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("virements.xml");
    std::fs::write(&path, xml).unwrap();
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testsupport/sepa/verifier_pain001.py"
        ))
        .arg(&path)
        .output()
        .expect("python3 must be installed (scripts/test installs sepaxml and schwifty)");
    assert!(
        out.status.success(),
        "{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Unknown codes are counted per account (10) and per lieu (30) over 15 minutes: past
/// either, even a genuine code gets no answer until the window ends; another lieu of the
/// structure still works, a lieu that is not the structure's is refused before counting.
async fn guessing_codes_is_bounded(db: Db) {
    let c = setup(&db).await;
    let (mediateur, mediatheque) = (&c.mediateur, c.mediateur.structure());
    let genuine = c.emettre(&db, 1, NOW).await[0].clone();
    let guess = |i: u8| CodePass::from_entropy([i; 9]).to_string();
    async fn check(
        db: &Db,
        who: &MediateurAccess,
        code: String,
        lieu: Option<LieuId>,
    ) -> Result<svc::PassValable, UtilisationError> {
        svc::verifier(db, who, crate::index(), &code, lieu.as_ref(), NOW).await
    }
    for i in 0..10 {
        assert_eq!(
            refus(check(&db, mediateur, guess(i), None).await),
            Refus::Inconnu
        );
    }
    // A mistyped code counts too (its suggestion is an oracle otherwise).
    let mut typo = genuine.clone().into_bytes();
    typo[0] = if typo[0] == b'7' { b'8' } else { b'7' };
    let typo = String::from_utf8(typo).unwrap();
    for code in [genuine.clone(), typo] {
        assert!(matches!(
            check(&db, mediateur, code, None).await,
            Err(UtilisationError::TropDEssais)
        ));
    }
    // Colleagues may still work at the structure's premises, until its count is reached.
    let mut collegues = Vec::new();
    for (i, email) in ["eve@exemple.fr", "fred@exemple.fr", "gael@exemple.fr"]
        .iter()
        .enumerate()
    {
        let p = fixtures::person(&db, email, "Collègue", &i.to_string()).await;
        collegues.push(fixtures::mediateur(p, mediatheque));
    }
    check(&db, &collegues[0], genuine.clone(), None)
        .await
        .unwrap();
    for (c, collegue) in collegues[..2].iter().enumerate() {
        for i in 0..10 {
            let r = check(&db, collegue, guess(10 + 10 * c as u8 + i), None).await;
            assert!(
                matches!(r, Err(UtilisationError::Refus(Refus::Inconnu))),
                "{c} {i}: {r:?}"
            );
        }
    }
    assert!(matches!(
        check(&db, &collegues[2], genuine.clone(), None).await,
        Err(UtilisationError::TropDEssais)
    ));
    // Another lieu of the structure has its own count; one that is not its own has none.
    let annexe = fixtures::lieu_de(&db, mediatheque, "Annexe du Crêt", "42218").await;
    check(&db, &collegues[2], genuine.clone(), Some(annexe.clone()))
        .await
        .unwrap();
    for i in 0..5 {
        let inventee = LieuId(format!("lieu-invente-{i}"));
        assert!(matches!(
            check(&db, &collegues[2], guess(40 + i), Some(inventee)).await,
            Err(UtilisationError::LieuAilleurs)
        ));
    }
    check(&db, &collegues[2], genuine.clone(), Some(annexe))
        .await
        .unwrap();
    // A quarter of an hour later, the window has passed.
    let later = NOW + 16 * 60 * 1000;
    svc::verifier(&db, mediateur, crate::index(), &genuine, None, later)
        .await
        .unwrap();
}

/// Random histories of issues, hand-outs and uses, through the services and the database:
/// the funnel read back counts each pass once, in the state the history left it.
async fn the_funnel_counts_every_pass_once(db: Db) {
    const JOUR: i64 = 86_400_000;
    let c = setup(&db).await;
    // A programme of its own, with room for the histories.
    let programme = svc::creer_programme(&db, &c.porteur, &pass::programme(NOW, 1_000_000), NOW)
        .await
        .unwrap();
    let q = svc::demander_qualification(&db, &c.referent, programme, &pass::demande(), NOW)
        .await
        .unwrap();
    svc::decider_qualification(&db, &c.porteur, q, true, "", NOW)
        .await
        .unwrap();
    let mut alea = 0x2545_f491_4f6c_dd1du64;
    let mut tirer = |n: u64| {
        alea ^= alea << 13;
        alea ^= alea >> 7;
        alea ^= alea << 17;
        alea % n
    };
    let remise = RemiseSaisie {
        tranche_age: "60-69".into(),
        commune: "42218".into(),
        situation: "retraite".into(),
        ..RemiseSaisie::default()
    };
    // What the history did, pass by pass: (booklet, handed out on, used on).
    let mut modele: Vec<(i64, Option<i64>, Option<i64>)> = Vec::new();
    let mut codes: Vec<String> = Vec::new();
    let mut utilisations = 0;
    for tour in 0..6 {
        let jour = NOW + tour * 4 * JOUR;
        let carnets = svc::emettre(
            &db,
            &c.porteur,
            programme,
            1 + tirer(3) as usize,
            Some(c.prescripteur.structure()),
            jour,
        )
        .await
        .unwrap();
        for numero in carnets {
            let carnet = relais_store::pass::carnet(&db, programme, numero)
                .await
                .unwrap()
                .unwrap();
            for code in carnet.codes {
                modele.push((numero, None, None));
                codes.push(code);
            }
        }
        // Hand out some booklets not handed out yet.
        let mut numeros: Vec<i64> = modele
            .iter()
            .filter(|m| m.1.is_none())
            .map(|m| m.0)
            .collect();
        numeros.dedup();
        for numero in numeros {
            if tirer(2) == 0 {
                svc::remettre(&db, &c.prescripteur, programme, numero, &remise, jour)
                    .await
                    .unwrap();
                for m in modele.iter_mut().filter(|m| m.0 == numero) {
                    m.1 = Some(jour);
                }
            }
        }
        // Use some passes, some of them twice (the second refused).
        for essai in 0..8 {
            let i = tirer(codes.len() as u64) as usize;
            let quand = jour + JOUR;
            let r = svc::utiliser(
                &db,
                &c.mediateur,
                crate::index(),
                &DemandeUtilisation {
                    utilise_le: quand,
                    hors_ligne: false,
                    ..demande(&codes[i], &format!("h{tour}-{essai}-{i}"))
                },
                quand,
            )
            .await;
            match (r, modele[i].2) {
                (Ok(_), None) => {
                    modele[i].2 = Some(quand);
                    utilisations += 1;
                }
                (Err(UtilisationError::Refus(Refus::DejaUtilise(_))), Some(_)) => {}
                (r, deja) => panic!("{r:?} (déjà utilisé : {deja:?})"),
            }
        }
    }
    let attendu = |jour: i64| {
        let passes: Vec<_> = modele
            .iter()
            .map(
                |&(carnet, remis_le, utilise_le)| relais_domain::pass::entonnoir::SuiviPass {
                    carnet,
                    remis_le,
                    utilise_le,
                    // No transfer was paid in these histories.
                    rembourse: false,
                },
            )
            .collect();
        let reglages = pass::programme(NOW, 1_000_000);
        relais_domain::pass::entonnoir::entonnoir(
            &passes,
            reglages.dernier_jour + reglages.grace_jours,
            relais_domain::calendrier::paris_days(jour),
        )
    };
    for jour in [NOW + 25 * JOUR, NOW + 45 * JOUR] {
        let e = svc::entonnoir(&db, &c.porteur, programme, jour)
            .await
            .unwrap();
        assert_eq!(e, attendu(jour));
        assert_eq!(e.emis as usize, codes.len());
        assert_eq!(e.utilises, utilisations);
        let s = e.etats;
        assert_eq!(s.en_stock + s.en_attente + s.utilises + s.expires, e.emis);
    }
    assert!(utilisations > 0 && modele.iter().any(|m| m.1.is_some()));
}

/// Printed booklets: a page a pass, its code as text and a QR code of a token signed by
/// the newest key; a key signs for a year, then a new one does, both stay published.
async fn booklets_are_printed_with_tokens_signed_by_a_kept_key(db: Db) {
    use relais_domain::pass::jeton::{self, CleJetons, ContenuJeton, JetonError};
    const AN: i64 = 365 * 86_400_000;
    let c = setup(&db).await;
    let codes = c.emettre(&db, 1, NOW).await;
    let pdf = svc::carnets::carnet_pdf(&db, &c.porteur, c.programme, 1, NOW)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("carnet.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let run = |tool: &str, args: &[&str]| {
        let out = std::process::Command::new(tool)
            .args(args)
            .arg(&path)
            .args(if tool == "pdftotext" {
                &["-"][..]
            } else {
                &[][..]
            })
            .output()
            .unwrap_or_else(|_| panic!("{tool} (poppler-utils) must be installed"));
        assert!(out.status.success(), "{tool}");
        String::from_utf8(out.stdout).unwrap()
    };
    let info = run("pdfinfo", &[]);
    assert!(
        info.contains("Tagged:          yes") && info.contains("Pages:           5"),
        "{info}"
    );
    // Without blanks: a reader may put one inside a code, between two wide letters.
    let text: String = run("pdftotext", &[]).split_whitespace().collect();
    for code in &codes {
        let shown = CodePass::parse(code).unwrap().to_string();
        assert!(text.contains(&format!("Code:{shown}")), "{shown}: {text}");
    }
    // What a phone's camera reads (ZXing, on the pages rendered by poppler): on each page,
    // one QR code, a token signed by a published key, of that page's pass.
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testsupport/qr/lire_qr.py"
        ))
        .arg(&path)
        .output()
        .expect("python3 must be installed (scripts/test installs zxing-cpp)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pages: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    let cles = svc::carnets::cles_publiques(&db).await.unwrap();
    assert_eq!(pages.len(), codes.len());
    for (qr, code) in pages.iter().zip(&codes) {
        let [token] = qr.as_slice() else {
            panic!("one QR code a page: {qr:?}")
        };
        let lu = jeton::lire(token, &cles).unwrap();
        assert_eq!(lu.code.compact(), CodePass::parse(code).unwrap().compact());
        assert_eq!((lu.programme, lu.valeur_centimes), (c.programme, 1000));
    }
    assert!(matches!(
        svc::carnets::carnet_pdf(&db, &c.referent, c.programme, 1, NOW).await,
        Err(PassError::PasLePorteur)
    ));

    // The key kept signs tokens the published keys verify; a year later a new key signs,
    // and a booklet printed before still verifies.
    let contenu = ContenuJeton {
        code: CodePass::parse(&codes[0]).unwrap(),
        programme: c.programme,
        valeur_centimes: 1000,
        dernier_jour: 20_000,
    };
    let premiere = svc::carnets::cle_courante(&db, NOW).await.unwrap();
    assert_eq!(premiere.numero, 1);
    let ancien = premiere.signer(&contenu);
    let seconde = svc::carnets::cle_courante(&db, NOW + AN + 1).await.unwrap();
    assert_eq!(seconde.numero, 2);
    let cles = svc::carnets::cles_publiques(&db).await.unwrap();
    assert_eq!(cles.len(), 2);
    for token in [ancien, seconde.signer(&contenu)] {
        assert_eq!(jeton::lire(&token, &cles), Ok(contenu));
    }
    // A key Relais does not hold, forged with a known number, fails the signature.
    let faussaire = CleJetons::from_seed(2, &[7; 32]);
    assert_eq!(
        jeton::lire(&faussaire.signer(&contenu), &cles),
        Err(JetonError::Signature)
    );
}

/// A pass taken offline by one structure's device while another used it: refused when
/// the device syncs, kept once as a conflict (replays included) that both structures see
/// and find in their journals; an online attempt refused alike is no conflict.
async fn a_pass_taken_offline_and_used_elsewhere_is_a_conflict_for_both(db: Db) {
    use relais_store::journal::JournalFilter;
    let c = setup(&db).await;
    let code = c.emettre(&db, 1, NOW).await[0].clone();
    let territoires = crate::index();
    // The département accepts its own programme's passes too.
    let q = svc::demander_qualification(&db, &c.porteur, c.programme, &pass::demande(), NOW)
        .await
        .unwrap();
    svc::decider_qualification(&db, &c.porteur, q, true, "", NOW)
        .await
        .unwrap();
    let departement = fixtures::mediateur(c.porteur.person(), c.porteur.structure());
    svc::utiliser(
        &db,
        &c.mediateur,
        territoires,
        &demande(&code, "cle-en-ligne-0001"),
        NOW,
    )
    .await
    .unwrap();
    let hors_ligne = DemandeUtilisation {
        utilise_le: NOW - 3_600_000,
        hors_ligne: true,
        ..demande(&code, "cle-hors-ligne-0001")
    };
    for _ in 0..2 {
        let r = refus(svc::utiliser(&db, &departement, territoires, &hors_ligne, NOW + 1).await);
        assert!(
            matches!(r, Refus::DejaUtilise(ref u) if u.le == NOW && u.ou == "Médiathèque"),
            "{r:?}"
        );
    }
    let en_ligne = demande(&code, "cle-en-ligne-0002");
    refus(svc::utiliser(&db, &departement, territoires, &en_ligne, NOW + 2).await);

    for access in [&c.porteur, &c.referent] {
        let conflits = svc::conflits(&db, access).await.unwrap();
        assert_eq!(conflits.len(), 1, "{conflits:?}");
        let k = &conflits[0];
        assert_eq!(k.code, CodePass::parse(&code).unwrap().compact());
        assert_eq!(
            (k.hors_ligne.0, k.hors_ligne_le, k.utilise.0, k.utilise_le),
            (
                c.porteur.structure(),
                NOW - 3_600_000,
                c.referent.structure(),
                NOW
            )
        );
        let entries = relais_store::journal::list(
            &db,
            &JournalFilter {
                structure: Some(access.structure()),
                action: Some(JournalAction::PassConflict),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
    }
    assert!(
        svc::conflits(&db, &c.prescripteur)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A month's transfers: prepared by the daily job once the month is over (once), their
/// payment confirmed by the owner funder by funder (not before the month ends, not twice),
/// the month's passes then reimbursed in the funnel; at the programme's end, the passes
/// never used go back to the funders, to the cent, once.
async fn transfers_are_paid_and_unused_passes_go_back_at_the_end(db: Db) {
    use relais_domain::calendrier::{days_from_civil, paris_civil};
    use relais_store::journal::JournalFilter;
    const JOUR: i64 = 86_400_000;
    let c = setup(&db).await;
    let codes = c.emettre(&db, 2, NOW).await;
    let territoires = crate::index();
    // The first booklet handed to someone of Saint-Étienne.
    let remise = RemiseSaisie {
        commune: "42218".into(),
        ..Default::default()
    };
    svc::remettre(&db, &c.prescripteur, c.programme, 1, &remise, NOW)
        .await
        .unwrap();
    for (i, code) in codes[..3].iter().enumerate() {
        svc::utiliser(
            &db,
            &c.mediateur,
            territoires,
            &demande(code, &format!("cle-reglement-{i:04}")),
            NOW,
        )
        .await
        .unwrap();
    }
    let (y, m, _, _) = paris_civil(NOW);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let mois_suivant = days_from_civil(ny, nm, 1) * JOUR + 12 * 3_600_000;
    assert!(matches!(
        svc::virements::payer(&db, &c.porteur, c.programme, 0, (y, m), NOW).await,
        Err(PassError::MoisEnCours)
    ));
    assert!(matches!(
        svc::virements::payer(&db, &c.porteur, c.programme, 0, (y, m), mois_suivant).await,
        Err(PassError::Introuvable(_))
    ));
    assert_eq!(svc::virements::regler(&db, mois_suivant).await.unwrap(), 2);
    assert_eq!(
        svc::virements::regler(&db, mois_suivant + JOUR)
            .await
            .unwrap(),
        0
    );
    let (prepares, fin) = svc::virements::suivi_des_reglements(&db, &c.porteur, c.programme)
        .await
        .unwrap();
    assert!(fin.is_none());
    assert_eq!(
        prepares
            .iter()
            .map(|v| (v.mois.clone(), v.virements, v.total_centimes, v.prepare_par))
            .collect::<Vec<_>>(),
        [
            (format!("{y}-{m:02}"), 1, 1800, None),
            (format!("{y}-{m:02}"), 1, 1200, None)
        ],
        "60 % and 40 % of three passes of 10 €"
    );
    let rembourses = || async {
        svc::entonnoir(&db, &c.porteur, c.programme, mois_suivant)
            .await
            .unwrap()
            .rembourses
    };
    svc::virements::payer(&db, &c.porteur, c.programme, 0, (y, m), mois_suivant)
        .await
        .unwrap();
    assert!(matches!(
        svc::virements::payer(&db, &c.porteur, c.programme, 0, (y, m), mois_suivant).await,
        Err(PassError::DejaPaye)
    ));
    assert!(matches!(
        svc::virements::payer(&db, &c.referent, c.programme, 1, (y, m), mois_suivant).await,
        Err(PassError::PasLePorteur)
    ));
    assert_eq!(rembourses().await, 0, "one funder has not paid yet");
    svc::virements::payer(&db, &c.porteur, c.programme, 1, (y, m), mois_suivant)
        .await
        .unwrap();
    assert_eq!(rembourses().await, 3);
    // The figures: by département, what each funder paid, the State's leverage; the
    // funnel's CSV.
    let chiffres = svc::chiffres::chiffres(&db, &c.porteur, territoires, c.programme, mois_suivant)
        .await
        .unwrap();
    let par_territoire: Vec<_> = chiffres
        .par_territoire
        .iter()
        .map(|(t, e)| (t.as_str(), e.emis, e.distribues, e.utilises, e.rembourses))
        .collect();
    assert_eq!(
        par_territoire,
        [
            ("42 — Loire", 5, 5, 3, 3),
            (svc::chiffres::PAS_REMIS, 5, 0, 0, 0)
        ]
    );
    assert_eq!(
        chiffres
            .financeurs
            .iter()
            .map(|f| (f.verse_centimes, f.etat))
            .collect::<Vec<_>>(),
        [(1800, false), (1200, true)]
    );
    assert_eq!(
        chiffres.levier_centimes,
        Some(250),
        "40 % from the State: 2,50 € per euro"
    );
    let csv = svc::chiffres::csv(&chiffres);
    assert!(csv.starts_with("territoire,emis,remis,carnet_entame,utilises,rembourses,expires,delai_median_jours\r\n\"Ensemble\",10,5,5,3,3,0,0\r\n\"42 — Loire\",5,5,5,3,3,0,0\r\n"), "{csv}");

    // The end: past the last day and the grace, seven passes never used.
    let reglages = pass::programme(NOW, 20_000);
    let apres = (reglages.dernier_jour + reglages.grace_jours + 2) * JOUR;
    assert_eq!(svc::virements::regler(&db, apres).await.unwrap(), 1);
    assert_eq!(svc::virements::regler(&db, apres + JOUR).await.unwrap(), 0);
    let fin = svc::virements::suivi_des_reglements(&db, &c.porteur, c.programme)
        .await
        .unwrap()
        .1
        .unwrap();
    assert_eq!(
        (fin.pass_non_utilises, fin.montant_centimes, fin.parts),
        (7, 7000, vec![4200, 2800])
    );
    let actions = |action| {
        let db = db.clone();
        let structure = c.porteur.structure();
        async move {
            relais_store::journal::list(
                &db,
                &JournalFilter {
                    structure: Some(structure),
                    action: Some(action),
                    ..Default::default()
                },
                10,
            )
            .await
            .unwrap()
            .len()
        }
    };
    assert_eq!(actions(JournalAction::TransfersPrepared).await, 2);
    assert_eq!(actions(JournalAction::TransfersPaid).await, 2);
    assert_eq!(actions(JournalAction::ProgrammeEnded).await, 1);
}

/// The programme's référents are told how its passes are used 30 and 15 days before its
/// last day, once each, never after.
async fn usage_alerts_go_out_30_and_15_days_before_the_end(db: Db) {
    use relais_services::pass::chiffres::alerter;
    const JOUR: i64 = 86_400_000;
    let c = setup(&db).await;
    c.emettre(&db, 1, NOW).await;
    // The programme's last day is 30 days after NOW.
    let envoyees: Vec<usize> = {
        let mut n = Vec::new();
        for jour in [0, 0, 10, 15, 16, 31] {
            n.push(alerter(&db, NOW + jour * JOUR).await.unwrap());
        }
        n
    };
    assert_eq!(envoyees, [1, 0, 0, 1, 0, 0]);
    let mut courriels = Vec::new();
    while let Some(job) =
        relais_store::jobs::claim(&db, "test", relais_domain::calendrier::now_ms(), 0)
            .await
            .unwrap()
    {
        let m: relais_services::courriel::Courriel = serde_json::from_str(&job.payload).unwrap();
        courriels.push((m.to, m.subject, m.body));
    }
    assert_eq!(courriels.len(), 2, "{courriels:?}");
    assert!(courriels.iter().all(|(to, _, _)| to == "alice@exemple.fr"));
    assert_eq!(
        courriels[0].1,
        "Pass numérique « Pass numérique Loire » : fin dans 30 jours, — des pass remis utilisés"
    );
    assert!(courriels[1].1.contains("fin dans 15 jours"));
    assert!(
        courriels[0].2.contains("- 5 pass émis, dont 0 remis"),
        "{}",
        courriels[0].2
    );
}

/// Booklets are ordered at the programme's minimum purchase at least, unless the order
/// takes what is left of the budget.
async fn orders_respect_the_minimum_purchase(db: Db) {
    let c = setup(&db).await;
    let saisi = relais_domain::pass::programme::ProgrammeSaisi {
        achat_minimum_centimes: 10_000,
        ..pass::programme(NOW, 15_000)
    };
    let programme = svc::creer_programme(&db, &c.porteur, &saisi, NOW)
        .await
        .unwrap();
    let emettre = |n| svc::emettre(&db, &c.porteur, programme, n, None, NOW);
    let refus = emettre(1).await;
    assert!(
        matches!(refus, Err(PassError::AchatMinimum { minimum: 10_000 })),
        "{refus:?}"
    );
    assert_eq!(
        refus.unwrap_err().to_string(),
        "le programme émet au moins 100,00 € d’un coup : demandez plus de carnets"
    );
    assert_eq!(emettre(2).await.unwrap().len(), 2);
    assert_eq!(emettre(1).await.unwrap().len(), 1, "the rest of the budget");
}

/// A person is oriented to the lieux of the structures qualified for the programme, not to
/// the others'.
async fn a_person_is_oriented_to_the_qualified_lieux(db: Db) {
    let c = setup(&db).await;
    let mediatheque = c.mediateur.structure();
    fixtures::lieu_de(&db, mediatheque, "Médiathèque Tarentaize", "42218").await;
    fixtures::lieu_de(&db, mediatheque, "Annexe", "42218").await;
    fixtures::lieu_de(&db, c.prescripteur.structure(), "Accueil du CCAS", "42218").await;
    let lieux = svc::orientation(&db, crate::index(), c.programme, "42218", 5)
        .await
        .unwrap();
    assert_eq!(
        lieux.iter().map(|l| l.nom.as_str()).collect::<Vec<_>>(),
        ["Annexe", "Médiathèque Tarentaize"]
    );
    // The counter offers them, and accepts a pass at them.
    let noms = relais_services::activites::noms_des_lieux(&db, mediatheque)
        .await
        .unwrap();
    assert_eq!(noms.len(), 2);
    let code = c.emettre(&db, 1, NOW).await[0].clone();
    svc::verifier(
        &db,
        &c.mediateur,
        crate::index(),
        &code,
        Some(&lieux[0].id),
        NOW,
    )
    .await
    .unwrap();
}

relais_testkit::store_tests!(
    a_person_is_oriented_to_the_qualified_lieux,
    orders_respect_the_minimum_purchase,
    usage_alerts_go_out_30_and_15_days_before_the_end,
    transfers_are_paid_and_unused_passes_go_back_at_the_end,
    a_pass_taken_offline_and_used_elsewhere_is_a_conflict_for_both,
    booklets_are_printed_with_tokens_signed_by_a_kept_key,
    the_funnel_counts_every_pass_once,
    a_programme_runs_from_its_settings_to_a_pass_used_once,
    concurrent_attempts_use_each_pass_once,
    concurrent_orders_get_their_own_numbers,
    guessing_codes_is_bounded,
);

/// Eight orders of three booklets at once, on a budget of twenty: six are served, each
/// with its own numbers, and two are refused for the budget, never over it. (Each order
/// reads the budget used and the last number, then writes after it: on PostgreSQL two
/// orders took the same numbers; on SQLite one was refused « database is locked ».)
async fn concurrent_orders_get_their_own_numbers(db: Db) {
    relais_testkit::seed_commune(&db).await;
    let c = pass::circuit(&db, NOW, 100_000).await; // 20 booklets of 5 passes of 10 €
    let porteur = Arc::new(c.porteur.clone());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (db, porteur) = (db.clone(), porteur.clone());
            tokio::spawn(
                async move { svc::emettre(&db, &porteur, c.programme, 3, None, NOW).await },
            )
        })
        .collect();
    let (mut numeros, mut refus) = (Vec::new(), 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(n) => numeros.extend(n),
            Err(PassError::Budget { reste: 10 }) => refus += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    numeros.sort_unstable();
    assert_eq!(numeros, (1..=18).collect::<Vec<i64>>());
    assert_eq!(refus, 2);
}
