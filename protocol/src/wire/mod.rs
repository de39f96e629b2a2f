//! Wire messages (in progress).
