//! What every command runs with besides its arguments: the IPVS table, the
//! kernel's IPVS info, the name resolver, the standard streams, and the
//! exit statuses ipvsadm 1.31 answers with.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use crate::backend::IpvsBackend;
use crate::model::Info;
use crate::resolve::NameResolver;

/// Exit status of a kernel operation that failed (ipvsadm returns -1).
pub const EXIT_KERNEL: i32 = 255;
/// Exit status of a listing that could not be produced.
pub const EXIT_LIST: i32 = 1;
/// Exit status of a usage error.
pub const EXIT_USAGE: i32 = 2;

/// Where `-c` reads connections from.
pub const CONN_PROC_FILE: &str = "/proc/net/ip_vs_conn";

/// Everything a command needs besides its arguments.
pub struct Session<'a> {
    pub ipvs: &'a mut dyn IpvsBackend,
    pub info: Info,
    pub names: &'a dyn NameResolver,
    /// The connection table `-c` reads ([`CONN_PROC_FILE`] outside tests).
    pub conn_file: PathBuf,
    /// `argv[0]`, for messages that name the program.
    pub argv0: String,
}

/// The standard streams, so tests can capture them.
pub struct Streams<'a> {
    pub stdin: &'a mut dyn BufRead,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
}
