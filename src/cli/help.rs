//! `-h` and `-v` texts, in ipvsadm's layout.

/// The schedulers ipvsadm 1.31 lists (any name is passed to the kernel).
const SCHEDULERS: &str = "rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh";

/// `-v`: names this tool and the ipvsadm release it follows. No trailing
/// newline.
pub fn version_text() -> String {
    format!(
        "ipvsadm-rs {} (compatible with ipvsadm v1.31 2019/12/24)",
        env!("CARGO_PKG_VERSION")
    )
}

/// `-h`: ipvsadm 1.31's usage text (with `argv0` as the program name),
/// corrected where ipvsadm's is wrong (`--syncid` defaults to 0), plus our
/// extensions. Ends with a newline, like ipvsadm's (print it as is);
/// [`version_text`] does not.
pub fn help_text(argv0: &str) -> String {
    let p = argv0;
    format!(
        "{version}
Usage:
  {p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  {p} -D virtual-service
  {p} -C
  {p} -R [--atomic] [--format text|json]
  {p} -R --replace [--dry-run [--json [--pretty]]] [--atomic] [--drain[=seconds]] [--format text|json]
  {p} -S [-n]
  {p} -a|e virtual-service -r server-address [options]
  {p} -d virtual-service -r server-address [--drain[=seconds]]
  {p} -L|l [virtual-service] [options] [output-options]
  {p} -Z [virtual-service]
  {p} --set tcp tcpfin udp
  {p} --start-daemon {{master|backup}} [daemon-options]
  {p} --stop-daemon {{master|backup}}
  {p} --check [virtual-service] [--verbose] [--json [--pretty]]
  {p} -h

Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message
  --version         -v        display the version

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --ipv6         -6                   fwmark entry uses IPv6
  --scheduler    -s scheduler         one of {SCHEDULERS},
                                      the default scheduler is wlc.
  --pe            engine              alternate persistence engine may be sip,
                                      not set by default.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --tun-type      type                one of ipip|gue|gre,
                                      the default tunnel type is ipip.
  --tun-port      port                tunnel destination port
  --tun-nocsum                        tunnel encapsulation without checksum
  --tun-csum                          tunnel encapsulation with checksum
  --tun-remcsum                       tunnel encapsulation with remote checksum
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact        -X                   expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --tun-info                          output of tunnel information
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
Daemon Options:
  --syncid sid                        syncid for connection sync (default=0)
  --sync-maxlen length                Max sync message length (default=1472)
  --mcast-interface interface         multicast interface for connection sync
  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)
  --mcast-port port                   UDP port (default=8848)
  --mcast-ttl ttl                     Multicast TTL (default=1)

Output Options (ipvsadm-rs extensions, with -L|-l; --json, --format and --pretty
also with --check):
  --json         -j                   JSON output (same as --format json)
  --format       format               one of text|json|table|prometheus,
                                      the default format is text.
  --pretty                            indent JSON output
  --watch[=seconds]                   redraw the listing every few seconds
                                      (default 2, fractions allowed)
  --count        n                    with --watch: stop after n updates
Other Extensions:
  --check                             say why a virtual service may not answer
                                      (exit status 1 when problems are found)
  --verbose                           with --check: also list the IPVS settings
  --netns        name|path            run in that network namespace
                                      (may also come before the command)
  --atomic                            with -R: undo all changes if a line fails
  --drain[=seconds]                   with -d: set the weight to 0, wait up to
                                      seconds (default 300, 0: do not wait) until
                                      no connection is left, then delete; with
                                      -R --replace: so for each server removed
Declarative Tables (ipvsadm-rs extensions, with -R only):
  --replace                           make the table exactly equal to the input,
                                      editing in place what differs
  --dry-run                           with --replace: print the changes as -R
                                      lines, change nothing (exit 0: none, 1: some)
  --format       text|json            input format (json: what -L --json writes)
  --json         -j                   with --dry-run: the changes as one JSON
                                      document (--pretty: indented)
",
        version = version_text(),
    )
}
