complete -c ipvsadm -l set -d 'set connection timeout values (tcp tcpfin udp)' -r
complete -c ipvsadm -l start-daemon -d 'start connection sync daemon' -r -f -a "master\t''
backup\t''"
complete -c ipvsadm -l stop-daemon -d 'stop connection sync daemon' -r -f -a "master\t''
backup\t''"
complete -c ipvsadm -s t -l tcp-service -d 'TCP virtual service, host[:port]' -r
complete -c ipvsadm -s u -l udp-service -d 'UDP virtual service, host[:port]' -r
complete -c ipvsadm -l sctp-service -d 'SCTP virtual service, host[:port]' -r
complete -c ipvsadm -s f -l fwmark-service -d 'firewall-mark virtual service, an integer greater than zero' -r
complete -c ipvsadm -s s -l scheduler -d 'scheduling method (default wlc)' -r -f -a "rr\t''
wrr\t''
lc\t''
wlc\t''
lblc\t''
lblcr\t''
dh\t''
sh\t''
sed\t''
nq\t''
fo\t''
ovf\t''
mh\t''"
complete -c ipvsadm -s p -l persistent -d 'persistent service (default timeout 360 s)' -r
complete -c ipvsadm -s M -l netmask -d 'persistent granularity mask' -r
complete -c ipvsadm -s r -l real-server -d 'real server, host[:port]' -r
complete -c ipvsadm -s w -l weight -d 'capacity of real server' -r
complete -c ipvsadm -s x -l u-threshold -d 'upper threshold of connections' -r
complete -c ipvsadm -s y -l l-threshold -d 'lower threshold of connections' -r
complete -c ipvsadm -l mcast-interface -d 'multicast interface for connection sync' -r
complete -c ipvsadm -l syncid -d 'syncid for connection sync (default 0)' -r
complete -c ipvsadm -l pe -d 'alternate persistence engine (sip)' -r -f -a "sip\t''"
complete -c ipvsadm -s b -l sched-flags -d 'scheduler flags (comma-separated)' -r -f -a "flag-1\t''
flag-2\t''
flag-3\t''
sh-fallback\t''
sh-port\t''
mh-fallback\t''
mh-port\t''"
complete -c ipvsadm -l mcast-group -d 'IPv4/IPv6 multicast group (default 224.0.0.81)' -r
complete -c ipvsadm -l mcast-port -d 'UDP port (default 8848)' -r
complete -c ipvsadm -l mcast-ttl -d 'multicast TTL (default 1)' -r
complete -c ipvsadm -l sync-maxlen -d 'max sync message length (default 1472)' -r
complete -c ipvsadm -l tun-type -d 'tunnel type: ipip|gue|gre (default ipip)' -r -f -a "ipip\t''
gue\t''
gre\t''"
complete -c ipvsadm -l tun-port -d 'tunnel destination port' -r
complete -c ipvsadm -l format -d 'listing format' -r -f -a "text\t''
json\t''
table\t''
prometheus\t''"
complete -c ipvsadm -l watch -d 'redraw the listing every SECONDS (default 2)' -r
complete -c ipvsadm -l count -d 'stop watching after N updates' -r
complete -c ipvsadm -l netns -d 'run in that network namespace' -r
complete -c ipvsadm -l drain -d 'with -d: set the weight to 0, wait up to SECONDS (default 300; 0: do not wait) until no connection is left, then delete; with -R --replace: so for each real server it removes' -r
complete -c ipvsadm -s A -l add-service -d 'add virtual service with options'
complete -c ipvsadm -s E -l edit-service -d 'edit virtual service with options'
complete -c ipvsadm -s D -l delete-service -d 'delete virtual service'
complete -c ipvsadm -s C -l clear -d 'clear the whole table'
complete -c ipvsadm -s L -s l -l list -d 'list the table'
complete -c ipvsadm -s Z -l zero -d 'zero counters in a service or all services'
complete -c ipvsadm -s a -l add-server -d 'add real server with options'
complete -c ipvsadm -s e -l edit-server -d 'edit real server with options'
complete -c ipvsadm -s d -l delete-server -d 'delete real server'
complete -c ipvsadm -s h -l help -d 'display this help message'
complete -c ipvsadm -s v -l version -d 'display the version'
complete -c ipvsadm -s R -l restore -d 'restore rules from stdin'
complete -c ipvsadm -s S -l save -d 'save rules to stdout'
complete -c ipvsadm -s m -l masquerading -d 'masquerading (NAT)'
complete -c ipvsadm -s i -l ipip -d 'ipip encapsulation (tunneling)'
complete -c ipvsadm -s g -l gatewaying -d 'gatewaying (direct routing) (default)'
complete -c ipvsadm -s n -l numeric -d 'numeric output of addresses and ports'
complete -c ipvsadm -s c -l connection -d 'output of current IPVS connections'
complete -c ipvsadm -l timeout -d 'output of timeout (tcp tcpfin udp)'
complete -c ipvsadm -l daemon -d 'output of daemon information'
complete -c ipvsadm -l stats -d 'output of statistics information'
complete -c ipvsadm -l rate -d 'output of rate information'
complete -c ipvsadm -l thresholds -d 'output of thresholds information'
complete -c ipvsadm -l persistent-conn -d 'output of persistent connection info'
complete -c ipvsadm -l nosort -d 'disable sorting output of service/server entries'
complete -c ipvsadm -l sort -d 'does nothing, for backwards compatibility'
complete -c ipvsadm -s X -l exact -d 'expand numbers (display exact values)'
complete -c ipvsadm -s 6 -l ipv6 -d 'fwmark entry uses IPv6'
complete -c ipvsadm -s o -l ops -d 'one-packet scheduling'
complete -c ipvsadm -l tun-info -d 'output of tunnel information'
complete -c ipvsadm -l tun-nocsum -d 'tunnel encapsulation without checksum'
complete -c ipvsadm -l tun-csum -d 'tunnel encapsulation with checksum'
complete -c ipvsadm -l tun-remcsum -d 'tunnel encapsulation with remote checksum'
complete -c ipvsadm -s j -l json -d 'list as JSON (same as --format json)'
complete -c ipvsadm -l pretty -d 'indent JSON output'
complete -c ipvsadm -l atomic -d 'with -R: undo every change if a line fails'
complete -c ipvsadm -l check -d 'say why a virtual service may not answer'
complete -c ipvsadm -l verbose -d 'with --check: also list the IPVS settings'
complete -c ipvsadm -l replace -d 'with -R: make the table exactly equal to the input'
complete -c ipvsadm -l dry-run -d 'with -R --replace: print the changes, make none'
