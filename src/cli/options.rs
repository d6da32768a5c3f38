//! The option table: every ipvsadm 1.31 option (as popt knows it) plus our
//! extensions, with the names ipvsadm uses in its messages.

/// Every option the command line understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum OptId {
    AddService,
    EditService,
    DelService,
    Flush,
    List,
    Zero,
    AddServer,
    EditServer,
    DelServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    TcpService,
    UdpService,
    SctpService,
    FwmarkService,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masquerading,
    Ipip,
    Gatewaying,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
    // Extensions (not in ipvsadm).
    Json,
    Format,
    Pretty,
    Watch,
    Count,
    Netns,
    Atomic,
    // Drain (extension).
    Drain,
    // `--check` (a command) and its `--verbose`.
    Check,
    Verbose,
    // Declarative tables (`-R --replace`).
    Replace,
    DryRun,
}

/// How an option takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgKind {
    /// A flag.
    None,
    /// Attached, after `=`, or the next word (whatever it looks like).
    Required,
    /// popt's `POPT_ARGFLAG_OPTIONAL`: like `Required`, but the next word is
    /// only taken when it does not start with `-`.
    Optional,
    /// Only `--name=value`; a bare `--name` has no value.
    EqualsOnly,
}

/// One row of the option table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptSpec {
    pub long: &'static str,
    pub shorts: &'static [char],
    pub arg: ArgKind,
    pub id: OptId,
    /// Placeholder for the value in help texts.
    pub value_name: &'static str,
    pub help: &'static str,
    /// Not an ipvsadm option.
    pub extension: bool,
}

const fn opt(
    long: &'static str,
    shorts: &'static [char],
    arg: ArgKind,
    id: OptId,
    value_name: &'static str,
    help: &'static str,
) -> OptSpec {
    OptSpec {
        long,
        shorts,
        arg,
        id,
        value_name,
        help,
        extension: false,
    }
}

const fn ext(
    long: &'static str,
    shorts: &'static [char],
    arg: ArgKind,
    id: OptId,
    value_name: &'static str,
    help: &'static str,
) -> OptSpec {
    OptSpec {
        long,
        shorts,
        arg,
        id,
        value_name,
        help,
        extension: true,
    }
}

use ArgKind::{EqualsOnly, Optional, Required};
const FLAG: ArgKind = ArgKind::None;

