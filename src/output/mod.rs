//! Output (placeholder).
