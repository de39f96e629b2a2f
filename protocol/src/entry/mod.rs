//! The canonical log entry: a versioned envelope around one domain event.

mod subject;
mod workflow;

pub use subject::{EntryRef, SubjectId};
pub use workflow::{
    CaseInitiation, CaseKey, CaseKind, CaseStep, CaseStepKind, ExecutionResult, LiftReason,
    MeasureRef, ObjectionOutcome, TargetUnit,
};
