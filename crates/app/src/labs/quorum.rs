//! The Quorum lab's own panel, under the shared cluster drawing (which
//! keeps the messages in flight): the hash ring with its servers' points,
//! a few keys on it with a line to each of their `N` replicas, styled by
//! the version the replica holds (current, stale, missing: said in words
//! too, and drawn solid, dashed or dotted, not by colour alone), the
//! coordinators' fan-out with the answers that came back against `R` or
//! `W`, and the hints stand-ins keep for replicas that were down. A table
//! and a sentence say the same in text.

use super::ring::node_color;
use super::LabView;
use crate::ctx::{Ctx, PanelProps};
use clusterscope_core::quorum::view::{KeyView, OpView, QuorumView, ReplicaState};
use std::f64::consts::PI;
use yew::prelude::*;

/// The Quorum lab's own views.
pub const VIEW: LabView = LabView {
    name: "quorum",
    stage: None,
    below: |ctx: &Ctx| html! { <QuorumRing ctx={ctx.clone()} /> },
    side: |_| Html::default(),
    bench: None,
};

/// The drawing's size (SVG units; it scales to the panel's width).
const SIZE: f64 = 480.0;
const MID: f64 = SIZE / 2.0;
/// The hash ring's radius, and the circle the servers stand on.
const RING: f64 = 128.0;
const SERVERS: f64 = 204.0;
/// Most commands drawn as fan-outs (the table lists the others).
const DRAWN_OPS: usize = 4;

/// A point at `frac` of the way round (0 at the top, clockwise), `radius`
/// from the middle.
fn at(frac: f64, radius: f64) -> (f64, f64) {
    let a = -PI / 2.0 + 2.0 * PI * frac;
    (MID + radius * a.cos(), MID + radius * a.sin())
}

/// A ring position (16 bits) as a fraction of the way round.
fn frac(position: u16) -> f64 {
    f64::from(position) / 65_536.0
}

/// A key's label: its width (SVG units, "k123" at the labels' 11 px), the
/// circle inside the ring the first labels stand on, and how much further
/// in each next circle is.
const LABEL_WIDTH: f64 = 28.0;
const LABEL_RING: f64 = RING - 22.0;
const LABEL_STEP: f64 = 15.0;
/// Most circles of labels: deeper ones would reach the ring's middle,
/// where the replica lines cross.
const LABEL_LEVELS: usize = 4;

/// How far from the middle each key's label stands (same order as
/// `positions`). Keys hashed close together round the ring would write
/// their labels over each other on one circle: going round in ring order,
/// each label takes the outermost circle where it clears every label
/// already there by a label's width (along that circle); if none is clear,
/// the innermost.
fn label_radii(positions: &[u16]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..positions.len()).collect();
    order.sort_by_key(|&i| (positions[i], i));
    let mut out = vec![LABEL_RING; positions.len()];
    let mut levels: Vec<Vec<f64>> = vec![Vec::new(); LABEL_LEVELS];
    for i in order {
        let p = frac(positions[i]);
        let clears = |level: usize, placed: &[f64]| {
            let radius = LABEL_RING - LABEL_STEP * level as f64;
            placed.iter().all(|&q| {
                let d = (p - q).abs();
                d.min(1.0 - d) * 2.0 * PI * radius >= LABEL_WIDTH
            })
        };
        let level = (0..LABEL_LEVELS).find(|&l| clears(l, &levels[l])).unwrap_or(LABEL_LEVELS - 1);
        levels[level].push(p);
        out[i] = LABEL_RING - LABEL_STEP * level as f64;
    }
    out
}

/// Where server `s` of `count` stands.
fn server_at(s: u32, count: usize) -> (f64, f64) {
    at(f64::from(s) / count.max(1) as f64, SERVERS)
}

fn name(s: u32) -> String {
    format!("S{}", s + 1)
}

/// A replica's state as a CSS class.
fn state_class(s: ReplicaState) -> &'static str {
    match s {
        ReplicaState::Current => "current",
        ReplicaState::Stale => "stale",
        ReplicaState::Missing => "missing",
        ReplicaState::Unwritten => "unwritten",
    }
}

/// A replica in words: "S3 stale (v41)", "S2 current (2 siblings)".
fn replica_words(r: &clusterscope_core::quorum::view::ReplicaView, down: bool) -> String {
    let mut out = format!("{} {}", name(r.server), r.state.word());
    match (r.value, r.siblings) {
        (Some(v), 0 | 1) => out.push_str(&format!(" (v{v})")),
        (Some(v), n) => out.push_str(&format!(" ({n} siblings, largest v{v})")),
        (None, _) => {}
    }
    if down {
        out.push_str(", down");
    }
    out
}

