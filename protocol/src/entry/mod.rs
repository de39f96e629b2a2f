//! The canonical log entry: a versioned envelope around one domain event.
