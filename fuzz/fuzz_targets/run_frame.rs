//! Any file that parses is run: building the lab, a bounded number of steps
//! (by instant and by single event), live actions, frames, the space-time
//! diagram's records and settings never panic, the diagram's records come
//! numbered in order of their end, and the recorded scenario replays to the
//! same fingerprint.
#![no_main]
use clusterscope_core::lab::Lab;
use clusterscope_core::lab::registry::parse_action;
use clusterscope_core::scenario::Scenario;
use libfuzzer_sys::fuzz_target;

/// Steps per input: enough to reach elections and faults, few enough to
/// keep thousands of inputs a minute.
const STEPS: usize = 3_000;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(scn) = Scenario::parse(&text) else { return };
    let Ok(mut lab) = Lab::new(&scn) else { return };
    lab.record_diagram(true);
    let _ = lab.schema();
    let mut records = Vec::new();
    let keep = |lab: &mut Lab, records: &mut Vec<_>| {
        if let Some(chunk) = lab.take_diagram() {
            records.extend(chunk.unpack());
        }
    };
    let _ = lab.frame(true);
    keep(&mut lab, &mut records);
    for i in 0..STEPS {
        let moved = if i % 2 == 0 { lab.step() } else { lab.step_event() };
        if !moved {
            break;
        }
        if i % 500 == 0 {
            let _ = lab.frame(false);
            keep(&mut lab, &mut records);
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
    keep(&mut lab, &mut records);
    assert!(records.windows(2).all(|w| w[0].t1 <= w[1].t1 && w[1].seq == w[0].seq + 1), "diagram records out of order");
    let _ = lab.settings();
    // A scenario ends at an instant: finish the one a single-event step
    // may have stopped inside, as the recorded `until` will.
    lab.run_until(lab.now());
    let recorded = lab.scenario();
    if lab.violation().is_none() {
        let replayed = Lab::replay(&recorded).expect("a recorded scenario replays");
        assert_eq!(replayed.fingerprint(), lab.fingerprint(), "{}", recorded.to_text());
    }
});
