//! A lab shows what it measures and offers what it can do: the shared
//! clients' request metrics and *Client request* action belong to the labs
//! whose servers take commands from them (Raft, Paxos, Quorum), not to the
//! Locks lab (its clients are nodes of its own, counted in transactions)
//! or the Failure detection lab (no commands at all), where they read 0 and
//! "–" for ever and the button did nothing a user could see.

use clusterscope_core::lab::Lab;
use clusterscope_core::scenario::Scenario;

fn lab(name: &str) -> Lab {
    Lab::replay(&Scenario::parse(&format!("lab {name}\nuntil 1s\n")).expect("parses")).expect("runs")
}

#[test]
fn request_metrics_and_the_client_request_action_only_where_clients_send_commands() {
    for (name, clients) in [("raft", true), ("paxos", true), ("quorum", true), ("locks", false), ("faults", false)] {
        let mut lab = lab(name);
        let schema = lab.schema();
        let metric = |m: &str| schema.metrics.iter().any(|s| s.name == m);
        for m in ["committed", "requests", "gave_up", "commit_p50", "commit_p99"] {
            assert_eq!(metric(m), clients, "{name}: metric {m}");
        }
        assert!(metric("msgs_per_sec") && metric("sent"), "{name}: the network's metrics stay");
        let action = schema.node_actions.iter().any(|a| a.label == "Client request");
        assert_eq!(action, clients, "{name}: the Client request action");
        // The values line up with the names: "Messages sent" is the
        // simulator's count, whatever was left out before it.
        let sent = lab.counters().sent as f64;
        let value = lab.metrics().into_iter().find(|(s, _)| s.name == "sent").map(|(_, v)| v);
        assert!(sent > 0.0, "{name}: messages were sent");
        assert_eq!(value, Some(sent), "{name}");
    }
}
