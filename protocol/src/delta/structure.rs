//! Structural rules an entry must follow beyond decoding: the envelope must agree with the
//! record it carries, and every entry but a node-level anchor names its authority.
//!
//! These depend on nothing but the entry (no tables, no clock), so every node judges them
//! alike for as long as the log exists; content rules that depend on tables or dates were
//! applied at ingestion (docs/decisions/0004).

use super::error::EntryRule;
use super::jurisdiction::authority_division;
use crate::entry::{Entry, Event, SubjectId};

pub(crate) fn check(entry: &Entry) -> Result<(), EntryRule> {
    let anchor = matches!(
        entry.event,
        Event::StatusMapRoot { .. } | Event::RosterAdopted { .. }
    );
    match &entry.authority {
        None if !anchor => {
            return Err(EntryRule::MissingAuthority {
                event: entry.event.kind_name(),
            })
        }
        Some(authority) if authority_division(authority).is_none() => {
            return Err(EntryRule::AuthorityDivision {
                authority: authority.clone(),
            })
        }
        _ => {}
    }
    if let Some(record) = entry.event.record() {
        let key = record.business_key();
        if entry.business_key != key {
            return Err(EntryRule::BusinessKeyMismatch);
        }
        if let Some(key) = key {
            if entry.authority.as_deref() != Some(key.authority.as_str()) {
                return Err(EntryRule::AuthorityMismatch {
                    authority: entry.authority.clone(),
                    record_authority: key.authority,
                });
            }
        }
        if entry.subject != SubjectId::of_record(record) {
            return Err(EntryRule::SubjectMismatch);
        }
    }
    Ok(())
}
