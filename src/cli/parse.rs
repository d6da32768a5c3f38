//! Turns lexed options into an [`Invocation`], reproducing ipvsadm's
//! `parse_options` + `process_options`: the first option must be a command,
//! options apply left to right with their side effects, then the legality
//! table, the defaults and the post-parse checks.

use std::net::{IpAddr, Ipv4Addr};

use super::UsageError;
use super::command::{Command, Invocation, RestoreOptions};
use super::legality::{generic_opt_check, list_conflicts, tunnel_opt_check};
use super::lexer::{Item, Lexer, Token};
use super::options::{
    CmdKind, ExtSlot, OptBit, OptId, OptSpec, bit_of, command_of, ext_slot_of,
};
use super::values::{
    DEFAULT_PERSISTENT_TIMEOUT, parse_fwmark, parse_host_port, parse_mcast_group,
    parse_netmask_v4, parse_netmask_v6, parse_sched_flags, parse_timeout, parse_tun_type,
    string_to_number, truncate_bytes,
};
use crate::listing::{
    ListCmd, ListFormat, ListWhat, OutputOptions, OutputStyle, WatchInterval,
};
use crate::model::{
    Daemon, DaemonState, Dest, Family, FwdMethod, InlineStr, Netmask, Protocol, Service,
    ServiceAddr, ServiceFlags, ServiceId, ShortName, Stats, Timeouts, TunnelFlags,
    TunnelType,
};

/// Where the words come from: the command line, or one line of `-R` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    CommandLine,
    Restore,
}

/// `IP_VS_SCHEDNAME_MAXLEN - 1`, `IP_VS_PENAME_MAXLEN`, `IP_VS_IFNAME_MAXLEN - 1`.
mod extensions;

const SCHED_NAME_MAX: usize = 15;
const PE_NAME_MAX: usize = 16;
const IFNAME_MAX: usize = 15;
/// ipvsadm copies `-b` into a 128-byte buffer.
const SCHED_FLAGS_MAX: usize = 127;
const DEFAULT_SCHEDULER: ShortName = ShortName::literal("wlc");
const DEFAULT_MCAST_IFN: &str = "eth0";

fn fail(message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
        exit_code: 2,
    }
}

pub(crate) fn try_help(argv0: &str) -> UsageError {
    UsageError {
        message: format!("Try `{argv0} -h' or '{argv0} --help' for more information."),
        exit_code: 255,
    }
}

/// Everything ipvsadm's `struct ipvs_command_entry` plus its `options` and
/// `format` words hold while options are processed.
#[derive(Debug, Clone)]
struct Entry {
    mode: Mode,
    cmd: CmdKind,
    /// Legality-table bits of the options seen.
    options: u64,
    /// Extension options seen (`ExtSlot` bits).
    extensions: u32,
    // Service: `None` is ipvsadm's zeroed af/protocol/address.
    family: Option<Family>,
    protocol: Option<Protocol>,
    addr: Option<IpAddr>,
    port: u16,
    fwmark: u32,
    scheduler: ShortName,
    pe_name: ShortName,
    flags: ServiceFlags,
    timeout: u32,
    /// IPv4 mask as a number, or IPv6 prefix length (ipvsadm's `netmask`).
    netmask: u32,
    sched_flags_arg: InlineStr<SCHED_FLAGS_MAX>,
    // Real server.
    dest_family: Option<Family>,
    dest_addr: Option<IpAddr>,
    dest_port: u16,
    fwd: FwdMethod,
    weight: i32,
    u_threshold: u32,
    l_threshold: u32,
    tun_type: TunnelType,
    tun_port: u16,
    tun_flags: TunnelFlags,
    // Sync daemon.
    daemon_state: DaemonState,
    mcast_ifn: String,
    syncid: u32,
    sync_maxlen: u16,
    mcast_group: Option<IpAddr>,
    mcast_port: u16,
    mcast_ttl: u8,
    timeouts: Timeouts,
    format: ListFormat,
    // Extensions.
    output: OutputOptions,
    netns: Option<String>,
    atomic: bool,
    drain: Option<std::time::Duration>,
    /// `--verbose` (with `--check`).
    verbose: bool,
    restore: RestoreOptions,
    /// What `--format` said (for `-R`, the input's format).
    format_style: Option<OutputStyle>,
}

