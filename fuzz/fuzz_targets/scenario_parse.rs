//! Any file: parsing never panics, and a file that parses writes out a text
//! that parses back to the same scenario.
#![no_main]
use clusterscope_core::scenario::Scenario;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(scn) = Scenario::parse(&text) {
        let written = scn.to_text();
        assert_eq!(Scenario::parse(&written).expect("what it writes parses"), scn, "{written}");
    }
});
