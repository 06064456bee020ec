//! `cargo fuzz run lint`: see `canarylint_fuzz::lint`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: canarylint_fuzz::init_single_thread(), |data: &[u8]| {
    canarylint_fuzz::lint(data);
});
