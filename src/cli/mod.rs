//! Command line: ipvsadm-compatible argument parsing into a typed
//! [`Command`].

pub mod command;

pub use command::*;
