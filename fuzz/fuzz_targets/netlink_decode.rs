//! IPVS generic-netlink replies: arbitrary payloads (genl header onwards)
//! through the decoders the kernel backend reads every reply with. The
//! first byte picks the reply (and, for real servers, the service's
//! family); the rest is the payload.
#![no_main]

use ipvsadm_rs::model::Family;
use ipvsadm_rs::netlink::consts::{
    IPVS_CMD_ATTR_DAEMON, IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_SERVICE,
};
use ipvsadm_rs::netlink::decode::{
    daemon_in, dest_in, each_nested_in_reply, info_in, service_in, timeouts_in,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let family = if selector & 0x80 == 0 {
        Family::Inet
    } else {
        Family::Inet6
    };
    match selector & 0x03 {
        // Service dumps and single services.
        0 => {
            let _ = each_nested_in_reply(payload, IPVS_CMD_ATTR_SERVICE, |svc| {
                service_in(svc).map(drop)
            });
        }
        // Real-server dumps.
        1 => {
            let _ = each_nested_in_reply(payload, IPVS_CMD_ATTR_DEST, |dest| {
                dest_in(dest, family).map(drop)
            });
        }
        // The answers to GET_INFO and GET_CONFIG.
        2 => {
            let _ = info_in(payload);
            let _ = timeouts_in(payload);
        }
        // Sync daemon dumps.
        _ => {
            let _ = each_nested_in_reply(payload, IPVS_CMD_ATTR_DAEMON, |daemon| {
                daemon_in(daemon).map(drop)
            });
        }
    }
});
