#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vestibule::auth::fuzz_auth_string(data));