/// A command in words: "S1 writes k2 to S2, S3, S5 (S4 for S3): 1 of W = 2
/// acknowledged".
fn op_words(o: &OpView) -> String {
    let verb = if o.write { "writes" } else { "reads" };
    let mut asked: Vec<String> = o.asked.iter().map(|&s| name(s)).collect();
    asked.extend(o.stand_ins.iter().map(|&(for_node, s)| format!("{} for {}", name(s), name(for_node))));
    let (q, done) = if o.write { ("W", "acknowledged") } else { ("R", "answered") };
    let mut out = format!(
        "{} {verb} k{} {} {}: {} of {q} = {} {done}",
        name(o.coordinator),
        o.key,
        if o.write { "to" } else { "from" },
        asked.join(", "),
        o.answered.len(),
        o.need
    );
    if o.replied {
        out.push_str(", client answered, waiting for the rest");
    }
    out
}

/// One sentence for screen readers: the quorum, the selected key's
/// replicas, commands in flight and hints.
fn summary(v: &QuorumView, key: Option<&KeyView>) -> String {
    let mut out = format!(
        "Hash ring of {} servers with {} points; N = {}, R = {}, W = {}.",
        v.up.len(),
        v.ring.points_total,
        v.n,
        v.r,
        v.w
    );
    if let Some(k) = key {
        let reps: Vec<String> = k
            .replicas
            .iter()
            .map(|r| replica_words(r, !v.up.get(r.server as usize).copied().unwrap_or(true)))
            .collect();
        out.push_str(&format!(" Key k{}: {}.", k.key, reps.join(", ")));
    }
    out.push_str(&format!(" {} in flight, {} waiting.", plural(v.ops_total, "command"), plural(v.hints_total, "hint")));
    out
}

/// The ring: points, servers, keys and their replica lines, fan-outs and
/// hints.
fn ring_svg(v: &QuorumView, selected: Option<u32>) -> Html {
    let count = v.up.len();
    let points = v.ring.points.iter().map(|&(pos, s)| {
        let (x1, y1) = at(frac(pos), RING - 7.0);
        let (x2, y2) = at(frac(pos), RING + 7.0);
        html! { <line class="point" x1={f(x1)} y1={f(y1)} x2={f(x2)} y2={f(y2)} stroke={node_color(u32::from(s))} /> }
    });
    // Replica lines: the selected key's last, on top.
    let mut keys: Vec<&KeyView> = v.keys.iter().collect();
    keys.sort_by_key(|k| Some(k.key) == selected);
    let lines = keys.iter().flat_map(|k| {
        let (kx, ky) = at(frac(k.position), RING);
        let chosen = Some(k.key) == selected;
        k.replicas.iter().map(move |r| {
            let (sx, sy) = server_at(r.server, count);
            let class = classes!("replica", state_class(r.state), (!chosen).then_some("faint"));
            html! {
                <line {class} data-key={k.key.to_string()} data-server={name(r.server)} data-state={r.state.word()}
                    x1={f(kx)} y1={f(ky)} x2={f(sx)} y2={f(sy)}>
                    <title>{ format!("k{} → {} {}", k.key, name(r.server), r.state.word()) }</title>
                </line>
            }
        })
    });
    let radii = label_radii(&v.keys.iter().map(|k| k.position).collect::<Vec<_>>());
    let key_dots = v.keys.iter().zip(radii).map(|(k, radius)| {
        let (x, y) = at(frac(k.position), RING);
        let (lx, ly) = at(frac(k.position), radius);
        let chosen = Some(k.key) == selected;
        html! { <g class={classes!("key", chosen.then_some("chosen"))}>
            <circle cx={f(x)} cy={f(y)} r={if chosen { "6" } else { "4" }} />
            <text x={f(lx)} y={f(ly)}>{ format!("k{}", k.key) }</text>
        </g> }
    });
    let fanouts = v.ops.iter().take(DRAWN_OPS).flat_map(|o| {
        let (cx, cy) = server_at(o.coordinator, count);
        let targets: Vec<u32> = o.asked.iter().copied().chain(o.stand_ins.iter().map(|&(_, s)| s)).collect();
        targets.into_iter().filter(move |&t| t != o.coordinator).map(move |t| {
            let (tx, ty) = server_at(t, count);
            // Bent outwards, so a fan-out is told from a replica line.
            let (mx, my) = ((cx + tx) / 2.0, (cy + ty) / 2.0);
            let (qx, qy) = (mx + (mx - MID) * 0.2, my + (my - MID) * 0.2);
            let answered = o.answered.contains(&t);
            let class = classes!("fanout", if answered { "answered" } else { "waiting" });
            html! { <path {class} data-coordinator={name(o.coordinator)} d={format!("M{} {} Q{} {} {} {}", f(cx), f(cy), f(qx), f(qy), f(tx), f(ty))} /> }
        })
    });
    let servers = (0..count as u32).map(|s| {
        let (x, y) = server_at(s, count);
        let up = v.up[s as usize];
        let tally: Vec<String> = v
            .ops
            .iter()
            .filter(|o| o.coordinator == s && !o.replied)
            .map(|o| format!("{} of {}={}", o.answered.len(), if o.write { "W" } else { "R" }, o.need))
            .collect();
        let hints: u32 = v.hints.iter().filter(|h| h.holder == s).map(|h| h.count).sum();
        // The hint badge at the server's top right.
        let (ox, oy) = (x + 15.0, y - 15.0);
        html! { <g class={classes!("server", (!up).then_some("down"))} data-server={name(s)}>
            <circle cx={f(x)} cy={f(y)} r="15" stroke={node_color(s)} />
            <text x={f(x)} y={f(y)}>{ name(s) }</text>
            if !up { <text class="tag" x={f(x)} y={f(y + 24.0)}>{ "down" }</text> }
            if let Some(t) = tally.first() {
                <text class="tally" x={f(x)} y={f(y - 27.0)}>{ if tally.len() > 1 { format!("{t} +{}", tally.len() - 1) } else { t.clone() } }</text>
            }
            if hints > 0 {
                <g class="hint-badge" data-hints={hints.to_string()}>
                    <circle cx={f(ox)} cy={f(oy)} r="9" />
                    <text x={f(ox)} y={f(oy)}>{ hints }</text>
                    <title>{ format!("{} keeps {hints} hints", name(s)) }</title>
                </g>
            }
        </g> }
    });
    let view_box = format!("0 0 {SIZE} {SIZE}");
    html! {
        <svg class="quorum-ring" viewBox={view_box} role="img" aria-label={summary(v, v.keys.iter().find(|k| Some(k.key) == selected))}>
            <circle class="ring" cx={f(MID)} cy={f(MID)} r={f(RING)} />
            { for points }
            { for lines }
            { for fanouts }
            { for key_dots }
            { for servers }
        </svg>
    }
}

