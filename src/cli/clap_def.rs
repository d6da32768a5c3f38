//! A clap description of the same options, built from the option table so
//! the two cannot drift. It only feeds shell completions and the man page:
//! parsing is done by the popt emulation, which clap cannot reproduce.

use clap::{Arg, ArgAction, Command};

use super::options::{ArgKind, OPTIONS, OptId, OptSpec, command_of};

const DAEMON_HEADING: &str = "Daemon Options";
const OUTPUT_HEADING: &str = "Output Options (ipvsadm-rs extensions)";
const DECLARATIVE_HEADING: &str = "Declarative Tables (ipvsadm-rs extensions, with -R)";

fn heading(spec: &OptSpec) -> &'static str {
    if command_of(spec.id).is_some() || matches!(spec.id, OptId::Help | OptId::Version) {
        return "Commands";
    }
    match spec.id {
        OptId::TcpService
        | OptId::UdpService
        | OptId::SctpService
        | OptId::FwmarkService => "Virtual Service",
        OptId::McastInterface
        | OptId::SyncId
        | OptId::McastGroup
        | OptId::McastPort
        | OptId::McastTtl
        | OptId::SyncMaxlen => DAEMON_HEADING,
        OptId::Replace | OptId::DryRun => DECLARATIVE_HEADING,
        _ if spec.extension => OUTPUT_HEADING,
        _ => "Options",
    }
}

fn arg_for(spec: &'static OptSpec) -> Arg {
    let mut arg = Arg::new(spec.long)
        .long(spec.long)
        .help(spec.help)
        .help_heading(heading(spec));
    if let Some((first, rest)) = spec.shorts.split_first() {
        arg = arg.short(*first);
        for alias in rest {
            arg = arg.visible_short_alias(*alias);
        }
    }
    arg = match spec.arg {
        ArgKind::None => arg.action(ArgAction::SetTrue),
        ArgKind::Required => arg.action(ArgAction::Set).value_name(spec.value_name),
        ArgKind::Optional => arg
            .action(ArgAction::Set)
            .num_args(0..=1)
            .value_name(spec.value_name),
        ArgKind::EqualsOnly => arg
            .action(ArgAction::Set)
            .num_args(0..=1)
            .require_equals(true)
            .value_name(spec.value_name),
    };
    match spec.id {
        OptId::Help => arg.action(ArgAction::Help),
        OptId::Set => arg
            .action(ArgAction::Set)
            .num_args(3)
            .value_names(["tcp", "tcpfin", "udp"]),
        OptId::StartDaemon | OptId::StopDaemon => arg.value_parser(["master", "backup"]),
        OptId::TunType => arg.value_parser(["ipip", "gue", "gre"]),
        OptId::Format => arg.value_parser(["text", "json", "table", "prometheus"]),
        OptId::Scheduler => arg.value_parser([
            "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo",
            "ovf", "mh",
        ]),
        OptId::SchedFlags => arg.value_parser([
            "flag-1",
            "flag-2",
            "flag-3",
            "sh-fallback",
            "sh-port",
            "mh-fallback",
            "mh-port",
        ]),
        OptId::Pe => arg.value_parser(["sip"]),
        _ => arg,
    }
}

/// Every ipvsadm option and every extension, with help text.
pub fn clap_command() -> Command {
    let mut cmd = Command::new("ipvsadm")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Linux Virtual Server administration (ipvsadm-compatible)")
        .long_about(
            "Sets up, maintains and inspects the IP Virtual Server table in the Linux \
             kernel. A drop-in replacement for ipvsadm 1.31: the same commands, options, \
             messages and exit statuses, plus JSON/table/Prometheus output, watch mode \
             and network-namespace selection.",
        )
        .override_usage(
            "ipvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] \
             [--pe persistence_engine] [-b sched-flags]\n       \
             ipvsadm -D virtual-service\n       \
             ipvsadm -C\n       \
             ipvsadm -R [--atomic] [--format text|json]\n       \
             ipvsadm -R --replace [--dry-run [--json [--pretty]]] [--atomic] \
             [--format text|json]\n       \
             ipvsadm -S [-n]\n       \
             ipvsadm -a|e virtual-service -r server-address [options]\n       \
             ipvsadm -d virtual-service -r server-address [--drain[=seconds]]\n       \
             ipvsadm -L|l [virtual-service] [options] [output-options]\n       \
             ipvsadm -Z [virtual-service]\n       \
             ipvsadm --set tcp tcpfin udp\n       \
             ipvsadm --start-daemon {master|backup} [daemon-options]\n       \
             ipvsadm --stop-daemon {master|backup}\n       \
             ipvsadm --check [virtual-service] [--verbose] [--json [--pretty]]\n       \
             ipvsadm -h",
        )
        .disable_help_flag(true)
        .disable_version_flag(true);
    for spec in OPTIONS {
        cmd = cmd.arg(arg_for(spec));
    }
    cmd
}
