//! The validation rule set (E1–E7 reject, W1–W3 warn).