#[rustfmt::skip]
/// The option table, in ipvsadm's popt order (the first match of a long
/// name wins, as in popt).
pub(crate) static OPTIONS: &[OptSpec] = &[
    opt("add-service", &['A'], FLAG, OptId::AddService, "", "add virtual service with options"),
    opt("edit-service", &['E'], FLAG, OptId::EditService, "", "edit virtual service with options"),
    opt("delete-service", &['D'], FLAG, OptId::DelService, "", "delete virtual service"),
    opt("clear", &['C'], FLAG, OptId::Flush, "", "clear the whole table"),
    opt("list", &['L', 'l'], FLAG, OptId::List, "", "list the table"),
    opt("zero", &['Z'], FLAG, OptId::Zero, "", "zero counters in a service or all services"),
    opt("add-server", &['a'], FLAG, OptId::AddServer, "", "add real server with options"),
    opt("edit-server", &['e'], FLAG, OptId::EditServer, "", "edit real server with options"),
    opt("delete-server", &['d'], FLAG, OptId::DelServer, "", "delete real server"),
    opt("set", &[], FLAG, OptId::Set, "", "set connection timeout values (tcp tcpfin udp)"),
    opt("help", &['h'], FLAG, OptId::Help, "", "display this help message"),
    opt("version", &['v'], FLAG, OptId::Version, "", "display the version"),
    opt("restore", &['R'], FLAG, OptId::Restore, "", "restore rules from stdin"),
    opt("save", &['S'], FLAG, OptId::Save, "", "save rules to stdout"),
    opt("start-daemon", &[], Required, OptId::StartDaemon, "master|backup", "start connection sync daemon"),
    opt("stop-daemon", &[], Required, OptId::StopDaemon, "master|backup", "stop connection sync daemon"),
    opt("tcp-service", &['t'], Required, OptId::TcpService, "service-address", "TCP virtual service, host[:port]"),
    opt("udp-service", &['u'], Required, OptId::UdpService, "service-address", "UDP virtual service, host[:port]"),
    opt("sctp-service", &[], Required, OptId::SctpService, "service-address", "SCTP virtual service, host[:port]"),
    opt("fwmark-service", &['f'], Required, OptId::FwmarkService, "fwmark", "firewall-mark virtual service, an integer greater than zero"),
    opt("scheduler", &['s'], Required, OptId::Scheduler, "scheduler", "scheduling method (default wlc)"),
    opt("persistent", &['p'], Optional, OptId::Persistent, "timeout", "persistent service (default timeout 360 s)"),
    opt("netmask", &['M'], Required, OptId::Netmask, "netmask", "persistent granularity mask"),
    opt("real-server", &['r'], Required, OptId::RealServer, "server-address", "real server, host[:port]"),
    opt("masquerading", &['m'], FLAG, OptId::Masquerading, "", "masquerading (NAT)"),
    opt("ipip", &['i'], FLAG, OptId::Ipip, "", "ipip encapsulation (tunneling)"),
    opt("gatewaying", &['g'], FLAG, OptId::Gatewaying, "", "gatewaying (direct routing) (default)"),
    opt("weight", &['w'], Required, OptId::Weight, "weight", "capacity of real server"),
    opt("u-threshold", &['x'], Required, OptId::UThreshold, "uthreshold", "upper threshold of connections"),
    opt("l-threshold", &['y'], Required, OptId::LThreshold, "lthreshold", "lower threshold of connections"),
    opt("numeric", &['n'], FLAG, OptId::Numeric, "", "numeric output of addresses and ports"),
    opt("connection", &['c'], FLAG, OptId::Connection, "", "output of current IPVS connections"),
    opt("mcast-interface", &[], Required, OptId::McastInterface, "interface", "multicast interface for connection sync"),
    opt("syncid", &[], Required, OptId::SyncId, "sid", "syncid for connection sync (default 0)"),
    opt("timeout", &[], FLAG, OptId::Timeout, "", "output of timeout (tcp tcpfin udp)"),
    opt("daemon", &[], FLAG, OptId::Daemon, "", "output of daemon information"),
    opt("stats", &[], FLAG, OptId::Stats, "", "output of statistics information"),
    opt("rate", &[], FLAG, OptId::Rate, "", "output of rate information"),
    opt("thresholds", &[], FLAG, OptId::Thresholds, "", "output of thresholds information"),
    opt("persistent-conn", &[], FLAG, OptId::PersistentConn, "", "output of persistent connection info"),
    opt("nosort", &[], FLAG, OptId::NoSort, "", "disable sorting output of service/server entries"),
    opt("sort", &[], FLAG, OptId::Sort, "", "does nothing, for backwards compatibility"),
    opt("exact", &['X'], FLAG, OptId::Exact, "", "expand numbers (display exact values)"),
    opt("ipv6", &['6'], FLAG, OptId::Ipv6, "", "fwmark entry uses IPv6"),
    opt("ops", &['o'], FLAG, OptId::Ops, "", "one-packet scheduling"),
    opt("pe", &[], Required, OptId::Pe, "engine", "alternate persistence engine (sip)"),
    opt("sched-flags", &['b'], Required, OptId::SchedFlags, "flags", "scheduler flags (comma-separated)"),
    opt("mcast-group", &[], Required, OptId::McastGroup, "address", "IPv4/IPv6 multicast group (default 224.0.0.81)"),
    opt("mcast-port", &[], Required, OptId::McastPort, "port", "UDP port (default 8848)"),
    opt("mcast-ttl", &[], Required, OptId::McastTtl, "ttl", "multicast TTL (default 1)"),
    opt("sync-maxlen", &[], Required, OptId::SyncMaxlen, "length", "max sync message length (default 1472)"),
    opt("tun-info", &[], FLAG, OptId::TunInfo, "", "output of tunnel information"),
    opt("tun-type", &[], Required, OptId::TunType, "type", "tunnel type: ipip|gue|gre (default ipip)"),
    opt("tun-port", &[], Required, OptId::TunPort, "port", "tunnel destination port"),
    opt("tun-nocsum", &[], FLAG, OptId::TunNocsum, "", "tunnel encapsulation without checksum"),
    opt("tun-csum", &[], FLAG, OptId::TunCsum, "", "tunnel encapsulation with checksum"),
    opt("tun-remcsum", &[], FLAG, OptId::TunRemcsum, "", "tunnel encapsulation with remote checksum"),
    ext("json", &['j'], FLAG, OptId::Json, "", "list as JSON (same as --format json)"),
    ext("format", &[], Required, OptId::Format, "text|json|table|prometheus", "listing format"),
    ext("pretty", &[], FLAG, OptId::Pretty, "", "indent JSON output"),
    ext("watch", &[], EqualsOnly, OptId::Watch, "seconds", "redraw the listing every SECONDS (default 2)"),
    ext("count", &[], Required, OptId::Count, "n", "stop watching after N updates"),
    ext("netns", &[], Required, OptId::Netns, "name|path", "run in that network namespace"),
    ext("atomic", &[], FLAG, OptId::Atomic, "", "with -R: undo every change if a line fails"),
    // Drain.
    ext("drain", &[], EqualsOnly, OptId::Drain, "seconds", "with -d: set the weight to 0, wait up to SECONDS (default 300; 0: do not wait) until no connection is left, then delete; with -R --replace: so for each real server it removes"),
    ext("check", &[], FLAG, OptId::Check, "", "say why a virtual service may not answer"),
    ext("verbose", &[], FLAG, OptId::Verbose, "", "with --check: also list the IPVS settings"),
    ext("replace", &[], FLAG, OptId::Replace, "", "with -R: make the table exactly equal to the input"),
    ext("dry-run", &[], FLAG, OptId::DryRun, "", "with -R --replace: print the changes, make none"),
];

