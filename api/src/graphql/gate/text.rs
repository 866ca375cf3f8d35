//! A lexical scan of a query's text, run before the text reaches async-graphql's parser.
//!
//! The parser (pest, then the conversion into async-graphql's types) recurses once per level of
//! a list, an input object, an argument list or a selection set, and only selection sets are
//! bounded: 2,000 levels of `[` in an argument overflow the thread's stack and abort the process.
//! So the scan counts how deeply the brackets `[`, `{` and `(` nest, outside strings and
//! comments, and refuses past [`MAX_NESTING`]. It follows GraphQL's lexical grammar as the parser
//! does (comments run to the end of the line; a string ends at its closing quote or at a line
//! end, after which the parser gives up; a block string ends at `"""` not escaped as `\"""`), so
//! every bracket the parser could descend into is counted. Where the two could disagree (a text
//! the parser refuses anyway), the scan counts more, never less.
//!
//! The same scan refuses the NUL character, raw or escaped (`\u0000`, `\u{0}`) inside a string:
//! the parser would decode the escape, and Postgres refuses NUL in text.

use async_graphql::Pos;

use super::{Place, Refusal, MAX_NESTING};

/// Scans `query`; the first nesting past [`MAX_NESTING`] or NUL is refused, with its position.
pub fn check(query: &str) -> Result<(), Refusal> {
    let bytes = query.as_bytes();
    let at = |index: usize| Place::Query(position(query, index));
    let mut depth = 0usize;
    let mut i = 0;
    // Every byte the grammar cares about is ASCII; the bytes of a multi-byte UTF-8 character are
    // all 0x80 or above, so scanning bytes never mistakes one for punctuation.
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
                    if bytes[i] == 0 {
                        return Err(Refusal::Nul(at(i)));
                    }
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i = block_string_end(bytes, i + 3).map_err(|nul| Refusal::Nul(at(nul)))?;
            }
            b'"' => i = string_end(bytes, i + 1).map_err(|nul| Refusal::Nul(at(nul)))?,
            b'[' | b'{' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Refusal::TooDeep(at(i)));
                }
                i += 1;
            }
            // A closer the parser would not accept here ends the parse there; counting it as
            // closing whatever is open can only lower the count of a text that fails anyway.
            b']' | b'}' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            0 => return Err(Refusal::Nul(at(i))),
            _ => i += 1,
        }
    }
    Ok(())
}

/// The index after the string whose content starts at `i`, or the index of a NUL in it. A line
/// end (or the end of the text) ends an unterminated string: the parser refuses the text there.
fn string_end(bytes: &[u8], mut i: usize) -> Result<usize, usize> {
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Ok(i + 1),
            b'\n' | b'\r' => return Ok(i),
            0 => return Err(i),
            b'\\' => match bytes.get(i + 1) {
                Some(b'u') => {
                    let (value, end) = unicode_escape(bytes, i + 2);
                    if value == Some(0) {
                        return Err(i);
                    }
                    i = end;
                }
                Some(b'\n' | b'\r') | None => i += 1,
                Some(_) => i += 2,
            },
            _ => i += 1,
        }
    }
    Ok(i)
}

/// The value of the escape `\u` whose digits start at `i` (`XXXX`, or `{X…}` as newer GraphQL
/// allows) and the index after it; `None` when the digits are not hexadecimal.
fn unicode_escape(bytes: &[u8], i: usize) -> (Option<u32>, usize) {
    let (digits, end) = if bytes.get(i) == Some(&b'{') {
        let close = bytes[i..]
            .iter()
            .position(|byte| !byte.is_ascii_hexdigit() && *byte != b'{')
            .map_or(bytes.len(), |offset| i + offset);
        if bytes.get(close) != Some(&b'}') {
            return (None, close);
        }
        (&bytes[i + 1..close], close + 1)
    } else {
        let end = (i + 4).min(bytes.len());
        (&bytes[i..end], end)
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
        return (None, end);
    }
    // Leading zeros do not change the value; any other digit makes it non-zero.
    let value = u32::from(!digits.iter().all(|digit| *digit == b'0'));
    (Some(value), end)
}

/// The index after the block string whose content starts at `i`, or the index of a NUL in it.
/// Only `\"""` is an escape in a block string.
fn block_string_end(bytes: &[u8], mut i: usize) -> Result<usize, usize> {
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\\\"\"\"") {
            i += 4;
        } else if bytes[i..].starts_with(b"\"\"\"") {
            return Ok(i + 3);
        } else if bytes[i] == 0 {
            return Err(i);
        } else {
            i += 1;
        }
    }
    Ok(i)
}

