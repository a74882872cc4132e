//! Habilitation of aidants: a structure asks that some of its professionals may act on
//! people's behalf; a national administrator decides; each aidant becomes active only once
//! trained, tested and protected by a second factor.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RequestStatus {
    /// Submitted, awaiting the administrator.
    Submitted,
    /// The administrator asked for changes; the structure edits and submits again.
    ChangesRequested,
    Accepted,
    Refused,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "soumise",
            Self::ChangesRequested => "modifications_demandees",
            Self::Accepted => "acceptee",
            Self::Refused => "refusee",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Submitted,
            Self::ChangesRequested,
            Self::Accepted,
            Self::Refused,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Submitted => "En attente de décision",
            Self::ChangesRequested => "Modifications demandées",
            Self::Accepted => "Acceptée",
            Self::Refused => "Refusée",
        }
    }
}

/// What the administrator decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Refuse,
    AskChanges,
}

/// A field of the decision form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionField {
    Decision,
    Message,
}

/// Why the decision form is refused, in the words shown next to its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("Choisissez une décision : accepter, demander des modifications ou refuser.")]
    Missing,
    #[error("Dites à la structure ce qu’elle doit modifier.")]
    ChangesUnsaid,
    #[error("Expliquez à la structure pourquoi sa demande est refusée.")]
    RefusalUnexplained,
}

impl DecisionError {
    /// The field the error is about.
    pub fn field(self) -> DecisionField {
        match self {
            DecisionError::Missing => DecisionField::Decision,
            DecisionError::ChangesUnsaid | DecisionError::RefusalUnexplained => {
                DecisionField::Message
            }
        }
    }
}

