//! Table-driven tests of the whole command line, mostly from the captured
//! ipvsadm 1.31 transcripts.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::listing::{ListCmd, ListFormat, ListWhat, OutputStyle, WatchInterval};
use crate::model::{
    DaemonState, Family, FwdMethod, Netmask, Protocol, ServiceAddr, ServiceFlags,
    TunnelFlags, TunnelType,
};

fn argv(line: &str) -> Vec<OsString> {
    line.split(' ')
        .filter(|w| !w.is_empty())
        .map(OsString::from)
        .collect()
}

/// No DNS queries from tests: only `localhost` (from the hosts file) resolves.
fn offline() {
    values::NO_HOST_LOOKUPS.with(|off| off.set(true));
}

fn parse(line: &str) -> Result<Invocation, UsageError> {
    offline();
    parse_args("ipvsadm", &argv(line))
}

fn ok(line: &str) -> Invocation {
    match parse(line) {
        Ok(inv) => inv,
        Err(e) => panic!("{line}: unexpected error {e:?}"),
    }
}

fn command(line: &str) -> Command {
    ok(line).command
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse::<Ipv6Addr>().expect("test address"))
}

const TRY: &str = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.";

#[test]
fn error_messages() {
    let cases: &[(&str, &str, i32)] = &[
        // popt level
        ("-n -L", TRY, 255),
        ("-t x -A", TRY, 255),
        ("--foo", TRY, 255),
        ("-q", TRY, 255),
        ("-", TRY, 255),
        ("-- -L", TRY, 255),
        ("--lis", TRY, 255),
        ("--start-daemon", TRY, 255),
        ("-nL", TRY, 255),
        ("-L -A", "invalid option `-A'", 2),
        ("-L -nl", "invalid option `-nl'", 2),
        ("--list --add-service", "invalid option `--add-service'", 2),
        ("-LC", "invalid option `-LC'", 2),
        ("-L -h", "invalid option `-h'", 2),
        ("-L -v", "invalid option `-v'", 2),
        ("-A -t 10.0.0.1:80 -D", "invalid option `-D'", 2),
        ("-L --foo", "--foo: unknown option", 255),
        ("-L -q", "-q: unknown option", 255),
        ("-L --numer", "--numer: unknown option", 255),
        ("-A -t", "-t: missing argument", 255),
        ("-A -t 10.0.0.1:80 -s", "-s: missing argument", 255),
        ("-A -t 10.0.0.3:80 -p -1", "-1: unknown option", 255),
        (
            "-L --numeric=1",
            "--numeric=1: option does not take an argument",
            255,
        ),
        ("-L extra", "unexpected argument extra", 2),
        ("-R extra", "unexpected argument extra", 2),
        ("-L -n -n", "multiple 'numeric' options specified", 2),
        (
            "-A -t 10.0.0.1:8080 -u 10.0.0.1:8081",
            "multiple 'service-address' options specified",
            2,
        ),
        (
            "-A -f 12 -t 10.0.0.1:80",
            "multiple 'service-address' options specified",
            2,
        ),
        (
            "-a -t 10.0.0.1:80 -r 10.0.0.2 -m -g",
            "multiple 'forwarding-method' options specified",
            2,
        ),
        (
            "-A -t 10.0.0.1:80 -p 10 -p 20",
            "multiple 'persistent' options specified",
            2,
        ),
        // legality table
        (
            "-A -t 10.0.0.1:80 -r 10.0.0.2",
            "Illegal 'real-server' option with the 'add-service' command",
            2,
        ),
        (
            "-A -t 10.0.0.1:80 -m",
            "Illegal 'forwarding-method' option with the 'add-service' command",
            2,
        ),
        (
            "-A -s rr",
            "You need to supply the 'service-address' option for the 'add-service' command",
            2,
        ),
        (
            "-a -t 10.0.0.1:80",
            "You need to supply the 'real-server' option for the 'add-server' command",
            2,
        ),
        (
            "-C -n",
            "Illegal 'numeric' option with the 'flush' command",
            2,
        ),
        (
            "-S -c",
            "Illegal 'connection' option with the 'save' command",
            2,
        ),
        (
            "-R -n",
            "Illegal 'numeric' option with the 'restore' command",
            2,
        ),
        (
            "-L -c --timeout",
            "The option 'timeout' conflicts with the 'connection' option in the 'list' command",
            2,
        ),
        (
            "-L -c -t 10.0.0.1:80",
            "The option 'service-address' conflicts with the 'connection' option in the 'list' command",
            2,
        ),
        (
            "-L --timeout --daemon",
            "The option 'daemon' conflicts with the 'timeout' option in the 'list' command",
            2,
        ),
        ("-L -c --stats", "options conflicts in the list command", 2),
        (
            "-L --daemon --persistent-conn",
            "options conflicts in the list command",
            2,
        ),
        (
            "--stop-daemon master --mcast-interface lo",
            "Illegal 'mcast-interface' option with the 'stop-daemon' command",
            2,
        ),
        // tunnels
        (
            "-a -t 10.0.0.1:82 -r 10.0.1.8 -i --tun-type gue",
            "You need to supply the 'tun-port' option for the 'gue' tunnel type",
            2,
        ),
        (
            "-a -t 10.0.0.1:82 -r 10.0.1.8 -i --tun-type gre --tun-port 5",
            "Illegal 'tun-port' option with the 'gre' tunnel type",
            2,
        ),
        (
            "-a -t 10.0.0.1:82 -r 10.0.1.8 -i --tun-type gue --tun-port 1 --tun-csum --tun-remcsum",
            "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type",
            2,
        ),
        (
            "-a -t 10.0.0.1:82 -r 10.0.1.8 -i --tun-type vxlan",
            "illegal tunnel type specified",
            2,
        ),
        (
            "-a -t 10.0.0.1:82 -r 10.0.1.8 --tun-type gre",
            "Tunnel options conflict with forward method",
            2,
        ),
        (
            "-a -t 10.0.0.1:82 -r 10.0.1.8 -i --tun-port 0 --tun-type gue",
            "illegal tunnel port specified",
            2,
        ),
        (
            "-a -t 10.0.0.1:82 -r 10.0.1.8 -i --tun-csum",
            "Illegal 'tun-csum' option with the 'ipip' tunnel type",
            2,
        ),
        // values
        (
            "-a -t 10.0.0.1:80 -r 10.0.0.12 -m -w 2147483648",
            "illegal weight specified",
            2,
        ),
        (
            "-a -t 10.0.0.1:80 -r 10.0.0.13 -m -w -1",
            "illegal weight specified",
            2,
        ),
        (
            "-a -t 10.0.0.1:80 -r 10.0.0.8 -m -w 0x10",
            "illegal weight specified",
            2,
        ),
        (
            "-a -t 10.0.0.1:80 -r 10.0.0.16 -m -x 2147483648",
            "illegal u_threshold specified",
            2,
        ),
        (
            "-a -t 10.0.0.1:80 -r 10.0.0.17 -m -y -5",
            "illegal l_threshold specified",
            2,
        ),
        (
            "-A -t 10.0.0.1",
            "Zero port specified for non-persistent service",
            2,
        ),
        (
            "-A -t 10.0.0.1:",
            "illegal virtual server address[:port] specified",
            2,
        ),
        (
            "-A -t 10.0.0.1:99999",
            "illegal virtual server address[:port] specified",
            2,
        ),
        (
            "-A -t 10.0.0.1:foo",
            "illegal virtual server address[:port] specified",
            2,
        ),
        (
            "-A -t :80",
            "illegal virtual server address[:port] specified",
            2,
        ),
        (
            "-A -t 123",
            "illegal virtual server address[:port] specified",
            2,
        ),
        (
            "-A -t 10.0.0.300:80",
            "illegal virtual server address[:port] specified",
            2,
        ),
        (
            "-A -t 2001:db8::6",
            "Zero port specified for non-persistent service",
            2,
        ),
        (
            "-A -t [2001:db8::9]",
            "illegal virtual server address[:port] specified",
            2,
        ),
        (
            "-A -t [10.0.0.9]:80",
            "Zero port specified for non-persistent service",
            2,
        ),
        (
            "-a -t [2001:db8::1]:80 -r [2001:db8::1] -g",
            "illegal real server address[:port] specified",
            2,
        ),
        (
            "-a -t 10.0.0.1:81 -r [2001:db8::10]:80 -m",
            "Different address family is allowed only for tunneling servers",
            2,
        ),
        ("-A -f 0", "invalid fwmark value `0' specified", 2),
        (
            "-A -f 4294967296",
            "invalid fwmark value `4294967296' specified",
            2,
        ),
        ("-A -f 0x10", "invalid fwmark value `0x10' specified", 2),
        ("-A -f -1", "invalid fwmark value `-1' specified", 2),
        ("-L -- -n", "unexpected argument -n", 2),
        (
            "-A -t 10.0.0.1:80 -s rr -b -p",
            "invalid scheduler flag `-p'",
            2,
        ),
        ("-A -6 -f 11", "-6 used before -f\n", 2),
        ("-A -t 10.0.0.1:80 -6", "-6 used before -f\n", 2),
        (
            "-A -t 10.0.0.2:80 -p 0",
            "invalid timeout value `0' specified",
            2,
        ),
        (
            "-A -t 10.0.0.3:80 -p 2678401",
            "invalid timeout value `2678401' specified",
            2,
        ),
        ("--set 10 20", "--set option requires 3 timeout values", 2),
        ("--set 10 20 30 40", "unexpected argument 40", 2),
        ("--set a b c", "invalid timeout value `a' specified", 2),
        (
            "-A -t 10.0.0.10:80 -p -M abc.invalid.",
            "illegal virtual server persistent mask specified",
            2,
        ),
        (
            "-A -t [2001:db8::21]:80 -p -M 0",
            "illegal ipv6 netmask specified",
            2,
        ),
        (
            "-A -t [2001:db8::23]:80 -p -M ffff::",
            "illegal ipv6 netmask specified",
            2,
        ),
        (
            "-A -t 10.0.0.14:80 -b sh-port",
            "incompatible scheduler flag `sh-port'",
            2,
        ),
        (
            "-E -t 10.0.0.1:81 -b sh-fallback",
            "incompatible scheduler flag `sh-fallback'",
            2,
        ),
        (
            "-A -t 10.0.0.17:80 -s rr -b flag-1,bogus",
            "invalid scheduler flag `bogus'",
            2,
        ),
        (
            "-A -t 10.0.0.1:80 -o",
            "One-Packet Scheduling is only for UDP virtual services",
            2,
        ),
        (
            "--start-daemon foo",
            "illegal start-daemon parameter specified",
            2,
        ),
        ("--stop-daemon foo", "illegal start_daemon specified", 2),
        (
            "--start-daemon master --mcast-interface veth0 --syncid 256",
            "illegal syncid specified",
            2,
        ),
        (
            "--start-daemon master --mcast-group 10.1.1.1",
            "invalid IPv4 mcast-group `10.1.1.1'",
            2,
        ),
        (
            "--start-daemon master --mcast-group ::1",
            "invalid IPv6 mcast-group `::1'",
            2,
        ),
        (
            "--start-daemon master --mcast-port 0",
            "illegal mcast-port specified",
            2,
        ),
        (
            "--start-daemon master --mcast-ttl 256",
            "illegal mcast-ttl specified",
            2,
        ),
        (
            "--start-daemon master --sync-maxlen 65508",
            "illegal sync-maxlen specified",
            2,
        ),
        // errors in order: the first problem on the line wins
        (
            "-A -t 10.0.0.300:80 --foo",
            "illegal virtual server address[:port] specified",
            2,
        ),
        ("-A --foo -t 10.0.0.300:80", "--foo: unknown option", 255),
        // deliberate fix: ipvsadm 1.31 crashes on `-b ,`
        (
            "-A -t 10.0.0.21:80 -s rr -b ,",
            "no scheduler flag in `,' (expected a comma-separated list such as sh-port,sh-fallback)",
            2,
        ),
        // extensions
        (
            "-A -t 10.0.0.1:80 --json",
            "Illegal 'format' option with the 'add-service' command",
            2,
        ),
        (
            "-S --watch",
            "Illegal 'watch' option with the 'save' command",
            2,
        ),
        (
            "-L --atomic",
            "Illegal 'atomic' option with the 'list' command",
            2,
        ),
        (
            "-L -j --format json",
            "multiple 'format' options specified",
            2,
        ),
        (
            "-L --pretty --pretty",
            "multiple 'pretty' options specified",
            2,
        ),
        (
            "-L --format xml",
            "invalid format `xml' specified (expected text, json, table or prometheus)",
            2,
        ),
        (
            "-L --watch=0",
            "invalid watch interval `0' specified (expected seconds, greater than 0 and at most 86400)",
            2,
        ),
        (
            "-L --watch=",
            "invalid watch interval `' specified (expected seconds, greater than 0 and at most 86400)",
            2,
        ),
        ("-L --watch 3", "unexpected argument 3", 2),
        (
            "-L --count 3",
            "The 'count' option needs the 'watch' option",
            2,
        ),
        (
            "-L --watch --count 0",
            "invalid count `0' specified (expected an integer greater than zero)",
            2,
        ),
        ("-L --netns", "--netns: missing argument", 255),
        (
            "--netns a -L --netns b",
            "multiple 'netns' options specified",
            2,
        ),
        ("--netns a -n -L", TRY, 255),
    ];
    for (line, message, code) in cases {
        let want = UsageError {
            message: message.to_string(),
            exit_code: *code,
        };
        assert_eq!(parse(line).map(|i| i.command), Err(want), "ipvsadm {line}");
    }
}

