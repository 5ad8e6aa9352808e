//! ClusterScope's front end.
//!
//! Two binaries share this library, as in Yew's web-worker example: `app`
//! (the page: [`shell`] lays out the shared widgets of [`view`] and the labs' own views of [`labs`], all given a [`ctx::Ctx`]) and `worker` (the Web Worker, [`worker`]). The
//! worker owns the simulation and advances virtual time at the chosen speed;
//! the page owns the pixels and never runs the engine. They talk through the
//! serde enums in [`protocol`].

pub mod alloc;
pub mod codec;
pub mod ctx;
pub mod diagram;
pub mod history;
pub mod labs;
pub mod protocol;
pub mod shell;
pub mod state;
pub mod view;
pub mod worker;
