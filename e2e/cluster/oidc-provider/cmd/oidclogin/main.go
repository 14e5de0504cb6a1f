// oidclogin signs in at the test OP the way a browser does, through its real
// login form (authorization code flow with PKCE), and prints the tokens. For
// scripts and tests that need an ID token for alice or bob:
//
//	oidclogin --issuer https://127.0.0.1:25556 --ca-file $STATE/pki/ca.crt \
//	  --client-id webshell --client-secret S --user alice --password P
//
// prints the ID token; --print json prints the whole token response. With
// the environment of `cluster.sh env`, `oidclogin --user bob` is enough;
// `oidclogin --client-id oauth2-proxy --user bob` gets a token for that client.
// The redirect URI is never served: oidclogin stops at the redirect to it and
// takes the code from its query.
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.issuer, "issuer", os.Getenv("WEBSHELL_OIDC_ISSUER"), "issuer URL (default $WEBSHELL_OIDC_ISSUER)")
	flag.StringVar(&o.caFile, "ca-file", os.Getenv("WEBSHELL_OIDC_CA_FILE"), "CA bundle for the issuer (default $WEBSHELL_OIDC_CA_FILE)")
	flag.StringVar(&o.clientID, "client-id", envOr("WEBSHELL_OIDC_CLIENT_ID", "webshell"), "client id")
	flag.StringVar(&o.clientSecret, "client-secret", "", "client secret (default $WEBSHELL_OIDC_CLIENT_SECRET for webshell, "+
		"$WEBSHELL_OAUTH2_PROXY_CLIENT_SECRET for oauth2-proxy)")
	flag.StringVar(&o.redirectURI, "redirect-uri", "", "redirect URI registered for the client (default "+
		"http://127.0.0.1:1/auth/oidc/callback for webshell, http://127.0.0.1:1/oauth2/callback for oauth2-proxy)")
	flag.StringVar(&o.scope, "scope", "openid profile email groups offline_access", "scopes to ask for")
	flag.StringVar(&o.user, "user", "alice", "username")
	flag.StringVar(&o.password, "password", "", "password (default: looked up in $WEBSHELL_OIDC_USERS, name:password,...)")
	flag.StringVar(&o.print, "print", "id_token", "what to print: id_token, access_token, refresh_token, json")
	flag.Parse()
	if o.clientSecret == "" {
		switch o.clientID {
		case os.Getenv("WEBSHELL_OAUTH2_PROXY_CLIENT_ID"), "oauth2-proxy":
			o.clientSecret = os.Getenv("WEBSHELL_OAUTH2_PROXY_CLIENT_SECRET")
		default:
			o.clientSecret = os.Getenv("WEBSHELL_OIDC_CLIENT_SECRET")
		}
	}
	if o.redirectURI == "" {
		o.redirectURI = "http://127.0.0.1:1/auth/oidc/callback"
		if o.clientID == "oauth2-proxy" {
			o.redirectURI = "http://127.0.0.1:1/oauth2/callback"
		}
	}
	if o.password == "" {
		o.password = passwordFromEnv(o.user)
	}
	out, err := o.run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "oidclogin:", err)
		os.Exit(1)
	}
	fmt.Println(out)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func passwordFromEnv(user string) string {
	for _, pair := range strings.Split(os.Getenv("WEBSHELL_OIDC_USERS"), ",") {
		if name, pw, ok := strings.Cut(pair, ":"); ok && name == user {
			return pw
		}
	}
	return ""
}

type options struct {
	issuer, caFile, clientID, clientSecret, redirectURI, scope, user, password, print string
}

func randomString() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

var hiddenID = regexp.MustCompile(`name="authRequestID" value="([^"]*)"`)
var formError = regexp.MustCompile(`<p id="error"[^>]*>([^<]*)</p>`)

