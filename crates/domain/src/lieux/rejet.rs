//! What an import leaves out of a producer's file: one [`Rejection`] per problem of a
//! row, built where the row is read, carried by the import's report, said in French by
//! the CLI (`Display`) and shown in parts by the page.

use std::fmt;

use super::schema::{Issue, Reason, write_problem};

/// A problem that keeps a row of a file out of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The row's line in the file.
    pub line: usize,
    /// The field at fault, named as in the row; empty when it is the row as a whole.
    pub field: &'static str,
    pub value: String,
    pub reason: RejectionReason,
}

/// Why a row was left out, in words for the people who fix files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectionReason {
    /// A value the schema refuses.
    #[error(transparent)]
    Schema(#[from] Reason),
    /// The row's id is that of an earlier row of the same file.
    #[error("déjà utilisé ligne {first_line} du même fichier")]
    DuplicateId { first_line: usize },
    /// The file's reader could not make a row of it (its words).
    #[error("{0}")]
    Unreadable(String),
    /// The file broke here: the reading stopped (the reader's words).
    #[error("{0} : lecture arrêtée, la suite du fichier n’a pas été lue")]
    Stopped(String),
}

impl Rejection {
    /// A problem the schema found in the row at `line`.
    pub fn of_issue(line: usize, issue: Issue) -> Rejection {
        Rejection {
            line,
            field: issue.field,
            value: issue.value,
            reason: RejectionReason::Schema(issue.reason),
        }
    }

    /// A row the file's reader could not read, or where it stopped.
    pub fn of_row(line: usize, reason: RejectionReason) -> Rejection {
        Rejection {
            line,
            field: "",
            value: String::new(),
            reason,
        }
    }
}

impl fmt::Display for Rejection {
    /// `code_postal « 7500 » : 5 chiffres attendus`, without the line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_problem(f, self.field, &self.value, &self.reason)
    }
}