impl Entry {
    fn new(mode: Mode) -> Entry {
        Entry {
            mode,
            cmd: CmdKind::List,
            options: 0,
            extensions: 0,
            family: None,
            protocol: None,
            addr: None,
            port: 0,
            fwmark: 0,
            scheduler: ShortName::default(),
            pe_name: ShortName::default(),
            flags: ServiceFlags::empty(),
            timeout: 0,
            netmask: u32::MAX,
            sched_flags_arg: InlineStr::default(),
            dest_family: None,
            dest_addr: None,
            dest_port: 0,
            fwd: FwdMethod::Route,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: TunnelFlags::empty(),
            daemon_state: DaemonState::Master,
            mcast_ifn: String::new(),
            syncid: 0,
            sync_maxlen: 0,
            mcast_group: None,
            mcast_port: 0,
            mcast_ttl: 0,
            timeouts: Timeouts::default(),
            format: ListFormat::default(),
            output: OutputOptions::default(),
            netns: None,
            atomic: false,
            drain: None,
            verbose: false,
            restore: RestoreOptions::default(),
            format_style: None,
        }
    }

    fn has(&self, bit: OptBit) -> bool {
        self.options & bit.mask() != 0
    }

    /// ipvsadm's `set_option`: every recorded option only once.
    fn set_option(&mut self, bit: OptBit) -> Result<(), UsageError> {
        if self.has(bit) {
            return Err(fail(format!("multiple '{}' options specified", bit.name())));
        }
        self.options |= bit.mask();
        Ok(())
    }

