//! How the page and the worker encode their messages: bincode, as
//! gloo-worker does by default, plus a count of the bytes each decoded
//! message had, so the page can show (and the browser benchmark read) how
//! large its frames are.

use gloo_worker::Codec;
use js_sys::Uint8Array;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use wasm_bindgen::JsValue;

thread_local! {
    static LAST_DECODED: Cell<usize> = const { Cell::new(0) };
}

/// Bincode, measured.
pub struct MeasuredBincode;

/// Bytes of the message decoded last on this thread.
pub fn last_decoded_bytes() -> usize {
    LAST_DECODED.with(Cell::get)
}

impl Codec for MeasuredBincode {
    fn encode<I: Serialize>(input: I) -> JsValue {
        // Our messages are plain data (no maps with non-string keys, no
        // unsized sequences), which bincode always encodes.
        let buf = bincode::serialize(&input).unwrap_or_default();
        Uint8Array::from(buf.as_slice()).into()
    }

    fn decode<O: for<'de> Deserialize<'de>>(input: JsValue) -> O {
        let data = Uint8Array::from(input).to_vec();
        LAST_DECODED.with(|c| c.set(data.len()));
        bincode::deserialize(&data).unwrap_or_else(|e| unreachable!("page and worker are built together: {e}"))
    }
}
