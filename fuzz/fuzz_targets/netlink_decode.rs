//! IPVS generic-netlink replies: arbitrary payloads (genl header onwards)
//! through the decoders the kernel backend uses. The first byte picks the
//! path (and, for real servers, the service's family); the rest is the
//! payload. Typed messages that decode must emit again and decode to the
//! same message.
#![no_main]

use ipvsadm_rs::model::Family;
use ipvsadm_rs::netlink::attrs::{IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_SERVICE, IpvsAttr};
use ipvsadm_rs::netlink::convert::{
    daemon_from_attrs, dest_from_attrs, dest_in, each_nested_in_reply, info_from_attrs,
    service_from_attrs, service_in, timeouts_from_attrs,
};
use ipvsadm_rs::netlink::decode_ipvs;
use ipvsadm_rs::netlink::message::IpvsMessage;
use libfuzzer_sys::fuzz_target;
use netlink_packet_core::Emitable;

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
        // Service dumps, decoded in place.
        0 => {
            let _ = each_nested_in_reply(payload, IPVS_CMD_ATTR_SERVICE, |svc| {
                service_in(svc).map(drop)
            });
        }
        // Real-server dumps, decoded in place.
        1 => {
            let _ = each_nested_in_reply(payload, IPVS_CMD_ATTR_DEST, |dest| {
                dest_in(dest, family).map(drop)
            });
        }
        // Everything else: the typed message (info, timeouts, daemons,
        // single services), then the model.
        _ => {
            let Ok(message) = decode_ipvs(payload) else {
                return;
            };
            let _ = info_from_attrs(&message.attrs);
            let _ = timeouts_from_attrs(&message.attrs);
            for attr in &message.attrs {
                match attr {
                    IpvsAttr::Service(attrs) => {
                        let _ = service_from_attrs(attrs);
                    }
                    IpvsAttr::Dest(attrs) => {
                        let _ = dest_from_attrs(attrs, family);
                    }
                    IpvsAttr::Daemon(attrs) => {
                        let _ = daemon_from_attrs(attrs);
                    }
                    _ => {}
                }
            }
            // Emitting an unknown attribute with both flag bits keeps only
            // the nested one (netlink-packet-core), so the round trip is
            // checked from the second decode on.
            let header = [payload[0], payload[1], payload[2], payload[3]];
            let once =
                decode_ipvs(&emit(header, &message)).expect("an emitted message decodes");
            let twice =
                decode_ipvs(&emit(header, &once)).expect("an emitted message decodes");
            assert_eq!(once, twice, "decode and emit do not round-trip");
        }
    }
});

/// A reply payload: the genl header, then the message's attributes.
fn emit(header: [u8; 4], message: &IpvsMessage) -> Vec<u8> {
    let mut bytes = vec![0u8; 4 + message.buffer_len()];
    bytes[..4].copy_from_slice(&header);
    message.emit(&mut bytes[4..]);
    bytes
}
