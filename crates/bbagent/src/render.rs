//! How agent events look in a terminal, shared by `ask` and `chat`.

use agent::AgentEvent;

/// The progress line for a tool call, a tool result or a retry; `None` for other events.
pub fn progress_line(event: &AgentEvent) -> Option<String> {
    match event {
        AgentEvent::ToolCallStarted {
            name, arguments, ..
        } => Some(format!("→ {name} {}", short(&arguments.to_string(), 160))),
        AgentEvent::ToolResult {
            name,
            is_error,
            content,
            ..
        } => {
            let mark = if *is_error { "✗" } else { "✓" };
            Some(format!(
                "{mark} {name}: {}",
                short(content.lines().next().unwrap_or(""), 160)
            ))
        }
        AgentEvent::Retrying {
            attempt,
            delay,
            error,
        } => Some(format!(
            "… retrying the model (attempt {attempt}) in {} ms: {error}",
            delay.as_millis()
        )),
        _ => None,
    }
}

/// `text`, cut to `max` characters with an ellipsis.
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}
