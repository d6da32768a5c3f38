//! Golden tests: model values in, the spec's captured bytes out.

use pretty_assertions::assert_eq;

use super::*;
use crate::output::fixtures::*;
use crate::resolve::FakeResolver;

/// `ipvsadm -Ln`
const LN_REFERENCE: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
FWM  -1 rr
TCP  192.168.100.100:80 dh
TCP  1.2.3.4:80 sed
TCP  10.200.1.76:0 lc persistent 600 mask 255.255.255.0
TCP  10.200.1.76:80 wlc
  -> 192.168.100.100:80           Route   2      0          0         
  -> 10.10.1.2:80                 Route   1      0          0         
  -> 10.10.2.2:80                 Tunnel  1      0          0         
TCP  10.200.1.76:443 wlc persistent 360
TCP  10.200.1.76:8000 rr (flag-1,flag-3)
TCP  10.200.1.76:8001 lblc
TCP  10.200.1.76:8002 lblcr
TCP  127.0.0.1:80 ovf
  -> 127.0.0.1:80                 Route   1      0          0         
TCP  200.1.1.1:80 fo
TCP  10.200.1.76:9000 rr
  -> 10.10.1.2:80                 Masq    1      0          0         
  -> 10.10.2.2:80                 Masq    3      0          0         
  -> 10.10.3.2:9000               Masq    0      0          0         
UDP  10.200.1.76:53 wrr ops
  -> 10.10.1.2:53                 Masq    1      0          0         
UDP  10.200.1.76:5060 rr persistent 60 pe sip
SCTP 10.200.1.76:3868 nq
  -> 10.10.1.2:3868               Masq    1      0          0         
TCP  [2001:db8::1]:80 sh (sh-fallback,sh-port) persistent 100 mask 64
UDP  [2001:db8::1]:53 wrr
  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fffe]:53 Masq    1      0          0         
  -> [2001:db8::10]:5353          Masq    5      0          0         
FWM  1 rr
  -> 10.10.1.2:80                 Masq    1      0          0         
  -> 10.10.2.2:0                  Route   1      0          0         
FWM  2 IPv6 mh (mh-port)
  -> [2001:db8::10]:0             Route   1      0          0         
";

/// `ipvsadm -Ln --nosort`
const LN_NOSORT: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
SCTP 10.200.1.76:3868 nq
  -> 10.10.1.2:3868               Masq    1      0          0         
TCP  10.200.1.76:443 wlc persistent 360
TCP  [2001:db8::1]:80 sh (sh-fallback,sh-port) persistent 100 mask 64
UDP  [2001:db8::1]:53 wrr
  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fffe]:53 Masq    1      0          0         
  -> [2001:db8::10]:5353          Masq    5      0          0         
UDP  10.200.1.76:5060 rr persistent 60 pe sip
TCP  1.2.3.4:80 sed
TCP  127.0.0.1:80 ovf
  -> 127.0.0.1:80                 Route   1      0          0         
TCP  200.1.1.1:80 fo
TCP  10.200.1.76:9000 rr
  -> 10.10.3.2:9000               Masq    0      0          0         
  -> 10.10.2.2:80                 Masq    3      0          0         
  -> 10.10.1.2:80                 Masq    1      0          0         
TCP  10.200.1.76:0 lc persistent 600 mask 255.255.255.0
UDP  10.200.1.76:53 wrr ops
  -> 10.10.1.2:53                 Masq    1      0          0         
TCP  10.200.1.76:8001 lblc
TCP  10.200.1.76:8000 rr (flag-1,flag-3)
TCP  10.200.1.76:8002 lblcr
TCP  10.200.1.76:80 wlc
  -> 192.168.100.100:80           Route   2      0          0         
  -> 10.10.2.2:80                 Tunnel  1      0          0         
  -> 10.10.1.2:80                 Route   1      0          0         
TCP  192.168.100.100:80 dh
FWM  -1 rr
FWM  1 rr
  -> 10.10.2.2:0                  Route   1      0          0         
  -> 10.10.1.2:80                 Masq    1      0          0         
FWM  2 IPv6 mh (mh-port)
  -> [2001:db8::10]:0             Route   1      0          0         
";

/// `ipvsadm`
const EMPTY_TABLE: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
";