    /// Applies one non-command ipvsadm option, as ipvsadm's option loop does.
    fn apply(&mut self, id: OptId, value: Option<&str>) -> Result<(), UsageError> {
        if let Some(bit) = bit_of(id) {
            self.set_option(bit)?;
        }
        // Options with a required value always have one (the lexer reports a
        // missing one); an empty string stands in defensively.
        let v = value.unwrap_or_default();
        match id {
            OptId::TcpService | OptId::UdpService | OptId::SctpService => {
                let protocol = match id {
                    OptId::TcpService => Protocol::Tcp,
                    OptId::UdpService => Protocol::Udp,
                    _ => Protocol::Sctp,
                };
                self.protocol = Some(protocol);
                let parsed = parse_host_port(v, Some(protocol)).ok_or_else(|| {
                    fail("illegal virtual server address[:port] specified")
                })?;
                self.family = Some(parsed.family);
                self.addr = Some(parsed.addr);
                if parsed.family == Family::Inet6 {
                    self.netmask = 128;
                }
                if let Some(port) = parsed.port {
                    self.port = port;
                }
            }
            OptId::FwmarkService => {
                self.family = Some(Family::Inet);
                self.protocol = Some(Protocol::Tcp);
                self.fwmark = parse_fwmark(v).map_err(fail)?;
            }
            OptId::Scheduler => self.scheduler = ShortName::truncated(v, SCHED_NAME_MAX),
            OptId::Persistent => {
                self.flags |= ServiceFlags::PERSISTENT;
                self.timeout = match value {
                    None => DEFAULT_PERSISTENT_TIMEOUT,
                    Some(t) => parse_timeout(t, 1).map_err(fail)?,
                };
            }
            OptId::Netmask => {
                if self.family == Some(Family::Inet6) {
                    self.netmask = parse_netmask_v6(v)
                        .ok_or_else(|| fail("illegal ipv6 netmask specified"))?;
                } else {
                    let mask = parse_netmask_v4(v).ok_or_else(|| {
                        fail("illegal virtual server persistent mask specified")
                    })?;
                    self.netmask = u32::from(mask);
                }
            }
            OptId::RealServer => {
                // Parsed against the service as known so far (protocol for
                // port names; a missing port copies the service port).
                let parsed = parse_host_port(v, self.protocol).ok_or_else(|| {
                    fail("illegal real server address[:port] specified")
                })?;
                self.dest_family = Some(parsed.family);
                self.dest_addr = Some(parsed.addr);
                self.dest_port = parsed.port.unwrap_or(self.port);
            }
            OptId::Masquerading => self.fwd = FwdMethod::Masq,
            OptId::Ipip => self.fwd = FwdMethod::Tunnel,
            OptId::Gatewaying => self.fwd = FwdMethod::Route,
            OptId::Weight => {
                // Debian's ipvsadm accepts up to INT_MAX (upstream: 65535).
                self.weight = string_to_number(v, 0, i64::from(i32::MAX))
                    .ok_or_else(|| fail("illegal weight specified"))?
                    as i32;
            }
            OptId::UThreshold => {
                self.u_threshold = string_to_number(v, 0, i64::from(i32::MAX))
                    .ok_or_else(|| fail("illegal u_threshold specified"))?
                    as u32;
            }
            OptId::LThreshold => {
                self.l_threshold = string_to_number(v, 0, i64::from(i32::MAX))
                    .ok_or_else(|| fail("illegal l_threshold specified"))?
                    as u32;
            }
            OptId::Numeric => self.format.numeric = true,
            OptId::McastInterface => self.mcast_ifn = truncate_bytes(v, IFNAME_MAX),
            OptId::SyncId => {
                self.syncid = string_to_number(v, 0, 255)
                    .ok_or_else(|| fail("illegal syncid specified"))?
                    as u32;
            }
            OptId::Stats => self.format.stats = true,
            OptId::Rate => self.format.rate = true,
            OptId::Thresholds => self.format.thresholds = true,
            OptId::PersistentConn => self.format.persistent_conn = true,
            OptId::NoSort => self.format.nosort = true,
            OptId::Exact => self.format.exact = true,
            OptId::Ipv6 => {
                if self.fwmark == 0 {
                    return Err(fail("-6 used before -f\n"));
                }
                self.family = Some(Family::Inet6);
                self.netmask = 128;
            }
            OptId::Ops => self.flags |= ServiceFlags::ONEPACKET,
            OptId::Pe => self.pe_name = ShortName::truncated(v, PE_NAME_MAX),
            OptId::SchedFlags => {
                self.sched_flags_arg = InlineStr::truncated(v, SCHED_FLAGS_MAX)
            }
            OptId::McastGroup => {
                self.mcast_group = Some(parse_mcast_group(v).map_err(fail)?)
            }
            OptId::McastPort => {
                self.mcast_port = string_to_number(v, 1, 65535)
                    .ok_or_else(|| fail("illegal mcast-port specified"))?
                    as u16;
            }
            OptId::McastTtl => {
                self.mcast_ttl = string_to_number(v, 1, 255)
                    .ok_or_else(|| fail("illegal mcast-ttl specified"))?
                    as u8;
            }
            OptId::SyncMaxlen => {
                self.sync_maxlen = string_to_number(v, 1, 65535 - 20 - 8)
                    .ok_or_else(|| fail("illegal sync-maxlen specified"))?
                    as u16;
            }
            OptId::TunInfo => self.format.tun_info = true,
            OptId::TunType => {
                self.tun_type = parse_tun_type(v)
                    .ok_or_else(|| fail("illegal tunnel type specified"))?;
            }
            OptId::TunPort => {
                self.tun_port = string_to_number(v, 1, 65535)
                    .ok_or_else(|| fail("illegal tunnel port specified"))?
                    as u16;
            }
            OptId::TunNocsum => {}
            OptId::TunCsum => self.tun_flags |= TunnelFlags::CSUM,
            OptId::TunRemcsum => self.tun_flags |= TunnelFlags::REMCSUM,
            // Recorded only (`-c`, `--timeout`, `--daemon`) or a no-op
            // (`--sort`); commands never get here.
            _ => {}
        }
        Ok(())
    }

