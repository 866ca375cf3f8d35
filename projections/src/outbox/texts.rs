//! The SMS texts of the product document ("维护联系人对象，添加对接人"), in Chinese as the document
//! writes them. A text never holds a secret: a tenant-mode text holds [`PASSWORD_PLACEHOLDER`],
//! which the dispatcher replaces in memory when it sends.

/// Where the initial password goes in a stored body.
pub const PASSWORD_PLACEHOLDER: &str = "{password}";

/// Which text a message carries (`notification_outbox.template`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// Tenantless partner: follow the tenant's WeChat service account and bind there; on the web,
    /// scan the QR code to sign in.
    Tenantless,
    /// Tenant-mode partner, new platform account: the login is the mobile number, here is the
    /// initial password and the sign-in page.
    Tenant,
    /// Tenant-mode partner, the contact already has a platform account whose password it knows:
    /// the existing login applies.
    TenantExisting,
}

impl Template {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tenantless => "PARTNER_CONTACT_TENANTLESS",
            Self::Tenant => "PARTNER_CONTACT_TENANT",
            Self::TenantExisting => "PARTNER_CONTACT_TENANT_EXISTING",
        }
    }
}

/// Links the texts point to. Not part of the log: a reactor writes what is configured when it
/// queues the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSettings {
    /// The web page where tenant-mode contacts sign in with phone and password.
    pub login_url: String,
    /// The web ordering page where tenantless contacts sign in by scanning a WeChat QR code.
    pub web_url: String,
}

impl MessageSettings {
    /// The public address used when `DINGHUO_PUBLIC_URL` is not set. Set it in production.
    pub const DEFAULT_PUBLIC_URL: &'static str = "https://dinghuo.example.com";

    /// Links under one public base address: `<base>/login` and `<base>/`.
    pub fn under(public_url: &str) -> Self {
        let base = public_url.trim().trim_end_matches('/');
        Self {
            login_url: format!("{base}/login"),
            web_url: format!("{base}/"),
        }
    }

    /// Links under `DINGHUO_PUBLIC_URL`, or under [`Self::DEFAULT_PUBLIC_URL`].
    pub fn from_env() -> Self {
        match std::env::var("DINGHUO_PUBLIC_URL") {
            Ok(url) if !url.trim().is_empty() => Self::under(&url),
            _ => Self::default(),
        }
    }
}

impl Default for MessageSettings {
    fn default() -> Self {
        Self::under(Self::DEFAULT_PUBLIC_URL)
    }
}

/// Names come from user input. Braces become their full-width forms, so that a tenant called
/// "{password}" cannot make the dispatcher put the password anywhere but where the text says.
fn name(text: &str) -> String {
    text.replace('{', "｛").replace('}', "｝")
}

/// Tenantless mode (seed: "search for the enterprise's WeChat service account and bind there; on
/// the web, log in by scanning a WeChat QR code"). `wechat_account` is the name of the tenant's
/// latest bound official account, if it bound one.
pub fn tenantless(
    contact: &str,
    tenant: &str,
    wechat_account: Option<&str>,
    links: &MessageSettings,
) -> String {
    let (contact, tenant) = (name(contact), name(tenant));
    let account = match wechat_account {
        Some(account) => format!("服务号“{}”", name(account)),
        None => format!("{tenant}的微信服务号"),
    };
    format!(
        "{contact}您好，{tenant}已将您添加为订货通对接人。请在微信中搜索并关注{account}，\
         按提示验证本手机号完成账号绑定后即可在线订货；也可在微信中搜索“订货通”小程序下单。\
         在电脑上订货请打开 {web} ，用微信扫码登录。",
        web = links.web_url,
    )
}

/// Tenant mode, new account (seed: "the SMS gives the login account (the contact's mobile
/// number) and a password, and the login web page").
pub fn tenant_new(contact: &str, tenant: &str, phone: &str, links: &MessageSettings) -> String {
    let (contact, tenant) = (name(contact), name(tenant));
    format!(
        "{contact}您好，{tenant}已将您添加为订货通对接人，并为您开通了平台账号：\
         登录账号为您的手机号{phone}，初始密码为{PASSWORD_PLACEHOLDER}。\
         请在 {login} 登录订货，首次登录后请立即修改密码。",
        login = links.login_url,
    )
}

/// Tenant mode, the contact already has an account whose password it knows.
pub fn tenant_existing(
    contact: &str,
    tenant: &str,
    phone: &str,
    links: &MessageSettings,
) -> String {
    let (contact, tenant) = (name(contact), name(tenant));
    format!(
        "{contact}您好，{tenant}已将您添加为订货通对接人。您的平台账号不变：\
         登录账号为您的手机号{phone}，请使用现有密码在 {login} 登录订货。",
        login = links.login_url,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenantless_text_names_the_service_account_and_the_qr_login() {
        let links = MessageSettings::under("https://shop.example.cn/");
        let text = tenantless("李雷", "Acme Foods", Some("Acme订货"), &links);
        assert!(text.contains("Acme Foods"));
        assert!(text.contains("服务号“Acme订货”"));
        assert!(text.contains("扫码登录"));
        assert!(text.contains("https://shop.example.cn/ "));
        assert!(!text.contains(PASSWORD_PLACEHOLDER));

        let without_account = tenantless("李雷", "Acme Foods", None, &links);
        assert!(without_account.contains("Acme Foods的微信服务号"));
    }

    #[test]
    fn the_tenant_text_gives_the_phone_as_login_and_a_password_placeholder() {
        let links = MessageSettings::under("https://shop.example.cn");
        let text = tenant_new("李雷", "Acme Foods", "13900139000", &links);
        assert!(text.contains("登录账号为您的手机号13900139000"));
        assert!(text.contains("初始密码为{password}"));
        assert!(text.contains("https://shop.example.cn/login"));
        assert!(text.contains("修改密码"));
        let existing = tenant_existing("李雷", "Acme Foods", "13900139000", &links);
        assert!(existing.contains("现有密码"));
        assert!(!existing.contains(PASSWORD_PLACEHOLDER));
    }

    #[test]
    fn a_name_cannot_smuggle_in_a_second_password_placeholder() {
        let links = MessageSettings::default();
        let text = tenant_new("{password}", "{password} Ltd", "13900139000", &links);
        assert_eq!(text.matches(PASSWORD_PLACEHOLDER).count(), 1);
        let text = tenantless("{password}", "{password}", Some("{password}"), &links);
        assert_eq!(text.matches(PASSWORD_PLACEHOLDER).count(), 0);
    }
}
