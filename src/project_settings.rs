//! Per-project settings (issue 12): a project may override the server's send rate, REST rate,
//! upload size and types, WebSocket origins, widget identity and email verification. Stored as
//! a JSON object in `projects.settings`, changed with a JSON Merge Patch (RFC 7396: a field set to `null` goes
//! back to the server's configuration), and held in memory by every node
//! ([`ProjectSettingsRegistry`]), since the send path, the REST limiter and the WebSocket
//! upgrade read them on every call. docs/PROTOCOL.md §3, *Projects*.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::domain::{Invalid, ProjectId};
use crate::error::AppError;

/// Most projects with settings of their own held in memory.
pub const MAX_PROJECTS: usize = 100_000;

/// A project's overrides; `None` takes the server's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectSettings {
    /// Sends, edits and deletions one user may make in one conversation per window
    /// (`limits.messages_per_window`), 1 to 10,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages_per_window: Option<u32>,
    /// That window in seconds (`limits.message_window_s`), 1 to 3,600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_window_s: Option<u64>,
    /// REST requests per minute per user (`limits.api_requests_per_minute`), 1 to 100,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_requests_per_minute: Option<u32>,
    /// Largest upload in bytes, at most the server's `uploads.max_bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_max_bytes: Option<u64>,
    /// Accepted upload media types, among the server's `uploads.allowed_types`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_allowed_types: Option<Vec<String>>,
    /// Browser origins allowed to open a WebSocket for the project's users, instead of the
    /// server's `server.allowed_origins`: `scheme://host[:port]`, `scheme://host:*` or `self`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// The key of widget identity verification: the project's backend sends the widget an
    /// `external_id` and its `user_hash`, the hex HMAC-SHA256 of the id under this key
    /// (docs/PROTOCOL.md, *Widget sessions*). 32 to 256 characters; shown to the project's
    /// admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget_identity_secret: Option<String>,
    /// Refuse anonymous widget visitors: only verified identities get a widget session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget_identity_required: Option<bool>,
    /// Self-registration mails a code to verify the address before the account can sign in
    /// (`auth.require_email_verification`; docs/PROTOCOL.md, *Account email*).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_email_verification: Option<bool>,
}

fn within<T: PartialOrd + std::fmt::Display + Copy>(
    field: &'static str,
    value: Option<T>,
    low: T,
    high: T,
) -> Result<(), Invalid> {
    match value {
        Some(v) if v < low || v > high => Err(Invalid::field(
            field,
            format_args!("must be between {low} and {high}"),
        )),
        _ => Ok(()),
    }
}