    /// The service given; takes the names (each command builds one).
    fn service(&mut self) -> Service {
        let family = self.family.unwrap_or(Family::Inet);
        let addr = if self.fwmark != 0 {
            ServiceAddr::Fwmark(self.fwmark)
        } else {
            ServiceAddr::Inet {
                protocol: self.protocol.unwrap_or(Protocol::Tcp),
                addr: self.addr.unwrap_or_else(|| family.unspecified()),
                port: self.port,
            }
        };
        let netmask = match family {
            Family::Inet6 => Netmask::V6(self.netmask),
            Family::Inet => Netmask::V4(Ipv4Addr::from(self.netmask)),
        };
        Service {
            id: ServiceId { family, addr },
            scheduler: self.scheduler,
            pe_name: (!self.pe_name.is_empty()).then_some(self.pe_name),
            flags: self.flags,
            timeout: self.timeout,
            netmask,
            stats: Stats::default(),
        }
    }

    /// ipvsadm zeroes every service when the one given is all zeros.
    fn service_is_all_zero(&self) -> bool {
        self.fwmark == 0 && self.port == 0 && self.addr.is_none_or(|a| a.is_unspecified())
    }

    fn dest(&self) -> Dest {
        let family = self.dest_family.unwrap_or(Family::Inet);
        Dest {
            family,
            addr: self.dest_addr.unwrap_or_else(|| family.unspecified()),
            port: self.dest_port,
            fwd: self.fwd,
            weight: self.weight,
            u_threshold: self.u_threshold,
            l_threshold: self.l_threshold,
            active_conns: 0,
            inact_conns: 0,
            persist_conns: 0,
            tun_type: self.tun_type,
            tun_port: self.tun_port,
            tun_flags: self.tun_flags,
            stats: Stats::default(),
        }
    }

    /// ipvsadm's checks between parsing and dispatch, then the command.
    fn finish(&mut self) -> Result<Invocation, UsageError> {
        generic_opt_check(self.cmd, self.options).map_err(fail)?;
        match self.cmd {
            CmdKind::Add | CmdKind::Edit => {
                if self.fwmark == 0
                    && self.port == 0
                    && !self.flags.contains(ServiceFlags::PERSISTENT)
                {
                    return Err(fail("Zero port specified for non-persistent service"));
                }
                if self.flags.contains(ServiceFlags::ONEPACKET)
                    && self.fwmark == 0
                    && self.protocol != Some(Protocol::Udp)
                {
                    return Err(fail(
                        "One-Packet Scheduling is only for UDP virtual services",
                    ));
                }
                if self.scheduler.is_empty() {
                    self.scheduler = DEFAULT_SCHEDULER;
                }
            }
            CmdKind::StartDaemon if self.mcast_ifn.is_empty() => {
                self.mcast_ifn = DEFAULT_MCAST_IFN.to_string();
            }
            CmdKind::AddDest | CmdKind::EditDest => {
                if self.fwmark == 0
                    && matches!(self.fwd, FwdMethod::Tunnel | FwdMethod::Route)
                {
                    self.dest_port = self.port;
                }
                if self.dest_family != self.family && self.fwd != FwdMethod::Tunnel {
                    return Err(fail(
                        "Different address family is allowed only for tunneling servers",
                    ));
                }
                let tunnel_bits = [
                    OptBit::TunType,
                    OptBit::TunPort,
                    OptBit::TunNocsum,
                    OptBit::TunCsum,
                    OptBit::TunRemcsum,
                ];
                if tunnel_bits.iter().any(|b| self.has(*b))
                    && self.fwd != FwdMethod::Tunnel
                {
                    return Err(fail("Tunnel options conflict with forward method"));
                }
                tunnel_opt_check(self.tun_type, self.options).map_err(fail)?;
            }
            CmdKind::List => list_conflicts(self.options).map_err(fail)?,
            _ => {}
        }
        let command = match self.cmd {
            CmdKind::Add => Command::AddService(self.service()),
            CmdKind::Edit => Command::EditService(self.service()),
            CmdKind::Del => Command::DelService(self.service()),
            CmdKind::Flush => Command::Flush,
            CmdKind::List => {
                let what = if self.has(OptBit::Connection) {
                    ListWhat::Connections
                } else if self.has(OptBit::Service) {
                    ListWhat::Service(self.service())
                } else if self.has(OptBit::Timeout) {
                    ListWhat::Timeouts
                } else if self.has(OptBit::Daemon) {
                    ListWhat::Daemons
                } else {
                    ListWhat::Table
                };
                Command::List(ListCmd {
                    what,
                    format: self.format,
                })
            }
            CmdKind::AddDest => Command::AddDest(self.service(), self.dest()),
            CmdKind::EditDest => Command::EditDest(self.service(), self.dest()),
            CmdKind::DelDest => Command::DelDest(self.service(), self.dest()),
            CmdKind::SetTimeout => Command::SetTimeouts(self.timeouts),
            CmdKind::StartDaemon => Command::StartDaemon(Daemon {
                state: self.daemon_state,
                mcast_ifn: std::mem::take(&mut self.mcast_ifn),
                syncid: self.syncid,
                sync_maxlen: (self.sync_maxlen != 0).then_some(self.sync_maxlen),
                mcast_group: self.mcast_group,
                mcast_port: (self.mcast_port != 0).then_some(self.mcast_port),
                mcast_ttl: (self.mcast_ttl != 0).then_some(self.mcast_ttl),
            }),
            CmdKind::StopDaemon => Command::StopDaemon {
                state: self.daemon_state,
                syncid: self.syncid,
            },
            CmdKind::Restore => Command::Restore,
            CmdKind::Save => Command::Save {
                numeric: self.format.numeric,
            },
            CmdKind::Zero => {
                if self.has(OptBit::Service) && !self.service_is_all_zero() {
                    Command::Zero(Some(self.service()))
                } else {
                    Command::Zero(None)
                }
            }
            CmdKind::Check => Command::Check {
                service: self.has(OptBit::Service).then(|| self.service()),
                verbose: self.verbose,
            },
        };
        Ok(self.invocation(command))
    }

