//! Endpoint URLs: `http://` or `https://`, with a host, no credentials, at most 2048
//! characters; and, unless `webhooks.allow_private_targets`, a host that resolves to public
//! addresses only (OWASP Server-Side Request Forgery Prevention Cheat Sheet): loopback,
//! private (RFC 1918, RFC 4193), link-local (cloud metadata services live there), shared
//! (RFC 6598), unspecified, multicast and documentation ranges are refused. The check runs when
//! the URL is set and again before every attempt (a name may resolve elsewhere later), and
//! deliveries never follow redirects.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest URL accepted.
const MAX_URL_CHARS: usize = 2048;

/// Parses and checks the shape of an endpoint URL.
///
/// # Errors
/// `url: ...` saying what is wrong.
pub fn parse(url: &str) -> Result<reqwest::Url, String> {
    if url.len() > MAX_URL_CHARS {
        return Err(format!("url: at most {MAX_URL_CHARS} characters"));
    }
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| format!("url: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("url: must start with http:// or https://".into());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("url: needs a host".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("url: must not carry credentials".into());
    }
    Ok(parsed)
}

/// Checks that `url`'s host resolves, and only to public addresses unless `allow_private`.
///
/// # Errors
/// `url: ...` when the host does not resolve or resolves to an internal address.
pub async fn check_resolves(url: &reqwest::Url, allow_private: bool) -> Result<(), String> {
    if allow_private {
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("url: cannot resolve {host}: {e}"))?
            .map(|a| a.ip())
            .collect(),
    };
    if addresses.is_empty() {
        return Err(format!("url: {host} resolves to no address"));
    }
    if let Some(ip) = addresses.iter().find(|ip| internal(**ip)) {
        return Err(format!(
            "url: {host} resolves to {ip}, an internal address (webhooks.allow_private_targets)"
        ));
    }
    Ok(())
}

/// Whether `ip` is not a public unicast address.
pub fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => internal_v4(v4),
            None => internal_v6(v6),
        },
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0)
        || a >= 240
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        assert!(parse("https://example.com/hook").is_ok());
        assert!(parse("http://example.com:8080/").is_ok());
        assert!(parse("ftp://example.com/").is_err());
        assert!(parse("file:///etc/passwd").is_err());
        assert!(parse("not a url").is_err());
        assert!(parse("https://user:pw@example.com/").is_err());
        assert!(parse(&format!("https://example.com/{}", "a".repeat(3000))).is_err());
    }

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn loopback_targets_are_refused_unless_allowed() {
        let url = parse("http://127.0.0.1:9/hook").unwrap();
        assert!(check_resolves(&url, false).await.is_err());
        assert!(check_resolves(&url, true).await.is_ok());
        let url = parse("http://localhost:9/hook").unwrap();
        assert!(check_resolves(&url, false).await.is_err());
    }
}
