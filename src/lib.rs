//! ipvsadm-rs: an ipvsadm-compatible administration tool for Linux IPVS.
//!
//! The path of data: [`cli`] turns argv into a typed [`cli::Invocation`];
//! [`dispatch`] hands it to the module that owns the command: a table
//! change goes to the [`backend::IpvsBackend`] (the kernel through
//! [`netlink`], or [`fake`] in tests), a listing is read through
//! [`listing`] and written by [`render`] (ipvsadm's text by [`output`]) or
//! repeated by [`watch`], `-R` goes to [`restore`], `--check` to [`check`],
//! and `-d --drain` to [`drain`] (which, like the watch, stops on the
//! [`signals`] it catches). [`app`] is the program around it.
//! ARCHITECTURE.md says what each module's one job is and which rules
//! `tests/tidy.rs` holds the modules to.

pub mod app;
pub mod backend;
pub mod check;
pub mod cli;
pub mod dispatch;
pub mod drain;
pub mod error;
pub mod fake;
pub mod listing;
pub mod model;
pub mod name_table;
pub mod netlink;
pub mod netns;
pub mod output;
pub mod plan;
pub mod render;
pub mod resolve;
pub mod restore;
pub mod session;
pub mod signals;
pub mod watch;