    /// Handles the first option, which must be a command. Returns the
    /// finished invocation for `-h`/`-v`, which ignore everything after.
    fn begin(
        &mut self,
        spec: &OptSpec,
        value: Option<&str>,
        word: &str,
        argv0: &str,
    ) -> Result<Option<Invocation>, UsageError> {
        // ipvsadm's recursion guard: `-R` inside restore input gets the
        // hint and exit 255. Everything else works there, listings too.
        if self.mode == Mode::Restore && spec.id == OptId::Restore {
            let _ = word;
            return Err(try_help(argv0));
        }
        if self.mode == Mode::Restore && spec.id == OptId::Check {
            return Err(fail(
                "the '--check' command is not allowed in restore input",
            ));
        }
        match spec.id {
            OptId::Help => return Ok(Some(self.invocation(Command::Help))),
            OptId::Version => return Ok(Some(self.invocation(Command::Version))),
            _ => {}
        }
        self.cmd = command_of(spec.id).ok_or_else(|| try_help(argv0))?;
        let state = match value {
            Some("master") => Some(DaemonState::Master),
            Some("backup") => Some(DaemonState::Backup),
            _ => None,
        };
        match self.cmd {
            CmdKind::StartDaemon => {
                self.daemon_state = state
                    .ok_or_else(|| fail("illegal start-daemon parameter specified"))?;
            }
            CmdKind::StopDaemon => {
                // sic: ipvsadm's wording for --stop-daemon.
                self.daemon_state =
                    state.ok_or_else(|| fail("illegal start_daemon specified"))?;
            }
            _ => {}
        }
        Ok(None)
    }

    fn invocation(&self, command: Command) -> Invocation {
        Invocation {
            command,
            netns: self.netns.clone(),
            output: self.output,
            atomic: self.atomic,
            // `--drain` is `-d`'s, or `-R --replace`'s.
            drain: self.drain.filter(|_| self.cmd != CmdKind::Restore),
            restore: RestoreOptions {
                drain: self.drain.filter(|_| self.cmd == CmdKind::Restore),
                ..self.restore
            },
        }
    }
}

