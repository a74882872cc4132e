//! Pass numérique: programmes of €10 vouchers paid by funders, booklets handed to people by
//! prescripteurs, redeemed exactly once in qualified lieux, and reimbursed to them.
//! The rules: a programme's settings ([`programme`]), a pass's code and signed token
//! ([`code`], [`jeton`]), whether a pass may be used ([`utilisation`]), and money split to
//! the cent ([`reglement`]), and what became of the passes ([`entonnoir`]).

pub mod code;
pub mod entonnoir;
pub mod jeton;
pub mod programme;
pub mod reglement;
pub mod utilisation;
