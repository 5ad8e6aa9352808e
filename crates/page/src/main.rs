//! The page: renders the ClusterScope app.
fn main() {
    yew::Renderer::<clusterscope_app::shell::App>::new().render();
}
