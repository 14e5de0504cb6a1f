package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	pathLogin     = "/login"
	pathLoggedOut = "/logged-out"
	// scopeGroups asks for the groups claim; the OP sends it anyway, but
	// clients such as oauth2-proxy are configured to ask for it.
	scopeGroups = "groups"
	claimGroups = "groups"
	emailDomain = "webshell.test"
)

type user struct {
	name     string // also the subject and preferred_username
	password string
	groups   []string
}

func (u *user) email() string { return u.name + "@" + emailDomain }

// parseUsers reads NAME:PASSWORD[:GROUP,GROUP...] specs.
func parseUsers(specs []string) (map[string]*user, error) {
	users := map[string]*user{}
	for _, spec := range specs {
		parts := strings.SplitN(spec, ":", 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("--user %q: want NAME:PASSWORD[:GROUP,...]", spec)
		}
		u := &user{name: parts[0], password: parts[1]}
		if len(parts) == 3 && parts[2] != "" {
			u.groups = strings.Split(parts[2], ",")
		}
		if _, dup := users[u.name]; dup {
			return nil, fmt.Errorf("--user %q given twice", u.name)
		}
		users[u.name] = u
	}
	return users, nil
}

// client is a confidential web client (client_secret_basic or
// client_secret_post) for the authorization code flow, with PKCE allowed and
// refresh tokens when offline_access is asked for. Its redirect URIs are the
// callback path on any loopback host and port, over http or https.
type client struct {
	id, secret    string
	callbackPath  string
	idTokenTTL    time.Duration
	redirectGlobs []string
	logoutGlobs   []string
}

var _ op.HasRedirectGlobs = (*client)(nil)

// loopbackHosts are written as glob patterns (brackets escaped).
var loopbackHosts = []string{"127.0.0.1", "localhost", `\[::1\]`}

// parseClients reads ID:SECRET:CALLBACK_PATH specs.
func parseClients(specs []string, idTokenTTL time.Duration) (map[string]*client, error) {
	clients := map[string]*client{}
	for _, spec := range specs {
		parts := strings.SplitN(spec, ":", 3)
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || !strings.HasPrefix(parts[2], "/") {
			return nil, fmt.Errorf("--client %q: want ID:SECRET:/CALLBACK/PATH", spec)
		}
		c := &client{id: parts[0], secret: parts[1], callbackPath: parts[2], idTokenTTL: idTokenTTL}
		for _, scheme := range []string{"http", "https"} {
			for _, host := range loopbackHosts {
				base := scheme + "://" + host
				// doublestar globs: '*' matches the port (never a '/').
				c.redirectGlobs = append(c.redirectGlobs, base+c.callbackPath, base+":*"+c.callbackPath)
				// path.Match globs: any page up to four segments deep, any query.
				for _, port := range []string{"", ":*"} {
					c.logoutGlobs = append(c.logoutGlobs, base+port, base+port+"/*", base+port+"/*/*",
						base+port+"/*/*/*", base+port+"/*/*/*/*")
				}
			}
		}
		if _, dup := clients[c.id]; dup {
			return nil, fmt.Errorf("--client %q given twice", c.id)
		}
		clients[c.id] = c
	}
	return clients, nil
}

func (c *client) GetID() string { return c.id }

// RedirectURIs: the exact ones on the default ports; the globs below allow any port.
func (c *client) RedirectURIs() []string {
	return []string{"http://127.0.0.1" + c.callbackPath, "http://localhost" + c.callbackPath}
}

func (c *client) PostLogoutRedirectURIs() []string     { return nil }
func (c *client) RedirectURIGlobs() []string           { return c.redirectGlobs }
func (c *client) PostLogoutRedirectURIGlobs() []string { return c.logoutGlobs }
func (c *client) ApplicationType() op.ApplicationType  { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod          { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

func (c *client) LoginURL(authRequestID string) string {
	return pathLogin + "?authRequestID=" + authRequestID
}

func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return c.idTokenTTL }

// DevMode allows the http:// loopback redirect URIs and the globs.
func (c *client) DevMode() bool { return true }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

func (c *client) IsScopeAllowed(scope string) bool { return scope == scopeGroups }

// IDTokenUserinfoClaimsAssertion: the ID token carries the user's claims
// even when an access token is issued too (kube-apiserver only sees the ID
// token).
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
