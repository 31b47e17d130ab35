//! Percent-encoding of caller-supplied values inserted into request paths.
//!
//! Every inserted value is encoded so that it stays one segment: a branch called
//! `feature/login` must reach `/refs/branches/feature%2Flogin`, not a different endpoint.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::Error;

/// Everything but RFC 3986 unreserved characters is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Encodes `value` as a single path segment, `/` included.
///
/// Empty, `.` and `..` values are refused: URL parsers resolve dot segments (even encoded
/// ones), which would silently send the request to another endpoint.
pub(crate) fn segment(name: &str, value: &str) -> Result<String, Error> {
    if value.is_empty() {
        return Err(Error::InvalidInput {
            message: format!("`{name}` must not be empty"),
        });
    }
    if value == "." || value == ".." {
        return Err(Error::InvalidInput {
            message: format!("`{name}` must not be `{value}`"),
        });
    }
    Ok(utf8_percent_encode(value, SEGMENT).to_string())
}

/// Encodes a repository file path: each `/`-separated part is encoded on its own and the
/// separators kept. Leading, trailing and doubled slashes are dropped; an empty result means
/// the repository root.
pub(crate) fn file_path(value: &str) -> Result<String, Error> {
    let mut parts = Vec::new();
    for part in value.split('/').filter(|part| !part.is_empty()) {
        if part == "." || part == ".." {
            return Err(Error::InvalidInput {
                message: format!("`path` must not contain `{part}` segments"),
            });
        }
        parts.push(utf8_percent_encode(part, SEGMENT).to_string());
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_reserved_character() {
        assert_eq!(segment("name", "main").unwrap(), "main");
        assert_eq!(segment("name", "feature/login").unwrap(), "feature%2Flogin");
        assert_eq!(
            segment("name", "a b?c#d%e&f+g").unwrap(),
            "a%20b%3Fc%23d%25e%26f%2Bg"
        );
        assert_eq!(
            segment("workspace", "{470c176d-3574}").unwrap(),
            "%7B470c176d-3574%7D"
        );
        assert_eq!(segment("name", "v1.2_x~y").unwrap(), "v1.2_x~y");
        assert_eq!(segment("name", "ünï").unwrap(), "%C3%BCn%C3%AF");
        assert_eq!(segment("name", "...").unwrap(), "...");
    }

    #[test]
    fn refuses_empty_and_dot_segments() {
        for bad in ["", ".", ".."] {
            let err = segment("repo_slug", bad).unwrap_err().to_string();
            assert!(err.contains("`repo_slug`"), "{err}");
        }
    }

    #[test]
    fn encodes_file_paths_per_part() {
        assert_eq!(file_path("").unwrap(), "");
        assert_eq!(file_path("/").unwrap(), "");
        assert_eq!(file_path("README.md").unwrap(), "README.md");
        assert_eq!(
            file_path("/docs//my file#1.md/").unwrap(),
            "docs/my%20file%231.md"
        );
        assert!(file_path("docs/../secret").is_err());
        assert!(file_path("./x").is_err());
    }
}
