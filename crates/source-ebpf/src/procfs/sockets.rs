//! Sockets by inode, from a network namespace's `/proc/<pid>/net/*` tables,
//! so socket fds can be given their tuples.

use peregrine_event::records::{FdKind, FdTarget};
use std::collections::HashMap;
use std::path::Path;

/// What an fd's socket inode resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketInfo {
    pub kind: FdKind,
    pub target: FdTarget,
}

/// Socket tables of every network namespace seen so far.
#[derive(Debug, Default)]
pub struct SocketTable {
    by_netns: HashMap<String, HashMap<u64, SocketInfo>>,
    empty: HashMap<u64, SocketInfo>,
}

const TCP_LISTEN: u8 = 0x0a;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_RAW: u8 = 255;

impl SocketTable {
    /// Reads the tables of a namespace once (`key` is its `ns/net` link).
    pub fn load_netns(&mut self, key: &str, net_dir: &Path) {
        if self.by_netns.contains_key(key) {
            return;
        }
        let mut m = HashMap::new();
        for (file, proto) in [
            ("tcp", IPPROTO_TCP),
            ("udp", IPPROTO_UDP),
            ("raw", IPPROTO_RAW),
        ] {
            if let Ok(s) = std::fs::read_to_string(net_dir.join(file)) {
                parse_inet(&s, proto, false, &mut m);
            }
            if let Ok(s) = std::fs::read_to_string(net_dir.join(format!("{file}6"))) {
                parse_inet(&s, proto, true, &mut m);
            }
        }
        if let Ok(s) = std::fs::read_to_string(net_dir.join("unix")) {
            parse_unix(&s, &mut m);
        }
        if let Ok(s) = std::fs::read_to_string(net_dir.join("netlink")) {
            parse_netlink(&s, &mut m);
        }
        self.by_netns.insert(key.to_string(), m);
    }

    pub fn netns(&self, key: &str) -> &HashMap<u64, SocketInfo> {
        self.by_netns.get(key).unwrap_or(&self.empty)
    }
}

fn hex_u32(s: &str) -> Option<u32> {
    u32::from_str_radix(s, 16).ok()
}

/// `0100007F:1F90` → (network-order bytes, port). /proc prints each 32-bit
/// word of the address in host order.
fn parse_addr4(s: &str) -> Option<(u32, u16)> {
    let (ip, port) = s.split_once(':')?;
    let word = hex_u32(ip)?;
    Some((
        u32::from_be_bytes(word.to_ne_bytes()),
        u16::from_str_radix(port, 16).ok()?,
    ))
}

fn parse_addr6(s: &str) -> Option<([u8; 16], u16)> {
    let (ip, port) = s.split_once(':')?;
    if ip.len() != 32 {
        return None;
    }
    let mut b = [0u8; 16];
    for w in 0..4 {
        let word = hex_u32(ip.get(w * 8..w * 8 + 8)?)?;
        b[w * 4..w * 4 + 4].copy_from_slice(&word.to_ne_bytes());
    }
    Some((b, u16::from_str_radix(port, 16).ok()?))
}

/// tcp/udp/raw (and their 6 variants). Addresses are kept as host-order
/// integers for IPv4 (see `FdTarget`).
pub fn parse_inet(s: &str, proto: u8, v6: bool, out: &mut HashMap<u64, SocketInfo>) {
    for line in s.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 {
            continue;
        }
        let (Some(state), Ok(ino)) = (hex_u32(f[3]), f[9].parse::<u64>()) else {
            continue;
        };
        if ino == 0 {
            continue;
        }
        let listening = proto == IPPROTO_TCP && state as u8 == TCP_LISTEN;
        let info = if v6 {
            let (Some((lip, lport)), Some((rip, rport))) = (parse_addr6(f[1]), parse_addr6(f[2]))
            else {
                continue;
            };
            if listening {
                SocketInfo {
                    kind: FdKind::Ipv6ServSock,
                    target: FdTarget::Ipv6Server {
                        ip: lip,
                        port: lport,
                        l4proto: proto,
                    },
                }
            } else {
                SocketInfo {
                    kind: FdKind::Ipv6Sock,
                    target: FdTarget::Ipv6 {
                        sip: lip,
                        dip: rip,
                        sport: lport,
                        dport: rport,
                        l4proto: proto,
                    },
                }
            }
        } else {
            let (Some((lip, lport)), Some((rip, rport))) = (parse_addr4(f[1]), parse_addr4(f[2]))
            else {
                continue;
            };
            if listening {
                SocketInfo {
                    kind: FdKind::Ipv4ServSock,
                    target: FdTarget::Ipv4Server {
                        ip: lip,
                        port: lport,
                        l4proto: proto,
                    },
                }
            } else {
                SocketInfo {
                    kind: FdKind::Ipv4Sock,
                    target: FdTarget::Ipv4 {
                        sip: lip,
                        dip: rip,
                        sport: lport,
                        dport: rport,
                        l4proto: proto,
                    },
                }
            }
        };
        out.insert(ino, info);
    }
}

