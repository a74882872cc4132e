//! A référent's team on both backends: invitations by e-mail (sent through the jobs queue),
//! roles, departures, unlocking; and the password reset link. E-mails are really written
//! (folder transport) or really sent to a local SMTP server, then read back.

use std::path::{Path, PathBuf};

use relais_domain::authz::{Actor, Membership, StructureAccess};
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::ids::PersonId;
use relais_domain::journal::JournalAction;
use relais_jobs::{Registry, Worker, WorkerConfig};
use relais_services::comptes::equipe::{self, TeamError};
use relais_services::comptes::invitations::{self, InvitationError, InvitationForm};
use relais_services::comptes::password_reset::{self, ResetError};
use relais_services::comptes::{self as svc, Client, LoginError, Policy};
use relais_services::courriel::{Courriel, JOB, Mailer};
use relais_store::journal::{self, JournalFilter};
use relais_store::{Db, comptes};
use relais_testkit::fixtures::{PASSWORD, grant, person, structure};
use relais_testkit::store_tests;

store_tests!(
    an_invitation_creates_the_account_once,
    an_expired_or_withdrawn_invitation_creates_nothing,
    an_existing_account_accepts_with_its_own_login,
    roles_departures_and_the_last_referent,
    a_referent_unlocks_a_member,
    a_reset_link_sets_the_password_and_unlocks,
    a_reset_link_reveals_nothing_and_serves_once
);

const URL: &str = "https://relais.exemple.fr";

fn client() -> Client {
    Client {
        ip: "192.0.2.1".into(),
        user_agent: "test".into(),
    }
}

/// A structure with a référent; returns the référent's proof.
async fn setup(db: &Db) -> (StructureAccess, PersonId) {
    relais_testkit::seed_commune(db).await;
    let s = structure(
        db,
        "13002526500013",
        "Médiathèque Tarentaize",
        StructureKind::Collectivite,
    )
    .await;
    let referent = person(db, "referente@exemple.fr", "Inès", "Roux").await;
    grant(db, referent, s, Role::Referent).await;
    let actor = Actor {
        person_id: referent,
        memberships: vec![Membership {
            structure: s,
            role: Role::Referent,
        }],
        global_roles: vec![],
        acting_structure: Some(s),
    };
    (actor.structure(s, &[Role::Referent]).unwrap(), referent)
}

/// Runs the queued jobs with e-mail written to `dir`; returns the messages found there.
async fn deliver(db: &Db, dir: &Path) -> Vec<String> {
    let mailer = Mailer::folder(dir.to_path_buf(), "Relais <ne-pas-repondre@exemple.fr>").unwrap();
    let registry = Registry::default().handle(JOB, move |_, payload| {
        let mailer = mailer.clone();
        async move {
            mailer
                .send_queued(&payload)
                .await
                .map_err(|e| relais_jobs::JobError::Failed(e.to_string()))
        }
    });
    let worker = Worker::new(db.clone(), registry, WorkerConfig::new("test"));
    while worker.run_one().await.unwrap().is_some() {}
    read_mails(dir)
}

fn read_mails(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
        .iter()
        .map(|p| decode(&std::fs::read_to_string(p).unwrap()))
        .collect()
}

