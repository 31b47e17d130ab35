//! Choosing a model by a string, `provider:model`, and where its key and endpoint come from.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

use crate::error::ModelSpecError;

/// Who serves the model, which decides the wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// OpenAI Chat Completions: OpenAI itself, or any compatible server (Ollama, vLLM,
    /// llama.cpp) through a base URL.
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
}

impl Provider {
    pub fn key_var(self) -> &'static str {
        match self {
            Provider::OpenAi => "OPENAI_API_KEY",
            Provider::Anthropic => "ANTHROPIC_API_KEY",
        }
    }

    pub fn base_url_var(self) -> &'static str {
        match self {
            Provider::OpenAi => "OPENAI_BASE_URL",
            Provider::Anthropic => "ANTHROPIC_BASE_URL",
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com/v1",
            Provider::Anthropic => "https://api.anthropic.com/v1",
        }
    }

    /// How messages name the provider's own service.
    pub fn service_name(self) -> &'static str {
        match self {
            Provider::OpenAi => "the OpenAI API",
            Provider::Anthropic => "the Anthropic API",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        })
    }
}

/// A model chosen by name: `openai:gpt-5`, `anthropic:claude-sonnet-4-5`, `openai:llama3.1:8b`
/// (everything after the first colon is the model name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelSpec {
    pub provider: Provider,
    pub model: String,
}

impl ModelSpec {
    pub fn parse(spec: &str) -> Result<Self, ModelSpecError> {
        let spec = spec.trim();
        let Some((provider, model)) = spec.split_once(':') else {
            return Err(ModelSpecError::Syntax {
                spec: spec.to_owned(),
            });
        };
        let model = model.trim();
        if model.is_empty() || provider.trim().is_empty() {
            return Err(ModelSpecError::Syntax {
                spec: spec.to_owned(),
            });
        }
        let provider = match provider.trim().to_ascii_lowercase().as_str() {
            "openai" => Provider::OpenAi,
            "anthropic" => Provider::Anthropic,
            _ => {
                return Err(ModelSpecError::UnknownProvider {
                    spec: spec.to_owned(),
                    provider: provider.to_owned(),
                });
            }
        };
        Ok(Self {
            provider,
            model: model.to_owned(),
        })
    }
}

impl FromStr for ModelSpec {
    type Err = ModelSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.model)
    }
}

/// Where and how to reach the model. Explicit values win over the environment.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// E.g. `http://localhost:11434/v1` for Ollama; the provider's own API when `None`.
    pub base_url: Option<String>,
    pub api_key: Option<SecretString>,
    pub connect_timeout: Duration,
    /// The longest silence allowed while an answer streams.
    pub idle_timeout: Duration,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            base_url: None,
            api_key: None,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

impl ModelOptions {
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    pub fn with_api_key(mut self, key: SecretString) -> Self {
        self.api_key = Some(key);
        self
    }

    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Fills the key and base URL that are still unset from the process environment.
    pub fn with_env(self, provider: Provider) -> Self {
        self.with_vars(provider, |name| std::env::var(name).ok())
    }

    /// Fills the key and base URL that are still unset from `get(variable)`.
    pub fn with_vars(mut self, provider: Provider, get: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        if self.api_key.is_none() {
            self.api_key = non_empty(get(provider.key_var())).map(SecretString::from);
        }
        if self.base_url.is_none() {
            self.base_url = non_empty(get(provider.base_url_var()));
        }
        self
    }
}
