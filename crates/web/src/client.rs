//! The visitor's address, for per-IP rate limits, sessions and logs: the socket peer,
//! unless that peer is one of the `trusted_proxies` (the load balancer), in which case the
//! address it forwards (`X-Forwarded-For`, else `Forwarded: for=`), read from the right,
//! trusted hops skipped. Those headers are ignored from any other peer: a visitor could
//! write anything in them.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap, HeaderName, header};
use ipnet::IpNet;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Networks whose forwarding headers are believed (CIDR blocks or single addresses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads `10.0.0.0/8`, `192.0.2.7` or `2001:db8::/32`; the error names the bad entry
    /// (in French: it is shown to the operator).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, String> {
        entries
            .iter()
            .map(|e| e.as_ref().trim())
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        format!(
                            "trusted_proxies : « {e} » n’est ni une adresse IP ni un bloc CIDR (exemples : 10.0.0.0/8, 192.0.2.7, 2001:db8::/32)"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// The client's address for a request: see the module's documentation. `None` when the
/// request came without a socket address (tests calling the router directly).
pub fn client_ip(
    extensions: &Extensions,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()?
        .0
        .ip()
        .to_canonical();
    if !trusted.contains(peer) {
        return Some(peer);
    }
    let Some(hops) = forwarded_hops(headers, &X_FORWARDED_FOR, xff_hops)
        .or_else(|| forwarded_hops(headers, &header::FORWARDED, forwarded_for))
    else {
        return Some(peer);
    };
    // From the right: each hop was written by the one after it; the first hop that is
    // not a trusted proxy is the client. A hop that is not an address (`unknown`, an
    // obfuscated name) ends the walk at the proxy that wrote it.
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if trusted.contains(*ip) => client = *ip,
            Some(ip) => return Some(*ip),
            None => return Some(client),
        }
    }
    Some(client)
}

/// The hops of every occurrence of `name`, in order; `None` when the header is absent.
fn forwarded_hops(
    headers: &HeaderMap,
    name: &HeaderName,
    parse: fn(&str, &mut Vec<Option<IpAddr>>),
) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    let mut present = false;
    for value in headers.get_all(name) {
        present = true;
        match value.to_str() {
            Ok(v) => parse(v, &mut hops),
            // Unreadable: as an unknown hop.
            Err(_) => hops.push(None),
        }
    }
    present.then_some(hops)
}

/// `X-Forwarded-For: client, proxy1, proxy2`.
fn xff_hops(value: &str, hops: &mut Vec<Option<IpAddr>>) {
    hops.extend(value.split(',').map(|h| parse_node(h.trim())));
}

/// RFC 7239: `Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"`.
fn forwarded_for(value: &str, hops: &mut Vec<Option<IpAddr>>) {
    for element in value.split(',') {
        let node = element.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
        });
        if let Some(node) = node {
            hops.push(parse_node(node.trim_matches('"')));
        }
    }
}

/// `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:443`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Some(addr.ip().to_canonical());
    }
    let inner = node.strip_prefix('[')?;
    let end = inner.find(']')?;
    inner[..end]
        .parse::<IpAddr>()
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn request(peer: &str, headers: &[(&str, &str)]) -> (Extensions, HeaderMap) {
        let mut ext = Extensions::new();
        ext.insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 40000)));
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        (ext, map)
    }

    fn ip(peer: &str, headers: &[(&str, &str)], trusted: &[&str]) -> String {
        let (ext, map) = request(peer, headers);
        client_ip(&ext, &map, &TrustedProxies::parse(trusted).unwrap())
            .unwrap()
            .to_string()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let forged = [
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
        ];
        assert_eq!(ip("198.51.100.4", &forged, &[]), "198.51.100.4");
        assert_eq!(ip("198.51.100.4", &forged, &["10.0.0.0/8"]), "198.51.100.4");
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let xff = "x-forwarded-for";
        type Headers<'a> = &'a [(&'a str, &'a str)];
        // (peer, headers, client)
        let cases: &[(&str, Headers, &str)] = &[
            ("10.0.0.2", &[(xff, "203.0.113.9")], "203.0.113.9"),
            // The visitor wrote the leftmost entry: not believed.
            (
                "10.0.0.2",
                &[(xff, "1.2.3.4, 203.0.113.9, 10.1.1.1")],
                "203.0.113.9",
            ),
            // Several header lines are one list.
            (
                "10.0.0.2",
                &[(xff, "1.2.3.4"), (xff, "203.0.113.9")],
                "203.0.113.9",
            ),
            (
                "10.0.0.2",
                &[(
                    "forwarded",
                    "for=1.2.3.4, for=\"[2001:db8::7]:4711\";proto=https",
                )],
                "2001:db8::7",
            ),
            (
                "10.0.0.2",
                &[("forwarded", "for=198.51.100.3:80")],
                "198.51.100.3",
            ),
            // No header: the proxy itself.
            ("10.0.0.2", &[], "10.0.0.2"),
            // Garbage at the right: the proxy that wrote it.
            ("10.0.0.2", &[(xff, "1.2.3.4, unknown")], "10.0.0.2"),
            (
                "10.0.0.2",
                &[(xff, "1.2.3.4, unknown, 10.9.9.9")],
                "10.9.9.9",
            ),
            // Only trusted hops: the farthest.
            ("10.0.0.2", &[(xff, "10.3.3.3, 10.4.4.4")], "10.3.3.3"),
            // An IPv4 peer seen through an IPv6 socket.
            ("::ffff:10.0.0.2", &[(xff, "203.0.113.9")], "203.0.113.9"),
        ];
        for (peer, headers, client) in cases {
            assert_eq!(
                ip(peer, headers, &["10.0.0.0/8"]),
                *client,
                "{peer} {headers:?}"
            );
        }
    }

    #[test]
    fn the_list_is_checked() {
        assert_eq!(
            TrustedProxies::parse(&["10.0.0.0/8", " 192.0.2.7 ", "2001:db8::/32", ""])
                .unwrap()
                .0
                .len(),
            3
        );
        let err = TrustedProxies::parse(&["10.0.0.0/33"]).unwrap_err();
        assert!(err.contains("« 10.0.0.0/33 »"), "{err}");
        assert!(TrustedProxies::parse(&["proxy.interne"]).is_err());
    }
}
