//! `cargo fuzz run lsp_edit`: see `canarylint_fuzz::lsp_edit`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: canarylint_fuzz::init_single_thread(), |data: &[u8]| {
    canarylint_fuzz::lsp_edit(data);
});
