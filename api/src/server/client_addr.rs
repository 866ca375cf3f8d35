//! The client address that the sign-in rate limits count per (`dinghuo_identity::limits`).
//!
//! By default it is the address of the TCP peer. Behind reverse proxies that peer is the
//! nearest proxy, and every client would share its limits; `--trusted-proxy-hops N` (off, 0, by
//! default) says that exactly N proxies stand in front of the server, each appending the address
//! it received from to `X-Forwarded-For`. The client is then the N-th address from the right:
//! whatever a client wrote into the header itself stands further left and is never read. A
//! header with fewer entries, or an entry that is not an IP address, means the request did not
//! come through the proxies as configured: the peer address is used.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// Entries of `X-Forwarded-For` read at most: a proxy chain is short, a header can be long.
pub const MAX_FORWARDED_ENTRIES: usize = 32;

/// The address to count a request's attempts against: `peer`, or with `trusted_hops` proxies
/// in front, the address the farthest of them received the request from.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted_hops: usize) -> IpAddr {
    if trusted_hops == 0 {
        return peer;
    }
    // Several headers count as one list in order (RFC 9110 §5.3).
    let mut entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    if entries.len() > MAX_FORWARDED_ENTRIES {
        entries.drain(..entries.len() - MAX_FORWARDED_ENTRIES);
    }
    entries
        .len()
        .checked_sub(trusted_hops)
        .and_then(|index| entries[index].parse::<IpAddr>().ok())
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                "x-forwarded-for",
                HeaderValue::from_str(value).expect("ascii"),
            );
        }
        headers
    }

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(client_address(PEER, &headers(&["203.0.113.9"]), 0), PEER);
    }

    #[test]
    fn with_one_trusted_proxy_the_rightmost_entry_is_the_client() {
        let forged = headers(&["198.51.100.7, 203.0.113.9"]);
        assert_eq!(client_address(PEER, &forged, 1), ip("203.0.113.9"));
        let split = headers(&["198.51.100.7", "203.0.113.9"]);
        assert_eq!(client_address(PEER, &split, 1), ip("203.0.113.9"));
    }

    #[test]
    fn with_two_trusted_proxies_the_second_from_the_right_is_the_client() {
        let chain = headers(&["198.51.100.7, 203.0.113.9, 10.0.0.2"]);
        assert_eq!(client_address(PEER, &chain, 2), ip("203.0.113.9"));
    }

    #[test]
    fn a_short_or_broken_header_falls_back_to_the_peer() {
        assert_eq!(client_address(PEER, &HeaderMap::new(), 1), PEER);
        assert_eq!(client_address(PEER, &headers(&["203.0.113.9"]), 2), PEER);
        assert_eq!(client_address(PEER, &headers(&["not-an-ip"]), 1), PEER);
    }
}
