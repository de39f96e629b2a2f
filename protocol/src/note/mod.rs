//! C2SP signed notes: checkpoints, cosignatures (cosignature/v1) and tlog-proof files.