/// `ipvsadm -Ln --stats`
const LN_STATS: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.0.0.1:80                         1   292973   292971  315234K 15234500
  -> 10.0.0.1:80                         1   292973   292971  315234K 15234500
TCP  10.0.0.3:80                         0        0        0        0        0
  -> 10.0.0.3:80                         0        0        0        0        0
UDP  10.0.0.1:53                         0        0        0        0        0
  -> 10.10.1.2:53                        0        0        0        0        0
TCP  [2001:db8::1]:80                    0        0        0        0        0
  -> [2001:db8::1]:80                    0        0        0        0        0
";

/// `ipvsadm -Ln --stats --exact`
const LN_STATS_EXACT: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.0.0.1:80                         1   292973   292971 315234604 15234500
  -> 10.0.0.1:80                         1   292973   292971 315234604 15234500
TCP  10.0.0.3:80                         0        0        0        0        0
  -> 10.0.0.3:80                         0        0        0        0        0
UDP  10.0.0.1:53                         0        0        0        0        0
  -> 10.10.1.2:53                        0        0        0        0        0
TCP  [2001:db8::1]:80                    0        0        0        0        0
  -> [2001:db8::1]:80                    0        0        0        0        0
";

/// `ipvsadm -Ln --rate`
const LN_RATE: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS
  -> RemoteAddress:Port
TCP  10.0.0.1:80                         0     1967     1966  2115802   102256
  -> 10.0.0.1:80                         0     1967     1966  2115802   102256
TCP  10.0.0.3:80                         0        0        0        0        0
  -> 10.0.0.3:80                         0        0        0        0        0
UDP  10.0.0.1:53                         0        0        0        0        0
  -> 10.10.1.2:53                        0        0        0        0        0
TCP  [2001:db8::1]:80                    0        0        0        0        0
  -> [2001:db8::1]:80                    0        0        0        0        0
";

/// `ipvsadm -Ln --rate --exact`
const LN_RATE_EXACT: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS
  -> RemoteAddress:Port
TCP  10.0.0.1:80                         0     1967     1966  2115802   102256
  -> 10.0.0.1:80                         0     1967     1966  2115802   102256
TCP  10.0.0.3:80                         0        0        0        0        0
  -> 10.0.0.3:80                         0        0        0        0        0
UDP  10.0.0.1:53                         0        0        0        0        0
  -> 10.10.1.2:53                        0        0        0        0        0
TCP  [2001:db8::1]:80                    0        0        0        0        0
  -> [2001:db8::1]:80                    0        0        0        0        0
";

/// `ipvsadm -Ln -t [2001:db8::1]:80 --stats`
const LN_V6_STATS: &str = "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  [2001:db8::1]:80                    0        0        0        0        0
  -> 192.168.100.100:80                  0        0        0        0        0
  -> 10.0.0.2:80                         0        0        0        0        0
  -> [2001:db8:1234:5678:9abc:def0:1234:5678]:8080        0        0        0        0        0
";

/// `ipvsadm -L --stats`
const L_STATS_NAMES: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
FWM  -1                                  0        0        0        0        0
TCP  a-very-long-hostname-for-tru        0        0        0        0        0
TCP  1.2.3.4:http                        0        0        0        0        0
TCP  vip.example.com:0                   0        0        0        0        0
TCP  vip.example.com:http                0        0        0        0        0
  -> a-very-long-hostname-for-tru        0        0        0        0        0
  -> rs1.example.com:http                0        0        0        0        0
  -> rs2:http                            0        0        0        0        0
TCP  vip.example.com:https               0        0        0        0        0
TCP  vip.example.com:8000                0        0        0        0        0
TCP  vip.example.com:8001                0        0        0        0        0
TCP  vip.example.com:8002                0        0        0        0        0
TCP  localhost:http                      0        0        0        0        0
  -> localhost:http                      0        0        0        0        0
TCP  200.1.1.1:http                      0        0        0        0        0
TCP  vip.example.com:9000                0        0        0        0        0
  -> rs1.example.com:http                0        0        0        0        0
  -> rs2:http                            0        0        0        0        0
  -> 10.10.3.2:9000                      0        0        0        0        0
UDP  vip.example.com:domain              0        0        0        0        0
  -> rs1.example.com:domain              0        0        0        0        0