/// The message with a quoted-printable body decoded (lettre encodes long or accented lines).
fn decode(raw: &str) -> String {
    if !raw.contains("Content-Transfer-Encoding: quoted-printable") {
        return raw.to_string();
    }
    let joined = raw.replace("=\r\n", "");
    let mut bytes = Vec::new();
    let mut rest = joined.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        match (
            b,
            tail.get(..2)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()),
        ) {
            (b'=', Some(v)) => {
                bytes.push(v);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// The token after `marker` in a message (base64url characters).
fn token_after(mail: &str, marker: &str) -> String {
    let start = mail
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} absent de :\n{mail}"))
        + marker.len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn form(email: &str, role: &str) -> InvitationForm {
    InvitationForm {
        email: email.into(),
        given_name: "Karim".into(),
        family_name: "Benali".into(),
        role: role.into(),
    }
}

async fn actions(db: &Db) -> Vec<JournalAction> {
    journal::list(db, &JournalFilter::default(), 200)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.content.action)
        .collect()
}

async fn an_invitation_creates_the_account_once(db: Db) {
    let (access, _) = setup(&db).await;
    let dir = tempfile::tempdir().unwrap();
    for (f, expected) in [
        (form("pas-une-adresse", "mediateur"), "n’est pas valide"),
        (form("karim@exemple.fr", "aidant"), "habilitation"),
        (form("karim@exemple.fr", "chef"), "rôle"),
        (
            InvitationForm {
                given_name: " ".into(),
                ..form("karim@exemple.fr", "mediateur")
            },
            "prénom",
        ),
        (form("referente@exemple.fr", "referent"), "déjà ce rôle"),
    ] {
        let err = invitations::invite(&db, &access, &f, URL)
            .await
            .unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
    assert!(
        deliver(&db, dir.path()).await.is_empty(),
        "no mail for refused invitations"
    );

    invitations::invite(&db, &access, &form(" Karim@Exemple.fr ", "mediateur"), URL)
        .await
        .unwrap();
    let mails = deliver(&db, dir.path()).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.contains("To: karim@exemple.fr"), "{mail}");
    assert!(mail.contains("Médiathèque Tarentaize"), "{mail}");
    assert!(mail.contains("Inès Roux vous invite"), "{mail}");
    let token = token_after(mail, &format!("{URL}/invitation/"));
    assert_eq!(token.len(), 43);

    let found = invitations::find(&db, &token).await.unwrap();
    assert_eq!(
        (found.email.as_str(), found.role),
        ("karim@exemple.fr", Role::Mediateur)
    );
    assert!(!invitations::has_account(&db, &found).await.unwrap());
    let err = invitations::accept_with_new_account(&db, &token, PASSWORD, "autre chose longue")
        .await
        .unwrap_err();
    assert!(matches!(err, InvitationError::PasswordsDiffer), "{err}");
    let err = invitations::accept_with_new_account(&db, &token, "court", "court")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("12 caractères"), "{err}");
    assert!(
        comptes::person_by_email(&db, "karim@exemple.fr")
            .await
            .unwrap()
            .is_none()
    );

    let person = invitations::accept_with_new_account(&db, &token, PASSWORD, PASSWORD)
        .await
        .unwrap();
    let roles = comptes::memberships_of(&db, person).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].role, Role::Mediateur);
    // The password works (the second factor is enrolled next).
    svc::login_with_password(
        &db,
        &Policy::default(),
        "karim@exemple.fr",
        PASSWORD,
        &client(),
    )
    .await
    .unwrap();
    // Single use.
    let err = invitations::accept_with_new_account(&db, &token, PASSWORD, PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(err, InvitationError::Accepted), "{err}");
    let journal = actions(&db).await;
    for a in [
        JournalAction::PersonInvited,
        JournalAction::InvitationAccepted,
        JournalAction::RoleGranted,
    ] {
        assert!(journal.contains(&a), "{a:?} in {journal:?}");
    }
    assert!(
        invitations::open_invitations(&db, &access)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn an_expired_or_withdrawn_invitation_creates_nothing(db: Db) {
    let (access, _) = setup(&db).await;
    let dir = tempfile::tempdir().unwrap();
    invitations::invite(&db, &access, &form("karim@exemple.fr", "prescripteur"), URL)
        .await
        .unwrap();
    let id = invitations::invite(&db, &access, &form("lea@exemple.fr", "mediateur"), URL)
        .await
        .unwrap();
    let mails = deliver(&db, dir.path()).await;
    let token = |to: &str| {
        let mail = mails
            .iter()
            .find(|m| m.contains(&format!("To: {to}")))
            .unwrap();
        token_after(mail, "/invitation/")
    };
    let (expired, withdrawn) = (token("karim@exemple.fr"), token("lea@exemple.fr"));

    db.execute_admin("UPDATE invitations SET expires_at = 1000 WHERE email = 'karim@exemple.fr'")
        .await
        .unwrap();
    let err = invitations::accept_with_new_account(&db, &expired, PASSWORD, PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(err, InvitationError::Expired(_)), "{err}");
    assert!(err.to_string().contains("a expiré le 01/01/1970"), "{err}");
    assert!(
        comptes::person_by_email(&db, "karim@exemple.fr")
            .await
            .unwrap()
            .is_none()
    );

    assert!(invitations::withdraw(&db, &access, id).await.unwrap());
    let err = invitations::find(&db, &withdrawn).await.unwrap_err();
    assert!(matches!(err, InvitationError::Withdrawn), "{err}");
    let err = invitations::find(&db, "n-importe-quoi").await.unwrap_err();
    assert!(matches!(err, InvitationError::Unknown), "{err}");
    assert!(
        comptes::person_by_email(&db, "lea@exemple.fr")
            .await
            .unwrap()
            .is_none()
    );
    // The expired one is still listed, to be withdrawn or sent again.
    let open = invitations::open_invitations(&db, &access).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].email, "karim@exemple.fr");
}

