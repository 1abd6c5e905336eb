//! The Telegram sink: out-of-band alerts in a Telegram chat through the Bot API's
//! `sendMessage` (`POST {webhooks.telegram_api_base}/bot{token}/sendMessage` with
//! `{chat_id, text}`).
//!
//! For `message.created` it writes only when a recipient of the message (a participant other
//! than its sender) has no open WebSocket session, asking the presence registry (which, in
//! cluster mode, asks Redis): people who would see the message live get no alert. Other
//! event types are summed up in one line each. The bot token is a secret: never logged, and
//! shown masked ([`mask`]).

use serde_json::{Value, json};

use crate::domain::{ConversationId, UserId};

/// Longest text sent (Telegram's limit is 4096 characters).
const MAX_TEXT_CHARS: usize = 1000;

/// Most offline recipients named in one alert.
const MAX_NAMED: usize = 10;

/// A bot token as views show it: the bot's id (the part before `:`, which is public) and
/// `:****`.
pub fn mask(token: &str) -> String {
    match token.split_once(':') {
        Some((bot, _)) => format!("{bot}:****"),
        None => "****".into(),
    }
}

/// Checks a bot token's shape: `<digits>:<letters, digits, _ and ->`, at most 100 characters.
///
/// # Errors
/// `bot_token: ...`.
pub fn check_token(token: &str) -> Result<(), String> {
    let ok = token.len() <= 100
        && token.split_once(':').is_some_and(|(bot, secret)| {
            !bot.is_empty()
                && bot.chars().all(|c| c.is_ascii_digit())
                && !secret.is_empty()
                && secret
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err("bot_token: must look like 123456:ABC-def_ghi (from @BotFather)".into())
    }
}

/// Checks a chat id: an integer, or a string of at most 64 characters without spaces
/// (`-100123...`, `@channel`); answers it as text.
///
/// # Errors
/// `chat_id: ...`.
pub fn parse_chat(chat: &Value) -> Result<String, String> {
    let text = match chat {
        Value::Number(n) if n.is_i64() => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return Err("chat_id: must be an integer or a string".into()),
    };
    if text.is_empty() || text.len() > 64 || text.contains(char::is_whitespace) {
        return Err("chat_id: 1 to 64 characters without spaces".into());
    }
    Ok(text)
}

/// What a `message.created` event says about its message.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Its author.
    pub sender_id: UserId,
    /// Its text.
    pub content: String,
}

impl NewMessage {
    /// Reads the message out of an event's `data`.
    pub fn from_data(data: &Value) -> Option<Self> {
        Some(Self {
            conversation_id: ConversationId(data.get("conversation_id")?.as_i64()?),
            sender_id: UserId(data.get("sender_id")?.as_i64()?),
            content: data.get("content")?.as_str()?.to_string(),
        })
    }
}

/// The alert for a message that `offline` recipients have not seen live.
pub fn message_text(message: &NewMessage, offline: &[UserId]) -> String {
    let named: Vec<String> = offline
        .iter()
        .take(MAX_NAMED)
        .map(|u| u.0.to_string())
        .collect();
    let more = offline.len().saturating_sub(MAX_NAMED);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let text = format!(
        "New message in conversation {} from user {} for offline user(s) {}{more}:\n{}",
        message.conversation_id,
        message.sender_id,
        named.join(", "),
        message.content
    );
    truncate(text)
}

/// A one-line summary of any other event.
pub fn event_text(event_type: &str, data: &Value) -> String {
    truncate(format!("{event_type}: {data}"))
}

fn truncate(text: String) -> String {
    if text.chars().count() <= MAX_TEXT_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_TEXT_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The `sendMessage` URL of `token` under `base`.
pub fn send_url(base: &str, token: &str) -> String {
    format!("{}/bot{token}/sendMessage", base.trim_end_matches('/'))
}

/// The `sendMessage` body.
pub fn send_body(chat_id: &str, text: &str) -> Value {
    match chat_id.parse::<i64>() {
        Ok(n) => json!({"chat_id": n, "text": text}),
        Err(_) => json!({"chat_id": chat_id, "text": text}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_masked_and_checked() {
        assert_eq!(mask("123456:ABC-def"), "123456:****");
        assert_eq!(mask("nonsense"), "****");
        assert!(check_token("123456:ABC-def_ghi").is_ok());
        assert!(check_token("abc:def").is_err());
        assert!(check_token("123456:").is_err());
        assert!(check_token("123456:a b").is_err());
    }

    #[test]
    fn chats_and_texts() {
        assert_eq!(parse_chat(&json!(-1001)).unwrap(), "-1001");
        assert_eq!(parse_chat(&json!("@ops")).unwrap(), "@ops");
        assert!(parse_chat(&json!("a b")).is_err());
        assert!(parse_chat(&json!(true)).is_err());
        assert_eq!(
            send_body("-1001", "hi"),
            json!({"chat_id": -1001, "text": "hi"})
        );
        assert_eq!(
            send_body("@ops", "hi"),
            json!({"chat_id": "@ops", "text": "hi"})
        );
        let message = NewMessage {
            conversation_id: ConversationId(3),
            sender_id: UserId(1),
            content: "x".repeat(5000),
        };
        let text = message_text(&message, &[UserId(2)]);
        assert!(
            text.starts_with("New message in conversation 3 from user 1 for offline user(s) 2:")
        );
        assert_eq!(text.chars().count(), MAX_TEXT_CHARS);
        assert_eq!(
            send_url("http://127.0.0.1:9/", "1:a"),
            "http://127.0.0.1:9/bot1:a/sendMessage"
        );
    }
}