impl Decision {
    /// Reads the decision form (`accepter`, `modifications`, `refuser`, and the message to
    /// the structure, which asking for changes or refusing needs).
    pub fn parse(decision: &str, message: &str) -> Result<Decision, DecisionError> {
        let decision = match decision {
            "accepter" => Decision::Accept,
            "modifications" => Decision::AskChanges,
            "refuser" => Decision::Refuse,
            _ => return Err(DecisionError::Missing),
        };
        match decision {
            Decision::AskChanges if message.trim().is_empty() => Err(DecisionError::ChangesUnsaid),
            Decision::Refuse if message.trim().is_empty() => Err(DecisionError::RefusalUnexplained),
            decision => Ok(decision),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HabilitationError {
    #[error("la demande est « {} » : elle ne peut plus être décidée", .0.label())]
    AlreadyDecided(RequestStatus),
    #[error("la demande attend une décision : elle ne peut pas être renvoyée")]
    NotAwaitingChanges,
    #[error("tous les engagements doivent être acceptés ; manque : {0}")]
    MissingCommitment(&'static str),
    #[error("la demande doit compter au moins un aidant")]
    NoCandidate,
    #[error("une formation dure 7 h ou 14 h (reçu : {0} h)")]
    TrainingHours(u32),
    #[error("l’organisme de formation est obligatoire")]
    TrainingOrganisation,
    #[error("un message vide ne peut pas être envoyé")]
    EmptyMessage,
}

/// Status after a decision on a request in `status`.
pub fn decide(
    status: RequestStatus,
    decision: Decision,
) -> Result<RequestStatus, HabilitationError> {
    if status != RequestStatus::Submitted {
        return Err(HabilitationError::AlreadyDecided(status));
    }
    Ok(match decision {
        Decision::Accept => RequestStatus::Accepted,
        Decision::Refuse => RequestStatus::Refused,
        Decision::AskChanges => RequestStatus::ChangesRequested,
    })
}

/// Status after the structure submits its edited request again.
pub fn resubmit(status: RequestStatus) -> Result<RequestStatus, HabilitationError> {
    match status {
        RequestStatus::ChangesRequested => Ok(RequestStatus::Submitted),
        _ => Err(HabilitationError::NotAwaitingChanges),
    }
}

/// The commitments a structure accepts with its request, each required.
pub const COMMITMENTS: [(&str, &str); 5] = [
    (
        "conditions",
        "La structure accepte les conditions d’utilisation du service.",
    ),
    (
        "professionnels",
        "Seuls des professionnels salariés ou agents publics seront habilités (ni bénévoles, ni stagiaires, ni volontaires en service civique).",
    ),
    ("elus", "Aucun élu n’utilisera le service."),
    (
        "formation_gratuite",
        "La formation des aidants ne leur est pas facturée.",
    ),
    (
        "dpo",
        "Le délégué à la protection des données de la structure est informé.",
    ),
];

pub fn check_commitments(accepted: &[&str]) -> Result<(), HabilitationError> {
    match COMMITMENTS
        .iter()
        .find(|(code, _)| !accepted.contains(code))
    {
        Some((code, _)) => Err(HabilitationError::MissingCommitment(code)),
        None => Ok(()),
    }
}

/// A training session followed by a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Training {
    pub hours: u32,
    /// Unix ms of the session.
    pub date: i64,
    pub organisation: String,
}

/// The lengths a training may have, in hours.
pub const TRAINING_HOURS: [u32; 2] = [7, 14];

/// A field of the training form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingField {
    Hours,
    Date,
    Organisation,
}

/// Why a field of the training form is refused, in the words shown next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TrainingError {
    #[error("Choisissez la durée de la formation : 7 h ou 14 h.")]
    Hours,
    #[error("Indiquez la date de la formation, au format jj/mm/aaaa.")]
    Date,
    #[error("La formation doit avoir eu lieu : la date ne peut pas être dans le futur.")]
    FutureDate,
    #[error("Indiquez l’organisme qui a donné la formation.")]
    Organisation,
}

impl TrainingError {
    /// The field the error is about.
    pub fn field(self) -> TrainingField {
        match self {
            TrainingError::Hours => TrainingField::Hours,
            TrainingError::Date | TrainingError::FutureDate => TrainingField::Date,
            TrainingError::Organisation => TrainingField::Organisation,
        }
    }
}

impl Training {
    /// Reads the training form (hours, date as `aaaa-mm-jj`, organisation) at `now`:
    /// the training, or every field's error.
    pub fn parse(
        hours: &str,
        date: &str,
        organisation: &str,
        now: i64,
    ) -> Result<Training, Vec<TrainingError>> {
        let hours = hours
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|h| TRAINING_HOURS.contains(h))
            .ok_or(TrainingError::Hours);
        let date = match crate::calendrier::parse_date_iso(date) {
            Some(d) if d <= now => Ok(d),
            Some(_) => Err(TrainingError::FutureDate),
            None => Err(TrainingError::Date),
        };
        let organisation = Some(organisation.trim())
            .filter(|o| !o.is_empty())
            .ok_or(TrainingError::Organisation);
        match (hours, date, organisation) {
            (Ok(hours), Ok(date), Ok(organisation)) => Ok(Training {
                hours,
                date,
                organisation: organisation.to_string(),
            }),
            (hours, date, organisation) => Err([hours.err(), date.err(), organisation.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }

    pub fn new(hours: u32, date: i64, organisation: &str) -> Result<Training, HabilitationError> {
        if !TRAINING_HOURS.contains(&hours) {
            return Err(HabilitationError::TrainingHours(hours));
        }
        if organisation.trim().is_empty() {
            return Err(HabilitationError::TrainingOrganisation);
        }
        Ok(Training {
            hours,
            date,
            organisation: organisation.trim().to_string(),
        })
    }
}

/// Why the skills test's score is refused, in the words shown next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "Le score est un nombre entier positif, par exemple 350 ; laissez le champ vide s’il n’est pas connu."
)]
pub struct ScoreError;

/// Reads the skills test's score: empty when unknown, else a whole number from 0.
pub fn parse_score(s: &str) -> Result<Option<i64>, ScoreError> {
    match s.trim() {
        "" => Ok(None),
        s => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or(ScoreError),
    }
}

/// The addresses of the people put forward, one a line: lower-cased, blank lines and
/// repeats left out, in their order.
pub fn candidate_emails(text: &str) -> Vec<String> {
    let mut emails: Vec<String> = Vec::new();
    for line in text.lines().map(|l| l.trim().to_lowercase()) {
        if !line.is_empty() && !emails.contains(&line) {
            emails.push(line);
        }
    }
    emails
}

/// What an accepted candidate still lacks before acting as an aidant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Missing {
    /// The request is not accepted (yet).
    Decision,
    Training,
    SkillsTest,
    SecondFactor,
}

