//! The jurisdiction rule (design brief §5): a log only holds entries whose authority lies
//! within its origin's jurisdiction.
//!
//! Delta verification takes the rule as a [`JurisdictionCheck`] so it stays independent of
//! where jurisdictions come from; [`RosterJurisdiction`] is the rule as the roster states it.

use crate::entry::Entry;
use crate::ident::DivisionCode;
use crate::roster::VerifiedRoster;

/// Decides whether an entry's authority lies within the jurisdiction of the log's origin.
pub trait JurisdictionCheck {
    fn allows(&self, entry: &Entry) -> bool;
}

/// Any `Fn(&Entry) -> bool` is a check (handy in tests and for ad-hoc policies).
impl<F: Fn(&Entry) -> bool> JurisdictionCheck for F {
    fn allows(&self, entry: &Entry) -> bool {
        self(entry)
    }
}

/// The roster's rule for one origin: the authority's registration division (USCC
/// positions 3–8) must lie in the origin's area ([`VerifiedRoster::may_hold`]). Entries
/// without an authority are node-level anchors written by the origin itself; structural
/// checks make sure only anchors lack one.
#[derive(Debug, Clone, Copy)]
pub struct RosterJurisdiction<'r> {
    roster: &'r VerifiedRoster,
    origin: &'r str,
}

impl<'r> RosterJurisdiction<'r> {
    pub fn new(roster: &'r VerifiedRoster, origin: &'r str) -> Self {
        RosterJurisdiction { roster, origin }
    }
}

impl JurisdictionCheck for RosterJurisdiction<'_> {
    fn allows(&self, entry: &Entry) -> bool {
        match &entry.authority {
            None => true,
            Some(authority) => authority_division(authority)
                .is_some_and(|division| self.roster.may_hold(self.origin, division)),
        }
    }
}

/// Positions 3–8 of a USCC as a division code. Only the shape is read: identifiers were
/// judged when accepted (docs/decisions/0004), and a later table must not make an accepted
/// entry unverifiable.
pub(crate) fn authority_division(authority: &str) -> Option<DivisionCode> {
    let digits = authority.get(2..8)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    DivisionCode::parse(digits).ok()
}
