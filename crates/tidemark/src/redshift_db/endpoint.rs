//! Where a cluster's Endpoint listens. Each cluster gets its own loopback address
//! (`127.a.b.c`, derived from its account, region and identifier, so it is stable across
//! restarts), so that every cluster can keep the port it asked for — 5439 by default, as in
//! AWS, where each cluster has its own host name. Where extra loopback addresses do not
//! work (macOS routes only 127.0.0.1 by default), 127.0.0.1 is used; a port that is taken
//! is replaced by a free one, which the Endpoint then shows.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// The loopback address of a cluster: never 127.0.0.x, so it never collides with services
/// a developer runs on 127.0.0.1.
pub fn loopback_for(account: &str, region: &str, cluster: &str) -> Ipv4Addr {
    let mut h = blake3::Hasher::new();
    for part in [account, region, cluster] {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    let d = h.finalize();
    let b = d.as_bytes();
    Ipv4Addr::new(127, 1 + b[0] % 254, b[1], 1 + b[2] % 254)
}

/// Binds the Endpoint: the cluster's own address with the asked port, else a free port
/// there, else 127.0.0.1 with the asked port, else any free port on 127.0.0.1.
pub fn bind(preferred: Ipv4Addr, port: i32) -> std::io::Result<TcpListener> {
    let port = u16::try_from(port).unwrap_or(0);
    let attempt = |ip: Ipv4Addr, port: u16| TcpListener::bind(SocketAddr::from((ip, port)));
    match attempt(preferred, port) {
        Ok(l) => return Ok(l),
        Err(e) if e.kind() == ErrorKind::AddrInUse => {
            if let Ok(l) = attempt(preferred, 0) {
                return Ok(l);
            }
        }
        Err(_) => {}
    }
    attempt(Ipv4Addr::LOCALHOST, port).or_else(|_| attempt(Ipv4Addr::LOCALHOST, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_stable_loopback_and_never_127_0_0_x() {
        let a = loopback_for("111111111111", "us-east-1", "c1");
        assert_eq!(a, loopback_for("111111111111", "us-east-1", "c1"));
        assert_ne!(a, loopback_for("111111111111", "us-east-1", "c2"));
        assert!(a.is_loopback());
        assert_ne!(a.octets()[1], 0);
        assert_ne!(a.octets()[3], 0);
    }

    #[test]
    fn a_taken_port_is_replaced_by_a_free_one() {
        let ip = loopback_for("111111111111", "us-east-1", "taken");
        let first = bind(ip, 0).unwrap();
        let port = i32::from(first.local_addr().unwrap().port());
        let second = bind(ip, port).unwrap();
        assert_ne!(second.local_addr().unwrap(), first.local_addr().unwrap());
    }
}