/// `Num RefCount Protocol Flags Type St Inode Path`
pub fn parse_unix(s: &str, out: &mut HashMap<u64, SocketInfo>) {
    for line in s.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 7 {
            continue;
        }
        let Ok(ino) = f[6].parse::<u64>() else {
            continue;
        };
        let addr = u64::from_str_radix(f[0].trim_end_matches(':'), 16).unwrap_or(0);
        let path = f.get(7).map(|p| p.trim_start_matches('@')).unwrap_or("");
        out.insert(
            ino,
            SocketInfo {
                kind: FdKind::UnixSock,
                target: FdTarget::Unix {
                    source: addr,
                    dest: 0,
                    path: path.to_string(),
                },
            },
        );
    }
}

/// `sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode`
pub fn parse_netlink(s: &str, out: &mut HashMap<u64, SocketInfo>) {
    for line in s.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let Some(Ok(ino)) = f.get(9).map(|v| v.parse::<u64>()) {
            out.insert(
                ino,
                SocketInfo {
                    kind: FdKind::Netlink,
                    target: FdTarget::None,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_listen_and_established() {
        let s = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1138 1 0 100 0 0 10 0\n\
   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 2222 1 0 20 4 1 48 -1\n";
        let mut m = HashMap::new();
        parse_inet(s, IPPROTO_TCP, false, &mut m);
        assert_eq!(
            m[&1138],
            SocketInfo {
                kind: FdKind::Ipv4ServSock,
                target: FdTarget::Ipv4Server {
                    ip: 0x7f00_0001,
                    port: 8080,
                    l4proto: 6
                }
            }
        );
        match &m[&2222].target {
            FdTarget::Ipv4 {
                sip,
                sport,
                dip,
                dport,
                ..
            } => {
                assert_eq!(
                    (*sip, *sport, *dip, *dport),
                    (0x7f00_0001, 54321, 0x7f00_0001, 8080)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ipv6_loopback() {
        let s = "hdr\n   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 77 1\n";
        let mut m = HashMap::new();
        parse_inet(s, IPPROTO_TCP, true, &mut m);
        let mut lo = [0u8; 16];
        lo[15] = 1;
        assert_eq!(
            m[&77].target,
            FdTarget::Ipv6Server {
                ip: lo,
                port: 8080,
                l4proto: 6
            }
        );
    }

    #[test]
    fn unix_paths() {
        let s = "Num       RefCount Protocol Flags    Type St Inode Path\n\
0000000000000000: 00000002 00000000 00010000 0001 01 3333 /run/x.sock\n\
0000000000000000: 00000002 00000000 00010000 0001 01 4444 @abstract\n\
0000000000000000: 00000003 00000000 00000000 0001 03 5555\n";
        let mut m = HashMap::new();
        parse_unix(s, &mut m);
        assert!(matches!(&m[&3333].target, FdTarget::Unix { path, .. } if path == "/run/x.sock"));
        assert!(matches!(&m[&4444].target, FdTarget::Unix { path, .. } if path == "abstract"));
        assert!(matches!(&m[&5555].target, FdTarget::Unix { path, .. } if path.is_empty()));
    }
}
