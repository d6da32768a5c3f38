//! ipvsadm-rs: an ipvsadm-compatible administration tool for Linux IPVS.
//!
//! The path of data: [`cli`] turns argv into a typed [`cli::Command`],
//! [`run`] executes it against an [`backend::IpvsBackend`] (the kernel via
//! [`netlink`], or [`fake`] in tests), and [`output`] renders the results.

pub mod app;
pub mod backend;
pub mod cli;
pub mod dispatch;
pub mod error;
pub mod fake;
pub mod listing;
pub mod model;
pub mod name_table;
pub mod netlink;
pub mod netns;
pub mod output;
pub mod render;
pub mod resolve;
pub mod restore;
pub mod session;
pub mod watch;
