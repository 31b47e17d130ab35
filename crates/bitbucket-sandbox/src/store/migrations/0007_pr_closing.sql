-- Who closed a pull request (merged or declined it), and the commit a merge made.
ALTER TABLE pullrequests ADD COLUMN merge_commit TEXT;
ALTER TABLE pullrequests ADD COLUMN closed_by INTEGER REFERENCES users(id);
