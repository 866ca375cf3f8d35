//! Sign-in sessions. Every token a sign-in issues names its session (`sid`), and a request or
//! WebSocket message carrying it is served only while the session is live: not ended (signed
//! out, its password changed, or, for a contact, its binding cleared) and not expired. A token without a session (`dinghuo token`,
//! for operators and automation) is not affected.
//!
//! Sessions live in the `sessions` table so that every API node sees an ending. Each node keeps
//! the answers it read for at most [`CACHE_TTL`] (at most [`CACHE_CAPACITY`] sessions), and an
//! ended session's answer for good; an ending made through this node is seen at once, one made
//! through another within [`CACHE_TTL`].

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use dinghuo_commands::Actor;
use dinghuo_domain::{ContactId, Lookup};
use dinghuo_store::sql;
use dinghuo_store::Database;
use lru::LruCache;
use uuid::Uuid;

use crate::error::{IdentityError, IdentityResult};

/// How long a node trusts what it read about a live session.
pub const CACHE_TTL: Duration = Duration::from_secs(2);
/// Sessions a node keeps answers for.
pub const CACHE_CAPACITY: usize = 10_000;
/// How long an expired session's row is kept (for the log of who was signed in), then deleted.
const KEEP_EXPIRED: Duration = Duration::from_secs(24 * 3600);

/// Whether a session may still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Live; `must_change_password`: it may only change its password.
    Live { must_change_password: bool },
    /// Signed out, its password changed, expired, or never opened here.
    Ended,
}

/// Why a session ended, as `sessions.revoked_reason` keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    SignedOut,
    PasswordChanged,
    /// The contact's bindings were cleared (removed from its partner).
    Unbound,
    /// The staff member's access to its tenant was revoked.
    AccessRevoked,
}

impl EndReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignedOut => "SIGNED_OUT",
            Self::PasswordChanged => "PASSWORD_CHANGED",
            Self::Unbound => "UNBOUND",
            Self::AccessRevoked => "ACCESS_REVOKED",
        }
    }
}

/// A session just opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewSession {
    pub id: Uuid,
    pub expires_at_ms: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    must_change_password: bool,
    expires_at_ms: i64,
    revoked_at_ms: Option<i64>,
}

/// The sessions of this node: opening, ending, and checking them with a small cache.
pub struct Sessions {
    cache: Mutex<LruCache<Uuid, (Instant, SessionState)>>,
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
            cache: Mutex::new(LruCache::new(
                NonZeroUsize::new(CACHE_CAPACITY).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Sessions {
    fn cache(&self) -> std::sync::MutexGuard<'_, LruCache<Uuid, (Instant, SessionState)>> {
        // The cache holds no invariant a panic could break halfway.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a session for `actor`, valid `ttl` from `now_ms`. Sessions expired for a day are
    /// deleted on the way.
    pub async fn open(
        &self,
        db: &Database,
        actor: &Actor,
        must_change_password: bool,
        ttl: Duration,
        now_ms: i64,
    ) -> IdentityResult<NewSession> {
        sql::execute(
            db,
            "DELETE FROM sessions WHERE expires_at_ms < $1",
            &[now_ms.saturating_sub(millis(KEEP_EXPIRED)).into()],
        )
        .await?;
        let session = NewSession {
            id: Uuid::now_v7(),
            expires_at_ms: now_ms.saturating_add(millis(ttl)),
        };
        sql::execute(
            db,
            "INSERT INTO sessions (session_id, subject_id, tenant_id, role, must_change_password,
                                   created_at_ms, expires_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                session.id.to_string().into(),
                actor.id.to_string().into(),
                actor.tenant_id.map(|tenant| tenant.to_string()).into(),
                actor.role.as_str().into(),
                must_change_password.into(),
                now_ms.into(),
                session.expires_at_ms.into(),
            ],
        )
        .await?;
        Ok(session)
    }

    /// Whether `session` may be used at `now_ms`.
    pub async fn state(
        &self,
        db: &Database,
        session: Uuid,
        now_ms: i64,
    ) -> IdentityResult<SessionState> {
        if let Some((read_at, state)) = self.cache().get(&session).copied() {
            if state == SessionState::Ended || read_at.elapsed() < CACHE_TTL {
                return Ok(state);
            }
        }
        let row: Option<Row> = sql::fetch_all(
            db,
            "SELECT must_change_password, expires_at_ms, revoked_at_ms
               FROM sessions WHERE session_id = $1",
            &[session.to_string().into()],
        )
        .await?
        .into_iter()
        .next();
        let state = match row {
            Some(row) if row.revoked_at_ms.is_none() && row.expires_at_ms > now_ms => {
                SessionState::Live {
                    must_change_password: row.must_change_password,
                }
            }
            _ => SessionState::Ended,
        };
        self.cache().put(session, (Instant::now(), state));
        Ok(state)
    }

    /// Ends `session` (if still live). Answers whether it was.
    pub async fn end(
        &self,
        db: &Database,
        session: Uuid,
        reason: EndReason,
        now_ms: i64,
    ) -> IdentityResult<bool> {
        let ended = revoke(db, Whose::Session, session, reason, now_ms).await?;
        self.cache()
            .put(session, (Instant::now(), SessionState::Ended));
        Ok(ended == 1)
    }

    /// Ends every live session of `subject` (a contact whose password changed). Answers how
    /// many were.
    pub async fn end_all_of(
        &self,
        db: &Database,
        subject: Uuid,
        reason: EndReason,
        now_ms: i64,
    ) -> IdentityResult<u64> {
        let ended = revoke(db, Whose::Subject, subject, reason, now_ms).await?;
        // Which cached sessions were the subject's is not kept: forget them all (endings are
        // rare; the next requests read again).
        self.cache().clear();
        Ok(ended)
    }
}

impl Sessions {
    /// Ends every session of `contact` if, by its committed events, it is a partner's contact
    /// whose bindings are cleared (after `removePartnerContact`): its sessions proved a binding
    /// that is undone. (Its tokens already stop standing then; this also ends them in the
    /// table, with the reason.) Answers how many ended.
    pub async fn end_if_unbound(
        &self,
        db: &Database,
        lookup: &dyn Lookup,
        contact: ContactId,
        now_ms: i64,
    ) -> IdentityResult<u64> {
        let state = lookup
            .contact(contact)
            .await
            .map_err(|error| IdentityError::Command(error.into()))?;
        if state.is_employee() || state.is_bound() {
            return Ok(0);
        }
        self.end_all_of(db, contact.as_uuid(), EndReason::Unbound, now_ms)
            .await
    }
}

/// Which sessions a revocation names: one by its id, or all of a subject.
#[derive(Clone, Copy)]
enum Whose {
    Session,
    Subject,
}

/// Marks the live sessions `id` names revoked for `reason`; answers how many.
async fn revoke(
    db: &Database,
    whose: Whose,
    id: Uuid,
    reason: EndReason,
    now_ms: i64,
) -> IdentityResult<u64> {
    let statement = match whose {
        Whose::Session => {
            "UPDATE sessions SET revoked_at_ms = $1, revoked_reason = $2
              WHERE session_id = $3 AND revoked_at_ms IS NULL"
        }
        Whose::Subject => {
            "UPDATE sessions SET revoked_at_ms = $1, revoked_reason = $2
              WHERE subject_id = $3 AND revoked_at_ms IS NULL"
        }
    };
    Ok(sql::execute(
        db,
        statement,
        &[now_ms.into(), reason.as_str().into(), id.to_string().into()],
    )
    .await?)
}
