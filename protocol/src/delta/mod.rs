//! Delta verification (in progress).
