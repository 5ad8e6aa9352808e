//! Share links: a scenario in the URL fragment.
//!
//! A link's fragment is `v1.` followed by the scenario's text format,
//! compressed with raw DEFLATE (`miniz_oxide`) and written in URL-safe
//! base64 without padding (`base64`). The version prefix lets a later
//! ClusterScope read old links or say clearly that it cannot. Using the
//! text format inside, rather than a binary layout, means a link holds
//! exactly what a `.scn` file holds and decodes through the same validated
//! parser, so a hand-edited or damaged link gets the same clear errors.
//! Decompression is capped, so a crafted link cannot exhaust memory.

use super::{Scenario, ScenarioError, MAX_TEXT};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The version written by this build.
pub const VERSION: &str = "v1";

/// Encodes a scenario for the part of a link after `#`.
pub fn encode(scn: &Scenario) -> String {
    let text = scn.to_text();
    let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(packed))
}

/// Decodes the part of a link after `#` (a leading `#` is allowed).
pub fn decode(fragment: &str) -> Result<Scenario, ScenarioError> {
    let fragment = fragment.trim().trim_start_matches('#');
    if fragment.is_empty() {
        return Err(ScenarioError::Link("it holds no scenario".into()));
    }
    let Some((version, body)) = fragment.split_once('.') else {
        return Err(ScenarioError::Link("it does not start with a version such as 'v1.'".into()));
    };
    if version != VERSION {
        let looks_like_version = version.len() <= 8
            && version.starts_with('v')
            && version.len() > 1
            && version[1..].chars().all(|c| c.is_ascii_digit());
        return Err(if looks_like_version {
            ScenarioError::Version(version.to_string())
        } else {
            ScenarioError::Link("it does not start with a version such as 'v1.'".into())
        });
    }
    let packed = URL_SAFE_NO_PAD
        .decode(body.trim_end_matches('='))
        .map_err(|_| ScenarioError::Link("it contains characters that a ClusterScope link never has".into()))?;
    let text = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_TEXT)
        .map_err(|_| ScenarioError::Link("the scenario data is cut short or corrupted (was the link copied whole?)".into()))?;
    let text = String::from_utf8(text)
        .map_err(|_| ScenarioError::Link("the scenario data is corrupted (it is not text)".into()))?;
    Scenario::parse(&text)
}
