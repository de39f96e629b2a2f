//! Identifiers: USCC (GB 32100 + GB 11714), resident ID (GB 11643), GB/T 2260 division codes.
