#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vestibule::wire::response::fuzz_response_tracker(data));
