//! Treasurer accounts: argon2 password hashes, a lockout after repeated
//! failures, sessions whose cookie token the hub keeps only as a SHA-256
//! hash, and one CSRF token per session that every form carries.

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash};

use serde::Serialize;

use super::token::{random_token, same, sha256};
use super::{Hub, HubError};

/// Wrong passwords in a row before the account is locked.
pub const FAILURES_BEFORE_LOCK: i32 = 5;
/// How long a locked account stays locked.
pub const LOCK_MINUTES: f64 = 15.0;
/// How long a session lasts.
pub const SESSION_HOURS: f64 = 12.0;
/// Passwords shorter than this are refused.
pub const MIN_PASSWORD: usize = 10;

/// What a person may do on the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything: tills, catalogue, takings, reports, exports.
    Treasurer,
    /// A "kioskansvarlig": sees takings and marks products sold out; nothing else.
    Kiosk,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Treasurer => "treasurer",
            Role::Kiosk => "kiosk",
        }
    }

    fn of(text: &str) -> Role {
        match text {
            "treasurer" => Role::Treasurer,
            // Anything else may do the least.
            _ => Role::Kiosk,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s.trim().to_lowercase().as_str() {
            "treasurer" | "kasserer" => Ok(Role::Treasurer),
            "kiosk" | "kioskansvarlig" => Ok(Role::Kiosk),
            other => Err(format!(
                "no role '{other}': give treasurer (kasserer) or kioskansvarlig"
            )),
        }
    }
}

/// A logged-in person.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub csrf: String,
    pub role: Role,
}

/// Why a login failed, as the login page says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefused {
    /// Wrong name or password (the page does not say which).
    Wrong,
    /// Too many failures: locked for a while.
    Locked,
}

fn hash_password(password: &str) -> Result<String, HubError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HubError::Config(format!("cannot hash the password: {e}")))
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash no password matches, verified when the name is unknown so an
/// unknown name takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

impl Hub {
    /// Adds a person with `role`, or sets a new password and role for one
    /// (and unlocks it).
    pub async fn set_user(&self, name: &str, password: &str, role: Role) -> Result<(), HubError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(HubError::refused(400, "a user name is 1 to 64 characters"));
        }
        if password.chars().count() < MIN_PASSWORD {
            return Err(HubError::refused(
                400,
                format!("a password has at least {MIN_PASSWORD} characters"),
            ));
        }
        let password = password.to_string();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| HubError::Config(e.to_string()))??;
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO users (name, password_hash, role) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, \
                 role = excluded.role, failed_logins = 0, locked_until = NULL",
                &[&name, &hash, &role.as_str()],
            )
            .await?;
        Ok(())
    }

    /// Checks a name and password; on success opens a session and returns
    /// its cookie token (the hub keeps only its hash).
    pub async fn login(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Result<String, LoginRefused>, HubError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT id, password_hash, locked_until IS NOT NULL AND locked_until > now() \
                 FROM users WHERE name = $1",
                &[&name.trim()],
            )
            .await?;
        let (id, hash, locked): (Option<i64>, String, bool) = match &row {
            Some(r) => (Some(r.get(0)), r.get(1), r.get(2)),
            None => (None, decoy_hash().to_string(), false),
        };
        if locked {
            return Ok(Err(LoginRefused::Locked));
        }
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
            .await
            .map_err(|e| HubError::Config(e.to_string()))?;
        let Some(id) = id.filter(|_| ok) else {
            if let Some(id) = id {
                let lock_secs = LOCK_MINUTES * 60.0;
                let locked: bool = client
                    .query_one(
                        "UPDATE users SET failed_logins = failed_logins + 1, \
                         locked_until = CASE WHEN failed_logins + 1 >= $2 \
                             THEN now() + make_interval(secs => $3) ELSE locked_until END \
                         WHERE id = $1 RETURNING locked_until IS NOT NULL AND locked_until > now()",
                        &[&id, &FAILURES_BEFORE_LOCK, &lock_secs],
                    )
                    .await?
                    .get(0);
                if locked {
                    tracing::warn!("a treasurer account was locked after repeated wrong passwords");
                    return Ok(Err(LoginRefused::Locked));
                }
            }
            return Ok(Err(LoginRefused::Wrong));
        };
        client
            .execute(
                "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
                &[&id],
            )
            .await?;
        let token = random_token();
        let hours = SESSION_HOURS * 3600.0;
        client
            .execute(
                "INSERT INTO sessions (token_hash, user_id, csrf, expires_at) \
                 VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
                &[&sha256(&token), &id, &random_token(), &hours],
            )
            .await?;
        Ok(Ok(token))
    }

    /// The session a cookie token belongs to, if it is live.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, HubError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                "SELECT u.name, s.csrf, u.role FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > now()",
                &[&sha256(token)],
            )
            .await?
            .map(|r| Session {
                user: r.get(0),
                csrf: r.get(1),
                role: Role::of(r.get(2)),
            }))
    }

    pub async fn logout(&self, token: &str) -> Result<(), HubError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM sessions WHERE token_hash = $1 OR expires_at < now()",
                &[&sha256(token)],
            )
            .await?;
        Ok(())
    }
}

impl Session {
    /// Whether a form's CSRF token is this session's.
    pub fn csrf_ok(&self, offered: &str) -> bool {
        same(offered.as_bytes(), self.csrf.as_bytes())
    }
}