UDP  vip.example.com:sip                 0        0        0        0        0
SCTP vip.example.com:3868                0        0        0        0        0
  -> rs1.example.com:3868                0        0        0        0        0
TCP  [vip6.example.com]:http             0        0        0        0        0
UDP  [vip6.example.com]:domain           0        0        0        0        0
  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fffe]:domain        0        0        0        0        0
  -> [rs6.example.com]:mdns              0        0        0        0        0
FWM  1                                   0        0        0        0        0
  -> rs1.example.com:80                  0        0        0        0        0
  -> rs2:0                               0        0        0        0        0
FWM  2 IPv6                              0        0        0        0        0
  -> [rs6.example.com]:0                 0        0        0        0        0
";

/// `ipvsadm -Ln --thresholds`
const LN_THRESHOLDS: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn 
  -> RemoteAddress:Port
TCP  10.0.0.1:80 rr
  -> 10.0.0.2:80                  0          0          0          0         
  -> 10.0.0.9:80                  0          0          0          0         
  -> 10.0.0.10:80                 0          0          0          0         
  -> 10.0.0.11:80                 0          0          0          0         
  -> 10.0.0.15:80                 2147483647 2147483647 0          0         
";

/// `ipvsadm -Ln --thresholds`
const LN_THRESHOLDS_EMPTY: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn 
  -> RemoteAddress:Port
";

/// `ipvsadm -Ln --persistent-conn`
const LN_PERSISTENT: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn 
  -> RemoteAddress:Port
TCP  10.200.1.76:80 rr persistent 120
  -> 10.200.1.76:80               1         1           1          0         
UDP  10.0.0.1:53 rr ops
  -> 10.10.2.2:53                 1         0           0          0         
UDP  10.200.1.76:53 rr
  -> 10.10.1.2:53                 1         0           0          1         
TCP  [2001:db8::1]:80 rr
  -> [2001:db8::1]:80             1         0           1          0         
";

/// `ipvsadm -L --persistent-conn`
const L_PERSISTENT_NAMES: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn 
  -> RemoteAddress:Port
TCP  vip.example.com:http rr persistent 120
  -> vip.example.com:http         1         1           1          0         
UDP  10.0.0.1:domain rr ops
  -> rs2:domain                   1         0           0          0         
UDP  vip.example.com:domain rr
  -> rs1.example.com:domain       1         0           0          1         
TCP  [vip6.example.com]:http rr
  -> [vip6.example.com]:http      1         0           1          0         
";

/// `ipvsadm -Ln -t 10.0.0.1:82 --tun-info`
const LN_TUN_INFO: &str = "Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn
TCP  10.0.0.1:82 rr
  -> 10.0.1.1:82                  Tunnel  gue:6080:-c   1      0          0         
  -> 10.0.1.2:82                  Tunnel  gue:6080:+c   1      0          0         
  -> 10.0.1.3:82                  Tunnel  gue:6081:r+c  1      0          0         
  -> 10.0.1.4:82                  Tunnel  gre:-c        1      0          0         
  -> 10.0.1.5:82                  Tunnel  gre:+c        1      0          0         
  -> 10.0.1.6:82                  Tunnel  ipip          1      0          0         
  -> 10.0.1.7:82                  Tunnel  gue:6080:-c   1      0          0         
";

/// `ipvsadm -Ln -t [2001:db8::1]:80 --tun-info`
const LN_V6_TUN_INFO: &str = "Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn
TCP  [2001:db8::1]:80 rr
  -> 192.168.100.100:80           Tunnel  ipip          1      0          0         
  -> 10.0.0.2:80                  Tunnel  ipip          1      0          0         
  -> [2001:db8:1234:5678:9abc:def0:1234:5678]:8080 Masq    n/a           12345678 0          0         
";

/// `ipvsadm -L -n -t 10.200.1.76:9000`
const SINGLE_9000: &str = "Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.200.1.76:9000 rr
  -> 10.10.1.2:80                 Masq    1      0          0         
  -> 10.10.2.2:80                 Masq    3      0          0         
  -> 10.10.3.2:9000               Masq    0      0          0         
";