func (o *options) run() (string, error) {
	if o.issuer == "" || o.clientSecret == "" || o.password == "" {
		return "", errors.New("--issuer, --client-secret and --password (or the WEBSHELL_OIDC_* environment) are needed")
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return "", err
		}
		if !roots.AppendCertsFromPEM(pem) {
			return "", fmt.Errorf("no certificate in %s", o.caFile)
		}
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{
		Jar:       jar,
		Timeout:   20 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
		// Redirects are followed by hand, to stop at the client's redirect URI.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	var disc struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
	}
	if err := getJSON(hc, strings.TrimSuffix(o.issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}

	state, nonce, verifier := randomString(), randomString(), randomString()
	challenge := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {o.clientID},
		"redirect_uri":          {o.redirectURI},
		"scope":                 {o.scope},
		"state":                 {state},
		"nonce":                 {nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	next := disc.AuthorizationEndpoint + "?" + q.Encode()

	// Follow redirects to the login form.
	resp, body, err := follow(hc, http.MethodGet, next, nil, o.redirectURI)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(resp.Request.URL.String(), o.redirectURI) {
		return "", fmt.Errorf("the OP redirected back without a login form: %s", resp.Request.URL)
	}
	m := hiddenID.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return "", fmt.Errorf("expected the login form at %s, got %s: %.300s", resp.Request.URL, resp.Status, body)
	}
	loginURL := resp.Request.URL.ResolveReference(&url.URL{Path: "/login"}).String()
	form := url.Values{"authRequestID": {html.UnescapeString(m[1])}, "username": {o.user}, "password": {o.password}}

	// Post the form; follow the redirects up to the client's redirect URI.
	resp, body, err = follow(hc, http.MethodPost, loginURL, form, o.redirectURI)
	if err != nil {
		return "", err
	}
	final := resp.Request.URL
	if !strings.HasPrefix(final.String(), o.redirectURI) {
		if e := formError.FindStringSubmatch(body); e != nil {
			return "", fmt.Errorf("login refused: %s", html.UnescapeString(e[1]))
		}
		return "", fmt.Errorf("login did not redirect to %s: %s at %s: %.300s", o.redirectURI, resp.Status, final, body)
	}
	if e := final.Query().Get("error"); e != "" {
		return "", fmt.Errorf("the OP returned %s: %s", e, final.Query().Get("error_description"))
	}
	if final.Query().Get("state") != state {
		return "", errors.New("state mismatch")
	}
	code := final.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("no code in %s", final)
	}

	// Redeem the code (client_secret_basic).
	tokenForm := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {o.redirectURI},
		"code_verifier": {verifier},
	}
	req, _ := http.NewRequest(http.MethodPost, disc.TokenEndpoint, strings.NewReader(tokenForm.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(o.clientID), url.QueryEscape(o.clientSecret))
	tr, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer tr.Body.Close()
	raw, _ := io.ReadAll(tr.Body)
	if tr.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token endpoint: %s: %s", tr.Status, raw)
	}
	var tokens map[string]any
	if err := json.Unmarshal(raw, &tokens); err != nil {
		return "", fmt.Errorf("token response: %w", err)
	}
	if o.print == "json" {
		return string(raw), nil
	}
	v, _ := tokens[o.print].(string)
	if v == "" {
		return "", fmt.Errorf("no %s in the token response: %s", o.print, raw)
	}
	return v, nil
}

// follow sends the request and follows redirects until a non-redirect
// response or a redirect to stopAt (whose URL is then resp.Request.URL).
func follow(hc *http.Client, method, target string, form url.Values, stopAt string) (*http.Response, string, error) {
	for i := 0; i < 10; i++ {
		var req *http.Request
		if method == http.MethodPost {
			req, _ = http.NewRequest(method, target, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, _ = http.NewRequest(method, target, nil)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, "", err
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil { // not a redirect
			return resp, string(raw), nil
		}
		if strings.HasPrefix(loc.String(), stopAt) {
			// Report the redirect target as the final URL without fetching it.
			resp.Request = &http.Request{URL: loc}
			return resp, string(raw), nil
		}
		method, target, form = http.MethodGet, loc.String(), nil
	}
	return nil, "", errors.New("too many redirects")
}

func getJSON(hc *http.Client, u string, v any) error {
	resp, err := hc.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
