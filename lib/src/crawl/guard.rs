//! The SSRF guard: which addresses a crawl may connect to. Pure functions of the address,
//! applied to every resolved name (through [`GuardedResolver`]) and to every IP literal, on
//! every redirect hop, before any connection is opened.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// What the guard lets through.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Allow loopback and private ranges (`CRAWL_ALLOW_PRIVATE_NETWORKS`, local development).
    pub allow_private_networks: bool,
    /// Exact socket addresses always allowed, whatever their range (tests, an internal host).
    pub exempt: Vec<SocketAddr>,
}

/// A refused address, with the range it falls in. Its message names neither (it reaches
/// error bodies and page reasons, and would map the deployment's network); the log does.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("address not allowed: only public addresses may be crawled")]
pub struct Blocked {
    /// The address.
    pub addr: IpAddr,
    /// The special-purpose range, e.g. `loopback`, `private`, `link-local`.
    pub range: &'static str,
}

/// The special-purpose range `ip` belongs to, or `None` for a public unicast address.
/// IPv4-mapped, IPv4-compatible and NAT64 IPv6 forms are judged by their IPv4 address.
pub fn special_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return v4_range(v4);
            }
            v6_range(v6)
        }
    }
}

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    let r = match o {
        [0, ..] => "unspecified",
        [10, ..] => "private",
        [100, b, ..] if (64..128).contains(&b) => "shared (CGNAT)",
        [127, ..] => "loopback",
        [169, 254, ..] => "link-local",
        [172, b, ..] if (16..32).contains(&b) => "private",
        [192, 0, 0, _] => "IETF protocol assignments",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation",
        [192, 88, 99, _] => "6to4 relay",
        [192, 168, ..] => "private",
        [198, b, ..] if b == 18 || b == 19 => "benchmarking",
        [a, ..] if (224..240).contains(&a) => "multicast",
        [a, ..] if a >= 240 => "reserved",
        _ => return None,
    };
    Some(r)
}

fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let r = if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if s[0] & 0xfe00 == 0xfc00 {
        "unique local"
    } else if s[0] & 0xffc0 == 0xfe80 {
        "link-local"
    } else if s[0] & 0xffc0 == 0xfec0 {
        "site-local (deprecated)"
    } else if s[0] & 0xff00 == 0xff00 {
        "multicast"
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        "documentation"
    } else if s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0 {
        "discard-only"
    } else if s[0] == 0x2001 && s[1] < 0x0200 {
        "IETF protocol assignments"
    } else if s[0] == 0x2002 {
        "6to4"
    } else if s[0] & 0xe000 != 0x2000 {
        // Outside 2000::/3, the only global unicast block allocated.
        "reserved"
    } else {
        return None;
    };
    Some(r)
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`)
/// or NAT64 (`64:ff9b::a.b.c.d`, `64:ff9b:1::/48`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let compatible = s[..6].iter().all(|&x| x == 0) && !ip.is_loopback() && !ip.is_unspecified();
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && (s[2..6].iter().all(|&x| x == 0) || s[2] == 1);
    (compatible || nat64).then_some(tail)
}

impl Policy {
    /// Checks one address (and port) against the policy.
    pub fn check(&self, addr: SocketAddr) -> Result<(), Blocked> {
        if self.exempt.contains(&addr) {
            return Ok(());
        }
        let ip = match addr.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        let blocked = match special_range(ip) {
            None => return Ok(()),
            // Even local development never connects to "nowhere" or to multicast groups.
            Some(range @ ("unspecified" | "multicast")) => Blocked { addr: ip, range },
            Some(_) if self.allow_private_networks => return Ok(()),
            Some(range) => Blocked { addr: ip, range },
        };
        tracing::info!(addr = %blocked.addr, range = blocked.range, "crawl guard: refused an address");
        Err(blocked)
    }

    /// Checks a URL's host when it is an IP literal (names are checked when resolved).
    pub fn check_url(&self, url: &url::Url) -> Result<(), Blocked> {
        let port = url.port_or_known_default().unwrap_or(0);
        match url.host() {
            Some(url::Host::Ipv4(v4)) => self.check(SocketAddr::new(IpAddr::V4(v4), port)),
            Some(url::Host::Ipv6(v6)) => self.check(SocketAddr::new(IpAddr::V6(v6), port)),
            _ => Ok(()),
        }
    }
}

/// reqwest's resolver for crawls: resolves with the system resolver and keeps only the
/// addresses the policy allows, so the client connects to vetted addresses only. A name
/// with no allowed address fails with [`Blocked`].
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    policy: Arc<Policy>,
}

impl GuardedResolver {
    /// A resolver enforcing `policy`.
    pub fn new(policy: Arc<Policy>) -> Self {
        Self { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut first_refusal = None;
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match policy.check(*a) {
                    Ok(()) => true,
                    Err(blocked) => {
                        first_refusal.get_or_insert(blocked);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = match first_refusal {
                    Some(blocked) => Box::new(blocked),
                    None => format!("{host} has no address").into(),
                };
                return Err(err);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &Policy, url: &str) -> bool {
        policy.check_url(&url::Url::parse(url).unwrap()).is_err()
    }

    #[test]
    fn every_special_purpose_range_is_refused_and_public_addresses_pass() {
        let blocked = [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "2001:db8::1",
            "100::1",
        ];
        for ip in blocked {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(special_range(ip).is_some(), "{ip} should be refused");
            assert!(Policy::default().check(SocketAddr::new(ip, 80)).is_err(), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(special_range(ip), None, "{ip} is public");
        }
    }

    #[test]
    fn ip_literals_in_any_notation_are_checked() {
        let policy = Policy::default();
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://017700000001/",
            "http://0x7f000001/",
            "http://127.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:ffff:a9fe:a9fe]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00::1]:8080/",
            "http://0/",
        ] {
            assert!(refused(&policy, url), "{url} must be refused");
        }
        assert!(!refused(&policy, "http://8.8.8.8/"));
        assert!(!refused(&policy, "https://example.com/"), "names are checked when resolved");
    }

    #[test]
    fn private_networks_setting_opens_loopback_but_never_unspecified_or_multicast() {
        let open = Policy { allow_private_networks: true, exempt: vec![] };
        assert!(!refused(&open, "http://127.0.0.1:8080/"));
        assert!(!refused(&open, "http://[::1]/"));
        assert!(refused(&open, "http://0.0.0.0/"));
        assert!(refused(&open, "http://224.0.0.1/"));
        let exempt: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let one = Policy { allow_private_networks: false, exempt: vec![exempt] };
        assert!(!refused(&one, "http://127.0.0.1:4000/"));
        assert!(refused(&one, "http://127.0.0.1:4001/"), "the exemption is one socket address");
    }
}
