//! Sessions: how far a login has got, and what the server keeps of a session.

/// How far a session has got through the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Password checked; the second-factor code is awaited.
    SecondFactor,
    /// Password checked; the second factor must be set up first.
    Enrolment,
    Active,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::SecondFactor => "second_facteur",
            Stage::Enrolment => "enrolement",
            Stage::Active => "active",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "second_facteur" => Some(Stage::SecondFactor),
            "enrolement" => Some(Stage::Enrolment),
            "active" => Some(Stage::Active),
            _ => None,
        }
    }
}

/// A session as the server keeps it: only the hash of its cookie's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub person_id: crate::ids::PersonId,
    pub stage: Stage,
    pub acting_structure: Option<crate::ids::StructureId>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub fresh_until: i64,
    pub ip: String,
    pub user_agent: String,
}