pub(crate) fn find_long(name: &str) -> Option<&'static OptSpec> {
    OPTIONS.iter().find(|o| o.long == name)
}

pub(crate) fn find_short(c: char) -> Option<&'static OptSpec> {
    match SHORT_INDEX.get(c as usize) {
        Some(&i) => OPTIONS.get(usize::from(i)),
        None => OPTIONS.iter().find(|o| o.shorts.contains(&c)),
    }
}

/// For each ASCII character, the index in `OPTIONS` of the first option
/// with that short letter (`u8::MAX`: none): every option letter of every
/// restore line is looked up, and a scan of the table cost more than the
/// rest of the lexing.
static SHORT_INDEX: [u8; 128] = short_index();

const fn short_index() -> [u8; 128] {
    assert!(OPTIONS.len() < u8::MAX as usize);
    let mut table = [u8::MAX; 128];
    // Backwards, so that the first option with a letter wins.
    let mut i = OPTIONS.len();
    while i > 0 {
        i -= 1;
        let shorts = OPTIONS[i].shorts;
        let mut j = 0;
        while j < shorts.len() {
            let c = shorts[j] as usize;
            if c < table.len() {
                table[c] = i as u8;
            }
            j += 1;
        }
    }
    table
}

/// ipvsadm's commands, in the index order of its legality table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmdKind {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    SetTimeout,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
    /// `--check` (not in ipvsadm's table: its row is ours).
    Check,
}

impl CmdKind {
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name ipvsadm uses in its messages.
    pub fn name(self) -> &'static str {
        CMD_NAMES[self.index()]
    }
}

const CMD_NAMES: [&str; 15] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
    "check",
];

/// The command an option selects, if it is one (`-h`/`-v` are handled
/// apart: they act at once).
pub(crate) fn command_of(id: OptId) -> Option<CmdKind> {
    Some(match id {
        OptId::AddService => CmdKind::Add,
        OptId::EditService => CmdKind::Edit,
        OptId::DelService => CmdKind::Del,
        OptId::Flush => CmdKind::Flush,
        OptId::List => CmdKind::List,
        OptId::Zero => CmdKind::Zero,
        OptId::AddServer => CmdKind::AddDest,
        OptId::EditServer => CmdKind::EditDest,
        OptId::DelServer => CmdKind::DelDest,
        OptId::Set => CmdKind::SetTimeout,
        OptId::Restore => CmdKind::Restore,
        OptId::Save => CmdKind::Save,
        OptId::StartDaemon => CmdKind::StartDaemon,
        OptId::StopDaemon => CmdKind::StopDaemon,
        OptId::Check => CmdKind::Check,
        _ => return None,
    })
}

/// Columns of ipvsadm's command × option table (bit index = position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptBit {
    Numeric,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    McastInterface,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    SyncId,
    Exact,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
}

pub(crate) const NUMBER_OF_OPT: usize = 34;

pub(crate) const OPT_NAMES: [&str; NUMBER_OF_OPT] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
];

impl OptBit {
    pub fn mask(self) -> u64 {
        1u64 << (self as u32)
    }

    pub fn name(self) -> &'static str {
        OPT_NAMES[self as usize]
    }
}

