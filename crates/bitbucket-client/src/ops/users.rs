//! The authenticated user.

use crate::error::Error;
use crate::http::Client;
use crate::models::User;

impl Client {
    /// `GET /user`: the account the credentials belong to.
    pub async fn current_user(&self) -> Result<User, Error> {
        self.get_json(self.endpoint("/user")?).await
    }
}
