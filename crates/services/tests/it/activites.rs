//! The statistics of the activities on both backends: for random histories of entries,
//! edits, deletions and entries sent twice, the in-memory index gives the figures counted
//! one participation at a time from what was written, whatever the filters.

use std::collections::{BTreeMap, BTreeSet};

use relais_domain::activites::rapport::{Anonymes, Rapport, jour};
use relais_domain::activites::statistiques::{Filtres, Participation, figures, premiers};
use relais_domain::activites::vocabulaires::{
    Genre, Materiel, StatutSocial, Thematique, TrancheAge, TypeActivite, TypeLieu,
};
use relais_domain::comptes::StructureKind;
use relais_domain::ids::{ActiviteId, BeneficiaireId, PersonId, StructureId};
use relais_services::activites::Statistiques;
use relais_store::Db;
use relais_store::activites::{
    self as repo, Enregistrement, NouveauBeneficiaire, NouvelleActivite, Participant,
};
use relais_testkit::fixtures;

/// A small deterministic generator: each history is reproducible from its seed.
struct Alea(u64);

impl Alea {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, all: &[T]) -> T {
        all[self.below(all.len())]
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

const COMMUNES: [&str; 3] = ["42218", "69123", "2A004"];

struct Monde {
    mediateurs: Vec<(PersonId, StructureId)>,
    beneficiaires: Vec<(BeneficiaireId, Participant)>,
}

async fn monde(db: &Db) -> Monde {
    relais_testkit::seed_commune(db).await;
    let s1 = fixtures::structure(
        db,
        "13002526500013",
        "Médiathèque",
        StructureKind::Collectivite,
    )
    .await;
    let s2 = fixtures::structure(
        db,
        "35600000049837",
        "Bureau de poste",
        StructureKind::Entreprise,
    )
    .await;
    let mut mediateurs = Vec::new();
    for (i, s) in [s1, s1, s2].into_iter().enumerate() {
        let p = fixtures::person(db, &format!("m{i}@exemple.fr"), "Camille", "Martin").await;
        mediateurs.push((p, s));
    }
    let mut alea = Alea(99);
    let mut beneficiaires = Vec::new();
    for i in 0..8 {
        let (structure, cree_par) = if i % 2 == 0 {
            (s1, mediateurs[0].0)
        } else {
            (s2, mediateurs[2].0)
        };
        let p = Participant {
            beneficiaire: None,
            deja_accompagne: false,
            genre: alea.pick(Genre::ALL),
            tranche: alea.pick(TrancheAge::ALL),
            statut: alea.pick(StatutSocial::ALL),
            commune: (i % 3 > 0).then(|| COMMUNES[i % 3].to_string()),
        };
        let b = NouveauBeneficiaire {
            structure,
            prenom: format!("Personne {i}"),
            nom: "Durand".into(),
            commune: p.commune.clone(),
            genre: p.genre,
            tranche: p.tranche,
            statut: p.statut,
            consentement_le: jour(2026, 1, 2),
            cree_par,
            partage: false,
        };
        let id = repo::creer_beneficiaire(db, &b, 0).await.unwrap();
        beneficiaires.push((
            id,
            Participant {
                beneficiaire: Some(id),
                ..p
            },
        ));
    }
    Monde {
        mediateurs,
        beneficiaires,
    }
}

fn activite(alea: &mut Alea, monde: &Monde, cle: String) -> NouvelleActivite {
    let (mediateur, structure) = alea.pick(&monde.mediateurs);
    let individuel = alea.chance(2);
    let mut participants = Vec::new();
    let suivis = if individuel {
        usize::from(alea.chance(2))
    } else {
        alea.below(4)
    };
    for _ in 0..suivis {
        let (_, p) = &monde.beneficiaires[alea.below(monde.beneficiaires.len())];
        if !participants.contains(p) {
            participants.push(p.clone());
        }
    }
    let anonymes = if individuel {
        1 - participants.len()
    } else {
        1 + alea.below(3)
    };
    for _ in 0..anonymes {
        participants.push(Participant {
            beneficiaire: None,
            deja_accompagne: alea.chance(2),
            genre: alea.pick(Genre::ALL),
            tranche: alea.pick(TrancheAge::ALL),
            statut: alea.pick(StatutSocial::ALL),
            commune: None,
        });
    }
    let rapport = Rapport {
        type_activite: if individuel {
            TypeActivite::Individuel
        } else {
            TypeActivite::Collectif
        },
        date: jour(2026, 1 + alea.below(3) as u32, 1 + alea.below(28) as u32),
        duree: 15 * (1 + alea.below(10) as u32),
        type_lieu: alea.pick(&[TypeLieu::Domicile, TypeLieu::ADistance, TypeLieu::Autre]),
        lieu: None,
        commune: alea.pick(&COMMUNES).to_string(),
        thematiques: BTreeSet::from([alea.pick(Thematique::ALL), alea.pick(Thematique::ALL)]),
        demarches: BTreeSet::new(),
        materiel: BTreeSet::from([alea.pick(&[Materiel::Ordinateur, Materiel::Telephone])]),
        autonomie: None,
        niveau: None,
        orientation: None,
        precisions_demarche: String::new(),
        titre_atelier: String::new(),
        suivis: participants.iter().filter_map(|p| p.beneficiaire).collect(),
        anonymes: Anonymes::default(),
    };
    NouvelleActivite {
        cle,
        mediateur,
        structure,
        rapport,
        anonymes_json: "{}".into(),
        participants,
    }
}

/// What the written activities count, derived here from what the test wrote.
fn attendu(live: &BTreeMap<ActiviteId, NouvelleActivite>) -> Vec<Participation> {
    let firsts = premiers(live.iter().flat_map(|(id, a)| {
        a.participants
            .iter()
            .filter_map(move |p| p.beneficiaire.map(|b| (*id, a.rapport.date, b)))
    }));
    live.iter()
        .flat_map(|(id, a)| {
            let r = &a.rapport;
            let firsts = &firsts;
            a.participants.iter().map(move |p| Participation {
                activite: *id,
                mediateur: a.mediateur,
                structure: a.structure,
                date: r.date,
                type_activite: r.type_activite,
                duree: r.duree,
                type_lieu: r.type_lieu,
                lieu: r.lieu.clone(),
                commune: r.commune.clone(),
                thematiques: r.thematiques.clone(),
                materiel: r.materiel.clone(),
                beneficiaire: p.beneficiaire,
                premier: match p.beneficiaire {
                    Some(b) => firsts.contains(&(*id, b)),
                    None => !p.deja_accompagne,
                },
                genre: p.genre,
                tranche: p.tranche,
                statut: p.statut,
                commune_beneficiaire: p.commune.clone(),
            })
        })
        .collect()
}

fn filtres(alea: &mut Alea, monde: &Monde) -> Filtres {
    let mut f = Filtres::default();
    if alea.chance(3) {
        f.du = Some(jour(2026, 1, 1 + alea.below(28) as u32));
    }
    if alea.chance(3) {
        f.au = Some(jour(
            2026,
            2 + alea.below(2) as u32,
            1 + alea.below(28) as u32,
        ));
    }
    if alea.chance(3) {
        f.types.insert(alea.pick(TypeActivite::ALL));
    }
    if alea.chance(3) {
        f.mediateurs.insert(alea.pick(&monde.mediateurs).0);
    }
    if alea.chance(3) {
        f.structures.insert(alea.pick(&monde.mediateurs).1);
    }
    if alea.chance(3) {
        f.communes.insert(alea.pick(&COMMUNES).to_string());
    }
    if alea.chance(3) {
        f.thematiques.insert(alea.pick(Thematique::ALL));
    }
    f
}

async fn statistics_equal_the_raw_rows(db: Db) {
    let monde = monde(&db).await;
    let stats = Statistiques::new();
    let mut live: BTreeMap<ActiviteId, NouvelleActivite> = BTreeMap::new();
    for seed in 1..=6u64 {
        let mut alea = Alea(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for step in 0..40 {
            let now = i64::from(step);
            match alea.below(10) {
                0..=5 => {
                    let a = activite(&mut alea, &monde, format!("{seed}-{step}"));
                    match repo::enregistrer(&db, &a, now).await.unwrap() {
                        Enregistrement::Nouvelle(id) => {
                            live.insert(id, a.clone());
                        }
                        other => panic!("a new key was taken for a known one: {other:?}"),
                    }
                    // Sent again (the offline queue retrying): written once.
                    if alea.chance(4) {
                        let again = repo::enregistrer(&db, &a, now).await.unwrap();
                        assert!(
                            matches!(again, Enregistrement::DejaRecue { mediateur, .. } if mediateur == a.mediateur)
                        );
                    }
                }
                6 | 7 if !live.is_empty() => {
                    let id = *live.keys().nth(alea.below(live.len())).unwrap();
                    let mut a = activite(&mut alea, &monde, String::new());
                    a.mediateur = live[&id].mediateur;
                    a.structure = live[&id].structure;
                    assert!(repo::modifier(&db, id, &a, now).await.unwrap());
                    a.cle = live[&id].cle.clone();
                    live.insert(id, a);
                }
                8 if !live.is_empty() => {
                    let id = *live.keys().nth(alea.below(live.len())).unwrap();
                    let someone_else = monde
                        .mediateurs
                        .iter()
                        .find(|m| m.0 != live[&id].mediateur)
                        .unwrap()
                        .0;
                    assert!(
                        !repo::supprimer(&db, id, someone_else, now).await.unwrap(),
                        "only its mediator deletes an activity"
                    );
                    assert!(
                        repo::supprimer(&db, id, live[&id].mediateur, now)
                            .await
                            .unwrap()
                    );
                    assert!(
                        !repo::supprimer(&db, id, live[&id].mediateur, now)
                            .await
                            .unwrap()
                    );
                    live.remove(&id);
                }
                _ => {
                    // A dashboard read between writes: the index catches up from where it was.
                    let expected = attendu(&live);
                    let f = filtres(&mut alea, &monde);
                    assert_eq!(
                        stats.figures(&db, &f).await.unwrap(),
                        figures(&expected, &f),
                        "seed {seed}, step {step}, {f:?}"
                    );
                }
            }
        }
        let expected = attendu(&live);
        assert_eq!(
            stats.figures(&db, &Filtres::default()).await.unwrap(),
            figures(&expected, &Filtres::default()),
            "seed {seed}"
        );
        for _ in 0..10 {
            let f = filtres(&mut alea, &monde);
            let want = figures(&expected, &f);
            assert_eq!(
                stats.figures(&db, &f).await.unwrap(),
                want,
                "seed {seed}, {f:?}"
            );
            // The benchmark's reference, plain GROUP BYs in the database, agrees too.
            assert_eq!(
                repo::figures_par_group_by(&db, &f).await.unwrap(),
                want,
                "GROUP BY, seed {seed}, {f:?}"
            );
        }
        assert_eq!(stats.taille(), (live.len(), expected.len()));
    }
    // A new process loads everything at once and agrees.
    let fresh = Statistiques::new();
    let expected = attendu(&live);
    assert!(
        expected
            .iter()
            .any(|p| p.premier && p.beneficiaire.is_some())
    );
    assert!(
        expected
            .iter()
            .any(|p| !p.premier && p.beneficiaire.is_some())
    );
    assert_eq!(
        fresh.figures(&db, &Filtres::default()).await.unwrap(),
        figures(&expected, &Filtres::default())
    );
}

async fn a_mediator_reports_once_and_errors_name_their_field(db: Db) {
    use relais_domain::authz::{Actor, Denied, Membership};
    use relais_domain::comptes::Role;
    use relais_services::activites::beneficiaires::{self as fichier, FicheError, NouvelleFiche};
    use relais_services::activites::{self as svc, SaisieError};

    relais_testkit::seed_commune(&db).await;
    let s1 = fixtures::structure(
        &db,
        "13002526500013",
        "Médiathèque",
        StructureKind::Collectivite,
    )
    .await;
    let s2 = fixtures::structure(
        &db,
        "35600000049837",
        "Bureau de poste",
        StructureKind::Entreprise,
    )
    .await;
    let actor = |person: PersonId, structure: StructureId, role: Role| Actor {
        person_id: person,
        memberships: vec![Membership { structure, role }],
        global_roles: vec![],
        acting_structure: Some(structure),
    };
    let camille = fixtures::person(&db, "camille@exemple.fr", "Camille", "Martin").await;
    let dominique = fixtures::person(&db, "dominique@exemple.fr", "Dominique", "Petit").await;
    assert_eq!(
        actor(camille, s1, Role::Referent).mediateur(s1),
        Err(Denied::NotMediateur)
    );
    let ici = actor(camille, s1, Role::Mediateur).mediateur(s1).unwrap();
    let ailleurs = actor(dominique, s2, Role::Mediateur).mediateur(s2).unwrap();

    let fiche = NouvelleFiche {
        prenom: "Jeanne".into(),
        nom: "Roux".into(),
        commune: Some("42218".into()),
        genre: Genre::Feminin,
        tranche: TrancheAge::SoixanteDixPlus,
        statut: StatutSocial::Retraite,
        consentement: false,
        partage: false,
    };
    assert!(matches!(
        fichier::creer(&db, &ici, &fiche).await,
        Err(FicheError::SansConsentement)
    ));
    let fiche = NouvelleFiche {
        consentement: true,
        ..fiche
    };
    assert!(matches!(
        fichier::creer(
            &db,
            &ici,
            &NouvelleFiche {
                commune: Some("99999".into()),
                ..fiche.clone()
            }
        )
        .await,
        Err(FicheError::CommuneInconnue)
    ));
    let jeanne = fichier::creer(&db, &ici, &fiche).await.unwrap();
    let autre = fichier::creer(&db, &ailleurs, &fiche).await.unwrap();

    let first = svc::enregistrer(
        &db,
        &ici,
        "saisie-0001",
        fixtures::rapport(BTreeSet::from([jeanne])),
    )
    .await
    .unwrap();
    assert!(first.nouvelle);
    let again = svc::enregistrer(
        &db,
        &ici,
        "saisie-0001",
        fixtures::rapport(BTreeSet::from([jeanne])),
    )
    .await
    .unwrap();
    assert_eq!(
        (again.id, again.nouvelle),
        (first.id, false),
        "an entry sent twice is written once"
    );
    assert!(matches!(
        svc::enregistrer(
            &db,
            &ailleurs,
            "saisie-0001",
            fixtures::rapport(BTreeSet::new())
        )
        .await,
        Err(SaisieError::CleDejaPrise)
    ));
    assert!(matches!(
        svc::enregistrer(
            &db,
            &ici,
            "saisie-0002",
            fixtures::rapport(BTreeSet::from([autre]))
        )
        .await,
        Err(SaisieError::BeneficiaireInconnu)
    ));
    let at_a_lieu = Rapport {
        type_lieu: TypeLieu::LieuActivite,
        lieu: Some(relais_domain::ids::LieuId("0123456789abcdef".into())),
        ..fixtures::rapport(BTreeSet::new())
    };
    assert!(matches!(
        svc::enregistrer(&db, &ici, "saisie-0003", at_a_lieu).await,
        Err(SaisieError::LieuInconnu)
    ));
    let nowhere = Rapport {
        commune: "99999".into(),
        ..fixtures::rapport(BTreeSet::new())
    };
    assert!(matches!(
        svc::enregistrer(&db, &ici, "saisie-0004", nowhere).await,
        Err(SaisieError::CommuneInconnue)
    ));
    let wrong = Rapport {
        duree: 0,
        thematiques: BTreeSet::new(),
        ..fixtures::rapport(BTreeSet::new())
    };
    let err = svc::enregistrer(&db, &ici, "saisie-0005", wrong)
        .await
        .unwrap_err();
    let fields: Vec<&str> = err.champs().iter().map(|(f, _)| *f).collect();
    assert_eq!(fields, ["duree", "thematiques"]);
    assert!(
        err.champs()[1].1.starts_with("Thématiques : "),
        "{:?}",
        err.champs()
    );

    for bad in ["court", "une clé avec des espaces", &"x".repeat(65)] {
        assert!(matches!(
            svc::enregistrer(&db, &ici, bad, fixtures::rapport(BTreeSet::new())).await,
            Err(SaisieError::CleInvalide)
        ));
    }

    let stats = Statistiques::new();
    let mine = Filtres {
        mediateurs: BTreeSet::from([camille]),
        ..Filtres::default()
    };
    let t = stats.figures(&db, &mine).await.unwrap().totaux;
    assert_eq!(
        (
            t.activites,
            t.participations,
            t.beneficiaires_suivis,
            t.nouveaux
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(
        stats
            .figures(&db, &Filtres::default())
            .await
            .unwrap()
            .totaux
            .activites,
        1
    );
}

relais_testkit::store_tests!(
    statistics_equal_the_raw_rows,
    a_mediator_reports_once_and_errors_name_their_field
);
