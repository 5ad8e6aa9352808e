//! The Web Worker: owns the simulation.
use gloo_worker::Registrable;

fn main() {
    // Only in the browser test's own build (the `testlab` feature).
    #[cfg(feature = "testlab")]
    let _ = clusterscope_testlab::register();
    clusterscope_app::worker::SimWorker::registrar().encoding::<clusterscope_app::codec::MeasuredBincode>().register();
}