/// `ipvsadm -L -t 10.200.1.76:9000`
const SINGLE_9000_NAMES: &str = "Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  vip.example.com:9000 rr
  -> rs1.example.com:http         Masq    1      0          0         
  -> rs2:http                     Masq    3      0          0         
  -> 10.10.3.2:9000               Masq    0      0          0         
";

/// `ipvsadm -L -n -t 10.200.1.76:9000 --stats`
const SINGLE_9000_STATS: &str =
    "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.200.1.76:9000                    0        0        0        0        0
  -> 10.10.1.2:80                        0        0        0        0        0
  -> 10.10.2.2:80                        0        0        0        0        0
  -> 10.10.3.2:9000                      0        0        0        0        0
";

/// `ipvsadm -L -n -f 2 -6`
const SINGLE_FWM2_V6: &str = "Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
FWM  2 IPv6 mh (mh-port)
  -> [2001:db8::10]:0             Route   1      0          0         
";

/// `ipvsadm -L -n -t 10.200.1.76:http`
const SINGLE_80: &str = "Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.200.1.76:80 wlc
  -> 192.168.100.100:80           Route   2      0          0         
  -> 10.10.1.2:80                 Route   1      0          0         
  -> 10.10.2.2:80                 Tunnel  1      0          0         
";

/// `ipvsadm -Ln --persistent-conn`
const PERSISTENT_EMPTY: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn 
  -> RemoteAddress:Port
";

/// `ipvsadm -Ln --tun-info`
const TUN_INFO_EMPTY: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn
";

/// `ipvsadm -Ln --exact`
const LN_EXACT: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
FWM  -1 rr
TCP  192.168.100.100:80 dh
TCP  1.2.3.4:80 sed
TCP  10.200.1.76:0 lc persistent 600 mask 255.255.255.0
TCP  10.200.1.76:80 wlc
  -> 192.168.100.100:80           Route   2      0          0         
  -> 10.10.1.2:80                 Route   1      0          0         
  -> 10.10.2.2:80                 Tunnel  1      0          0         
TCP  10.200.1.76:443 wlc persistent 360
TCP  10.200.1.76:8000 rr (flag-1,flag-3)
TCP  10.200.1.76:8001 lblc
TCP  10.200.1.76:8002 lblcr
TCP  127.0.0.1:80 ovf
  -> 127.0.0.1:80                 Route   1      0          0         
TCP  200.1.1.1:80 fo
TCP  10.200.1.76:9000 rr
  -> 10.10.1.2:80                 Masq    1      0          0         
  -> 10.10.2.2:80                 Masq    3      0          0         
  -> 10.10.3.2:9000               Masq    0      0          0         
UDP  10.200.1.76:53 wrr ops
  -> 10.10.1.2:53                 Masq    1      0          0         
UDP  10.200.1.76:5060 rr persistent 60 pe sip
SCTP 10.200.1.76:3868 nq
  -> 10.10.1.2:3868               Masq    1      0          0         
TCP  [2001:db8::1]:80 sh (sh-fallback,sh-port) persistent 100 mask 64
UDP  [2001:db8::1]:53 wrr
  -> [2001:db8:ffff:ffff:ffff:ffff:ffff:fffe]:53 Masq    1      0          0         
  -> [2001:db8::10]:5353          Masq    5      0          0         
FWM  1 rr
  -> 10.10.1.2:80                 Masq    1      0          0         
  -> 10.10.2.2:0                  Route   1      0          0         
FWM  2 IPv6 mh (mh-port)
  -> [2001:db8::10]:0             Route   1      0          0         
";

/// `ipvsadm -Ln -t [2001:db8::1]:80`
const V6_WIDE_WEIGHT: &str = "Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  [2001:db8::1]:80 rr
  -> 192.168.100.100:80           Tunnel  1      0          0         
  -> 10.0.0.2:80                  Tunnel  1      0          0         
  -> [2001:db8:1234:5678:9abc:def0:1234:5678]:8080 Masq    12345678 0          0         
";

/// `ipvsadm -L -t [2001:db8::1]:80`
const V6_WIDE_WEIGHT_NAMES: &str = "Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  [vip6.example.com]:http rr
  -> a-very-long-hostname-for-tru Tunnel  1      0          0         
  -> 10.0.0.2:http                Tunnel  1      0          0         
  -> [2001:db8:1234:5678:9abc:def0:1234:5678]:http-alt Masq    12345678 0          0         
