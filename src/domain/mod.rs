//! Pure domain types. No I/O.
