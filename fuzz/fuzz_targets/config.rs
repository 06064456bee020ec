//! `cargo fuzz run config`: see `canarylint_fuzz::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: canarylint_fuzz::init_single_thread(), |data: &[u8]| {
    canarylint_fuzz::config(data);
});