";

/// `ipvsadm -Ln -t 10.0.0.1:82 --tun-info`
const TUN_INFO_EDITED: &str = "Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn
TCP  10.0.0.1:82 rr
  -> 10.0.1.1:82                  Tunnel  gre:+c        1      0          0         
  -> 10.0.1.2:82                  Tunnel  gue:6080:+c   1      0          0         
  -> 10.0.1.3:82                  Tunnel  gue:6081:r+c  1      0          0         
  -> 10.0.1.4:82                  Tunnel  gre:-c        1      0          0         
  -> 10.0.1.5:82                  Tunnel  gre:+c        1      0          0         
  -> 10.0.1.6:82                  Tunnel  ipip          1      0          0         
  -> 10.0.1.7:82                  Tunnel  gue:6080:-c   1      0          0         
";

/// `ipvsadm -L -t 10.0.0.5:0`
const PORT0_NAMES: &str = "Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.5:0 rr persistent 360
  -> 10.0.0.6:0                   Masq    1      0          0         
  -> 10.0.0.7:http-alt            Masq    1      0          0         
";

/// `ipvsadm -Ln`
const LN_AFTER_TRAFFIC: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.1:80 rr
  -> 10.0.0.1:80                  Route   1      1          1         
TCP  10.0.0.3:80 rr persistent 120
  -> 10.0.0.3:80                  Route   1      0          0         
UDP  10.0.0.1:53 rr
  -> 10.10.1.2:53                 Masq    1      0          0         
TCP  [2001:db8::1]:80 rr
  -> [2001:db8::1]:80             Route   1      0          0         
";

fn fmt(f: impl FnOnce(&mut ListFormat)) -> ListFormat {
    let mut format = numeric();
    f(&mut format);
    format
}

fn no_names() -> FakeResolver {
    FakeResolver::new()
}

/// The services of the traffic captures (§7.3, §15), sorted already.
fn traffic_table() -> Vec<(Service, Vec<Dest>)> {
    let busy = stats([
        1, 292973, 292971, 315234604, 15234500, 0, 1967, 1966, 2115802, 102256,
    ]);
    let mut first = svc(Tcp, "10.0.0.1", 80, "rr");
    first.stats = busy;
    let mut first_dest = dest("10.0.0.1", 80, Route, 1);
    first_dest.stats = busy;
    first_dest.active_conns = 1;
    first_dest.inact_conns = 1;
    vec![
        (first, vec![first_dest]),
        (
            persistent(svc(Tcp, "10.0.0.3", 80, "rr"), 120),
            vec![dest("10.0.0.3", 80, Route, 1)],
        ),
        (
            svc(Udp, "10.0.0.1", 53, "rr"),
            vec![dest("10.10.1.2", 53, Masq, 1)],
        ),
        (
            svc(Tcp, "2001:db8::1", 80, "rr"),
            vec![dest("2001:db8::1", 80, Route, 1)],
        ),
    ]
}

/// `[2001:db8::1]:80` with two IPv4 tunnel dests and a wide weight (§15).
fn v6_mixed_table() -> Vec<(Service, Vec<Dest>)> {
    vec![(
        svc(Tcp, "2001:db8::1", 80, "rr"),
        vec![
            tunnel("192.168.100.100", 80, TunnelType::Ipip, 0, 0),
            tunnel("10.0.0.2", 80, TunnelType::Ipip, 0, 0),
            dest(
                "2001:db8:1234:5678:9abc:def0:1234:5678",
                8080,
                Masq,
                12345678,
            ),
        ],
    )]
}

fn tunnel_table(first: Dest) -> Vec<(Service, Vec<Dest>)> {
    vec![(
        svc(Tcp, "10.0.0.1", 82, "rr"),
        vec![
            first,
            tunnel("10.0.1.2", 82, TunnelType::Gue, 6080, 1),
            tunnel("10.0.1.3", 82, TunnelType::Gue, 6081, 2),
            tunnel("10.0.1.4", 82, TunnelType::Gre, 0, 0),
            tunnel("10.0.1.5", 82, TunnelType::Gre, 0, 1),
            tunnel("10.0.1.6", 82, TunnelType::Ipip, 0, 0),
            tunnel("10.0.1.7", 82, TunnelType::Gue, 6080, 0),
        ],
    )]
}