/// A number for an SVG attribute, to a tenth.
fn f(x: f64) -> String {
    format!("{:.1}", x)
}

/// The legend: each line style in words.
fn legend(v: &QuorumView) -> Html {
    let item = |class: &'static str, words: &'static str| {
        html! { <li><svg class="swatch-line" viewBox="0 0 28 8" aria-hidden="true"><line class={classes!("replica", class)} x1="1" y1="4" x2="27" y2="4" /></svg>{ words }</li> }
    };
    let fan = |class: &'static str, words: &'static str| {
        html! { <li><svg class="swatch-line" viewBox="0 0 28 8" aria-hidden="true"><path class={classes!("fanout", class)} d="M1 4 L27 4" /></svg>{ words }</li> }
    };
    let current = if v.vectors {
        "current: has seen the newest acknowledged write"
    } else {
        "current: holds the newest acknowledged write"
    };
    html! {
        <ul class="legend" aria-label="Legend">
            { item("current", current) }
            { item("stale", "stale: an older version") }
            { item("missing", "missing: nothing, though the key was written") }
            { item("unwritten", "no write acknowledged yet") }
            { fan("waiting", "asked, no answer yet") }
            { fan("answered", "answered") }
            <li><span class="hint-dot" aria-hidden="true">{ "2" }</span>{ "hints a stand-in keeps" }</li>
        </ul>
    }
}