/// Whether `origin` is `self`, `scheme://host[:port]` or `scheme://host:*` with an http(s)
/// scheme and no path.
fn origin_pattern(origin: &str) -> bool {
    if origin == "self" {
        return true;
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let host = rest.strip_suffix(":*").unwrap_or(rest);
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

impl ProjectSettings {
    /// Applies `patch` (RFC 7396) to these settings and checks the result against the server's
    /// configuration.
    ///
    /// # Errors
    /// [`Invalid`] naming the first bad field (or `settings` for a patch that is not an
    /// object or names an unknown field).
    pub fn patched(&self, patch: &serde_json::Value, server: &Settings) -> Result<Self, Invalid> {
        let serde_json::Value::Object(changes) = patch else {
            return Err(Invalid::field("settings", "must be a JSON object"));
        };
        let mut merged = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        for (key, value) in changes {
            if value.is_null() {
                merged.remove(key);
            } else {
                merged.insert(key.clone(), value.clone());
            }
        }
        let next: Self = serde_json::from_value(serde_json::Value::Object(merged))
            .map_err(|e| Invalid::field("settings", e.to_string()))?;
        next.validate(server)?;
        Ok(next)
    }

    /// Checks every override against its range and the server's configuration.
    ///
    /// # Errors
    /// [`Invalid`] naming the first bad field.
    pub fn validate(&self, server: &Settings) -> Result<(), Invalid> {
        within("messages_per_window", self.messages_per_window, 1, 10_000)?;
        within("message_window_s", self.message_window_s, 1, 3_600)?;
        within(
            "api_requests_per_minute",
            self.api_requests_per_minute,
            1,
            100_000,
        )?;
        within(
            "upload_max_bytes",
            self.upload_max_bytes,
            1,
            server.uploads.max_bytes,
        )?;
        let unknown = self
            .upload_allowed_types
            .iter()
            .flatten()
            .find(|t| !server.uploads.allowed_types.contains(t));
        if let Some(bad) = unknown {
            return Err(Invalid::field(
                "upload_allowed_types",
                format_args!("{bad:?} is not among the server's uploads.allowed_types"),
            ));
        }
        if let Some(origins) = &self.allowed_origins {
            if origins.len() > 100 {
                return Err(Invalid::field("allowed_origins", "at most 100 origins"));
            }
            if let Some(bad) = origins.iter().find(|o| !origin_pattern(o)) {
                return Err(Invalid::field(
                    "allowed_origins",
                    format_args!("{bad:?} is not scheme://host[:port], scheme://host:* or self"),
                ));
            }
        }
        if let Some(secret) = &self.widget_identity_secret {
            let length = secret.chars().count();
            if !(32..=256).contains(&length) || secret.chars().any(char::is_control) {
                return Err(Invalid::field(
                    "widget_identity_secret",
                    "must be 32 to 256 characters, none of them control characters",
                ));
            }
        }
        if self.widget_identity_required == Some(true) && self.widget_identity_secret.is_none() {
            return Err(Invalid::field(
                "widget_identity_required",
                "needs a widget_identity_secret",
            ));
        }
        Ok(())
    }

    /// The settings stored as `text` (a JSON object); unreadable text counts as none.
    pub fn from_stored(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// The settings as stored.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Every project's settings, in memory: read on every send, REST request and upgrade.
/// Projects without overrides are absent.
#[derive(Debug, Default)]
pub struct ProjectSettingsRegistry {
    projects: RwLock<HashMap<ProjectId, Arc<ProjectSettings>>>,
}

impl ProjectSettingsRegistry {
    /// `project`'s settings (the defaults when it has none).
    pub fn get(&self, project: ProjectId) -> Arc<ProjectSettings> {
        self.projects
            .read()
            .ok()
            .and_then(|projects| projects.get(&project).cloned())
            .unwrap_or_default()
    }

    /// Sets `project`'s settings (the defaults remove its entry).
    ///
    /// # Errors
    /// `unavailable` past [`MAX_PROJECTS`] projects with settings of their own.
    pub fn set(&self, project: ProjectId, settings: ProjectSettings) -> Result<(), AppError> {
        let mut projects = self
            .projects
            .write()
            .map_err(|_| AppError::internal(anyhow::anyhow!("project settings poisoned")))?;
        if settings == ProjectSettings::default() {
            projects.remove(&project);
            return Ok(());
        }
        if projects.len() >= MAX_PROJECTS && !projects.contains_key(&project) {
            return Err(AppError::Unavailable(
                "too many projects with settings of their own".into(),
            ));
        }
        projects.insert(project, Arc::new(settings));
        Ok(())
    }

    /// Whether `test` holds for the settings of any project that has some of its own.
    pub fn any(&self, test: impl Fn(&ProjectSettings) -> bool) -> bool {
        self.projects
            .read()
            .is_ok_and(|projects| projects.values().any(|settings| test(settings)))
    }

    /// Replaces every entry with `all`.
    pub fn replace_all(&self, all: impl IntoIterator<Item = (ProjectId, ProjectSettings)>) {
        let fresh: HashMap<ProjectId, Arc<ProjectSettings>> = all
            .into_iter()
            .filter(|(_, s)| *s != ProjectSettings::default())
            .take(MAX_PROJECTS)
            .map(|(id, s)| (id, Arc::new(s)))
            .collect();
        if let Ok(mut projects) = self.projects.write() {
            *projects = fresh;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_merge_patch_sets_clears_and_is_checked() {
        let server = Settings::default();
        let base = ProjectSettings::default();
        let set = base
            .patched(
                &json!({"messages_per_window": 3, "allowed_origins": ["https://shop.example:*"]}),
                &server,
            )
            .unwrap();
        assert_eq!(set.messages_per_window, Some(3));
        let cleared = set
            .patched(&json!({"messages_per_window": null}), &server)
            .unwrap();
        assert_eq!(cleared.messages_per_window, None);
        assert_eq!(cleared.allowed_origins, set.allowed_origins);
        for bad in [
            json!({"messages_per_window": 0}),
            json!({"upload_max_bytes": server.uploads.max_bytes + 1}),
            json!({"upload_allowed_types": ["application/x-msdownload"]}),
            json!({"allowed_origins": ["javascript:alert(1)"]}),
            json!({"colour": "red"}),
            json!([1]),
        ] {
            assert!(base.patched(&bad, &server).is_err(), "{bad}");
        }
    }
}
