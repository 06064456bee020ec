//! `cargo fuzz run admission`: see `canarylint_fuzz::admission`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: canarylint_fuzz::init_single_thread(), |data: &[u8]| {
    canarylint_fuzz::admission(data);
});