#[test]
fn empty_and_odd_words() {
    let empty = parse_args("ipvsadm", &[OsString::from("")]);
    assert_eq!(
        empty.map(|i| i.command).map_err(|e| e.message),
        Err(TRY.to_string())
    );
    let by_path = parse_args("/sbin/ipvsadm", &argv("-n -L"));
    assert_eq!(
        by_path.map_err(|e| e.message),
        Err(
            "Try `/sbin/ipvsadm -h' or '/sbin/ipvsadm --help' for more information."
                .to_string()
        )
    );
    let long = "a".repeat(MAX_ARG_LEN + 1);
    let err = parse_args(
        "ipvsadm",
        &[
            OsString::from("-A"),
            OsString::from("-t"),
            OsString::from(long),
        ],
    );
    assert_eq!(err.map_err(|e| e.exit_code), Err(2));
    let empty_weight = parse_args(
        "ipvsadm",
        &["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-w", ""].map(OsString::from),
    );
    assert_eq!(
        empty_weight.map_err(|e| e.message),
        Err("illegal weight specified".to_string())
    );
    let empty_persist = parse_args(
        "ipvsadm",
        &["-A", "-t", "10.0.0.1:80", "-p", ""].map(OsString::from),
    );
    assert_eq!(
        empty_persist.map_err(|e| e.message),
        Err("invalid timeout value `' specified".to_string())
    );
}