async fn an_existing_account_accepts_with_its_own_login(db: Db) {
    let (access, _) = setup(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let karim = person(&db, "karim@exemple.fr", "Karim", "Benali").await;
    let other = person(&db, "autre@exemple.fr", "A", "B").await;
    invitations::invite(&db, &access, &form("karim@exemple.fr", "mediateur"), URL)
        .await
        .unwrap();
    let token = token_after(&deliver(&db, dir.path()).await[0], "/invitation/");
    let found = invitations::find(&db, &token).await.unwrap();
    assert!(invitations::has_account(&db, &found).await.unwrap());
    let err = invitations::accept_with_new_account(&db, &token, PASSWORD, PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(err, InvitationError::HasAccount(_)), "{err}");
    let err = invitations::accept_as(&db, &token, other)
        .await
        .unwrap_err();
    assert!(matches!(err, InvitationError::OtherAccount(_)), "{err}");
    assert!(
        comptes::memberships_of(&db, other)
            .await
            .unwrap()
            .is_empty()
    );
    invitations::accept_as(&db, &token, karim).await.unwrap();
    assert_eq!(comptes::memberships_of(&db, karim).await.unwrap().len(), 1);
}

async fn roles_departures_and_the_last_referent(db: Db) {
    let (access, referent) = setup(&db).await;
    let s = access.structure();
    let karim = person(&db, "karim@exemple.fr", "Karim", "Benali").await;
    let outsider = person(&db, "dehors@exemple.fr", "D", "E").await;
    grant(&db, karim, s, Role::Mediateur).await;

    let err = equipe::grant(&db, &access, outsider, "mediateur")
        .await
        .unwrap_err();
    assert!(matches!(err, TeamError::NotInTeam), "{err}");
    let err = equipe::grant(&db, &access, karim, "aidant")
        .await
        .unwrap_err();
    assert!(matches!(err, TeamError::AidantNeedsHabilitation), "{err}");
    let err = equipe::grant(&db, &access, karim, "mediateur")
        .await
        .unwrap_err();
    assert!(matches!(err, TeamError::AlreadyHeld), "{err}");
    equipe::grant(&db, &access, karim, "prescripteur")
        .await
        .unwrap();
    equipe::revoke(&db, &access, karim, "mediateur")
        .await
        .unwrap();
    let err = equipe::revoke(&db, &access, karim, "mediateur")
        .await
        .unwrap_err();
    assert!(matches!(err, TeamError::NotHeld), "{err}");
    let roles: Vec<Role> = comptes::memberships_of(&db, karim)
        .await
        .unwrap()
        .iter()
        .map(|m| m.role)
        .collect();
    assert_eq!(roles, vec![Role::Prescripteur]);

    // The only référent cannot leave nor lose the role; nothing changes.
    let err = equipe::revoke(&db, &access, referent, "referent")
        .await
        .unwrap_err();
    assert!(matches!(err, TeamError::LastReferent), "{err}");
    let err = equipe::remove(&db, &access, referent).await.unwrap_err();
    assert!(matches!(err, TeamError::LastReferent), "{err}");
    assert_eq!(
        comptes::memberships_of(&db, referent).await.unwrap().len(),
        1
    );

    // Karim leaves: no role anywhere else, so the account is deactivated, history kept.
    let opened = svc::login_with_password(
        &db,
        &Policy::default(),
        "karim@exemple.fr",
        PASSWORD,
        &client(),
    )
    .await
    .unwrap();
    equipe::remove(&db, &access, karim).await.unwrap();
    assert!(
        comptes::person(&db, karim)
            .await
            .unwrap()
            .unwrap()
            .deactivated_at
            .is_some()
    );
    assert!(
        svc::resolve_session(&db, &Policy::default(), &opened.token)
            .await
            .unwrap()
            .is_none()
    );
    let team = equipe::team(&db, &access).await.unwrap();
    let gone = team.iter().find(|m| m.person_id == karim).unwrap();
    assert!(gone.roles.is_empty(), "listed, with no live role");
    let err = svc::login_with_password(
        &db,
        &Policy::default(),
        "karim@exemple.fr",
        PASSWORD,
        &client(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, LoginError::Invalid), "{err}");
    assert!(
        actions(&db)
            .await
            .contains(&JournalAction::PersonDeactivated)
    );
}

async fn a_referent_unlocks_a_member(db: Db) {
    let (access, _) = setup(&db).await;
    let karim = person(&db, "karim@exemple.fr", "Karim", "Benali").await;
    svc::grant_role(&db, karim, access.structure(), Role::Mediateur, None)
        .await
        .unwrap();
    let policy = Policy::default();
    for _ in 0..policy.account_attempts {
        let _ = svc::login_with_password(
            &db,
            &policy,
            "karim@exemple.fr",
            "mauvais mot de passe",
            &client(),
        )
        .await;
    }
    let err = svc::login_with_password(&db, &policy, "karim@exemple.fr", PASSWORD, &client())
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::Locked), "{err}");
    let team = equipe::team(&db, &access).await.unwrap();
    assert!(
        team.iter()
            .any(|m| m.person_id == karim && m.locked_until.is_some())
    );
    // The owner is told, once.
    let dir = tempfile::tempdir().unwrap();
    let mails = deliver(&db, dir.path()).await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("To: karim@exemple.fr")
            && mails[0].contains("est verrouillé pour 15 minutes")
    );

    equipe::unlock(&db, &access, karim).await.unwrap();
    svc::login_with_password(&db, &policy, "karim@exemple.fr", PASSWORD, &client())
        .await
        .unwrap();
    assert!(actions(&db).await.contains(&JournalAction::AccountUnlocked));
}

