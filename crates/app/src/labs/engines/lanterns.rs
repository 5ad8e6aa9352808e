//! The test-only lab's Web Worker (crates/testlab), in the browser tests'
//! own build only.
fn main() {
    clusterscope_app::worker::start(&clusterscope_testlab::ENGINE);
}
