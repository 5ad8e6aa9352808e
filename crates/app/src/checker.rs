//! The history checker's Web Worker: reads a history file (Jepsen's EDN or
//! text log, Porcupine's JSON) and checks it for linearizability, apart
//! from every lab's engine, so the page downloads it only when a file is
//! opened (see `clusterscope_app::history`).
fn main() {
    clusterscope_app::history::start_checker();
}
