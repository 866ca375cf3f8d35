//! `dinghuo token`: mints a token for the operator, an admin, an employee, an auditor or an
//! analyst, and prints only the token on stdout, so that `TOKEN=$(dinghuo token …)` works.
//! Contacts are not minted here: they get their tokens by binding their identity or logging in.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use dinghuo_commands::{Actor, Role};
use dinghuo_domain::TenantId;
use uuid::Uuid;

use crate::auth::{JwtSecret, Tokens};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The token is signed with DINGHUO_JWT_SECRET when set, otherwise with \
    the secret in <data-dir>/jwt-secret (generated on first use, mode 0600).\n\n\
    Example: TOKEN=$(dinghuo token --role admin --tenant 0193…)"
)]
pub struct TokenArgs {
    /// operator, admin, employee, auditor or analyst (contacts get their tokens by binding
    /// their identity or logging in, never from the CLI).
    #[arg(long, value_parser = parse_role)]
    pub role: Role,

    /// The tenant the token acts in: required for every role but operator, refused for it.
    #[arg(long)]
    pub tenant: Option<Uuid>,

    /// The actor's id (the token's `sub`). For an employee it must be the employee's contact
    /// id. Default: a new UUID v7.
    #[arg(long)]
    pub subject: Option<Uuid>,

    /// How long the token is valid: a number and a unit, `s`, `m`, `h` or `d` (`30m`, `1h`,
    /// `7d`).
    #[arg(long, default_value = "12h", value_parser = parse_ttl)]
    pub ttl: Duration,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenArgsError {
    #[error("--tenant is required for the {role} role")]
    TenantRequired { role: &'static str },
    #[error("an operator token belongs to no tenant: drop --tenant")]
    OperatorWithTenant,
}

impl TokenArgs {
    /// The actor the token will name, once the tenant rule of DESIGN §1 holds.
    pub fn actor(&self) -> Result<Actor, TokenArgsError> {
        let id = self.subject.unwrap_or_else(Uuid::now_v7);
        match (self.role, self.tenant) {
            (Role::Operator, None) => Ok(Actor::operator(id)),
            (Role::Operator, Some(_)) => Err(TokenArgsError::OperatorWithTenant),
            (role, Some(tenant)) => Ok(Actor::in_tenant(id, role, TenantId::from_uuid(tenant))),
            (role, None) => Err(TokenArgsError::TenantRequired {
                role: role.as_str(),
            }),
        }
    }
}

pub fn run(data_dir: &Path, args: &TokenArgs) -> Result<(), Box<dyn std::error::Error>> {
    let actor = args.actor()?;
    let secret = JwtSecret::load(data_dir)?;
    let token = Tokens::new(&secret).issue(&actor, args.ttl)?;
    let expires = chrono::Duration::from_std(args.ttl)
        .ok()
        .and_then(|ttl| Utc::now().checked_add_signed(ttl));
    // What was minted goes to stderr, so stdout stays the bare token.
    let tenant = actor
        .tenant_id
        .map(|tenant| format!(" in tenant {tenant}"))
        .unwrap_or_default();
    let expires = expires
        .map(|at| format!(", expires {}", at.format("%Y-%m-%d %H:%M:%S UTC")))
        .unwrap_or_default();
    let _ = writeln!(
        std::io::stderr(),
        "{} token for subject {}{tenant}{expires}",
        actor.role.as_str(),
        actor.id,
    );
    writeln!(std::io::stdout().lock(), "{token}")?;
    Ok(())
}

/// A role the CLI may mint.
fn parse_role(text: &str) -> Result<Role, String> {
    match Role::parse(text.trim()) {
        Some(Role::Contact) => Err(
            "contact tokens are not minted by the CLI: a contact gets its \
             token by binding its identity (bindContact) or logging in"
                .to_owned(),
        ),
        Some(role) => Ok(role),
        None => Err("expected operator, admin, employee, auditor or analyst".to_owned()),
    }
}

/// `45s`, `30m`, `12h`, `7d`: a positive whole number and one unit.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit: use s, m, h or d (e.g. 12h)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a whole number (e.g. 12h)"))?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "unknown unit {unit:?}: use s, m, h or d (e.g. 12h)"
            ))
        }
    };
    if number == 0 {
        return Err("a token must be valid for some time".to_owned());
    }
    number
        .checked_mul(unit_secs)
        // Keep the expiry well inside every timestamp type on the way.
        .filter(|secs| *secs <= 100 * 365 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(role: Role, tenant: Option<Uuid>) -> TokenArgs {
        TokenArgs {
            role,
            tenant,
            subject: None,
            ttl: Duration::from_secs(60),
        }
    }

    #[test]
    fn ttls_are_a_number_and_a_unit() {
        assert_eq!(parse_ttl("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604_800)));
        for bad in [
            "",
            "12",
            "h",
            "1.5h",
            "-1h",
            "0h",
            "3w",
            "1h30m",
            "99999999999999d",
        ] {
            assert!(parse_ttl(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn contact_tokens_are_refused_with_a_reason() {
        let error = parse_role("contact").expect_err("refused");
        assert!(error.contains("binding"), "{error}");
        assert!(parse_role("root").is_err());
        assert_eq!(parse_role("auditor"), Ok(Role::Auditor));
    }

    #[test]
    fn the_operator_takes_no_tenant_and_the_others_need_one() {
        let tenant = Uuid::now_v7();
        assert_eq!(
            args(Role::Operator, Some(tenant)).actor(),
            Err(TokenArgsError::OperatorWithTenant)
        );
        assert!(args(Role::Operator, None).actor().is_ok());
        for role in [Role::Admin, Role::Employee, Role::Auditor, Role::Analyst] {
            assert_eq!(
                args(role, None).actor(),
                Err(TokenArgsError::TenantRequired {
                    role: role.as_str()
                })
            );
            let actor = args(role, Some(tenant)).actor().expect("an actor");
            assert_eq!(actor.tenant_id, Some(TenantId::from_uuid(tenant)));
            assert_eq!(actor.role, role);
        }
    }

    #[test]
    fn the_subject_is_the_given_one_or_a_fresh_v7() {
        let subject = Uuid::now_v7();
        let given = TokenArgs {
            subject: Some(subject),
            ..args(Role::Operator, None)
        };
        assert_eq!(given.actor().map(|actor| actor.id), Ok(subject));
        let fresh = args(Role::Operator, None).actor().expect("an actor");
        assert_eq!(fresh.id.get_version_num(), 7);
    }
}
