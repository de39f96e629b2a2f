//! The one place that turns values into canonical bytes and back.