fn one_service(protocol: Protocol, addr: &str, port: u16) -> Vec<(Service, Vec<Dest>)> {
    reference_table()
        .into_iter()
        .filter(|(s, _)| {
            s.id.addr
                == ServiceAddr::Inet {
                    protocol,
                    addr: ip(addr),
                    port,
                }
        })
        .collect()
}

#[test]
fn reference_table_numeric() {
    let table = reference_table();
    assert_eq!(list_all(&table, &numeric(), &no_names()), LN_REFERENCE);
    assert_eq!(
        list_all(&table, &fmt(|f| f.exact = true), &no_names()),
        LN_EXACT
    );
}

#[test]
fn reference_table_nosort_keeps_kernel_order() {
    let table = reference_table();
    assert_eq!(
        list_all(&table, &fmt(|f| f.nosort = true), &no_names()),
        LN_NOSORT
    );
}

#[test]
fn empty_tables_print_only_titles() {
    let names = no_names();
    assert_eq!(list_all(&[], &numeric(), &names), EMPTY_TABLE);
    assert_eq!(
        list_all(&[], &fmt(|f| f.thresholds = true), &names),
        LN_THRESHOLDS_EMPTY
    );
    assert_eq!(
        list_all(&[], &fmt(|f| f.persistent_conn = true), &names),
        PERSISTENT_EMPTY
    );
    assert_eq!(
        list_all(&[], &fmt(|f| f.tun_info = true), &names),
        TUN_INFO_EMPTY
    );
}

#[test]
fn stats_and_rate_with_scaling() {
    let table = traffic_table();
    let names = no_names();
    assert_eq!(list_all(&table, &fmt(|f| f.stats = true), &names), LN_STATS);
    let exact = fmt(|f| {
        f.stats = true;
        f.exact = true;
    });
    assert_eq!(list_all(&table, &exact, &names), LN_STATS_EXACT);
    assert_eq!(list_all(&table, &fmt(|f| f.rate = true), &names), LN_RATE);
    let exact = fmt(|f| {
        f.rate = true;
        f.exact = true;
    });
    assert_eq!(list_all(&table, &exact, &names), LN_RATE_EXACT);
    assert_eq!(list_all(&table, &numeric(), &names), LN_AFTER_TRAFFIC);
}

#[test]
fn stats_wins_over_rate_and_thresholds_over_persistent_conn() {
    let table = traffic_table();
    let names = no_names();
    let both = fmt(|f| {
        f.stats = true;
        f.rate = true;
    });
    assert_eq!(list_all(&table, &both, &names), LN_STATS);
    let both = fmt(|f| {
        f.thresholds = true;
        f.persistent_conn = true;
    });
    assert_eq!(list_all(&[], &both, &names), LN_THRESHOLDS_EMPTY);
}

#[test]
fn rate_dest_columns_are_never_scaled() {
    let mut dest = dest("10.0.0.2", 80, Masq, 1);
    dest.stats = stats([0, 0, 0, 0, 0, 123_456_789, 987_654_321, 5, 300_000_000, 7]);
    let table = vec![(svc(Tcp, "10.0.0.1", 80, "rr"), vec![dest])];
    let got = list_entries(&table, &fmt(|f| f.rate = true), &no_names());
    let last = got.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!(
            "  -> {:<28} 123456789 987654321        5  300000K        7",
            "10.0.0.2:80"
        )
    );
}

#[test]
fn dest_counters_keep_64_bits() {
    // 1.31 would wrap these at 2^32 on dest lines; we print them whole.
    let mut dest = dest("10.0.0.2", 80, Masq, 1);
    dest.stats.conns = 5_000_000_000;
    let table = vec![(svc(Tcp, "10.0.0.1", 80, "rr"), vec![dest])];
    let exact = fmt(|f| {
        f.stats = true;
        f.exact = true;
    });
    let got = list_entries(&table, &exact, &no_names());
    assert!(
        got.contains("  -> 10.0.0.2:80                  5000000000"),
        "{got}"
    );
}

#[test]
fn ipv6_stats_lines_are_not_cut() {
    let table = v6_mixed_table();
    assert_eq!(
        list_entries(&table, &fmt(|f| f.stats = true), &no_names()),
        LN_V6_STATS
    );
}