#[test]
fn bare_and_list_forms() {
    let table = |format: ListFormat| {
        Command::List(ListCmd {
            what: ListWhat::Table,
            format,
        })
    };
    assert_eq!(
        parse_args("ipvsadm", &[]).map(|i| i.command),
        Ok(table(ListFormat::default()))
    );
    let numeric = ListFormat {
        numeric: true,
        ..Default::default()
    };
    for line in [
        "-L -n",
        "-Ln",
        "-ln",
        "--list --numeric",
        "-Ln -- ",
        "-L -n --",
    ] {
        assert_eq!(command(line), table(numeric), "{line}");
    }
    assert_eq!(
        command("-L -X --sort --sort"),
        table(ListFormat {
            exact: true,
            ..Default::default()
        })
    );
    assert_eq!(command("-L --syncid 3"), table(ListFormat::default()));
    assert_eq!(
        command(
            "-Ln --stats --rate --thresholds --persistent-conn --nosort --exact --tun-info"
        ),
        table(ListFormat {
            numeric: true,
            exact: true,
            nosort: true,
            stats: true,
            rate: true,
            thresholds: true,
            persistent_conn: true,
            tun_info: true,
        })
    );
    let what = |line: &str| match command(line) {
        Command::List(l) => l.what,
        other => panic!("{other:?}"),
    };
    assert_eq!(what("-Lnc"), ListWhat::Connections);
    assert_eq!(what("-L -c --persistent-conn"), ListWhat::Connections);
    assert_eq!(what("-L --timeout"), ListWhat::Timeouts);
    assert_eq!(what("-L --daemon"), ListWhat::Daemons);
    match what("-Lnt 10.0.0.1:80") {
        ListWhat::Service(s) => assert_eq!(
            s.id.addr,
            ServiceAddr::Inet {
                protocol: Protocol::Tcp,
                addr: v4([10, 0, 0, 1]),
                port: 80
            }
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(command("-v -L"), Command::Version);
    assert_eq!(command("--version --foo"), Command::Version);
    assert_eq!(command("-h"), Command::Help);
    assert_eq!(command("-hL extra --foo"), Command::Help);
    assert_eq!(command("--help"), Command::Help);
    assert_eq!(command("-S -n"), Command::Save { numeric: true });
    assert_eq!(command("-Sn"), Command::Save { numeric: true });
    assert_eq!(command("--save"), Command::Save { numeric: false });
    assert_eq!(command("-R"), Command::Restore);
    assert_eq!(command("-C"), Command::Flush);
}

#[test]
fn leftover_before_the_command_is_still_unexpected() {
    assert_eq!(
        parse("foo -L").map_err(|e| e.message),
        Err("unexpected argument foo".to_string())
    );
}

fn add_service(line: &str) -> crate::model::Service {
    match command(line) {
        Command::AddService(s) | Command::EditService(s) | Command::DelService(s) => s,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn service_defaults_and_options() {
    let s = add_service("-A -t 10.0.0.1:80");
    assert_eq!(s.scheduler, "wlc");
    assert_eq!(s.flags, ServiceFlags::empty());
    assert_eq!(s.timeout, 0);
    assert_eq!(s.netmask, Netmask::V4(Ipv4Addr::BROADCAST));
    assert_eq!(s.pe_name, None);
    assert_eq!(s.id.family, Family::Inet);

    let s = add_service("-A -t 10.0.0.1 -p");
    assert_eq!((s.flags, s.timeout), (ServiceFlags::PERSISTENT, 360));
    let s = add_service("-A -t 10.0.0.1:80 -p 600 -s rr");
    assert_eq!((s.timeout, s.scheduler.as_str()), (600, "rr"));
    let s = add_service("-A -t 10.0.0.1:80 -p600 -srr");
    assert_eq!((s.timeout, s.scheduler.as_str()), (600, "rr"));
    let s = add_service("-A -t 10.0.0.1:80 -p -s rr");
    assert_eq!((s.timeout, s.scheduler.as_str()), (360, "rr"));
    let s = add_service("-A -t 10.0.0.1:80 -s averyveryverylongschedulername");
    assert_eq!(s.scheduler, "averyveryverylo");
    let s = add_service("-A -u 10.0.0.13:80 -o");
    assert_eq!(s.flags, ServiceFlags::ONEPACKET);
    let s = add_service("-A -u 10.0.0.26:80 -p --pe sip");
    assert_eq!(s.pe_name.as_deref(), Some("sip"));
    let s = add_service("-A --sctp-service 10.0.0.1:80");
    assert!(matches!(
        s.id.addr,
        ServiceAddr::Inet {
            protocol: Protocol::Sctp,
            ..
        }
    ));
    let s = add_service("-A -t 10.0.0.15:80 -b sh-port -s sh");
    assert_eq!(
        (s.flags, s.scheduler.as_str()),
        (ServiceFlags::SCHED2, "sh")
    );
    let s = add_service("-A -t 10.0.0.19:80 -s sh -b sh-fallback,sh-port");
    assert_eq!(s.flags, ServiceFlags::SCHED1 | ServiceFlags::SCHED2);
    // An edit replaces everything: nothing given means defaults.
    let s = add_service("-E -t 10.0.0.1:81");
    assert_eq!(
        (s.scheduler.as_str(), s.flags, s.timeout),
        ("wlc", ServiceFlags::empty(), 0)
    );
    // -D does not get the default scheduler.
    assert_eq!(add_service("-D -t 10.0.0.1:80").scheduler, "");
    // IPv4 shorthand forms.
    for (arg, addr) in [
        ("123:80", [0, 0, 0, 123]),
        ("10.1:80", [10, 0, 0, 1]),
        ("0x0a000001:80", [10, 0, 0, 1]),
    ] {
        let s = add_service(&format!("-A -t {arg}"));
        assert_eq!(
            s.id.addr,
            ServiceAddr::Inet {
                protocol: Protocol::Tcp,
                addr: v4(addr),
                port: 80
            },
            "{arg}"
        );
    }
}

#[test]
fn empty_sched_flags_are_ignored() {
    let inv = parse_args(
        "ipvsadm",
        &["-A", "-t", "10.0.0.22:80", "-s", "rr", "-b", ""].map(OsString::from),
    );
    match inv.map(|i| i.command) {
        Ok(Command::AddService(s)) => assert_eq!(s.flags, ServiceFlags::empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ipv6_services_and_netmasks() {
    let s = add_service("-A -t [2001:db8::1]:80");
    assert_eq!(s.id.family, Family::Inet6);
    assert_eq!(s.netmask, Netmask::V6(128));
    assert_eq!(
        s.id.addr,
        ServiceAddr::Inet {
            protocol: Protocol::Tcp,
            addr: v6("2001:db8::1"),
            port: 80
        }
    );
    let s = add_service("-A -t 2001:db8::8:80 -p");
    assert_eq!(
        s.id.addr,
        ServiceAddr::Inet {
            protocol: Protocol::Tcp,
            addr: v6("2001:db8::8:80"),
            port: 0
        }
    );
    let s = add_service("-A -t [2001:db8::20]:80 -p -M 64");
    assert_eq!(s.netmask, Netmask::V6(64));
    // An IPv6 address after -M resets the mask.
    let s = add_service("-A -M 64 -t [2001:db8::24]:80 -p");
    assert_eq!(s.netmask, Netmask::V6(128));
    let s = add_service("-A -t 10.0.0.9:80 -p -M 16");
    assert_eq!(s.netmask, Netmask::V4(Ipv4Addr::new(0, 0, 0, 16)));
    let s = add_service("-A -t 10.0.0.8:80 -p -M 255.255.0.0");
    assert_eq!(s.netmask, Netmask::V4(Ipv4Addr::new(255, 255, 0, 0)));
    let s = add_service("-A -t [::ffff:10.0.0.1]:80");
    assert_eq!(s.id.family, Family::Inet6);
}

#[test]
fn fwmark_services() {
    let s = add_service("-A -f 10 -6");
    assert_eq!(s.id.family, Family::Inet6);
    assert_eq!(s.id.addr, ServiceAddr::Fwmark(10));
    assert_eq!(s.netmask, Netmask::V6(128));
    let s = add_service("-A -f 20 -6 -p -M 48");
    assert_eq!(s.netmask, Netmask::V6(48));
    // -6 after -M resets the mask.
    let s = add_service("-A -f 21 -p -M 48 -6");
    assert_eq!(s.netmask, Netmask::V6(128));
    let s = add_service("-A -f 4294967295");
    assert_eq!(
        (s.id.family, s.id.addr),
        (Family::Inet, ServiceAddr::Fwmark(u32::MAX))
    );
    let s = add_service("-A -f 22 -o");
    assert_eq!(s.flags, ServiceFlags::ONEPACKET);
    let s = add_service("-A -f +7 --ipv6 --ipv6");
    assert_eq!(s.id.addr, ServiceAddr::Fwmark(7));
}

fn dest_of(line: &str) -> crate::model::Dest {
    match command(line) {
        Command::AddDest(_, d) | Command::EditDest(_, d) | Command::DelDest(_, d) => d,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn real_server_defaults_and_ports() {
    let d = dest_of("-a -t 10.0.0.1:81 -r 10.0.0.5:8080");
    assert_eq!((d.fwd, d.weight, d.port), (FwdMethod::Route, 1, 81));
    assert_eq!(
        (d.tun_type, d.tun_port, d.tun_flags),
        (TunnelType::Ipip, 0, TunnelFlags::empty())
    );
    let cases: &[(&str, u16, FwdMethod)] = &[
        (
            "-a -t 10.0.0.1:81 -r 10.0.0.5:8080 -g",
            81,
            FwdMethod::Route,
        ),
        (
            "-a -t 10.0.0.1:81 -r 10.0.0.6:8080 -i",
            81,
            FwdMethod::Tunnel,
        ),
        (
            "-a -t 10.0.0.1:81 -r 10.0.0.7:8080 -m",
            8080,
            FwdMethod::Masq,
        ),
        ("-a -t 10.0.0.1:81 -r 10.0.0.8 -m", 81, FwdMethod::Masq),
        ("-a -t 10.0.0.1:81 -r 10.0.0.9:0 -m", 0, FwdMethod::Masq),
        ("-a -f 1 -r 10.10.2.2 -g", 0, FwdMethod::Route),
        ("-a -f 1 -r 10.10.2.2:99 -i", 99, FwdMethod::Tunnel),
        // -r before -t: the service port is not known yet.
        ("-a -r 10.0.0.2 -t 10.0.0.1:80 -m", 0, FwdMethod::Masq),
        ("-e -t 10.0.0.1:81 -r 10.0.0.2:8080", 81, FwdMethod::Route),
        ("-d -t 10.0.0.1:81 -r 10.0.0.2", 81, FwdMethod::Route),
    ];
    for (line, port, fwd) in cases {
        let d = dest_of(line);
        assert_eq!((d.port, d.fwd), (*port, *fwd), "{line}");
    }
    let d = dest_of("-a -t 10.0.0.1:80 -r 10.0.0.11 -m -w 2147483647 -x 10 -y 5");
    assert_eq!((d.weight, d.u_threshold, d.l_threshold), (i32::MAX, 10, 5));
    assert_eq!(dest_of("-a -t 10.0.0.1:80 -r 10.0.0.4 -m -w +5").weight, 5);
    assert_eq!(dest_of("-a -t 10.0.0.1:80 -r 10.0.0.4 -mw0").weight, 0);
    let d = dest_of("-a -t 10.0.0.1:81 -r [2001:db8::10]:80 -i");
    assert_eq!(
        (d.family, d.addr, d.port),
        (Family::Inet6, v6("2001:db8::10"), 81)
    );
    let d = dest_of("-a -t [2001:db8::1]:80 -r 2001:db8::1 -g");
    assert_eq!((d.family, d.port), (Family::Inet6, 80));
    let d = dest_of(
        "-a -t 10.0.0.1:82 -r 10.0.1.8 -i --tun-type gue --tun-port 6080 --tun-remcsum",
    );
    assert_eq!(
        (d.tun_type, d.tun_port, d.tun_flags),
        (TunnelType::Gue, 6080, TunnelFlags::REMCSUM)
    );
    let d = dest_of("-a -t 10.0.0.1:82 -r 10.0.1.8 -i --tun-type gre --tun-csum");
    assert_eq!(
        (d.tun_type, d.tun_flags),
        (TunnelType::Gre, TunnelFlags::CSUM)
    );
    let d = dest_of(
        "-a -t 10.0.0.1:82 -r 10.0.1.8 -i --tun-type gue --tun-port 1 --tun-nocsum",
    );
    assert_eq!(d.tun_flags, TunnelFlags::empty());
}

#[test]
fn zero_and_timeouts() {
    assert_eq!(command("-Z"), Command::Zero(None));
    assert_eq!(command("-Z -t 0.0.0.0:0"), Command::Zero(None));
    assert_eq!(command("-Z -t [::]:0"), Command::Zero(None));
    assert!(matches!(
        command("-Z -t 10.0.0.1:80"),
        Command::Zero(Some(_))
    ));
    assert!(matches!(command("-Z -f 1"), Command::Zero(Some(_))));
    assert_eq!(
        command("--set 100 20 30"),
        Command::SetTimeouts(Timeouts {
            tcp: 100,
            tcp_fin: 20,
            udp: 30
        })
    );
    assert_eq!(
        command("--set 0 0 45"),
        Command::SetTimeouts(Timeouts {
            tcp: 0,
            tcp_fin: 0,
            udp: 45
        })
    );
}

use crate::model::Timeouts;

#[test]
fn daemons() {
    match command("--start-daemon master") {
        Command::StartDaemon(d) => {
            assert_eq!(d.state, DaemonState::Master);
            assert_eq!(d.mcast_ifn, "eth0");
            assert_eq!(d.syncid, 0);
            assert_eq!(
                (d.sync_maxlen, d.mcast_group, d.mcast_port, d.mcast_ttl),
                (None, None, None, None)
            );
        }
        other => panic!("{other:?}"),
    }
    match command(
        "--start-daemon=backup --mcast-interface tap1 --syncid 7 --sync-maxlen 1024 --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 5",
    ) {
        Command::StartDaemon(d) => {
            assert_eq!(d.state, DaemonState::Backup);
            assert_eq!(d.mcast_ifn, "tap1");
            assert_eq!(d.syncid, 7);
            assert_eq!(d.sync_maxlen, Some(1024));
            assert_eq!(d.mcast_group, Some(v4([239, 1, 2, 3])));
            assert_eq!((d.mcast_port, d.mcast_ttl), (Some(9000), Some(5)));
        }
        other => panic!("{other:?}"),
    }
    match command("--start-daemon master --mcast-group ff02::81") {
        Command::StartDaemon(d) => assert_eq!(d.mcast_group, Some(v6("ff02::81"))),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        command("--stop-daemon backup --syncid 3"),
        Command::StopDaemon {
            state: DaemonState::Backup,
            syncid: 3
        }
    );
}

#[test]
fn extensions() {
    let inv = ok("-Ln --json --pretty");
    assert_eq!(inv.output.style, OutputStyle::Json);
    assert!(inv.output.pretty);
    assert_eq!(ok("-L -j").output.style, OutputStyle::Json);
    assert_eq!(
        ok("-L --format=prometheus").output.style,
        OutputStyle::Prometheus
    );
    assert_eq!(ok("-L --format table").output.style, OutputStyle::Table);
    assert_eq!(ok("-L --format text").output.style, OutputStyle::Text);
    assert_eq!(ok("-L --watch").output.watch, Some(WatchInterval(2000)));
    assert_eq!(ok("-L --watch=0.5").output.watch, Some(WatchInterval(500)));
    let inv = ok("-L --watch=3 --count=4");
    assert_eq!(
        (inv.output.watch, inv.output.count),
        (Some(WatchInterval(3000)), Some(4))
    );
    assert_eq!(ok("-L --watch --count 2").output.count, Some(2));
    let inv = ok("--netns blue -Ln");
    assert_eq!(inv.netns.as_deref(), Some("blue"));
    assert!(matches!(inv.command, Command::List(_)));
    assert_eq!(
        ok("-A -t 10.0.0.1:80 --netns=/proc/1/ns/net")
            .netns
            .as_deref(),
        Some("/proc/1/ns/net")
    );
    assert!(ok("-R --atomic").atomic);
    assert!(ok("--atomic -R").atomic);
    // Extension options alone: the bare listing.
    let inv = ok("--json");
    assert_eq!(inv.command, parse::bare_list().command);
    assert_eq!(inv.output.style, OutputStyle::Json);
    assert_eq!(ok("--netns x").netns.as_deref(), Some("x"));
    assert_eq!(ok("--netns x -h").command, Command::Help);
}

fn restore(line: &str) -> Result<Invocation, UsageError> {
    offline();
    parse_restore_line("ipvsadm", &tokenize_restore_line(line.as_bytes()))
}

#[test]
fn restore_tokenizing() {
    let cases: &[(&[u8], &[&str])] = &[
        (
            b"-A -t 10.0.0.1:80 -s rr\n",
            &["-A", "-t", "10.0.0.1:80", "-s", "rr"],
        ),
        (b"  \t-C\r\n", &["-C"]),
        (b"ipvsadm -A -t x ipvsadm", &["-A", "-t", "x"]),
        (b"", &[]),
        (b"\n", &[]),
        (b"# a comment", &["#", "a", "comment"]),
        (b"-t \"10.0.0.2:80\"", &["-t", "\"10.0.0.2:80\""]),
        (b"ipvsadm-x", &["ipvsadm-x"]),
    ];
    for (line, want) in cases {
        assert_eq!(
            tokenize_restore_line(line),
            *want,
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn restore_lines() {
    assert!(matches!(
        restore("-A -t 10.0.0.1:80 -s rr").map(|i| i.command),
        Ok(Command::AddService(_))
    ));
    assert!(matches!(
        restore("ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2 -m").map(|i| i.command),
        Ok(Command::AddDest(..))
    ));
    assert_eq!(
        restore("--set 1 2 3").map(|i| i.command),
        Ok(Command::SetTimeouts(Timeouts {
            tcp: 1,
            tcp_fin: 2,
            udp: 3
        }))
    );
    assert_eq!(restore("-C").map(|i| i.command), Ok(Command::Flush));
    let err = |line: &str| {
        restore(line)
            .map(|i| i.command)
            .map_err(|e| (e.message, e.exit_code))
    };
    assert_eq!(err("# a comment line"), Err((TRY.to_string(), 255)));
    // ipvsadm's recursion guard.
    assert_eq!(err("-R"), Err((TRY.to_string(), 255)));
    assert_eq!(
        err("-A -t 10.0.0.5:80 -s rr -p 10 # comment -p 20"),
        Err(("multiple 'persistent' options specified".to_string(), 2))
    );
    assert_eq!(
        err("-A -t \"10.0.0.2:80\" -s rr"),
        Err((
            "illegal virtual server address[:port] specified".to_string(),
            2
        ))
    );
    // Listings work inside restore input too, as in ipvsadm.
    assert!(matches!(
        restore("-L -n").map(|i| i.command),
        Ok(Command::List(_))
    ));
    assert_eq!(
        restore("-S -n").map(|i| i.command),
        Ok(Command::Save { numeric: true })
    );
    let popt = restore("-A -t 10.0.0.1:80 -b").expect_err("missing argument");
    assert_eq!(
        (popt.message.as_str(), popt.exit_code),
        ("-b: missing argument", 255)
    );
    assert!(restore("-A -t 10.0.0.1:80 --netns x").is_err());
    assert!(restore("--netns x -C").is_err());
    assert_eq!(
        parse_restore_line("ipvsadm", &[]).map_err(|e| e.message),
        Err(TRY.to_string())
    );
    let nul = parse_restore_line("ipvsadm", &["-C".to_string(), "a\0b".to_string()]);
    assert_eq!(nul.map_err(|e| e.exit_code), Err(2));
}

#[test]
fn help_and_version_texts() {
    let version = version_text();
    assert!(version.starts_with("ipvsadm-rs "));
    assert!(version.contains("ipvsadm v1.31 2019/12/24"));
    assert!(!version.ends_with('\n'));
    let help = help_text("/sbin/ipvsadm");
    assert!(help.starts_with(&format!("{version}\nUsage:\n")));
    assert!(help.ends_with("indented)\n") && !help.ends_with("\n\n"));
    assert!(help.contains("  /sbin/ipvsadm -A|E virtual-service"));
    for spec in options::OPTIONS {
        assert!(
            help.contains(&format!("--{}", spec.long)),
            "help lacks --{}",
            spec.long
        );
    }
}

#[test]
fn clap_command_matches_the_option_table() {
    let cmd = clap_command();
    cmd.clone().debug_assert();
    let clap_longs: Vec<String> = cmd
        .get_arguments()
        .filter_map(|a| a.get_long().map(String::from))
        .collect();
    for spec in options::OPTIONS {
        assert!(
            clap_longs.iter().any(|l| l == spec.long),
            "clap lacks --{}",
            spec.long
        );
        for short in spec.shorts {
            let found = cmd.get_arguments().any(|a| {
                a.get_long() == Some(spec.long)
                    && (a.get_short() == Some(*short)
                        || a.get_visible_short_aliases()
                            .is_some_and(|s| s.contains(short))
                        || a.get_all_short_aliases().is_some_and(|s| s.contains(short)))
            });
            assert!(found, "clap lacks -{short} for --{}", spec.long);
        }
    }
    for long in &clap_longs {
        assert!(
            options::find_long(long).is_some(),
            "--{long} is not in the option table"
        );
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("-A".to_string()),
            Just("-a".to_string()),
            Just("-L".to_string()),
            Just("-t".to_string()),
            Just("-r".to_string()),
            Just("-p".to_string()),
            Just("-M".to_string()),
            Just("-b".to_string()),
            Just("--".to_string()),
            Just("--watch=".to_string()),
            Just("-6".to_string()),
            Just("-f".to_string()),
            Just("[::1]:80".to_string()),
            Just("10.0.0.1:80".to_string()),
            "-[a-zA-Z0-9=]{1,4}",
            "--[a-z-]{1,16}(=[a-z0-9.:]{0,6})?",
            "[0-9.:\\[\\]a-f,]{0,12}",
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn parse_args_never_panics(words in proptest::collection::vec(word(), 0..10)) {
            offline();
            let args: Vec<OsString> = words.into_iter().map(OsString::from).collect();
            if let Err(e) = parse_args("ipvsadm", &args) {
                prop_assert!(e.exit_code == 2 || e.exit_code == 255, "{:?}", e);
                prop_assert!(!e.message.is_empty());
            }
        }

        #[test]
        fn masquerading_servers_keep_every_value(
            vip in any::<[u8; 4]>(),
            vport in 1u16..,
            rip in any::<[u8; 4]>(),
            rport in any::<u16>(),
            weight in 0i32..,
            udp in any::<bool>(),
        ) {
            offline();
            let vip = Ipv4Addr::from(vip);
            let rip = Ipv4Addr::from(rip);
            let proto = if udp { "-u" } else { "-t" };
            let line = format!("-a {proto} {vip}:{vport} -r {rip}:{rport} -m -w {weight}");
            let inv = parse(&line).map_err(|e| TestCaseError::fail(format!("{line}: {e:?}")))?;
            let Command::AddDest(svc, dest) = inv.command else {
                return Err(TestCaseError::fail(format!("{line}: not an AddDest")));
            };
            let protocol = if udp { Protocol::Udp } else { Protocol::Tcp };
            prop_assert_eq!(
                svc.id.addr,
                ServiceAddr::Inet { protocol, addr: IpAddr::V4(vip), port: vport }
            );
            prop_assert_eq!((dest.addr, dest.port, dest.weight), (IpAddr::V4(rip), rport, weight));
            prop_assert_eq!(dest.fwd, FwdMethod::Masq);
        }

        /// Tokens are split at the same bytes whether the line is UTF-8
        /// (checked once) or not (read lossily, token by token).
        #[test]
        fn restore_tokens_are_split_at_separator_bytes(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b' '), Just(b'\t'), Just(b'\r'), Just(0xc3), Just(0xa9), any::<u8>()],
                0..60,
            ),
            text in "[ \t\ra-zé€-]{0,40}",
        ) {
            for line in [bytes.clone(), text.clone().into_bytes()] {
                let reference: Vec<String> = line
                    .split(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                    .filter(|t| !t.is_empty() && *t != b"ipvsadm")
                    .map(|t| String::from_utf8_lossy(t).into_owned())
                    .collect();
                prop_assert_eq!(tokenize_restore_line(&line), reference);
            }
        }

        /// `-R` parses its lines from borrowed tokens: the same results as
        /// from the owned ones, blank and comment lines skipped.
        #[test]
        fn restore_lines_parse_the_same_borrowed_or_owned(
            words in proptest::collection::vec(word(), 0..10),
            separator in prop_oneof![Just(" "), Just("\t"), Just(" \r ")],
            bytes in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            offline();
            for line in [words.join(separator).into_bytes(), bytes.clone()] {
                let tokens = tokenize_restore_line(&line);
                let owned = (!tokens.is_empty() && !tokens[0].starts_with('#'))
                    .then(|| parse_restore_line("ipvsadm", &tokens));
                let mut scratch = Vec::new();
                let borrowed = parse_restore_bytes("ipvsadm", &line, &mut scratch);
                prop_assert_eq!(borrowed, owned);
            }
        }

        #[test]
        fn restore_never_panics(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            offline();
            let tokens = tokenize_restore_line(&line);
            let _ = parse_restore_line("ipvsadm", &tokens);
        }

        #[test]
        fn restore_never_panics_on_likely_lines(words in proptest::collection::vec(word(), 0..10)) {
            offline();
            let line = words.join(" ");
            let tokens = tokenize_restore_line(line.as_bytes());
            let _ = parse_restore_line("ipvsadm", &tokens);
        }
    }
}

/// Names from the hosts and services files (present on any Linux system
/// these tests run on; skipped where they are not).
#[test]
fn host_and_service_names() {
    let has_localhost = std::fs::read_to_string("/etc/hosts").is_ok_and(|h| {
        h.lines()
            .any(|l| l.starts_with("127.0.0.1") && l.contains("localhost"))
    });
    if has_localhost {
        let s = add_service("-A -t localhost:80 -p -M localhost");
        assert_eq!(
            s.id.addr,
            ServiceAddr::Inet {
                protocol: Protocol::Tcp,
                addr: v4([127, 0, 0, 1]),
                port: 80
            }
        );
        assert_eq!(s.netmask, Netmask::V4(Ipv4Addr::LOCALHOST));
    }
    if values::service_port("domain", Some(Protocol::Udp)) == Some(53) {
        let s = add_service("-A -u 10.0.0.1:domain");
        assert!(matches!(s.id.addr, ServiceAddr::Inet { port: 53, .. }));
    }
    if values::service_port("http", Some(Protocol::Tcp)) == Some(80)
        && values::service_port("http", Some(Protocol::Udp)).is_none()
    {
        assert_eq!(
            parse("-A -u 10.0.0.1:http").map_err(|e| e.message),
            Err("illegal virtual server address[:port] specified".to_string())
        );
        let d = dest_of("-a -t 10.0.0.1:81 -r 10.0.0.10:http -m");
        assert_eq!(d.port, 80);
        // -r before any service has no protocol to look names up with.
        assert_eq!(
            parse("-a -r 10.0.0.10:http -t 10.0.0.1:81 -m").map_err(|e| e.message),
            Err("illegal real server address[:port] specified".to_string())
        );
    }
}

#[test]
fn drain_option() {
    use std::time::Duration;
    let inv = ok("-d -t 10.0.0.1:80 -r 10.0.0.2:80 --drain");
    assert_eq!(inv.drain, Some(Duration::from_secs(300)));
    assert!(matches!(inv.command, Command::DelDest(..)));
    let drain = |line: &str| ok(line).drain;
    assert_eq!(
        drain("-d -t 10.0.0.1:80 -r 10.0.0.2 --drain=5"),
        Some(Duration::from_secs(5))
    );
    assert_eq!(
        drain("--delete-server -f 1 -r 10.0.0.2 --drain=0"),
        Some(Duration::ZERO)
    );
    assert_eq!(
        drain("-d --sctp-service 10.0.0.1:80 -r 10.0.0.2 --drain=2147483647"),
        Some(Duration::from_secs(2147483647))
    );
    assert_eq!(drain("-d -t 10.0.0.1:80 -r 10.0.0.2"), None);
    // The option may come before the command, as our other extensions.
    assert_eq!(
        drain("--drain=7 -d -u 10.0.0.1:53 -r 10.0.0.2"),
        Some(Duration::from_secs(7))
    );
    for (line, message) in [
        (
            "-d -t 10.0.0.1:80 -r 10.0.0.2 --drain=x",
            "invalid drain timeout `x' specified (expected whole seconds, 0 or more)",
        ),
        (
            "-d -t 10.0.0.1:80 -r 10.0.0.2 --drain=-1",
            "invalid drain timeout `-1' specified (expected whole seconds, 0 or more)",
        ),
        (
            "-d -t 10.0.0.1:80 -r 10.0.0.2 --drain=",
            "invalid drain timeout `' specified (expected whole seconds, 0 or more)",
        ),
        (
            "-d -t 10.0.0.1:80 -r 10.0.0.2 --drain=1.5",
            "invalid drain timeout `1.5' specified (expected whole seconds, 0 or more)",
        ),
        (
            "-d -t 10.0.0.1:80 -r 10.0.0.2 --drain=2147483648",
            "invalid drain timeout `2147483648' specified (expected whole seconds, 0 or more)",
        ),
        (
            "-d -t 10.0.0.1:80 -r 10.0.0.2 --drain --drain=3",
            "multiple 'drain' options specified",
        ),
        (
            "-a -t 10.0.0.1:80 -r 10.0.0.2 --drain",
            "Illegal 'drain' option with the 'add-server' command",
        ),
        (
            "-D -t 10.0.0.1:80 --drain",
            "Illegal 'drain' option with the 'delete-service' command",
        ),
        (
            "-L --drain",
            "Illegal 'drain' option with the 'list' command",
        ),
        ("--drain", "Illegal 'drain' option with the 'list' command"),
        (
            "-R --drain",
            "The 'drain' option with -R needs the 'replace' option",
        ),
        // ipvsadm's own checks come first: -d needs a real server.
        (
            "-d -t 10.0.0.1:80 --drain",
            "You need to supply the 'real-server' option for the 'delete-server' command",
        ),
        // Only `--drain=SECONDS` takes a value.
        (
            "-d -t 10.0.0.1:80 -r 10.0.0.2 --drain 5",
            "unexpected argument 5",
        ),
    ] {
        let e = parse(line).expect_err(line);
        assert_eq!((e.message.as_str(), e.exit_code), (message, 2), "{line}");
    }
    let e = restore("-d -t 10.0.0.1:80 -r 10.0.0.2 --drain").expect_err("in -R input");
    assert_eq!(
        e.message,
        "the '--drain' option is not allowed in restore input"
    );
}

#[test]
fn check_command() {
    assert_eq!(
        command("--check"),
        Command::Check {
            service: None,
            verbose: false
        }
    );
    let inv = ok("--check -t 10.0.0.1:80 --verbose --json --pretty");
    match &inv.command {
        Command::Check {
            service: Some(svc),
            verbose: true,
        } => assert_eq!(
            svc.id.addr,
            ServiceAddr::Inet {
                protocol: Protocol::Tcp,
                addr: v4([10, 0, 0, 1]),
                port: 80
            }
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(inv.output.style, OutputStyle::Json);
    assert!(inv.output.pretty);
    // Extensions may come first, as with listings; -n is accepted.
    assert!(matches!(
        command("--netns blue --json --check -n -f 7"),
        Command::Check {
            service: Some(_),
            ..
        }
    ));
    for (line, message, status) in [
        (
            "--check -r 10.0.0.2",
            "Illegal 'real-server' option with the 'check' command",
            2,
        ),
        (
            "--check --stats",
            "Illegal 'stats' option with the 'check' command",
            2,
        ),
        (
            "--check --watch",
            "Illegal 'watch' option with the 'check' command",
            2,
        ),
        (
            "--check --format table",
            "the '--check' command writes text or JSON (--format text|json)",
            2,
        ),
        (
            "-L --verbose",
            "Illegal 'verbose' option with the 'list' command",
            2,
        ),
        ("-L --check", "invalid option `--check'", 2),
        ("--check --check", "invalid option `--check'", 2),
    ] {
        assert_eq!(
            parse(line),
            Err(UsageError {
                message: message.to_string(),
                exit_code: status
            }),
            "{line}"
        );
    }
}

#[test]
fn check_is_not_a_restore_line() {
    offline();
    assert_eq!(
        parse_restore_line("ipvsadm", &["--check".to_string()]).map(|_| ()),
        Err(UsageError {
            message: "the '--check' command is not allowed in restore input".to_string(),
            exit_code: 2
        })
    );
}

#[test]
fn restore_takes_replace_dry_run_and_formats() {
    let restore = |line: &str| {
        let inv = ok(line);
        assert_eq!(inv.command, Command::Restore, "{line}");
        inv.restore
    };
    assert_eq!(restore("-R"), RestoreOptions::default());
    assert_eq!(
        restore("-R --replace"),
        RestoreOptions {
            replace: true,
            ..RestoreOptions::default()
        }
    );
    assert_eq!(
        restore("--format json -R --replace --dry-run --json --pretty"),
        RestoreOptions {
            replace: true,
            dry_run: true,
            json_input: true,
            json_plan: true,
            pretty: true,
            drain: None,
        }
    );
    assert_eq!(
        restore("-R --format json"),
        RestoreOptions {
            json_input: true,
            ..RestoreOptions::default()
        }
    );
    assert!(!restore("-R --format text --replace").json_input);
    assert!(ok("-R --replace --atomic").atomic);
}

#[test]
fn replace_takes_drain_and_plain_restore_does_not() {
    use std::time::Duration;
    let inv = ok("-R --replace --drain");
    assert_eq!(inv.restore.drain, Some(Duration::from_secs(300)));
    // The timeout is the replace's, not a `-d`'s.
    assert_eq!(inv.drain, None);
    assert_eq!(
        ok("--drain=5 --replace -R").restore.drain,
        Some(Duration::from_secs(5))
    );
    assert_eq!(ok("-R --replace").restore.drain, None);
    assert_eq!(
        ok("-d -t 10.0.0.1:80 -r 10.0.0.2 --drain=5").restore.drain,
        None
    );
    let e = parse("-R --replace --drain=x").expect_err("a bad timeout");
    assert_eq!(
        e.message,
        "invalid drain timeout `x' specified (expected whole seconds, 0 or more)"
    );
}
