//! Any file that parses is run: building the lab, a bounded number of steps,
//! live actions, frames and settings never panic, and the recorded scenario
//! replays to the same fingerprint.
#![no_main]
use clusterscope_core::lab::Lab;
use clusterscope_core::scenario::{parse_action, Scenario};
use libfuzzer_sys::fuzz_target;

/// Steps per input: enough to reach elections and faults, few enough to
/// keep thousands of inputs a minute.
const STEPS: usize = 3_000;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(scn) = Scenario::parse(&text) else { return };
    let Ok(mut lab) = Lab::new(&scn) else { return };
    let _ = lab.schema();
    let _ = lab.frame(true);
    for i in 0..STEPS {
        if !lab.step() {
            break;
        }
        if i % 500 == 0 {
            let _ = lab.frame(false);
        }
    }
    // The scenario's own action lines, tried live now.
    for line in text.lines().filter_map(|l| l.trim().strip_prefix("at ")) {
        if let Some((_, action)) = line.split_once(char::is_whitespace) {
            if let Ok(a) = parse_action(lab.kind(), action) {
                let _ = lab.act(a);
            }
        }
    }
    let frame = lab.frame(false);
    let _ = frame.messages.unpack(frame.time);
    let _ = lab.settings();
    let recorded = lab.scenario();
    if lab.violation().is_none() {
        let replayed = Lab::replay(&recorded).expect("a recorded scenario replays");
        assert_eq!(replayed.fingerprint(), lab.fingerprint(), "{}", recorded.to_text());
    }
});
