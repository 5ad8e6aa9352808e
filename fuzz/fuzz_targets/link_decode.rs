//! Any text after '#' in an address: decoding never panics, and a link that
//! decodes is a valid scenario whose own link decodes back to it.
#![no_main]
use clusterscope_core::scenario::link;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(scn) = link::decode(&text) {
        scn.validate().expect("a decoded link is a valid scenario");
        let again = link::encode(&scn).expect("a valid scenario encodes");
        assert_eq!(link::decode(&again).expect("its link decodes"), scn);
    }
});
