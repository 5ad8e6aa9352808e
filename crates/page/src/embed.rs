//! The page in an iframe (`?embed=1`): the embedded layout alone, without
//! the full page's header, side panels, node table, event log and
//! benchmark page, so an embedded lab downloads less. index.html starts
//! this binary or `app` from the address.
fn main() {
    yew::Renderer::<clusterscope_app::shell::Embedded>::new().render();
}
