//! Keeping the token out of what errors show.
//!
//! A misbehaving server may echo the request's headers back in a body or
//! a header. Bodies are redacted whole before an excerpt is cut from them
//! ([`redact_body`]), and every text an error shows is then cleared of any
//! run of [`FRAGMENT`] or more consecutive characters of the token
//! ([`redact_text`]), so a token cut by an excerpt's edge, or echoed only
//! in part, shows no useful piece either. A token shorter than
//! [`SAFE_TO_CUT`] is redacted whole only: its 8-character pieces are
//! ordinary words (`example-`) that would cut server text apart, and a
//! piece of a token that short is no secret worth the damage.

use std::borrow::Cow;

/// The shortest piece of the token that is redacted on its own.
pub(crate) const FRAGMENT: usize = 8;

/// The shortest token whose pieces are redacted on their own (a
/// DigitalOcean token is 71 characters: `dop_v1_` and 64 hex digits).
pub(crate) const SAFE_TO_CUT: usize = 24;

/// What a redacted piece is replaced with.
pub(crate) const MARK: &str = "<redacted>";

/// `body` with every whole occurrence of `secret` replaced by [`MARK`].
pub(crate) fn redact_body<'a>(body: &'a [u8], secret: &str) -> Cow<'a, [u8]> {
    let needle = secret.as_bytes();
    if needle.is_empty() || body.len() < needle.len() {
        return Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    let mut found = false;
    while let Some(at) = find(rest, needle) {
        found = true;
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(MARK.as_bytes());
        rest = &rest[at + needle.len()..];
    }
    if !found {
        return Cow::Borrowed(body);
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

/// `text` with every run of [`FRAGMENT`] or more consecutive characters of
/// `secret` replaced by [`MARK`]; of a secret shorter than
/// [`SAFE_TO_CUT`], only whole occurrences.
pub(crate) fn redact_text(text: &str, secret: &str) -> Option<String> {
    let secret = secret.as_bytes();
    let window = if secret.len() < SAFE_TO_CUT {
        secret.len()
    } else {
        FRAGMENT
    };
    if window == 0 || text.len() < window {
        return None;
    }
    let bytes = text.as_bytes();
    let mut hidden = vec![false; bytes.len()];
    for piece in secret.windows(window) {
        let mut from = 0;
        while let Some(at) = find(&bytes[from..], piece) {
            let start = from + at;
            hidden[start..start + window].fill(true);
            from = start + 1;
        }
    }
    if !hidden.contains(&true) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut in_mark = false;
    for (i, c) in text.char_indices() {
        if hidden[i] {
            if !in_mark {
                out.push_str(MARK);
                in_mark = true;
            }
        } else {
            out.push(c);
            in_mark = false;
        }
    }
    Some(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SECRET: &str = "dop_v1_0123456789abcdefSECRET";

    #[test]
    fn a_whole_token_and_its_pieces_are_hidden() {
        let body = format!("echo: Bearer {SECRET}!");
        assert_eq!(
            redact_body(body.as_bytes(), SECRET).as_ref(),
            b"echo: Bearer <redacted>!"
        );
        // An excerpt cut inside the token, and a body starting mid-token.
        assert_eq!(
            redact_text("... Bearer dop_v1_01234", SECRET).as_deref(),
            Some("... Bearer <redacted>")
        );
        assert_eq!(
            redact_text("89abcdefSECRET tail", SECRET).as_deref(),
            Some("<redacted> tail")
        );
        assert_eq!(redact_text("dop_v1_", SECRET), None, "7 characters");
        assert_eq!(
            redact_text("é dop_v1_0 é", SECRET).as_deref(),
            Some("é <redacted> é")
        );
    }

    #[test]
    fn a_short_token_is_hidden_whole_and_leaves_words_alone() {
        let short = "example-token";
        assert_eq!(
            redact_text("the example-gateway timed out", short),
            None,
            "a word sharing 8 characters with a short token stays"
        );
        assert_eq!(
            redact_text("echo example-token here", short).as_deref(),
            Some("echo <redacted> here")
        );
    }

    proptest! {
        /// Whatever surrounds it and wherever an excerpt cuts it, no 8
        /// consecutive characters of the token survive.
        #[test]
        fn no_eight_characters_survive(
            before in "[ -~é\\n]{0,300}",
            after in "[ -~é\\n]{0,300}",
            cut_start in 0usize..40,
            cut_end in 0usize..40,
        ) {
            let text = format!("{before}{SECRET}{after}");
            let start = (before.len() + cut_start.min(SECRET.len())).min(text.len());
            let end = (before.len() + SECRET.len() - cut_end.min(SECRET.len())).max(start);
            for piece in [&text[..], text.get(start..).unwrap_or(""), text.get(..end).unwrap_or("")] {
                let shown = redact_text(piece, SECRET).unwrap_or_else(|| piece.to_owned());
                for window in SECRET.as_bytes().windows(FRAGMENT) {
                    let window = std::str::from_utf8(window).unwrap_or_default();
                    prop_assert!(!shown.contains(window), "{shown}");
                }
            }
        }
    }
}
