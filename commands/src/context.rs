//! Who is asking, and the request plumbing that goes into every event's metadata (never into
//! the event itself).

use std::collections::HashMap;

use dinghuo_domain::TenantId;
use uuid::Uuid;

use crate::written::Written;

/// The roles of DESIGN §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The platform itself: registers tenants, sells licences. Belongs to no tenant.
    Operator,
    /// A tenant's interconnect admin.
    Admin,
    /// A tenant's staff member (an our-side contact); its id is its contact id.
    Employee,
    /// A partner's staff member (a their-side contact); its id is its contact id.
    Contact,
    Auditor,
    Analyst,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Admin => "admin",
            Self::Employee => "employee",
            Self::Contact => "contact",
            Self::Auditor => "auditor",
            Self::Analyst => "analyst",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Operator,
            Self::Admin,
            Self::Employee,
            Self::Contact,
            Self::Auditor,
            Self::Analyst,
        ]
        .into_iter()
        .find(|role| role.as_str() == text)
    }
}

/// An authenticated caller, as its token describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub id: Uuid,
    pub role: Role,
    /// `None` only for the operator.
    pub tenant_id: Option<TenantId>,
}

impl Actor {
    pub fn operator(id: Uuid) -> Self {
        Self {
            id,
            role: Role::Operator,
            tenant_id: None,
        }
    }

    pub fn in_tenant(id: Uuid, role: Role, tenant: TenantId) -> Self {
        Self {
            id,
            role,
            tenant_id: Some(tenant),
        }
    }
}

/// One request's context: the caller and the ids that tie its events together.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub actor: Actor,
    pub request_id: Uuid,
    /// Shared by every command of one user action; defaults to the request id.
    pub correlation_id: Uuid,
    /// What caused this command (an earlier event or request); defaults to the request id.
    pub causation_id: Uuid,
    /// Makes a retried submission return the first result instead of acting twice.
    pub idempotency_key: Option<String>,
    /// Filled by the commands run with this context: what they appended, for reading it back.
    pub written: Written,
}

impl RequestContext {
    pub fn new(actor: Actor) -> Self {
        let request_id = Uuid::now_v7();
        Self {
            actor,
            request_id,
            correlation_id: request_id,
            causation_id: request_id,
            idempotency_key: None,
            written: Written::default(),
        }
    }

    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// The metadata stored with each event this request appends to `tenant`'s log.
    pub(crate) fn metadata(&self, tenant: TenantId) -> HashMap<String, String> {
        let mut metadata = HashMap::from([
            ("tenant_id".to_owned(), tenant.to_string()),
            ("actor_id".to_owned(), self.actor.id.to_string()),
            ("actor_role".to_owned(), self.actor.role.as_str().to_owned()),
            ("correlation_id".to_owned(), self.correlation_id.to_string()),
            ("causation_id".to_owned(), self.causation_id.to_string()),
            ("request_id".to_owned(), self.request_id.to_string()),
        ]);
        if let Some(key) = &self.idempotency_key {
            metadata.insert("idempotency_key".to_owned(), key.clone());
        }
        metadata
    }
}
