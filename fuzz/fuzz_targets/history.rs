//! History files (`agent::History`): any text is read as a saved conversation; what is read
//! is consistent, and saving it and reading it back gives the same conversation.

#![no_main]

use agent::History;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(history) = History::from_json(text) else {
        return;
    };
    assert_eq!(history.check(), Ok(()), "a loaded history is consistent");
    let saved = history.to_json();
    let again = History::from_json(&saved).expect("what was saved reads back");
    assert_eq!(again.messages(), history.messages());
});
