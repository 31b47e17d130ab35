//! Typed async client for Bitbucket Cloud REST 2.0.
