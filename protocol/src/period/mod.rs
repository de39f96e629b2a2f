//! Publication periods and credit-repair eligibility (order No. 58 and order No. 36 regimes).
