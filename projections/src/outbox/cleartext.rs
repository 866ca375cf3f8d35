//! Secrets that versions before sealing stored in the clear. A migration cannot seal them: the key
//! is outside the database. So the server seals them when it starts, with its key, before it
//! serves or dispatches anything ([`seal_cleartext_secrets`]); a dispatcher that meets one
//! still unsealed (written by an older node during a rolling upgrade) sends it as it is.
//!
//! On SQLite the rewrite is followed by a checkpoint that empties the write-ahead log, and the
//! connection's `secure_delete` zeroes the old bytes in the page: nothing of the cleartext stays
//! in the files. On Postgres the old row versions stay in the table's free space until vacuumed
//! over, and in WAL archives and backups taken before: replace those too if they matter.

use dinghuo_store::sql::{self, Tx};
use dinghuo_store::Database;

use super::seal::{OutboxKey, SealError, SEALED_PREFIX};

#[derive(Debug, thiserror::Error)]
pub enum CleartextError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// Seals every stored secret that is not sealed yet. Answers how many it sealed.
pub async fn seal_cleartext_secrets(db: &Database, key: &OutboxKey) -> Result<u64, CleartextError> {
    let found: Vec<(String, String)> = sql::fetch_all(
        db,
        &format!(
            "SELECT message_id, secret FROM notification_outbox
              WHERE secret IS NOT NULL AND substr(secret, 1, {}) <> $1",
            SEALED_PREFIX.len()
        ),
        &[SEALED_PREFIX.into()],
    )
    .await?;
    if found.is_empty() {
        return Ok(0);
    }
    let mut sealed = 0;
    let mut tx = Tx::begin(db).await?;
    for (message_id, secret) in found {
        // Only if it is still that cleartext: a dispatcher may have sent it and erased it since.
        sealed += tx
            .execute(
                "UPDATE notification_outbox SET secret = $1 WHERE message_id = $2 AND secret = $3",
                &[
                    key.seal(&message_id, &secret)?.into(),
                    message_id.as_str().into(),
                    secret.as_str().into(),
                ],
            )
            .await?;
    }
    tx.commit().await?;
    // SQLite's log frames still hold the pages as they were; copy the new ones into the
    // database and empty it.
    if !db.truncate_write_ahead_log().await? {
        tracing::warn!("the SQLite write-ahead log could not be emptied now: a reader held it");
    }
    tracing::warn!(
        secrets = sealed,
        "sealed the pending SMS secrets an earlier version stored in the clear"
    );
    Ok(sealed)
}
