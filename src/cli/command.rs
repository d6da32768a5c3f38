//! The typed command that argument parsing produces and the executor runs.
//!
//! Every ipvsadm default and quirk that changes *what is sent* (weight 1,
//! `-g`, `wlc`, persistence 360 s, dest port forced to the service port for
//! `-g`/`-i`, netmask resets) is already applied here: the executor sends
//! these values as they are.

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
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListCmd {
    pub what: ListWhat,
    pub format: ListFormat,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListWhat {
    /// The whole table, with the `IP Virtual Server version` header.
    Table,
    /// One service (`-L -t VIP:PORT`), no version header. The service's
    /// identity is what matters.
    Service(Service),
    /// `-c`: connections from `/proc/net/ip_vs_conn`.
    Connections,
    /// `--timeout`
    Timeouts,
    /// `--daemon`
    Daemons,
}

/// Listing modifiers, one per ipvsadm format flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListFormat {
    /// `-n`: no name resolution.
    pub numeric: bool,
    /// `--exact` / `-X`: no K/M/G scaling.
    pub exact: bool,
    /// `--nosort`: kernel order.
    pub nosort: bool,
    pub stats: bool,
    pub rate: bool,
    pub thresholds: bool,
    pub persistent_conn: bool,
    pub tun_info: bool,
}

/// How listings are rendered (extensions over ipvsadm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputOptions {
    pub style: OutputStyle,
    /// `--pretty`: indent JSON.
    pub pretty: bool,
    /// `--watch[=SECONDS]`: redraw every this many seconds.
    pub watch: Option<WatchInterval>,
    /// `--count=N`: stop watching after N ticks.
    pub count: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputStyle {
    /// ipvsadm 1.31's text, byte for byte.
    #[default]
    Text,
    /// `-j`, `--json`, `--format json`
    Json,
    /// `--format table`
    Table,
    /// `--format prometheus`
    Prometheus,
}

/// A watch interval in milliseconds (accepts fractional seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchInterval(pub u64);

impl Default for WatchInterval {
    /// The kernel's rate estimator period.
    fn default() -> Self {
        WatchInterval(2000)
    }
}
