//! The Web Worker: owns the simulation.
use gloo_worker::Registrable;

fn main() {
    clusterscope_app::worker::SimWorker::registrar().encoding::<clusterscope_app::codec::MeasuredBincode>().register();
}