/// The line and column (both from 1, the column in characters) of the byte at `index`, as the
/// parser reports positions. `\r\n`, `\n` and `\r` each end a line.
fn position(query: &str, index: usize) -> Pos {
    let before = &query[..index.min(query.len())];
    let mut line = 1;
    let mut line_start = 0;
    let bytes = before.as_bytes();
    for (offset, byte) in bytes.iter().enumerate() {
        let ends_line = match byte {
            b'\n' => true,
            b'\r' => bytes.get(offset + 1) != Some(&b'\n'),
            _ => false,
        };
        if ends_line {
            line += 1;
            line_start = offset + 1;
        }
    }
    Pos {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(open: &str, close: &str, levels: usize) -> String {
        format!("{}1{}", open.repeat(levels), close.repeat(levels))
    }

    fn too_deep(query: &str) -> bool {
        matches!(check(query), Err(Refusal::TooDeep(_)))
    }

    fn nul(query: &str) -> bool {
        matches!(check(query), Err(Refusal::Nul(_)))
    }

    #[test]
    fn counts_lists_objects_arguments_and_selections_together() {
        // The query's braces and the argument's parenthesis take two levels.
        let fits = format!("{{ a(x: {}) }}", nested("[", "]", MAX_NESTING - 2));
        assert!(check(&fits).is_ok());
        let over = format!("{{ a(x: {}) }}", nested("[", "]", MAX_NESTING - 1));
        assert!(too_deep(&over));
        let objects = format!("{{ a(x: {}) }}", nested("{b: ", "}", 2_000));
        assert!(too_deep(&objects));
        let selections = format!("{}{}", "{ a ".repeat(MAX_NESTING + 1), "}".repeat(65));
        assert!(too_deep(&selections));
        let types = format!(
            "query($v: {}Int{}) {{ a }}",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(too_deep(&types));
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count_but_closers_never_go_below_zero() {
        let deep = "[".repeat(1_000);
        assert!(check(&format!("{{ a(x: \"{deep}\") }}")).is_ok());
        assert!(check(&format!("{{ a(x: \"\"\"{deep}\"\"\") }}")).is_ok());
        assert!(check(&format!("{{ a # {deep}\n }}")).is_ok());
        // Escaped quotes do not end a string; `\"""` does not end a block string.
        assert!(check(&format!("{{ a(x: \"\\\"{deep}\") }}")).is_ok());
        assert!(check(&format!("{{ a(x: \"\"\"\\\"\"\"{deep}\"\"\") }}")).is_ok());
        // A string ends at a line end, as in the parser: what follows is counted.
        assert!(too_deep(&format!("{{ a(x: \"open\n{deep}) }}")));
        // Leading closers do not buy depth.
        assert!(too_deep(&format!("{}{deep}", "]".repeat(1_000))));
    }

    #[test]
    fn refuses_nul_raw_or_escaped_in_strings_only_where_the_parser_would_decode_it() {
        assert!(nul("{ a(x: \"ab\\u0000\") }"));
        assert!(nul("{ a(x: \"\\u{0}\") }"));
        assert!(nul("{ a(x: \"\\u{000000}\") }"));
        assert!(nul("{ a(x: \"a\0b\") }"));
        assert!(nul("{ a(x: \"\"\"a\0b\"\"\") }"));
        assert!(nul("{ a \0 }"));
        assert!(nul("{ a # \0\n }"));
        // An escaped backslash followed by `u0000` is text, and so is the escape in a block
        // string or a comment.
        assert!(check("{ a(x: \"\\\\u0000\") }").is_ok());
        assert!(check("{ a(x: \"\"\"\\u0000\"\"\") }").is_ok());
        assert!(check("{ a # \\u0000\n }").is_ok());
        assert!(check("{ a(x: \"\\u0001 \\u{10} \\u00e9 \") }").is_ok());
    }

    #[test]
    fn positions_are_lines_and_character_columns_from_one() {
        let query = "{\r\n  a(x: \"é\\u0000\")\n}";
        let Err(Refusal::Nul(Place::Query(pos))) = check(query) else {
            panic!("refused");
        };
        assert_eq!((pos.line, pos.column), (2, 10));
    }

    #[test]
    fn scans_a_megabyte_of_nesting_without_recursing() {
        // Refused at the first level past the bound, however long the text.
        let huge = nested("[", "]", 500_000);
        assert!(too_deep(&huge));
    }
}