async fn a_reset_link_sets_the_password_and_unlocks(db: Db) {
    setup(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy::default();
    let karim = person(&db, "karim@exemple.fr", "Karim", "Benali").await;
    let before = svc::login_with_password(&db, &policy, "karim@exemple.fr", PASSWORD, &client())
        .await
        .unwrap();
    for _ in 0..policy.account_attempts {
        let _ = svc::login_with_password(
            &db,
            &policy,
            "karim@exemple.fr",
            "mauvais mot de passe",
            &client(),
        )
        .await;
    }

    password_reset::request(&db, "KARIM@exemple.fr", &client(), URL)
        .await
        .unwrap();
    let mails = deliver(&db, dir.path()).await;
    assert_eq!(mails.len(), 2, "the lock notice, then the link");
    assert!(
        mails
            .iter()
            .any(|m| m.contains("est verrouillé pour 15 minutes"))
    );
    let mail = mails.iter().find(|m| m.contains("jeton=")).unwrap();
    let token = token_after(mail, "nouveau-mot-de-passe?jeton=");
    password_reset::check(&db, &token).await.unwrap();
    let err = password_reset::reset(&db, &token, "nouvelle phrase assez longue", "autre")
        .await
        .unwrap_err();
    assert!(matches!(err, ResetError::PasswordsDiffer), "{err}");
    password_reset::reset(
        &db,
        &token,
        "nouvelle phrase assez longue",
        "nouvelle phrase assez longue",
    )
    .await
    .unwrap();

    // Old sessions closed, old password refused, new one accepted although it was locked.
    assert!(
        svc::resolve_session(&db, &policy, &before.token)
            .await
            .unwrap()
            .is_none()
    );
    let err = svc::login_with_password(&db, &policy, "karim@exemple.fr", PASSWORD, &client())
        .await
        .unwrap_err();
    assert!(matches!(err, LoginError::Invalid), "{err}");
    svc::login_with_password(
        &db,
        &policy,
        "karim@exemple.fr",
        "nouvelle phrase assez longue",
        &client(),
    )
    .await
    .unwrap();
    assert!(actions(&db).await.contains(&JournalAction::PasswordReset));
    let _ = karim;
}

async fn a_reset_link_reveals_nothing_and_serves_once(db: Db) {
    setup(&db).await;
    let dir = tempfile::tempdir().unwrap();
    person(&db, "karim@exemple.fr", "Karim", "Benali").await;
    // Unknown or malformed addresses: the same answer, and no mail.
    password_reset::request(&db, "inconnu@exemple.fr", &client(), URL)
        .await
        .unwrap();
    password_reset::request(&db, "pas une adresse", &client(), URL)
        .await
        .unwrap();
    assert!(deliver(&db, dir.path()).await.is_empty());

    password_reset::request(&db, "karim@exemple.fr", &client(), URL)
        .await
        .unwrap();
    password_reset::request(&db, "karim@exemple.fr", &client(), URL)
        .await
        .unwrap();
    let mails = deliver(&db, dir.path()).await;
    assert_eq!(mails.len(), 2);
    let first = token_after(&mails[0], "jeton=");
    let second = token_after(&mails[1], "jeton=");
    let new = "nouvelle phrase assez longue";
    password_reset::reset(&db, &second, new, new).await.unwrap();
    // Using one link spends the others; a used link is refused.
    for token in [&first, &second] {
        let err = password_reset::reset(&db, token, new, new)
            .await
            .unwrap_err();
        assert!(matches!(err, ResetError::InvalidLink), "{err}");
    }
    // Expired.
    password_reset::request(&db, "karim@exemple.fr", &client(), URL)
        .await
        .unwrap();
    let third = token_after(deliver(&db, dir.path()).await.last().unwrap(), "jeton=");
    db.execute_admin("UPDATE password_resets SET expires_at = 1000 WHERE used_at IS NULL")
        .await
        .unwrap();
    let err = password_reset::check(&db, &third).await.unwrap_err();
    assert!(matches!(err, ResetError::InvalidLink), "{err}");
    // Flooding someone's inbox is bounded.
    for _ in 0..6 {
        password_reset::request(&db, "karim@exemple.fr", &client(), URL)
            .await
            .unwrap();
    }
    let total = deliver(&db, dir.path()).await.len();
    assert!(total <= 4, "{total} mails");
}

/// The real SMTP path: a local server (testsupport/smtp, aiosmtpd) receives the message.
#[tokio::test]
async fn a_message_reaches_a_real_smtp_server() {
    let maildir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testsupport/smtp/server.py");
    let mut server = std::process::Command::new("python3")
        .arg(&root)
        .args(["--port", "0", "--maildir"])
        .arg(maildir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 introuvable");
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.contains("\"ready\":true"),
        "le serveur SMTP de test n'a pas démarré (pip install -r testsupport/smtp/requirements.txt) : {line:?}"
    );
    let port: u16 = line
        .trim()
        .trim_end_matches('}')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mailer = Mailer::smtp(
        &format!("smtp://127.0.0.1:{port}"),
        "Relais <ne-pas-repondre@exemple.fr>",
    )
    .unwrap();
    mailer
        .send(&Courriel {
            to: "élise@exemple.fr"
                .parse::<String>()
                .unwrap()
                .replace('é', "e"),
            subject: "Invitation à rejoindre l’équipe".into(),
            body: "Bonjour Élise,\n\nVoici le lien : https://relais.exemple.fr/invitation/abc\n"
                .into(),
        })
        .await
        .unwrap();
    let mails = read_mails(maildir.path());
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("Bonjour Élise"), "{}", mails[0]);
    assert!(mails[0].contains("/invitation/abc"));
    let envelope = std::fs::read_dir(maildir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let envelope = std::fs::read_to_string(envelope).unwrap();
    assert!(envelope.contains("elise@exemple.fr"), "{envelope}");
    let _ = server.kill();
    let _ = server.wait();
}
