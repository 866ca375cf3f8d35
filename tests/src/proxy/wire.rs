//! Just enough of the Postgres wire protocol (frontend side) for the proxy to see when a client
//! sends `COMMIT`: the startup message is untyped (a 4-byte big-endian length that counts
//! itself, then the body), and may be preceded by an `SSLRequest` or `GSSENCRequest` of the same
//! shape; every later message is typed (one type byte, then a length that counts itself but not
//! the type byte). sqlx's `Transaction::commit` (which postgres-es uses too) sends `COMMIT` as a
//! simple-protocol `Query` (`'Q'`) message.

/// The request codes of the untyped messages that ask for an encrypted session (the server
/// answers one byte, `S` or `N`, and the client then sends its startup message).
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

/// Whether an untyped first message (`length`, then the 4-byte `code`) asks for encryption.
pub fn asks_for_encryption(length: u32, code: u32) -> bool {
    length == 8 && (code == SSL_REQUEST || code == GSSENC_REQUEST)
}

/// A `Query` body longer than this is not a bare `COMMIT`, and is not kept.
const LONGEST_COMMIT: usize = 64;

/// Follows the client's typed messages as their bytes go by, in pieces of any size, and counts
/// the `COMMIT`s among them. It keeps at most a header and a short query's text.
#[derive(Debug, Default)]
pub struct CommitScanner {
    /// A typed message's header (type byte and length) as far as it has arrived.
    header: Vec<u8>,
    /// Bytes of the current message's body still to come.
    remaining: usize,
    /// The current message's body, when it is a `Query` short enough to be a `COMMIT`.
    short_query: Option<Vec<u8>>,
}

impl CommitScanner {
    /// A scanner whose first `startup_left` bytes are the rest of the (untyped) startup message.
    pub fn after_startup(startup_left: usize) -> Self {
        Self {
            remaining: startup_left,
            ..Self::default()
        }
    }

    /// Follows `bytes`; answers how many `COMMIT` messages they completed.
    pub fn feed(&mut self, mut bytes: &[u8]) -> usize {
        let mut commits = 0;
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let (body, rest) = bytes.split_at(self.remaining.min(bytes.len()));
                if let Some(query) = &mut self.short_query {
                    query.extend_from_slice(body);
                }
                self.remaining -= body.len();
                bytes = rest;
                if self.remaining == 0 {
                    commits += usize::from(self.message_ended());
                }
                continue;
            }
            let (header, rest) = bytes.split_at((5 - self.header.len()).min(bytes.len()));
            self.header.extend_from_slice(header);
            bytes = rest;
            if let [kind, a, b, c, d] = self.header[..] {
                self.header.clear();
                // The length counts its own 4 bytes; a shorter one is malformed: skip nothing.
                let body = (u32::from_be_bytes([a, b, c, d]) as usize).saturating_sub(4);
                self.remaining = body;
                self.short_query = (kind == b'Q' && body <= LONGEST_COMMIT).then(Vec::new);
                if body == 0 {
                    commits += usize::from(self.message_ended());
                }
            }
        }
        commits
    }

    /// Whether the message that just ended was a `COMMIT`.
    fn message_ended(&mut self) -> bool {
        self.short_query.take().is_some_and(|text| is_commit(&text))
    }
}

/// A query's text (NUL-terminated on the wire) is a bare `COMMIT`.
fn is_commit(text: &[u8]) -> bool {
    let text = String::from_utf8_lossy(text);
    text.trim_end_matches('\0')
        .trim()
        .trim_end_matches(';')
        .trim_end()
        .eq_ignore_ascii_case("commit")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut message = vec![kind];
        message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        message.extend_from_slice(body);
        message
    }

    fn stream() -> Vec<u8> {
        let mut bytes = b"user\0postgres\0\0".to_vec(); // the rest of a startup message
        bytes.extend(typed(b'Q', b"BEGIN\0"));
        bytes.extend(typed(b'P', b"\0INSERT INTO events VALUES ($1)\0\0\0"));
        bytes.extend(typed(b'S', b""));
        bytes.extend(typed(b'Q', b"COMMIT\0"));
        bytes.extend(typed(b'Q', b"SELECT 'COMMIT'\0"));
        bytes.extend(typed(b'Q', b"commit;\0"));
        bytes
    }

    #[test]
    fn the_commits_of_a_stream_are_counted_whole_or_byte_by_byte() {
        let bytes = stream();
        let startup_left = b"user\0postgres\0\0".len();
        assert_eq!(CommitScanner::after_startup(startup_left).feed(&bytes), 2);
        let mut scanner = CommitScanner::after_startup(startup_left);
        let one_by_one: usize = bytes.iter().map(|b| scanner.feed(&[*b])).sum();
        assert_eq!(one_by_one, 2);
    }

    #[test]
    fn a_commit_is_counted_when_its_last_byte_arrives() {
        let commit = typed(b'Q', b"COMMIT\0");
        let mut scanner = CommitScanner::default();
        let (head, last) = commit.split_at(commit.len() - 1);
        assert_eq!(scanner.feed(head), 0);
        assert_eq!(scanner.feed(last), 1);
    }

    #[test]
    fn only_the_encryption_requests_are_answered_by_the_proxy() {
        assert!(asks_for_encryption(8, SSL_REQUEST));
        assert!(asks_for_encryption(8, GSSENC_REQUEST));
        // A startup message: protocol 3.0.
        assert!(!asks_for_encryption(41, 196_608));
    }
}
