//! Offline analysis of a file or session (to be written).
