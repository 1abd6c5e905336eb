//! Who the client is, by network address: the TCP peer, or behind a trusted reverse proxy the
//! address it forwarded (`X-Forwarded-For`, only from `server.trusted_proxies`), bucketed the
//! way rate limits count it.
//!
//! IPv6 clients are counted per /64: one subscriber commonly holds a whole /64 and can rotate
//! through its 2^64 addresses, so a per-address limit would not limit them (RFC 6177 assigns
//! end sites at least a /64). IPv4-mapped IPv6 addresses count as their IPv4 address.

use std::net::{IpAddr, Ipv6Addr};

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The networks of `server.trusted_proxies`.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses the configured entries (validated at start: bad ones are skipped here).
    pub fn new(entries: &[String]) -> Self {
        Self(
            entries
                .iter()
                .filter_map(|e| crate::config::parse_net(e))
                .collect(),
        )
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address of a request from `peer` with an `X-Forwarded-For` header value of
    /// `forwarded`: `peer` itself unless it is a trusted proxy; then the rightmost forwarded
    /// address that is not a trusted proxy (the leftmost ones are the client's to invent).
    pub fn client(&self, peer: IpAddr, forwarded: Option<&str>) -> IpAddr {
        if !self.trusts(normalize(peer)) {
            return peer;
        }
        let Some(forwarded) = forwarded else {
            return peer;
        };
        let mut client = peer;
        for hop in forwarded.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if self.trusts(normalize(ip)) => client = ip,
                Ok(ip) => return ip,
                Err(_) => return client,
            }
        }
        client
    }

    /// The bucket a request counts against in per-IP limits.
    pub fn bucket_of(&self, req: &HttpRequest) -> IpAddr {
        let peer = req
            .peer_addr()
            .map_or(IpAddr::from([0, 0, 0, 0]), |addr| addr.ip());
        // Every X-Forwarded-For line, in order: a proxy may add its own line rather than append
        // to the client's (RFC 9110 §5.3: lines of a list header combine with commas).
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
        bucket(self.client(peer, forwarded.as_deref()))
    }
}

fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The rate-limit bucket of a client address: IPv4 as is, IPv6 by its /64.
pub fn bucket(ip: IpAddr) -> IpAddr {
    match normalize(ip) {
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            IpAddr::V6(Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            ))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64_and_mapped_ipv4_is_ipv4() {
        assert_eq!(bucket(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(bucket(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_ne!(bucket(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(bucket(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(bucket(ip("192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("10.0.0.1"), Some("203.0.113.9")),
            ip("10.0.0.1")
        );
        let proxies = TrustedProxies::new(&["10.0.0.0/8".into(), "::1".into()]);
        assert_eq!(
            proxies.client(ip("10.0.0.1"), Some("203.0.113.9")),
            ip("203.0.113.9")
        );
        // A client cannot choose its address by prepending one: the rightmost untrusted wins.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), Some("1.1.1.1, 203.0.113.9, 10.0.0.7")),
            ip("203.0.113.9")
        );
        assert_eq!(
            proxies.client(ip("::1"), Some("198.51.100.4")),
            ip("198.51.100.4")
        );
        // Not from a proxy: the header is ignored.
        assert_eq!(
            proxies.client(ip("203.0.113.1"), Some("1.1.1.1")),
            ip("203.0.113.1")
        );
        // From a proxy without the header, or with garbage: the proxy is the client.
        assert_eq!(proxies.client(ip("10.0.0.1"), None), ip("10.0.0.1"));
        assert_eq!(
            proxies.client(ip("10.0.0.1"), Some("garbage")),
            ip("10.0.0.1")
        );
    }
}