#[test]
fn names_are_resolved_and_cut() {
    let table = reference_table();
    let names = reference_names();
    let stats = ListFormat {
        stats: true,
        ..ListFormat::default()
    };
    assert_eq!(list_all(&table, &stats, &names), L_STATS_NAMES);
}

#[test]
fn thresholds_columns() {
    let mut wide = dest("10.0.0.15", 80, Masq, 1);
    wide.u_threshold = 2147483647;
    wide.l_threshold = 2147483647;
    let table = vec![(
        svc(Tcp, "10.0.0.1", 80, "rr"),
        vec![
            wide,
            dest("10.0.0.11", 80, Masq, 1),
            dest("10.0.0.10", 80, Masq, 1),
            dest("10.0.0.9", 80, Masq, 1),
            dest("10.0.0.2", 80, Masq, 1),
        ],
    )];
    assert_eq!(
        list_all(&table, &fmt(|f| f.thresholds = true), &no_names()),
        LN_THRESHOLDS
    );
}

#[test]
fn persistent_conn_columns() {
    let mut d1 = dest("10.200.1.76", 80, Route, 1);
    d1.persist_conns = 1;
    d1.active_conns = 1;
    let mut d3 = dest("10.10.1.2", 53, Masq, 1);
    d3.inact_conns = 1;
    let mut d4 = dest("2001:db8::1", 80, Route, 1);
    d4.active_conns = 1;
    let table = vec![
        (persistent(svc(Tcp, "10.200.1.76", 80, "rr"), 120), vec![d1]),
        (
            flagged(svc(Udp, "10.0.0.1", 53, "rr"), ServiceFlags::ONEPACKET),
            vec![dest("10.10.2.2", 53, Masq, 1)],
        ),
        (svc(Udp, "10.200.1.76", 53, "rr"), vec![d3]),
        (svc(Tcp, "2001:db8::1", 80, "rr"), vec![d4]),
    ];
    let format = fmt(|f| f.persistent_conn = true);
    assert_eq!(list_all(&table, &format, &no_names()), LN_PERSISTENT);
    let named = ListFormat {
        numeric: false,
        ..format
    };
    assert_eq!(
        list_all(&table, &named, &reference_names()),
        L_PERSISTENT_NAMES
    );
}

#[test]
fn tunnel_info_column() {
    let format = fmt(|f| f.tun_info = true);
    let gue = tunnel("10.0.1.1", 82, TunnelType::Gue, 6080, 0);
    assert_eq!(
        list_entries(&tunnel_table(gue), &format, &no_names()),
        LN_TUN_INFO
    );
    let gre = tunnel("10.0.1.1", 82, TunnelType::Gre, 0, 1);
    assert_eq!(
        list_entries(&tunnel_table(gre), &format, &no_names()),
        TUN_INFO_EDITED
    );
    assert_eq!(
        list_entries(&v6_mixed_table(), &format, &no_names()),
        LN_V6_TUN_INFO
    );
}

#[test]
fn wide_weight_and_ipv6_dest_shift_columns() {
    let table = v6_mixed_table();
    assert_eq!(
        list_entries(&table, &numeric(), &no_names()),
        V6_WIDE_WEIGHT
    );
    assert_eq!(
        list_entries(&table, &ListFormat::default(), &reference_names()),
        V6_WIDE_WEIGHT_NAMES
    );
}

#[test]
fn single_services() {
    let names = reference_names();
    let table = one_service(Tcp, "10.200.1.76", 9000);
    assert_eq!(list_entries(&table, &numeric(), &names), SINGLE_9000);
    assert_eq!(
        list_entries(&table, &ListFormat::default(), &names),
        SINGLE_9000_NAMES
    );
    assert_eq!(
        list_entries(&table, &fmt(|f| f.stats = true), &names),
        SINGLE_9000_STATS
    );
    let table = one_service(Tcp, "10.200.1.76", 80);
    assert_eq!(list_entries(&table, &numeric(), &names), SINGLE_80);
    let table: Vec<_> = reference_table()
        .into_iter()
        .filter(|(s, _)| s.id.fwmark() == Some(2))
        .collect();
    assert_eq!(list_entries(&table, &numeric(), &names), SINGLE_FWM2_V6);
}

