//! Which Bitbucket a command talks to: the real one, from `BITBUCKET_*` settings, or an
//! embedded sandbox.

use std::path::PathBuf;

use anyhow::Context as _;
use bitbucket_client::{Auth, Client, ClientConfig};
use bitbucket_sandbox::{Sandbox, SandboxConfig};

/// Flags shared by every command that reaches Bitbucket.
#[derive(Debug, Clone, clap::Args)]
pub struct BackendArgs {
    /// Use an embedded local sandbox instead of Bitbucket Cloud.
    #[arg(long)]
    pub sandbox: bool,

    /// Data folder of the embedded sandbox [default: the platform data folder].
    #[arg(long, value_name = "DIR", env = "BBAGENT_SANDBOX_DIR")]
    pub sandbox_dir: Option<PathBuf>,
}

/// A ready client, and the sandbox it talks to when embedded (kept alive with it).
pub struct Backend {
    pub client: Client,
    /// One line for people: which Bitbucket this is.
    pub description: String,
    pub sandbox: Option<Sandbox>,
}

/// True when the environment names a real Bitbucket (a base URL or credentials).
pub fn bitbucket_configured() -> bool {
    [
        "BITBUCKET_BASE_URL",
        "BITBUCKET_ACCESS_TOKEN",
        "BITBUCKET_API_TOKEN",
        "BITBUCKET_EMAIL",
    ]
    .iter()
    .any(|k| std::env::var(k).is_ok_and(|v| !v.trim().is_empty()))
}

pub const HOW_TO_CONFIGURE: &str = "set `BITBUCKET_EMAIL` and `BITBUCKET_API_TOKEN` (an Atlassian API token), or `BITBUCKET_ACCESS_TOKEN`, in the environment or a `.env` file; or pass `--sandbox` to use a local sandbox";

impl Backend {
    /// The real Bitbucket from the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let config = ClientConfig::from_env().context("invalid Bitbucket settings")?;
        let description = format!(
            "Bitbucket at {} ({})",
            config.base_url,
            auth_label(&config.auth)
        );
        let client = Client::new(config).context("cannot set up the Bitbucket client")?;
        Ok(Self {
            client,
            description,
            sandbox: None,
        })
    }

    /// An embedded sandbox on a free loopback port, with its persistent data folder.
    pub async fn sandbox(dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let dir = match dir {
            Some(dir) => dir,
            None => crate::cmd::default_sandbox_dir()?,
        };
        let sandbox = Sandbox::start(SandboxConfig::new(&dir))
            .await
            .context("cannot start the embedded sandbox")?;
        let config = ClientConfig::new(sandbox.base_url()).with_auth(Auth::api_token(
            bitbucket_sandbox::DEMO_EMAIL,
            bitbucket_sandbox::DEMO_TOKEN,
        ));
        let client = Client::new(config).context("cannot set up the sandbox client")?;
        Ok(Self {
            client,
            description: format!(
                "the local sandbox at {} (data in {}), as demo",
                sandbox.base_url(),
                dir.display()
            ),
            sandbox: Some(sandbox),
        })
    }

    /// `--sandbox` wins; otherwise the environment must name a Bitbucket.
    pub async fn explicit(args: &BackendArgs) -> anyhow::Result<Self> {
        if args.sandbox {
            return Self::sandbox(args.sandbox_dir.clone()).await;
        }
        if !bitbucket_configured() {
            anyhow::bail!("no Bitbucket to talk to: {HOW_TO_CONFIGURE}");
        }
        Self::from_env()
    }

    pub async fn shutdown(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

fn auth_label(auth: &Auth) -> &'static str {
    match auth {
        Auth::Anonymous => "anonymous",
        Auth::ApiToken { .. } => "API token",
        Auth::Bearer(_) => "access token",
    }
}