impl Missing {
    pub fn label(self) -> &'static str {
        match self {
            Missing::Decision => "demande pas encore acceptée",
            Missing::Training => "formation à suivre",
            Missing::SkillsTest => "test de compétences à réussir",
            Missing::SecondFactor => "double authentification à activer",
        }
    }
}

/// The steps left for a candidate of an accepted request; empty means ready to activate.
pub fn missing_steps(trained: bool, tested: bool, second_factor: bool) -> Vec<Missing> {
    let mut out = Vec::new();
    if !trained {
        out.push(Missing::Training);
    }
    if !tested {
        out.push(Missing::SkillsTest);
    }
    if !second_factor {
        out.push(Missing::SecondFactor);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_follow_the_workflow() {
        use RequestStatus::*;
        assert_eq!(decide(Submitted, Decision::Accept), Ok(Accepted));
        assert_eq!(decide(Submitted, Decision::Refuse), Ok(Refused));
        assert_eq!(
            decide(Submitted, Decision::AskChanges),
            Ok(ChangesRequested)
        );
        for done in [Accepted, Refused, ChangesRequested] {
            assert_eq!(
                decide(done, Decision::Accept),
                Err(HabilitationError::AlreadyDecided(done))
            );
        }
        assert_eq!(Decision::parse("accepter", ""), Ok(Decision::Accept));
        assert_eq!(
            Decision::parse("refuser", "Hors champ"),
            Ok(Decision::Refuse)
        );
        assert_eq!(Decision::parse("", "x"), Err(DecisionError::Missing));
        let unsaid = Decision::parse("modifications", "  ").unwrap_err();
        assert_eq!(
            (unsaid, unsaid.field()),
            (DecisionError::ChangesUnsaid, DecisionField::Message)
        );
        assert_eq!(
            Decision::parse("refuser", ""),
            Err(DecisionError::RefusalUnexplained)
        );
        assert_eq!(resubmit(ChangesRequested), Ok(Submitted));
        assert_eq!(
            resubmit(Submitted),
            Err(HabilitationError::NotAwaitingChanges)
        );
        for s in [Submitted, ChangesRequested, Accepted, Refused] {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn commitments_and_training() {
        let all: Vec<&str> = COMMITMENTS.iter().map(|(c, _)| *c).collect();
        assert_eq!(check_commitments(&all), Ok(()));
        assert_eq!(
            check_commitments(&all[1..]),
            Err(HabilitationError::MissingCommitment("conditions"))
        );
        assert!(Training::new(7, 0, "Organisme").is_ok());
        assert_eq!(
            Training::new(10, 0, "Organisme"),
            Err(HabilitationError::TrainingHours(10))
        );
        assert_eq!(
            Training::new(14, 0, "  "),
            Err(HabilitationError::TrainingOrganisation)
        );
        let training = Training::parse(" 14 ", "2026-11-12", " Organisme ", i64::MAX).unwrap();
        assert_eq!(
            (training.hours, training.organisation.as_str()),
            (14, "Organisme")
        );
        assert_eq!(
            Training::parse("10", "12/11/2026", "", 0),
            Err(vec![
                TrainingError::Hours,
                TrainingError::Date,
                TrainingError::Organisation
            ])
        );
        let future = Training::parse("7", "2026-11-12", "Organisme", 0).unwrap_err();
        assert_eq!(future, vec![TrainingError::FutureDate]);
        assert_eq!(future[0].field(), TrainingField::Date);
        assert_eq!(parse_score(" 350 "), Ok(Some(350)));
        assert_eq!(parse_score(""), Ok(None));
        assert_eq!(parse_score("-1"), Err(ScoreError));
        assert_eq!(parse_score("beaucoup"), Err(ScoreError));
        assert_eq!(
            candidate_emails(" A@b.fr\n\na@B.fr\nc@d.fr "),
            ["a@b.fr", "c@d.fr"]
        );
        assert_eq!(missing_steps(true, true, true), vec![]);
        assert_eq!(
            missing_steps(false, true, false),
            vec![Missing::Training, Missing::SecondFactor]
        );
    }
}
