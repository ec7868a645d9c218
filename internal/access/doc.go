// Package access decides who may do what on which project.
//
// A [Provider] turns the credential a request presented into a [Principal]
// (Authenticate) and tells the caller's effective [Role] on one project
// (Project) or lists every project the caller can read (Projects, for the
// read-only global scope). There are three providers, exactly one of which a
// server runs with:
//
//   - [GitLab] asks a GitLab instance through the REST API v4;
//   - [SharingHub] asks a SharingHub server's checker API;
//   - [Static] answers from a file (or the built-in --dev configuration).
//
// [Cache] wraps any provider: it remembers answers for a TTL, bounds memory,
// collapses concurrent identical lookups into one provider call and never
// turns an outage into an allow.
//
// [Role.Allows] maps a role to create/read/update/delete, as in design.md §4.
//
// Errors are classified with [errors.Is] against [ErrNotFound] (unknown
// project, or no read access: the caller must not learn it exists),
// [ErrUnauthenticated] (the credential is not valid) and [ErrUnavailable]
// (the upstream cannot be asked now: the server answers 503 and allows
// nothing). Credential secrets never appear in errors, logs or cache keys.
package access
