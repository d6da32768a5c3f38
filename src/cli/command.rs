//! The typed command that argument parsing produces and the executor runs.
//!
//! Every ipvsadm default and quirk that changes *what is sent* (weight 1,
//! `-g`, `wlc`, persistence 360 s, dest port forced to the service port for
//! `-g`/`-i`, netmask resets) is already applied here: the executor sends
//! these values as they are.

use std::time::Duration;

use crate::listing::{ListCmd, OutputOptions};
use crate::model::{Daemon, DaemonState, Dest, Service, Timeouts};

/// One parsed command line (or one line of `-R` input).
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub command: Command,
    /// `--netns NAME|PATH`: run in that network namespace.
    pub netns: Option<String>,
    /// Output selection for listings (`--json`, `--format`, `--watch`, ...).
    pub output: OutputOptions,
    /// `-R --atomic`: roll back everything if any line fails.
    pub atomic: bool,
    /// `-d ... --drain[=SECONDS]`: how long to wait for the real server's
    /// connections to end before giving up (`None`: delete at once).
    pub drain: Option<Duration>,
    /// `-R --replace`, `--dry-run` and the input's format.
    pub restore: RestoreOptions,
}

/// How `-R` reads its input and what it does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestoreOptions {
    /// `--replace`: make the table exactly equal to the input.
    pub replace: bool,
    /// `--dry-run` (with `--replace`): print the plan, change nothing.
    pub dry_run: bool,
    /// `--format json`: the input is the document `-L --json` writes.
    pub json_input: bool,
    /// `-j`/`--json` (with `--dry-run`): the plan as one JSON document.
    pub json_plan: bool,
    /// `--pretty` (with `--json`): the plan indented.
    pub pretty: bool,
    /// `--drain[=SECONDS]` (with `--replace`): drain each real server the
    /// plan removes, waiting up to that long, instead of deleting it.
    pub drain: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `-h` / `--help`
    Help,
    /// `-v` / `--version`
    Version,
    /// `-L`/`-l`/`--list` or a bare `ipvsadm`.
    List(ListCmd),
    AddService(Service),
    EditService(Service),
    DelService(Service),
    /// `-C`
    Flush,
    /// `-Z [service]`; `None` zeroes every service (also for an all-zero
    /// service such as `-t 0.0.0.0:0`, as ipvsadm does).
    Zero(Option<Service>),
    AddDest(Service, Dest),
    EditDest(Service, Dest),
    DelDest(Service, Dest),
    /// `--set tcp tcpfin udp` (0 = unchanged)
    SetTimeouts(Timeouts),
    StartDaemon(Daemon),
    StopDaemon {
        state: DaemonState,
        syncid: u32,
    },
    /// `-R`: read rules from standard input.
    Restore,
    /// `-S [-n]`
    Save {
        numeric: bool,
    },
    /// `--check [service] [--verbose]`: what keeps services from answering
    /// (with `--json` as a document, see `Invocation::output`).
    Check {
        /// Only this service (`None`: every service).
        service: Option<Service>,
        /// `--verbose`: also list the IPVS settings of the namespace.
        verbose: bool,
    },
}
