//! Typed 双公示 records (licence XK_*, penalty CF_*), list entries and credit commitments.
