#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vestibule::tls_policy::fuzz_cipher_lists(data));
