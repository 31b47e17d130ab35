//! Which Bitbucket a command talks to, made ready: the one the `BITBUCKET_*` settings name, the
//! sandbox shared by every command on a data folder (leased, started when nobody runs it), or,
//! for `eval` only, a private sandbox in this process.

use std::path::PathBuf;

use anyhow::Context as _;
use bitbucket_client::{Auth, Client, ClientConfig};
use bitbucket_sandbox::{Sandbox, SandboxConfig};

use crate::settings::Bitbucket;
use crate::shared_sandbox::{self, Lease};

/// Flags shared by every command that reaches Bitbucket.
#[derive(Debug, Clone, clap::Args)]
pub struct BackendArgs {
    /// Use the local sandbox instead of Bitbucket Cloud (the one already running for the
    /// folder, or a new one that stays while any command uses it).
    #[arg(long)]
    pub sandbox: bool,

    /// Data folder of the local sandbox [default: the platform data folder].
    #[arg(long, value_name = "DIR", env = "BBAGENT_SANDBOX_DIR")]
    pub sandbox_dir: Option<PathBuf>,
}

/// A ready client, and what keeps its Bitbucket up while the command runs.
pub struct Backend {
    pub client: Client,
    /// One line for people: which Bitbucket this is.
    pub description: String,
    /// The credentials the client uses (to connect an embedded tool router's user).
    pub auth: Auth,
    keep: Keep,
}

enum Keep {
    Nothing,
    /// Held for its connection: the sandbox stays up while it is open.
    Lease {
        _lease: Box<Lease>,
    },
    Sandbox(Box<Sandbox>),
}

impl Backend {
    pub async fn connect(bitbucket: &Bitbucket) -> anyhow::Result<Self> {
        match bitbucket {
            Bitbucket::Remote(config) => {
                let description = format!(
                    "Bitbucket at {} ({})",
                    config.base_url,
                    auth_label(&config.auth)
                );
                let client =
                    Client::new(config.clone()).context("cannot set up the Bitbucket client")?;
                Ok(Self {
                    client,
                    description,
                    auth: config.auth.clone(),
                    keep: Keep::Nothing,
                })
            }
            Bitbucket::Shared { dir } => {
                let lease = shared_sandbox::lease(dir)
                    .await
                    .context("cannot reach the local sandbox")?;
                let greeting = &lease.greeting;
                let auth = Auth::ApiToken {
                    email: greeting.email.clone(),
                    token: greeting.token.clone(),
                };
                let config = ClientConfig::new(greeting.url.as_str()).with_auth(auth.clone());
                let client = Client::new(config).context("cannot set up the sandbox client")?;
                Ok(Self {
                    client,
                    description: format!(
                        "the local sandbox at {} (data in {}), as demo",
                        greeting.url,
                        lease.dir.display()
                    ),
                    auth,
                    keep: Keep::Lease {
                        _lease: Box::new(lease),
                    },
                })
            }
            Bitbucket::Embedded { dir } => {
                let sandbox = Sandbox::start(SandboxConfig::new(dir))
                    .await
                    .context("cannot start the embedded sandbox")?;
                let auth =
                    Auth::api_token(bitbucket_sandbox::DEMO_EMAIL, bitbucket_sandbox::DEMO_TOKEN);
                let config = ClientConfig::new(sandbox.base_url()).with_auth(auth.clone());
                let client = Client::new(config).context("cannot set up the sandbox client")?;
                Ok(Self {
                    client,
                    description: format!(
                        "a sandbox of this process at {} (data in {})",
                        sandbox.base_url(),
                        dir.display()
                    ),
                    auth,
                    keep: Keep::Sandbox(Box::new(sandbox)),
                })
            }
        }
    }

    /// Lets go of the Bitbucket: stops an embedded sandbox cleanly, ends a lease.
    pub async fn shutdown(self) {
        match self.keep {
            Keep::Sandbox(sandbox) => sandbox.shutdown().await,
            Keep::Lease { .. } | Keep::Nothing => {}
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