#[test]
fn port_zero_and_service_names() {
    let table = vec![(
        persistent(svc(Tcp, "10.0.0.5", 0, "rr"), 360),
        vec![
            dest("10.0.0.7", 8080, Masq, 1),
            dest("10.0.0.6", 0, Masq, 1),
        ],
    )];
    assert_eq!(
        list_entries(&table, &ListFormat::default(), &reference_names()),
        PORT0_NAMES
    );
}

#[test]
fn sched_flags_without_names_print_empty_parentheses() {
    let table = vec![
        (
            flagged(svc(Tcp, "10.0.0.1", 80, "sh"), ServiceFlags::SCHED3),
            vec![],
        ),
        (
            persistent(
                flagged(svc(Tcp, "10.0.0.2", 80, "mh"), ServiceFlags::SCHED3),
                10,
            ),
            vec![],
        ),
    ];
    let expected = "IP Virtual Server version 1.2.1 (size=4096)\n\
                    Prot LocalAddress:Port Scheduler Flags\n  \
                    -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
                    TCP  10.0.0.1:80 sh ()\n\
                    TCP  10.0.0.2:80 mh () persistent 10\n";
    assert_eq!(list_all(&table, &numeric(), &no_names()), expected);
}

#[test]
fn unknown_forwarding_method_prints_null_and_fwmark_is_signed() {
    let table = vec![(
        fwm(0x8000_0000, Family::Inet, "rr"),
        vec![dest("10.0.0.1", 0, FwdMethod::Other(4), 1)],
    )];
    let got = list_entries(&table, &numeric(), &no_names());
    assert!(got.contains("FWM  -2147483648 rr\n"), "{got}");
    assert!(
        got.contains(
            "  -> 10.0.0.1:0                   (null)  1      0          0         \n"
        ),
        "{got}"
    );
}

#[test]
fn header_prints_version_and_size() {
    let mut out = Vec::new();
    let info = Info {
        version: 0x010203,
        conn_tab_size: 1 << 20,
    };
    assert!(write_table_header(&mut out, &info).is_ok());
    assert_eq!(out, b"IP Virtual Server version 1.2.3 (size=1048576)\n");
}

#[test]
fn long_names_are_cut_to_59_then_33_or_28_bytes() {
    let long = "x".repeat(80);
    let names = FakeResolver::new()
        .with_host(ip("10.0.0.1"), &long)
        .with_host(ip("2001:db8::1"), &long);
    let table = vec![(
        svc(Tcp, "2001:db8::1", 80, "rr"),
        vec![
            dest("10.0.0.1", 80, Masq, 1),
            dest("2001:db8::1", 80, Masq, 1),
        ],
    )];
    let got = list_entries(&table, &ListFormat::default(), &names);
    let lines: Vec<&str> = got.lines().collect();
    // IPv6 service: only the 59-byte snprintf limit, "[" + 58 bytes.
    assert_eq!(lines[2], format!("TCP  [{}", &long[..58]) + " rr");
    assert_eq!(
        lines[3],
        format!("  -> {} Masq    1      0          0         ", &long[..28])
    );
    assert_eq!(
        lines[4],
        format!("  -> [{} Masq    1      0          0         ", &long[..58])
    );
}

#[test]
fn write_table_does_header_sort_title_and_entries() {
    let entries = entries(&reference_table());
    let names = no_names();
    let mut out = Vec::new();
    assert!(write_table(&mut out, Some(&info()), &entries, &numeric(), &names).is_ok());
    assert_eq!(String::from_utf8_lossy(&out), LN_REFERENCE);
    let mut out = Vec::new();
    let nosort = fmt(|f| f.nosort = true);
    assert!(write_table(&mut out, Some(&info()), &entries, &nosort, &names).is_ok());
    assert_eq!(String::from_utf8_lossy(&out), LN_NOSORT);
    let single = crate::output::fixtures::entries(&one_service(Tcp, "10.200.1.76", 9000));
    let mut out = Vec::new();
    assert!(write_table(&mut out, None, &single, &numeric(), &names).is_ok());
    assert_eq!(String::from_utf8_lossy(&out), SINGLE_9000);
}