/// The bare-`ipvsadm` listing: the whole table, with name resolution.
pub(crate) fn bare_list() -> Invocation {
    Invocation {
        command: Command::List(ListCmd {
            what: ListWhat::Table,
            format: ListFormat::default(),
        }),
        netns: None,
        output: OutputOptions::default(),
        atomic: false,
        drain: None,
        restore: RestoreOptions::default(),
    }
}

/// Non-option words kept for after the options: the three `--set`
/// values and one more, the first ipvsadm would complain about.
#[derive(Default)]
struct Leftovers<'a> {
    words: [&'a str; 4],
    count: usize,
}

impl<'a> Leftovers<'a> {
    fn push(&mut self, word: &'a str) {
        if let Some(slot) = self.words.get_mut(self.count) {
            *slot = word;
            self.count += 1;
        }
    }

    fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.words[..self.count].iter().copied()
    }
}

/// Parses ipvsadm words (no program name) into an invocation.
pub(crate) fn parse_words<S: AsRef<str>>(
    argv0: &str,
    words: &[S],
    mode: Mode,
) -> Result<Invocation, UsageError> {
    let mut entry = Entry::new(mode);
    let mut leftovers = Leftovers::default();
    // Options in order; non-option words are only looked at afterwards.
    let mut items = Lexer::new(words).filter_map(|token| match token {
        Token::Item(item) => Some(item),
        Token::Leftover(word) => {
            leftovers.push(word);
            None
        }
    });

    // Phase one: the first option must be a command. Our extension options
    // may come before it on the command line (`--netns NS -Ln`); with
    // nothing else, they select the bare listing.
    let mut leading_extensions = false;
    let first = loop {
        match items.next() {
            None if leading_extensions => break None,
            None | Some(Item::Error { .. }) => return Err(try_help(argv0)),
            Some(Item::Opt { spec, value, word }) => {
                if let (Some(slot), Mode::CommandLine) = (ext_slot_of(spec.id), mode) {
                    entry.apply_extension(spec, value.as_deref(), slot)?;
                    leading_extensions = true;
                    continue;
                }
                break Some((spec, value, word));
            }
        }
    };
    match first {
        None => entry.cmd = CmdKind::List,
        Some((spec, value, word)) => {
            if let Some(done) = entry.begin(spec, value.as_deref(), &word, argv0)? {
                return Ok(done);
            }
        }
    }

    // Phase two: only non-command options, applied left to right.
    for item in items.by_ref() {
        match item {
            Item::Error { kind, word } => {
                return Err(UsageError {
                    message: format!("{word}: {}", kind.text()),
                    exit_code: 255,
                });
            }
            Item::Opt { spec, value, word } => {
                if command_of(spec.id).is_some()
                    || matches!(spec.id, OptId::Help | OptId::Version)
                {
                    return Err(fail(format!("invalid option `{word}'")));
                }
                match ext_slot_of(spec.id) {
                    Some(slot) => entry.apply_extension(spec, value.as_deref(), slot)?,
                    None => entry.apply(spec.id, value.as_deref())?,
                }
            }
        }
    }
    drop(items);

    let mut leftovers = leftovers.iter();
    if entry.cmd == CmdKind::SetTimeout {
        let (Some(tcp), Some(tcp_fin), Some(udp)) =
            (leftovers.next(), leftovers.next(), leftovers.next())
        else {
            return Err(fail("--set option requires 3 timeout values"));
        };
        entry.timeouts = Timeouts {
            tcp: parse_timeout(tcp, 0).map_err(fail)?,
            tcp_fin: parse_timeout(tcp_fin, 0).map_err(fail)?,
            udp: parse_timeout(udp, 0).map_err(fail)?,
        };
    }
    if let Some(extra) = leftovers.next() {
        return Err(fail(format!("unexpected argument {extra}")));
    }
    if !entry.sched_flags_arg.is_empty() {
        // Checked against the scheduler given anywhere on the line.
        entry
            .flags
            .remove(ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::SCHED3);
        entry.flags |=
            parse_sched_flags(&entry.scheduler, &entry.sched_flags_arg).map_err(fail)?;
    }
    entry.check_extensions()?;
    entry.finish()
}
