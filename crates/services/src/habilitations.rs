//! The habilitation workflow: a référent asks, a national administrator decides, each
//! candidate is trained and tested, and becomes an aidant once their second factor is set.

use relais_domain::authz::{AdminAccess, StructureAccess};
use relais_domain::calendrier::now_ms;
use relais_domain::comptes::Role;
use relais_domain::habilitations::{
    self as rules, Decision, HabilitationError, Missing, RequestStatus, Training,
};
use relais_domain::ids::{HabilitationRequestId, PersonId};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::comptes as people;
use relais_store::habilitations::{self as repo, NewRequest, TrainingRecord};
use relais_store::{Db, StoreError, journal};

pub use relais_store::habilitations::{CandidateLine, RequestLine, ThreadMessage};

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Rule(#[from] HabilitationError),
    #[error("cette demande d’habilitation n’existe pas")]
    UnknownRequest,
    #[error("cette demande concerne une autre structure")]
    OtherStructure,
    #[error("aucun compte Relais pour {0} : invitez d’abord cette personne")]
    UnknownPerson(String),
    #[error("la demande a été décidée entre-temps : rechargez la page")]
    Conflict,
    #[error("{0} n’est pas prêt : {1}")]
    NotReady(String, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A référent asks to habilitate `emails` (people with a Relais account) as aidants.
pub async fn submit(
    db: &Db,
    referent: &StructureAccess,
    emails: &[&str],
    commitments: &[&str],
) -> Result<HabilitationRequestId, WorkflowError> {
    rules::check_commitments(commitments)?;
    if emails.is_empty() {
        return Err(HabilitationError::NoCandidate.into());
    }
    let mut persons = Vec::new();
    for email in emails {
        let person = people::person_by_email(db, &email.trim().to_lowercase())
            .await?
            .ok_or_else(|| WorkflowError::UnknownPerson(email.trim().to_string()))?;
        persons.push(person.id);
    }
    let mut tx = db.begin().await?;
    let new = NewRequest {
        structure: referent.structure(),
        by: referent.person(),
        commitments: &commitments.join(" "),
    };
    let id = repo::create_request(&mut tx, &new, now_ms()).await?;
    for person in persons {
        repo::add_candidate(&mut tx, id, person).await?;
    }
    let entry = NewEntry::new(
        JournalAction::HabilitationRequested,
        "habilitation",
        id.to_string(),
    )
    .by(referent.person(), Some(referent.structure()))
    .in_structure(referent.structure());
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(id)
}

/// The administrator's decision, with an optional message to the structure.
pub async fn decide(
    db: &Db,
    admin: &AdminAccess,
    request: HabilitationRequestId,
    decision: Decision,
    message: Option<&str>,
) -> Result<RequestStatus, WorkflowError> {
    let found = repo::request(db, request)
        .await?
        .ok_or(WorkflowError::UnknownRequest)?;
    let next = rules::decide(found.status, decision)?;
    let referent = people::person(db, found.requested_by).await?;
    let structure = people::structure(db, found.structure_id).await?;
    let now = now_ms();
    let mut tx = db.begin().await?;
    if !repo::set_status(&mut tx, request, found.status, next, admin.person(), now).await? {
        return Err(WorkflowError::Conflict);
    }
    let message = message.map(str::trim).filter(|b| !b.is_empty());
    if let Some(body) = message {
        repo::add_message(&mut tx, request, admin.person(), body, now).await?;
    }
    if let (Some(referent), Some(structure)) = (referent, structure) {
        let mail = decision_mail(&referent, &structure.nom, request, next, message);
        crate::courriel::queue(&mut tx, &mail).await?;
    }
    let entry = NewEntry::new(
        JournalAction::HabilitationDecided,
        "habilitation",
        request.to_string(),
    )
    .by(admin.person(), None)
    .in_structure(found.structure_id)
    .with_details(format!("{{\"statut\":\"{}\"}}", next.as_str()));
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(next)
}

/// Tells the référent who asked what was decided (the thread is on their habilitation page).
fn decision_mail(
    referent: &people::Person,
    structure: &str,
    request: HabilitationRequestId,
    status: RequestStatus,
    message: Option<&str>,
) -> crate::courriel::Courriel {
    let what = match status {
        RequestStatus::Accepted => {
            "est acceptée : vos candidats peuvent désormais suivre la formation et le test, puis être activés comme aidants"
        }
        RequestStatus::Refused => "est refusée",
        RequestStatus::ChangesRequested => {
            "demande des modifications : répondez dans Relais, puis soumettez-la de nouveau"
        }
        RequestStatus::Submitted => "est en attente de décision",
    };
    let message = message
        .map(|m| format!("\n\nMessage de l’administration :\n{m}"))
        .unwrap_or_default();
    crate::courriel::Courriel {
        to: referent.email.clone(),
        subject: format!(
            "Demande d’habilitation n° {request} : {}",
            status.label().to_lowercase()
        ),
        body: format!(
            "Bonjour {},\n\nLa demande d’habilitation n° {request} de {structure} {what}.{message}\n\n\
             Retrouvez-la dans Relais, page « Habilitations » de votre structure.\n\n\
             Relais, la plateforme de l’inclusion numérique\n",
            referent.given_name
        ),
    }
}

/// The structure answers a request for changes: a message, and the request goes back to the administrator.
pub async fn resubmit(
    db: &Db,
    referent: &StructureAccess,
    request: HabilitationRequestId,
    message: &str,
) -> Result<(), WorkflowError> {
    let found = own_request(db, referent, request).await?;
    let next = rules::resubmit(found.status)?;
    if message.trim().is_empty() {
        return Err(HabilitationError::EmptyMessage.into());
    }
    let now = now_ms();
    let mut tx = db.begin().await?;
    if !repo::set_status(&mut tx, request, found.status, next, referent.person(), now).await? {
        return Err(WorkflowError::Conflict);
    }
    repo::add_message(&mut tx, request, referent.person(), message.trim(), now).await?;
    let entry = NewEntry::new(
        JournalAction::HabilitationRequested,
        "habilitation",
        request.to_string(),
    )
    .by(referent.person(), Some(referent.structure()))
    .in_structure(referent.structure())
    .with_details("{\"renvoi\":true}");
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

async fn own_request(
    db: &Db,
    referent: &StructureAccess,
    request: HabilitationRequestId,
) -> Result<repo::Request, WorkflowError> {
    let found = repo::request(db, request)
        .await?
        .ok_or(WorkflowError::UnknownRequest)?;
    if found.structure_id != referent.structure() {
        return Err(WorkflowError::OtherStructure);
    }
    Ok(found)
}

/// The candidate `person` of `request`.
async fn candidate(
    db: &Db,
    request: HabilitationRequestId,
    person: PersonId,
) -> Result<CandidateLine, WorkflowError> {
    repo::candidate_lines(db, request)
        .await?
        .into_iter()
        .find(|c| c.person_id == person)
        .ok_or_else(|| WorkflowError::UnknownPerson(format!("la personne n° {person}")))
}

async fn candidate_of(
    db: &Db,
    referent: &StructureAccess,
    request: HabilitationRequestId,
    person: PersonId,
) -> Result<CandidateLine, WorkflowError> {
    own_request(db, referent, request).await?;
    candidate(db, request, person).await
}

/// Records a candidate's training (7 h or 14 h, date, organisation).
pub async fn record_training(
    db: &Db,
    referent: &StructureAccess,
    request: HabilitationRequestId,
    person: PersonId,
    training: &Training,
) -> Result<(), WorkflowError> {
    let candidate = candidate_of(db, referent, request, person).await?;
    let mut tx = db.begin().await?;
    let record = TrainingRecord {
        hours: i64::from(training.hours),
        date: training.date,
        organisation: &training.organisation,
    };
    repo::record_training(&mut tx, candidate.id, &record).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// Records a candidate's passed skills test.
pub async fn record_skills_test(
    db: &Db,
    referent: &StructureAccess,
    request: HabilitationRequestId,
    person: PersonId,
    score: Option<i64>,
) -> Result<(), WorkflowError> {
    let candidate = candidate_of(db, referent, request, person).await?;
    let mut tx = db.begin().await?;
    repo::record_skills_test(&mut tx, candidate.id, now_ms(), score).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// What a candidate still lacks (empty: ready).
pub async fn missing(
    db: &Db,
    request: HabilitationRequestId,
    person: PersonId,
) -> Result<Vec<Missing>, WorkflowError> {
    let found = repo::request(db, request)
        .await?
        .ok_or(WorkflowError::UnknownRequest)?;
    let candidate = candidate(db, request, person).await?;
    Ok(missing_of(
        found.status,
        candidate.training_hours.is_some(),
        candidate.skills_test_at.is_some(),
        candidate.totp_enrolled_at.is_some(),
    ))
}

/// The steps left to a candidate of a request in `status`.
fn missing_of(status: RequestStatus, trained: bool, tested: bool, enrolled: bool) -> Vec<Missing> {
    let mut steps = rules::missing_steps(trained, tested, enrolled);
    if status != RequestStatus::Accepted {
        steps.insert(0, Missing::Decision);
    }
    steps
}

/// Makes a ready candidate an aidant of the structure (role granted, journaled).
pub async fn activate(
    db: &Db,
    referent: &StructureAccess,
    request: HabilitationRequestId,
    person: PersonId,
) -> Result<(), WorkflowError> {
    let candidate = candidate_of(db, referent, request, person).await?;
    let steps = missing(db, request, person).await?;
    if !steps.is_empty() {
        let labels: Vec<&str> = steps.iter().map(|m| m.label()).collect();
        return Err(WorkflowError::NotReady(candidate.email, labels.join(", ")));
    }
    let now = now_ms();
    let mut tx = db.begin().await?;
    let change = crate::comptes::role_change(referent, person, Role::Aidant, now);
    people::grant_role(&mut tx, &change).await?;
    repo::mark_activated(&mut tx, candidate.id, now).await?;
    let entry = NewEntry::new(JournalAction::RoleGranted, "personne", person.to_string())
        .by(referent.person(), Some(referent.structure()))
        .in_structure(referent.structure())
        .with_details(format!(
            "{{\"role\":\"aidant\",\"habilitation\":{request}}}"
        ));
    journal::append(&mut tx, &entry).await?;
    relais_store::commit(tx).await?;
    Ok(())
}

/// A structure's requests, newest first, for its référents.
pub async fn requests_of_structure(
    db: &Db,
    access: &StructureAccess,
) -> Result<Vec<RequestLine>, StoreError> {
    repo::requests_of_structure(db, access.structure()).await
}

/// Every request, or those in `status`, oldest first, for national administrators.
pub async fn requests_for_admin(
    db: &Db,
    _admin: &AdminAccess,
    status: Option<RequestStatus>,
) -> Result<Vec<RequestLine>, StoreError> {
    repo::requests_by_status(db, status).await
}

/// A request as its page shows it: its line, its thread, its candidates.
#[derive(Debug, Clone)]
pub struct RequestDetail {
    pub line: RequestLine,
    pub thread: Vec<ThreadMessage>,
    pub candidates: Vec<CandidateDetail>,
}

/// A candidate and the steps they still lack (empty: ready).
#[derive(Debug, Clone)]
pub struct CandidateDetail {
    pub line: CandidateLine,
    pub missing: Vec<Missing>,
}

/// What the administrator sees besides: the structure's SIRET, and who asked.
#[derive(Debug, Clone)]
pub struct AdminRequestDetail {
    pub detail: RequestDetail,
    pub siret: String,
    pub requested_by: Option<Requester>,
}

/// The référent who submitted a request.
#[derive(Debug, Clone)]
pub struct Requester {
    pub name: String,
    pub email: String,
}

async fn detail(db: &Db, line: RequestLine) -> Result<RequestDetail, StoreError> {
    let thread = repo::thread(db, line.id).await?;
    let candidates = repo::candidate_lines(db, line.id)
        .await?
        .into_iter()
        .map(|c| CandidateDetail {
            missing: missing_of(
                line.status,
                c.training_hours.is_some(),
                c.skills_test_at.is_some(),
                c.totp_enrolled_at.is_some(),
            ),
            line: c,
        })
        .collect();
    Ok(RequestDetail {
        line,
        thread,
        candidates,
    })
}

/// One of the structure's requests; `None`: no such request in this structure.
pub async fn request_of_structure(
    db: &Db,
    access: &StructureAccess,
    id: HabilitationRequestId,
) -> Result<Option<RequestDetail>, StoreError> {
    match repo::request_with_structure(db, id).await? {
        Some(line) if line.structure_id == access.structure() => Ok(Some(detail(db, line).await?)),
        _ => Ok(None),
    }
}

/// Any request, for national administrators; `None`: no such request.
pub async fn request_for_admin(
    db: &Db,
    _admin: &AdminAccess,
    id: HabilitationRequestId,
) -> Result<Option<AdminRequestDetail>, StoreError> {
    let (Some(line), Some(request)) = (
        repo::request_with_structure(db, id).await?,
        repo::request(db, id).await?,
    ) else {
        return Ok(None);
    };
    let siret = people::structure(db, line.structure_id)
        .await?
        .map(|s| s.siret)
        .unwrap_or_default();
    let requested_by = people::person(db, request.requested_by)
        .await?
        .map(|p| Requester {
            name: format!("{} {}", p.given_name, p.family_name),
            email: p.email,
        });
    Ok(Some(AdminRequestDetail {
        detail: detail(db, line).await?,
        siret,
        requested_by,
    }))
}
