_ipvsadm() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="ipvsadm"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        ipvsadm)
            opts="-A -E -D -C -l -L -Z -a -e -d -h -v -R -S -t -u -f -s -p -M -r -m -i -g -w -x -y -n -c -X -6 -o -b -j --add-service --edit-service --delete-service --clear --list --zero --add-server --edit-server --delete-server --set --help --version --restore --save --start-daemon --stop-daemon --tcp-service --udp-service --sctp-service --fwmark-service --scheduler --persistent --netmask --real-server --masquerading --ipip --gatewaying --weight --u-threshold --l-threshold --numeric --connection --mcast-interface --syncid --timeout --daemon --stats --rate --thresholds --persistent-conn --nosort --sort --exact --ipv6 --ops --pe --sched-flags --mcast-group --mcast-port --mcast-ttl --sync-maxlen --tun-info --tun-type --tun-port --tun-nocsum --tun-csum --tun-remcsum --json --format --pretty --watch --count --netns --atomic --drain --check --verbose --replace --dry-run"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --set)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --start-daemon)
                    COMPREPLY=($(compgen -W "master backup" -- "${cur}"))
                    return 0
                    ;;
                --stop-daemon)
                    COMPREPLY=($(compgen -W "master backup" -- "${cur}"))
                    return 0
                    ;;
                --tcp-service)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -t)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --udp-service)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -u)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sctp-service)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --fwmark-service)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scheduler)
                    COMPREPLY=($(compgen -W "rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh" -- "${cur}"))
                    return 0
                    ;;
                -s)
                    COMPREPLY=($(compgen -W "rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh" -- "${cur}"))
                    return 0
                    ;;
                --persistent)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --netmask)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -M)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --real-server)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -r)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --weight)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -w)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --u-threshold)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -x)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --l-threshold)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -y)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mcast-interface)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --syncid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pe)
                    COMPREPLY=($(compgen -W "sip" -- "${cur}"))
                    return 0
                    ;;
                --sched-flags)
                    COMPREPLY=($(compgen -W "flag-1 flag-2 flag-3 sh-fallback sh-port mh-fallback mh-port" -- "${cur}"))
                    return 0
                    ;;
                -b)
                    COMPREPLY=($(compgen -W "flag-1 flag-2 flag-3 sh-fallback sh-port mh-fallback mh-port" -- "${cur}"))
                    return 0
                    ;;
                --mcast-group)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mcast-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mcast-ttl)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sync-maxlen)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --tun-type)
                    COMPREPLY=($(compgen -W "ipip gue gre" -- "${cur}"))
                    return 0
                    ;;
                --tun-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "text json table prometheus" -- "${cur}"))
                    return 0
                    ;;
                --watch)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --netns)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --drain)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _ipvsadm -o nosort -o bashdefault -o default ipvsadm
else
    complete -F _ipvsadm -o bashdefault -o default ipvsadm
fi
