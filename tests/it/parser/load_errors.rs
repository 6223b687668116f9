//! Whatever PostgreSQL's parser rejects is a load error, whichever file holds it (migration,
//! rollback or view) and whichever command loads the project (`up`, `down`, `status`,
//! `check`): exit 2, `file:line:col` with the line and a caret, before anything runs.
