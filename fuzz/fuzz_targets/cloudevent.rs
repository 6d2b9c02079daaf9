//! CloudEvent decoding of a Dapr delivery: any body is read or refused,
//! and the data of one that is read decodes into each topic's message or
//! fails cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskflow_events::handler::decode;
use taskflow_events::messages::{ReminderMessage, TaskEventMessage, TaskUpdate};
use taskflow_events::subscribe::parse;

fuzz_target!(|body: &[u8]| {
    if let Ok(event) = parse(body) {
        let _ = decode::<TaskEventMessage>(&event.data);
        let _ = decode::<TaskUpdate>(&event.data);
        let _ = decode::<ReminderMessage>(&event.data);
    }
});
