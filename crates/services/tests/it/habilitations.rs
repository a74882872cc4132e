//! The habilitation workflow on both backends.

use relais_domain::authz::{Actor, Membership};
use relais_domain::comptes::{GlobalRole, Role, StructureKind};
use relais_domain::habilitations::{
    COMMITMENTS, Decision, HabilitationError, Missing, RequestStatus, Training,
};
use relais_domain::ids::StructureId;
use relais_domain::journal::JournalAction;
use relais_domain::totp;
use relais_services::comptes::{self as svc, Client, Policy};
use relais_services::habilitations::{self as workflow, WorkflowError};
use relais_store::journal::{self, JournalFilter};
use relais_store::{Db, comptes};
use relais_testkit::fixtures::{PASSWORD, grant, person, structure};
use relais_testkit::store_tests;

store_tests!(
    from_request_to_active_aidant,
    requests_stay_within_their_structure
);

async fn setup(db: &Db) -> (StructureId, StructureId, Actor, Actor) {
    relais_testkit::seed_commune(db).await;
    let kind = StructureKind::Association;
    let a = structure(db, "13002526500013", "Association A", kind).await;
    let b = structure(db, "21420218600018", "Association B", kind).await;
    let referent = person(db, "referent@exemple.fr", "R", "A").await;
    grant(db, referent, a, Role::Referent).await;
    let admin = person(db, "admin@exemple.fr", "A", "N").await;
    svc::grant_global_role(db, admin, GlobalRole::Administrateur, "", None)
        .await
        .unwrap();
    let actor = |person, memberships, global_roles| Actor {
        person_id: person,
        memberships,
        global_roles,
        acting_structure: None,
    };
    (
        a,
        b,
        actor(
            referent,
            vec![Membership {
                structure: a,
                role: Role::Referent,
            }],
            vec![],
        ),
        actor(
            admin,
            vec![],
            vec![(GlobalRole::Administrateur, String::new())],
        ),
    )
}

fn all_commitments() -> Vec<&'static str> {
    COMMITMENTS.iter().map(|(c, _)| *c).collect()
}

