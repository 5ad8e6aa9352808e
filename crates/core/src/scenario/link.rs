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
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use miniz_oxide::inflate::TINFLStatus;

/// URL-safe base64 that also reads a link cut in the middle of a character.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The version written by this build.
pub const VERSION: &str = "v1";

/// Encodes a scenario for the part of a link after `#`. A valid scenario
/// always encodes to a link that [`decode`] reads back; one whose text is
/// over [`MAX_TEXT`] is refused here rather than producing a dead link.
pub fn encode(scn: &Scenario) -> Result<String, ScenarioError> {
    let text = scn.to_text();
    if text.len() > MAX_TEXT {
        return Err(ScenarioError::TooLarge(format!(
            "its text is {} bytes, more than the {MAX_TEXT} a link may hold",
            text.len()
        )));
    }
    let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    Ok(format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(packed)))
}

/// Decodes the part of a link after `#` (a leading `#` is allowed).
pub fn decode(fragment: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(&unpack(fragment)?)
}

/// The lab a link's scenario names (see [`super::lab_named`]), without
/// parsing it: `None` for a link that does not unpack or names no lab.
pub fn lab_of(fragment: &str) -> Option<String> {
    unpack(fragment).ok().and_then(|text| super::lab_named(&text).map(str::to_string))
}

/// The scenario text a link holds, unpacked but not yet read.
fn unpack(fragment: &str) -> Result<String, ScenarioError> {
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
    let body = body.trim_end_matches('=');
    if !body.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') {
        return Err(ScenarioError::Link("it contains characters that a ClusterScope link never has".into()));
    }
    // A link cut anywhere still decodes to a prefix of its bytes (dropping
    // a dangling last character); whether the compressed data then stops
    // early or is garbage tells a cut link from a damaged one.
    let whole = &body[..body.len() - usize::from(body.len() % 4 == 1)];
    let packed = LENIENT
        .decode(whole)
        .map_err(|_| ScenarioError::Link("it contains characters that a ClusterScope link never has".into()))?;
    let text = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_TEXT).map_err(|e| match e.status {
        TINFLStatus::HasMoreOutput => ScenarioError::TooLarge(format!(
            "it unpacks to more than {MAX_TEXT} bytes of scenario text, the most this version reads"
        )),
        TINFLStatus::FailedCannotMakeProgress => {
            ScenarioError::Truncated("the scenario data stops early (was the link copied whole?)".into())
        }
        _ => ScenarioError::Link("the scenario data is corrupted".into()),
    })?;
    String::from_utf8(text).map_err(|_| ScenarioError::Link("the scenario data is corrupted (it is not text)".into()))
}
