//! The Quorum replication lab's Web Worker: the shared worker with this
//! lab's engine alone, so a page showing it downloads no other lab's
//! simulator.
fn main() {
    clusterscope_app::worker::start(&clusterscope_core::quorum::lab::ENGINE);
}