async fn from_request_to_active_aidant(db: Db) {
    let (a, _, referent, admin) = setup(&db).await;
    let access = referent.structure(a, &[Role::Referent]).unwrap();
    let admin = admin.admin().unwrap();
    let candidate = person(&db, "aidant@exemple.fr", "Alex", "Durand").await;

    let err = workflow::submit(
        &db,
        &access,
        &["aidant@exemple.fr"],
        &all_commitments()[1..],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            WorkflowError::Rule(HabilitationError::MissingCommitment("conditions"))
        ),
        "{err}"
    );
    let err = workflow::submit(&db, &access, &["inconnu@exemple.fr"], &all_commitments())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("inconnu@exemple.fr"), "{err}");
    let request = workflow::submit(&db, &access, &["Aidant@Exemple.fr"], &all_commitments())
        .await
        .unwrap();

    // A thread: changes asked, answered, then accepted.
    let status = workflow::decide(
        &db,
        &admin,
        request,
        Decision::AskChanges,
        Some("Précisez la date de formation."),
    )
    .await
    .unwrap();
    assert_eq!(status, RequestStatus::ChangesRequested);
    let err = workflow::decide(&db, &admin, request, Decision::Accept, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WorkflowError::Rule(HabilitationError::AlreadyDecided(_))
        ),
        "{err}"
    );
    workflow::resubmit(&db, &access, request, "Formation prévue le 3 décembre.")
        .await
        .unwrap();
    assert_eq!(
        workflow::decide(&db, &admin, request, Decision::Accept, None)
            .await
            .unwrap(),
        RequestStatus::Accepted
    );
    // Each decision was told to the référent by e-mail, the administration's message included.
    let mut mails = Vec::new();
    while let Some(job) =
        relais_store::jobs::claim(&db, "test", relais_domain::calendrier::now_ms(), 0)
            .await
            .unwrap()
    {
        mails.push(job.payload);
    }
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails[0].contains("referent@exemple.fr") && mails[0].contains("Précisez la date"));
    assert!(mails[1].contains("est acceptée"), "{}", mails[1]);
    let thread = relais_store::habilitations::thread(&db, request)
        .await
        .unwrap();
    assert_eq!(
        thread.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        [
            "Précisez la date de formation.",
            "Formation prévue le 3 décembre."
        ]
    );

    // Not an aidant until trained, tested and protected by a second factor.
    assert_eq!(
        workflow::missing(&db, request, candidate).await.unwrap(),
        [
            Missing::Training,
            Missing::SkillsTest,
            Missing::SecondFactor
        ]
    );
    let err = workflow::activate(&db, &access, request, candidate)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("formation à suivre"), "{err}");
    assert!(Training::new(10, 0, "Organisme").is_err());
    workflow::record_training(
        &db,
        &access,
        request,
        candidate,
        &Training::new(14, 1_790_000_000_000, "Organisme de formation").unwrap(),
    )
    .await
    .unwrap();
    workflow::record_skills_test(&db, &access, request, candidate, Some(42))
        .await
        .unwrap();
    assert_eq!(
        workflow::missing(&db, request, candidate).await.unwrap(),
        [Missing::SecondFactor]
    );

    let policy = Policy::default();
    let client = Client {
        ip: "192.0.2.9".into(),
        user_agent: "test".into(),
    };
    let opened = svc::login_with_password(&db, &policy, "aidant@exemple.fr", PASSWORD, &client)
        .await
        .unwrap();
    let session = svc::resolve_session(&db, &policy, &opened.token)
        .await
        .unwrap()
        .unwrap();
    let (secret, _) = svc::begin_enrolment(&db, &session).await.unwrap();
    let code = format!(
        "{:06}",
        totp::code_at_step(
            &secret,
            totp::step_of(relais_domain::calendrier::now_ms() / 1000)
        )
    );
    svc::confirm_enrolment(&db, &policy, &session, &code)
        .await
        .unwrap();

    workflow::activate(&db, &access, request, candidate)
        .await
        .unwrap();
    let roles: Vec<Role> = comptes::memberships_of(&db, candidate)
        .await
        .unwrap()
        .iter()
        .map(|m| m.role)
        .collect();
    assert_eq!(roles, [Role::Aidant]);
    let actions: Vec<JournalAction> = journal::list(
        &db,
        &JournalFilter {
            structure: Some(a),
            ..Default::default()
        },
        50,
    )
    .await
    .unwrap()
    .iter()
    .rev()
    .map(|e| e.content.action)
    .collect();
    assert_eq!(
        actions,
        [
            JournalAction::StructureCreated,
            JournalAction::RoleGranted,
            JournalAction::HabilitationRequested,
            JournalAction::HabilitationDecided,
            JournalAction::HabilitationRequested,
            JournalAction::HabilitationDecided,
            JournalAction::RoleGranted,
        ],
        "the structure's référents read its whole story"
    );
}

async fn requests_stay_within_their_structure(db: Db) {
    let (a, b, referent, admin) = setup(&db).await;
    person(&db, "aidant@exemple.fr", "Alex", "Durand").await;
    let request = workflow::submit(
        &db,
        &referent.structure(a, &[Role::Referent]).unwrap(),
        &["aidant@exemple.fr"],
        &all_commitments(),
    )
    .await
    .unwrap();
    workflow::decide(
        &db,
        &admin.admin().unwrap(),
        request,
        Decision::AskChanges,
        None,
    )
    .await
    .unwrap();
    let other = Actor {
        memberships: vec![Membership {
            structure: b,
            role: Role::Referent,
        }],
        ..referent.clone()
    };
    let err = workflow::resubmit(
        &db,
        &other.structure(b, &[Role::Referent]).unwrap(),
        request,
        "Réponse",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, WorkflowError::OtherStructure), "{err}");
    let err = workflow::resubmit(
        &db,
        &referent.structure(a, &[Role::Referent]).unwrap(),
        request,
        "  ",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, WorkflowError::Rule(HabilitationError::EmptyMessage)),
        "{err}"
    );
    assert!(referent.admin().is_err(), "a référent cannot decide");
}