/// The legality column an ipvsadm option is recorded in (`-6` and
/// `--sort` are never recorded, commands and extensions are not columns).
pub(crate) fn bit_of(id: OptId) -> Option<OptBit> {
    Some(match id {
        OptId::TcpService
        | OptId::UdpService
        | OptId::SctpService
        | OptId::FwmarkService => OptBit::Service,
        OptId::Scheduler => OptBit::Scheduler,
        OptId::Persistent => OptBit::Persistent,
        OptId::Netmask => OptBit::Netmask,
        OptId::RealServer => OptBit::Server,
        OptId::Masquerading | OptId::Ipip | OptId::Gatewaying => OptBit::Forward,
        OptId::Weight => OptBit::Weight,
        OptId::UThreshold => OptBit::UThreshold,
        OptId::LThreshold => OptBit::LThreshold,
        OptId::Numeric => OptBit::Numeric,
        OptId::Connection => OptBit::Connection,
        OptId::McastInterface => OptBit::McastInterface,
        OptId::SyncId => OptBit::SyncId,
        OptId::Timeout => OptBit::Timeout,
        OptId::Daemon => OptBit::Daemon,
        OptId::Stats => OptBit::Stats,
        OptId::Rate => OptBit::Rate,
        OptId::Thresholds => OptBit::Thresholds,
        OptId::PersistentConn => OptBit::PersistentConn,
        OptId::NoSort => OptBit::NoSort,
        OptId::Exact => OptBit::Exact,
        OptId::Ops => OptBit::Ops,
        OptId::Pe => OptBit::Pe,
        OptId::SchedFlags => OptBit::SchedFlags,
        OptId::McastGroup => OptBit::McastGroup,
        OptId::McastPort => OptBit::McastPort,
        OptId::McastTtl => OptBit::McastTtl,
        OptId::SyncMaxlen => OptBit::SyncMaxlen,
        OptId::TunInfo => OptBit::TunInfo,
        OptId::TunType => OptBit::TunType,
        OptId::TunPort => OptBit::TunPort,
        OptId::TunNocsum => OptBit::TunNocsum,
        OptId::TunCsum => OptBit::TunCsum,
        OptId::TunRemcsum => OptBit::TunRemcsum,
        _ => return None,
    })
}

/// Our extension options, each allowed once (`-j`/`--json`/`--format`
/// share one slot, as `-t`/`-u`/`-f` do in ipvsadm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExtSlot {
    Format,
    Pretty,
    Watch,
    Count,
    Netns,
    Atomic,
    Drain,
    Verbose,
    /// `-j`/`--json`: its own slot, for `-R --replace --dry-run` (the plan
    /// as JSON) takes it besides `--format json` (the input as JSON).
    Json,
    Replace,
    DryRun,
}

impl ExtSlot {
    pub fn mask(self) -> u32 {
        1u32 << (self as u32)
    }

    pub fn name(self) -> &'static str {
        match self {
            ExtSlot::Format => "format",
            ExtSlot::Pretty => "pretty",
            ExtSlot::Watch => "watch",
            ExtSlot::Count => "count",
            ExtSlot::Netns => "netns",
            ExtSlot::Atomic => "atomic",
            ExtSlot::Drain => "drain",
            ExtSlot::Verbose => "verbose",
            ExtSlot::Json => "format",
            ExtSlot::Replace => "replace",
            ExtSlot::DryRun => "dry-run",
        }
    }
}

pub(crate) fn ext_slot_of(id: OptId) -> Option<ExtSlot> {
    Some(match id {
        OptId::Format => ExtSlot::Format,
        OptId::Json => ExtSlot::Json,
        OptId::Pretty => ExtSlot::Pretty,
        OptId::Watch => ExtSlot::Watch,
        OptId::Count => ExtSlot::Count,
        OptId::Netns => ExtSlot::Netns,
        OptId::Atomic => ExtSlot::Atomic,
        OptId::Drain => ExtSlot::Drain,
        OptId::Verbose => ExtSlot::Verbose,
        OptId::Replace => ExtSlot::Replace,
        OptId::DryRun => ExtSlot::DryRun,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_letters_are_found_as_a_scan_of_the_table_finds_them() {
        for c in (0..0x400).filter_map(char::from_u32) {
            let scan = OPTIONS.iter().find(|o| o.shorts.contains(&c));
            assert_eq!(find_short(c).map(|o| o.long), scan.map(|o| o.long), "{c:?}");
        }
        assert!(find_short('A').is_some());
    }
}