/// The ring panel.
#[function_component]
pub fn QuorumRing(props: &PanelProps) -> Html {
    let chosen = use_state(|| None::<u32>);
    let Some(v) = super::decoded::<QuorumView>(&props.ctx.state) else { return html! {} };
    // The key chosen, while it is watched; else the lowest-numbered.
    let selected = (*chosen).filter(|k| v.keys.iter().any(|kv| kv.key == *k)).or(v.keys.first().map(|k| k.key));
    let pick = |key: u32| {
        let chosen = chosen.clone();
        Callback::from(move |_| chosen.set(Some(key)))
    };
    let down = |s: u32| !v.up.get(s as usize).copied().unwrap_or(true);
    let rows = v.keys.iter().map(|k| {
        let is = Some(k.key) == selected;
        html! {
            <tr class={classes!(is.then_some("selected"))} data-key={k.key.to_string()}>
                <th scope="row"><button class="link" aria-pressed={is.to_string()} aria-label={format!("Show key k{} on the ring", k.key)} onclick={pick(k.key)}>{ format!("k{}", k.key) }</button></th>
                <td>{ k.written.map_or("—".to_string(), |w| format!("v{w}")) }</td>
                <td class="replicas">{ for k.replicas.iter().map(|r| html! {
                    <span class={classes!("replica-chip", state_class(r.state))}>{ replica_words(r, down(r.server)) }</span>
                }) }</td>
            </tr>
        }
    });
    let hints = v.hints.iter().map(|h| {
        let keys: Vec<String> = h.keys.iter().map(|k| format!("k{k}")).collect();
        let more = if h.count as usize > h.keys.len() { ", …" } else { "" };
        html! { <li>{ format!("{} keeps {} for {} ({}{more})", name(h.holder), plural(h.count, "hint"), name(h.for_node), keys.join(", ")) }</li> }
    });
    let quorum = format!(
        "N = {}, R = {}, W = {}{}{}",
        v.n,
        v.r,
        v.w,
        if v.sloppy { ", sloppy quorums with hinted handoff" } else { "" },
        if v.vectors { ", version vectors" } else { ", last writer wins" }
    );
    html! {
        <section class="panel quorum-panel" aria-label="Quorum ring">
            <h2>{ "Ring, replicas and quorums" }</h2>
            <div class="quorum-layout">
                <div class="quorum-drawing">
                    { ring_svg(&v, selected) }
                    <p class="note">{ format!("{quorum}. A key's replicas own the first {} points clockwise from it (ticks in the servers' colours).", v.n) }</p>
                </div>
                <div class="quorum-text">
                    { legend(&v) }
                    <p class="summary" aria-live="off">{ summary(&v, v.keys.iter().find(|k| Some(k.key) == selected)) }</p>
                </div>
            </div>
            <div class="scroll">
                <table class="logs quorum-keys" aria-label="Watched keys">
                    <thead><tr><th>{ "Key" }</th><th>{ "Newest acknowledged write" }</th><th>{ "Replicas, in ring order" }</th></tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
            if v.keys_total as usize > v.keys.len() {
                <p class="note">{ format!("Watching the {} most recently written of {} keys.", v.keys.len(), v.keys_total) }</p>
            }
            <h3>{ format!("Commands in flight: {}", v.ops_total) }</h3>
            if v.ops.is_empty() {
                <p class="note">{ "None now (pause the run to catch one: each lasts a few milliseconds)." }</p>
            } else {
                <ul class="ops" aria-label="Commands in flight">{ for v.ops.iter().map(|o| html! { <li>{ op_words(o) }</li> }) }</ul>
                if v.ops_total as usize > v.ops.len() { <p class="note">{ format!("and {} more", v.ops_total as usize - v.ops.len()) }</p> }
            }
            <h3>{ format!("Hints waiting to be handed back: {}", v.hints_total) }</h3>
            if v.hints.is_empty() {
                <p class="note">{ if v.sloppy { "None." } else { "None: sloppy quorums are off, so no stand-in takes a write." } }</p>
            } else {
                <ul class="hints" aria-label="Hints waiting">{ for hints }</ul>
            }
        </section>
    }
}

fn plural(n: u32, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The distance between two labels along the circle of the nearer one.
    fn apart(a: (u16, f64), b: (u16, f64)) -> f64 {
        let d = (frac(a.0) - frac(b.0)).abs();
        d.min(1.0 - d) * 2.0 * PI * a.1.min(b.1)
    }

    #[test]
    fn labels_of_keys_hashed_close_together_do_not_overlap() {
        // Three keys within 1 % of the ring of each other (about 7 units of
        // arc, a quarter of a label), one far away, and two either side of
        // the top (positions 65,000 and 200 are neighbours).
        let positions = [10_000, 10_300, 10_600, 30_000, 200, 65_000];
        let radii = label_radii(&positions);
        for i in 0..positions.len() {
            for j in i + 1..positions.len() {
                let (a, b) = ((positions[i], radii[i]), (positions[j], radii[j]));
                assert!(
                    radii[i] != radii[j] || apart(a, b) >= LABEL_WIDTH,
                    "labels of positions {} and {} overlap on the circle of radius {}",
                    positions[i],
                    positions[j],
                    radii[i]
                );
            }
        }
        // A key with no neighbour keeps the first circle.
        assert_eq!(radii[3], LABEL_RING);
    }

    #[test]
    fn keys_spread_round_the_ring_keep_one_circle() {
        let positions: Vec<u16> = (0..8).map(|i| i * 8_192).collect();
        assert!(label_radii(&positions).iter().all(|&r| r == LABEL_RING));
    }
}
