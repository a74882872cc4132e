//! Typed identifiers. Each kind of row has its own type, so that a person's id cannot be
//! passed where a structure's is expected; the store binds and reads the number inside.

/// Declares an identifier over the `i64` a table gives its rows: `Display` and `FromStr`
/// (paths, forms) as a plain number, and serde as a number.
#[macro_export]
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

id_type!(
    /// A person with an account (`persons.id`).
    PersonId
);
id_type!(
    /// A structure: an organisation people work for (`structures.id`).
    StructureId
);

id_type!(
    /// An invitation to join a structure (`invitations.id`).
    InvitationId
);
id_type!(
    /// A person a structure acts for under a mandate (`usagers.id`).
    UsagerId
);
id_type!(
    /// A mandate (`mandats.id`).
    MandatId
);
id_type!(
    /// One démarche family of a mandate (`autorisations.id`).
    AutorisationId
);
id_type!(
    /// A mandate being made, until it is signed (`mandat_brouillons.id`).
    BrouillonId
);
id_type!(
    /// A mandate's move to another structure, proposed then decided (`mandat_transferts.id`).
    TransfertId
);
id_type!(
    /// A structure's request to have aidants habilitated (`habilitation_requests.id`).
    HabilitationRequestId
);
id_type!(
    /// A person put forward in a habilitation request (`habilitation_candidates.id`).
    CandidateId
);
id_type!(
    /// A background job (`jobs.id`).
    JobId
);
id_type!(
    /// A report of an error on a lieu (`signalements.id`).
    SignalementId
);
id_type!(
    /// A producer of lieux files (`lieu_sources.id`).
    SourceId
);
id_type!(
    /// One accompaniment or workshop a mediator reported (`activites.id`).
    ActiviteId
);
id_type!(
    /// A person a structure helps, followed by name or anonymous (`beneficiaires.id`).
    BeneficiaireId
);
id_type!(
    /// A Pass numérique programme: its funders, territory, value and validity
    /// (`programmes_pass.id`).
    ProgrammeId
);
id_type!(
    /// A booklet of 5 or 10 passes (`carnets.id`).
    CarnetId
);
id_type!(
    /// One pass, a voucher of the programme's value (`pass.id`).
    PassId
);
id_type!(
    /// A structure's application to accept a programme's passes (`qualifications_pass.id`).
    QualificationId
);
id_type!(
    /// A diagnostic of basic digital skills, taken alone or with an agent (`diagnostics.id`).
    DiagnosticId
);

/// A lieu's public identifier: 16 hexadecimal characters, stable across merges (an absorbed
/// id stays an alias), so it appears in URLs, exports and the widget.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct LieuId(pub String);

impl LieuId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for LieuId {
    fn from(id: String) -> Self {
        LieuId(id)
    }
}

impl std::borrow::Borrow<str> for LieuId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for LieuId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LieuId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_and_write_as_plain_numbers() {
        assert_eq!("42".parse::<PersonId>(), Ok(PersonId(42)));
        assert!("x".parse::<StructureId>().is_err());
        assert_eq!(StructureId(7).to_string(), "7");
        assert_eq!(serde_json::to_string(&PersonId(3)).unwrap(), "3");
        assert_eq!(
            serde_json::from_str::<StructureId>("9").unwrap(),
            StructureId(9)
        );
    }
}
